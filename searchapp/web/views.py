"""Thin views: read the request into a SearchRequest, ask the search index, render.

The search page, its fragments (results, research views, facet values, distinctive words),
the API and the error pages are here; downloads are in downloads.py, the comparison of
queries in compare.py, on the same blueprint.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timezone
from urllib.parse import quote_plus, urlencode

from flask import (Blueprint, Response, abort, current_app, g, jsonify, render_template,
                   request, url_for)
from markupsafe import Markup, escape

from ..index import store
from ..index.schema import FACETS
from ..search.request import BadRequest, SearchRequest
from ..search.serialize import record_to_export, result_to_json, status_to_json
from . import charts, elapsed_ms, search_index

bp = Blueprint("search", __name__)

FACET_LABELS = {"topic": "Topics", "provider": "Sources", "category": "Categories",
                "type": "Types", "year": "Years", "kind": "Record kind"}
RECORD_ID = re.compile(r"^[0-9a-f]{16}$")

def _search_request() -> SearchRequest:
    cfg = current_app.config["SEARCHAPP"]
    params = {k: request.args.getlist(k) for k in request.args}
    return SearchRequest.from_params(params, per_page=cfg.per_page, max_per_page=cfg.max_per_page,
                                     max_page=cfg.max_page, max_query_length=cfg.max_query_length,
                                     max_facet_values=cfg.max_facet_values)


def _wants_partial() -> bool:
    """htmx asks for the results fragment; a history restore or a plain load gets the page."""
    return (request.headers.get("HX-Request") == "true"
            and not request.headers.get("HX-History-Restore-Request"))


def search_url(req: SearchRequest, endpoint: str = "search.search", **changes) -> str:
    pairs = req.params(**changes)
    return url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")


_MARKER = "\x00toggled\x00"
_MARKER_ENCODED = urlencode({"": _MARKER})[1:]


def toggle_url(req: SearchRequest, facet: str, value: str) -> str:
    """The URL that ticks (or unticks) one facet value. A results page lists up to six
    hundred of them, so a request's URL is made once per facet, with a marker where the
    value goes, and each value is put in its place."""
    if value in req.filters.get(facet, ()):
        return search_url(req.toggled(facet, value))  # unticking: few, made whole
    cache = g.setdefault("toggle_urls", {})
    key = (id(req), facet)
    if key not in cache:
        cache[key] = search_url(req.toggled(facet, _MARKER)).split(_MARKER_ENCODED)
    before, after = cache[key]
    return before + quote_plus(value) + after


@bp.app_context_processor
def _helpers():
    return {"search_url": search_url, "toggle_url": toggle_url, "facet_url": facet_url,
            "compare_url": compare.compare_url,
            "facet_labels": FACET_LABELS, "max_page": current_app.config["SEARCHAPP"].max_page,
            "facet_names": FACETS,
            "facet_size": current_app.config["SEARCHAPP"].facet_size,
            "facet_page_max": current_app.config["SEARCHAPP"].facet_page_max,
            "facet_max": current_app.config["SEARCHAPP"].facet_max,
            "highlighted": lambda html: Markup(html),  # already sanitised by bleach
            "index_footer": _footer, "ago": ago, "urlencode": urlencode}


def _footer():
    """The footer's figures (records, when updated, files refused), or none: an error page
    must render whatever state the index is in."""
    try:
        return search_index().status()
    except Exception:
        return None


def ago(moment: datetime | None) -> str:
    """`2 min ago`, as a reader scanning a footer wants it (the exact time goes in a title)."""
    if moment is None:
        return "at an unknown time"
    seconds = max(0, int((datetime.now(timezone.utc) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now"


@bp.route("/")
@bp.route("/search")
def search():
    """The search page: the whole page, or just the results when htmx asks."""
    partial = _wants_partial()
    req = _search_request()
    result = search_index().search(req, terms=not partial)
    result.took_ms = elapsed_ms()
    return _render_search(result, req, partial)


@bp.route("/facet")
def facet_values():
    """The values of one facet past the first few, loaded when "more" is opened (a results
    fragment stays small); without scripts, a page of its own."""
    req = _search_request()
    name = request.args.get("facet", "")
    if name not in FACETS:
        abort(400, description=f"facet must be one of {', '.join(FACETS)}, not {name!r}")
    cfg = current_app.config["SEARCHAPP"]
    values = search_index().search(req, terms=False, hits=False).facets.get(name, [])
    if _wants_partial():  # under the first few, which the results already show
        return render_template("partials/_facet_more.html", req=req, facet=name,
                               values=values[cfg.facet_size:cfg.facet_page_max], total=len(values))
    return render_template("facet.html", req=req, facet=name, values=values[:cfg.facet_page_max],
                           total=len(values))


def facet_url(req: SearchRequest, facet: str) -> str:
    pairs = req.params(page=1) + [("facet", facet)]
    return url_for("search.facet_values") + "?" + urlencode(pairs)


@bp.route("/research")
def research():
    """The research views of a search (attention over time, top sources and topics), as a
    fragment the page loads right after the results."""
    req = _search_request()
    result = search_index().search(req, terms=False, hits=False)
    return render_template("partials/_research.html", result=result, req=req,
                           chart=_attention(result, req))


@bp.route("/terms")
def terms():
    """The distinctive words of a search, as a fragment the page loads after the results."""
    req = _search_request()
    return render_template("partials/_terms.html", terms=search_index().distinctive_terms(req),
                           req=req)


def _render_search(result, req, partial, error=None, status=200):
    template = "partials/_results.html" if partial else "search.html"
    chart = _attention(result, req) if result is not None else None
    body = render_template(template, result=result, req=req, error=error, partial=partial,
                           chart=chart)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Vary"] = "HX-Request, HX-Trigger, HX-History-Restore-Request"
    if partial and status == 200:
        # Push the canonical URL (no empty or default fields), the one worth sharing.
        response.headers["HX-Push-Url"] = search_url(req)
    return response


_FIRST, _LAST = date(1, 1, 1), date(1, 1, 2)  # stand-ins for a period's days in a URL


def _attention(result, req: SearchRequest) -> charts.Chart:
    """The timeline as a chart whose bars narrow the search to their period. A chart has up
    to hundreds of bars, so the URL is made once, with stand-ins where the days go."""
    url = search_url(req, date_from=_FIRST, date_to=_LAST, page=1)
    head, rest = url.split(f"from={_FIRST.isoformat()}", 1)
    middle, tail = rest.split(f"to={_LAST.isoformat()}", 1)
    return charts.attention_chart(
        result.timeline, req.scale,
        lambda b: f"{head}from={b.start.date().isoformat()}{middle}"
                  f"to={b.last_day.date().isoformat()}{tail}")


@bp.route("/api/search")
def api_search():
    """The search as JSON: the stable contract documented in the README. The distinctive
    words read hundreds of term vectors, so they come only when asked (`terms=1`): a client
    typing does not wait for them at every keystroke, as the page does not."""
    with_terms = request.args.get("terms", "0") not in ("", "0")
    result = search_index().search(_search_request(), terms=with_terms)
    result.took_ms = elapsed_ms()
    return jsonify(result_to_json(result))


@bp.route("/doc/<record_id>")
def document(record_id: str):
    """Every field of one record (the words of the search it was opened from marked), the
    other copies of its story, its related articles, the seeds citing it, more like it."""
    record = search_index().record(record_id) if RECORD_ID.match(record_id) else None
    if record is None:
        abort(404, description=f"No record with id {record_id!r}.")
    index = search_index()
    q = request.args.get("q", "")[:current_app.config["SEARCHAPP"].max_query_length]
    marked = index.marked(record, q) if q.strip() else None
    related = index.records(record["related"])
    cited_by = index.records(record["cited_by"])
    story_id, copies = index.copies(record_id)
    known = {c["id"] for c in copies}
    similar = [r for r in index.more_like(record_id, limit=6 + min(len(known), 30))
               if r["id"] not in known][:6]  # the copies are listed already
    return render_template("doc.html", record=record, related=related, cited_by=cited_by,
                           similar=similar, req=SearchRequest(q=q), marked=marked,
                           story_id=story_id, copies=copies)


@bp.route("/api/doc/<record_id>")
def api_document(record_id: str):
    record = search_index().record(record_id) if RECORD_ID.match(record_id) else None
    if record is None:
        return jsonify(error=f"no record with id {record_id!r}", status=404), 404
    story_id, copies = search_index().copies(record_id)
    return jsonify({**record_to_export(record), "story_id": story_id,
                    "copies": [c["id"] for c in copies]})


@bp.route("/status")
def status():
    """What the index holds, what its last run did, every file refused (`file:line: reason`),
    and whether the seeds folder is watched. Read-only; it names files only as the seeds
    folder does."""
    return render_template("status.html", status=search_index().status(), req=SearchRequest())


@bp.route("/api/status")
def api_status():
    return jsonify(status_to_json(search_index().status()))


@bp.route("/healthz")
def healthz():
    try:
        stats = search_index().stats()
    except store.IndexProblem as exc:
        return jsonify(status="unavailable", error=str(exc)), 503
    return jsonify(status="ok", records=stats.records, generation=stats.generation,
                   updated=stats.updated.isoformat() if stats.updated else None,
                   process=os.getpid())


@bp.app_errorhandler(BadRequest)
def _bad_request(exc):
    """A parameter a search cannot be answered with, said in the form the route answers in:
    the page keeps the user's query in its form, a fragment says it in place, the rest JSON."""
    message = str(exc)
    if request.endpoint == "search.search":
        return _render_search(None, SearchRequest(q=request.args.get("q", "")[:500]),
                              _wants_partial(), error=message, status=400)
    if request.endpoint in ("search.terms", "search.research"):
        return Response(f'<p class="muted small">{escape(message)}</p>', 400)
    if request.endpoint == "search.compare":
        return compare.form(compare.compared_queries(), message, 400)
    return jsonify(error=message, status=400), 400


@bp.app_errorhandler(store.IndexProblem)
def _no_index(exc):
    if request.path.startswith("/api/"):
        return jsonify(error=str(exc), status=503), 503
    heading = "The index is damaged" if isinstance(exc, store.IndexDamaged) else None
    return render_template("error.html", code=503, message=str(exc), heading=heading,
                           req=SearchRequest()), 503


@bp.app_errorhandler(404)
def _not_found(exc):
    if request.path.startswith("/api/"):
        return jsonify(error=exc.description, status=404), 404
    return render_template("error.html", code=404, message=exc.description,
                           req=SearchRequest()), 404


@bp.app_errorhandler(500)
def _server_error(exc):
    if request.path.startswith("/api/"):
        return jsonify(error="internal error", status=500), 500
    return render_template("error.html", code=500, message="Something went wrong on our side.",
                           req=SearchRequest()), 500


from . import batch, compare, downloads, feeds  # noqa: E402,F401  (their routes join the blueprint)
