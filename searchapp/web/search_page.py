"""The search page: read the request into a SearchRequest, ask the search index, render the
whole page or its fragments (results, research views, facet values, distinctive words), or
the same search as JSON (/api/search)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request
from markupsafe import escape

from ..index.schema import FACETS
from ..search.marks import MARK_KINDS
from ..search.request import BadRequest, SearchRequest
from ..search.serialize import result_to_json
from .errors import as_json
from .handle import search_index, settings
from .links import search_url
from .params import elapsed_ms, search_request, wants_partial
from .rendering import attention
from .workspace_page import remember

bp = Blueprint("search", __name__)


@bp.route("/")
@bp.route("/search")
def search():
    """The search page: the whole page, or just the results when htmx asks."""
    partial = wants_partial()
    req = search_request()
    result = search_index().search(req, terms=not partial)
    result.took_ms = elapsed_ms()
    remember(result)  # a settled search (not a keystroke's) goes in the history
    return _render_search(result, req, partial)


@bp.route("/facet")
def facet_values():
    """The values of one facet past the first few, loaded when "more" is opened (a results
    fragment stays small); without scripts, a page of its own."""
    req = search_request()
    name = request.args.get("facet", "")
    if name not in FACETS + MARK_KINDS:
        abort(400, description=f"facet must be one of {', '.join(FACETS + MARK_KINDS)}, "
                               f"not {name!r}")
    cfg = settings()
    values = search_index().search(req, terms=False, hits=False).facets.get(name, [])
    if wants_partial():  # under the first few, which the results already show
        return render_template("partials/_facet_more.html", req=req, facet=name,
                               values=values[cfg.facet_size:cfg.facet_page_max], total=len(values))
    return render_template("facet.html", req=req, facet=name, values=values[:cfg.facet_page_max],
                           total=len(values))


@bp.route("/research")
def research():
    """The research views of a search (attention over time, top sources and topics), as a
    fragment the page loads right after the results."""
    req = search_request()
    result = search_index().search(req, terms=False, hits=False)
    return render_template("partials/_research.html", result=result, req=req,
                           chart=attention(result, req))


@bp.route("/terms")
def terms():
    """The distinctive words of a search, as a fragment the page loads after the results."""
    req = search_request()
    return render_template("partials/_terms.html", terms=search_index().distinctive_terms(req),
                           req=req)


def _render_search(result, req, partial, error=None, status=200):
    template = "partials/_results.html" if partial else "search.html"
    chart = attention(result, req) if result is not None else None
    body = render_template(template, result=result, req=req, error=error, partial=partial,
                           chart=chart)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Vary"] = "HX-Request, HX-Trigger, HX-History-Restore-Request"
    if partial and status == 200:
        # Push the canonical URL (no empty or default fields), the one worth sharing.
        response.headers["HX-Push-Url"] = search_url(req)
    return response


@bp.route("/api/search")
def api_search():
    """The search as JSON: the stable contract documented in docs/searching.md. The distinctive
    words read hundreds of term vectors, so they come only when asked (`terms=1`): a client
    typing does not wait for them at every keystroke, as the page does not."""
    with_terms = request.args.get("terms", "0") not in ("", "0")
    result = search_index().search(search_request(), terms=with_terms)
    result.took_ms = elapsed_ms()
    return jsonify(result_to_json(result))


@bp.errorhandler(BadRequest)
def _bad_request(exc):
    """A parameter a search cannot be answered with: the page keeps the user's query in its
    form, a fragment says it in place, the API in JSON."""
    message = str(exc)
    if request.endpoint == "search.search":
        return _render_search(None, SearchRequest(q=request.args.get("q", "")[:500]),
                              wants_partial(), error=message, status=400)
    if request.endpoint in ("search.terms", "search.research"):
        return Response(f'<p class="muted small">{escape(message)}</p>', 400)
    return as_json(message, 400)
