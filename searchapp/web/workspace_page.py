"""The workspace's pages and the only routes that write (and write only the workspace):
saved searches, the history, collections, tags and notes, each as a page and as JSON under
/api/. Every change is a POST that guard.py has let through (this site's page, this
session's CSRF token, not read-only); a plain form gets a redirect back (303) with a word of
what was done, htmx the same, the API JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qs, urlencode

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template,
                   request, url_for)

from ..search.request import BadRequest, SearchRequest
from ..search.serialize import csv_safe
from ..workspace import Kept, WorkspaceDamaged, WorkspaceProblem
from ..workspace.lists import RECORD_ID, read_list
from .guard import masked_token
from .handle import search_index, settings, workspace
from .links import feed_url, search_url
from .params import search_request
from .rendering import DAMAGED

bp = Blueprint("workspace", __name__)

EXPORT_COLUMNS = ("id", "in_index", "title", "url", "date", "source", "tags", "note",
                  "collections")
HISTORY_SHOWN = 100


def _api() -> bool:
    return request.path.startswith("/api/")


def _ws():
    found = workspace()
    if found is None:
        abort(404, description="This site is read-only: it keeps no saved searches, "
                               "collections, tags or notes.")
    return found


def _done(message: str, back: str, **data):
    """What a change answers: JSON for the API, else back where the form said (a path on
    this site only), with `message` shown there."""
    if _api():
        return jsonify(ok=True, message=message, **data)
    if request.headers.get("HX-Request") == "true":  # a form kept in place: the word alone
        return render_template("partials/_kept.html", message=message, error=False)
    flash(message)
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = back
    return redirect(target, code=303)


@bp.errorhandler(WorkspaceProblem)
def _problem(exc):
    """A change that cannot be made (a name taken, nothing named): said in place, 400; a
    workspace that cannot be read: 503, and search goes on."""
    status = 503 if isinstance(exc, WorkspaceDamaged) else 400
    message = DAMAGED if status == 503 else str(exc)
    if _api():
        return jsonify(error=message, status=status), status
    if request.headers.get("HX-Request") == "true":
        return render_template("partials/_kept.html", message=message, error=True), status
    return render_template("error.html", code=status, message=message,
                           heading="Not changed" if status == 400
                           else "The workspace cannot be read",
                           req=SearchRequest()), status


@bp.route("/api/token")
def token():
    """A CSRF token for an API client (keep the session cookie this answer sets)."""
    _ws()
    return jsonify(csrf_token=masked_token(), header="X-CSRFToken")


# -- saved searches -------------------------------------------------------------------------

def _request_of(params: str) -> SearchRequest:
    pairs = parse_qs(params, keep_blank_values=False)
    return search_request({k: v for k, v in pairs.items() if k not in ("page", "typing")})


def saved_rows() -> list[dict[str, Any]]:
    """Every saved search with its count now, the count when last opened and how many of
    its matches entered the index since it was last opened."""
    rows = []
    for row in _ws().saved():
        try:
            req = _request_of(row["params"])
            total, new = search_index().new_since(req, row["opened"])
            problem = ""
        except BadRequest as exc:
            req, total, new, problem = SearchRequest(), 0, 0, str(exc)
        rows.append({**row, "total": total, "new": new, "problem": problem,
                     "url": search_url(req), "feed": feed_url(req),
                     "opened_at": _moment(row["opened"])})
    return rows


@bp.route("/api/saved")
@bp.route("/saved")
def saved():
    """The saved searches: count now, count when last opened, N new since you looked."""
    rows = saved_rows()
    if _api():
        return jsonify(saved=[{k: r[k] for k in ("id", "name", "params", "total", "new",
                                                  "opened_total", "url", "feed", "problem")}
                              | {"opened": r["opened_at"].isoformat()} for r in rows])
    return render_template("saved.html", rows=rows, req=SearchRequest(), query_of=_query_of)


@bp.route("/api/saved", methods=["POST"])
@bp.route("/saved", methods=["POST"])
def save():
    """Save the search in the form's `search` (its query string) under `name`."""
    req = _request_of(request.form.get("search", ""))
    params = urlencode(req.params(page=1))
    name = request.form.get("name", "").strip() or (req.shown_q or "all records")[:80]
    total, _ = search_index().new_since(req, 0)
    sid = _ws().save_search(name, params, total)
    return _done(f"Saved “{name}”.", url_for("workspace.saved"), id=sid)


@bp.route("/api/saved/<int:sid>/open", methods=["POST"])
@bp.route("/saved/<int:sid>/open", methods=["POST"])
def open_saved(sid: int):
    """Open a saved search: it counts as looked at now, with what it counts now."""
    row = _ws().saved_one(sid)
    req = _request_of(row["params"])
    total, _ = search_index().new_since(req, 0)
    _ws().opened(sid, total)
    if _api():
        return jsonify(ok=True, url=search_url(req), total=total)
    return redirect(search_url(req), code=303)


@bp.route("/api/saved/<int:sid>/rename", methods=["POST"])
@bp.route("/saved/<int:sid>/rename", methods=["POST"])
def rename_saved(sid: int):
    name = request.form.get("name", "")
    _ws().rename_saved(sid, name)
    return _done(f"Renamed to “{name.strip()}”.", url_for("workspace.saved"))


@bp.route("/api/saved/<int:sid>/delete", methods=["POST"])
@bp.route("/saved/<int:sid>/delete", methods=["POST"])
def delete_saved(sid: int):
    row = _ws().saved_one(sid)
    _ws().delete_saved(sid)
    return _done(f"Deleted the saved search “{row['name']}”.", url_for("workspace.saved"))


# -- history --------------------------------------------------------------------------------

def remember(result) -> None:
    """Keep a settled search (not a keystroke's, nor a page past the first) in the history,
    when the history is on and the search was run from this site."""
    cfg = settings()
    ws = workspace()
    req = result.request
    if ws is None or not cfg.history or req.typing or req.page != 1 \
            or request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none") \
            or not (req.q or req.has_filters):
        return
    try:
        ws.remember(urlencode(req.params()), result.total, cfg.history_size)
    except WorkspaceProblem:
        pass  # a busy or damaged workspace costs the history an entry, never the search


@bp.route("/api/history")
@bp.route("/history")
def history():
    """The last settled searches, newest first, with their counts."""
    rows = [{**r, "at": _moment(r["at"]), "url": url_for("search.search") + "?" + r["params"]}
            for r in _ws().history(HISTORY_SHOWN)] if settings().history else []
    if _api():
        return jsonify(history=[{"url": r["url"], "total": r["total"], "at": r["at"].isoformat()}
                                for r in rows], on=settings().history)
    return render_template("history.html", rows=rows, req=SearchRequest(),
                           on=settings().history, query_of=_query_of)


def _query_of(params: str) -> str:
    """A kept search as a line of words: its query and its filters."""
    try:
        req = _request_of(params)
    except BadRequest as exc:
        return f"(cannot be run: {exc})"
    return (req.shown_q or "all records") + "".join(
        f" · {k}: {', '.join(v)}" for k, v in req.filters.items())


@bp.route("/api/history/clear", methods=["POST"])
@bp.route("/history/clear", methods=["POST"])
def clear_history():
    _ws().clear_history()
    return _done("History cleared.", url_for("workspace.history"))


# -- collections, tags, notes ---------------------------------------------------------------

def _records_asked() -> tuple[list[dict[str, Any]], list[str], int]:
    """The records a form names: ticked ids (`record`), every hit of a search (`search`, up
    to `collect_max`: `every=1` with the search's query string in `search`), or a pasted
    list of ids and URLs (`list`); with the lines that name
    no record in the index, and how many hits the search had past the limit."""
    most = settings().collect_max
    ids = [r for r in request.form.getlist("record") if RECORD_ID.match(r)]
    unread: list[str] = []
    left = 0
    if request.form.get("list", "").strip():
        listed, unread = read_list(request.form["list"], most)
        ids += listed
    records = search_index().records(list(dict.fromkeys(ids)))
    found = {r["id"] for r in records}
    unread += [i for i in dict.fromkeys(ids) if i not in found]
    if request.form.get("every"):
        req = _request_of(request.form.get("search", ""))
        export = search_index().export(req)
        try:
            for page in export:
                for r in page:
                    if len(records) >= most:
                        left += 1
                    elif r["id"] not in found:
                        records.append(r)
                        found.add(r["id"])
        finally:
            export.close()
    return records, unread, left


def _seen(record: dict[str, Any]) -> dict[str, Any]:
    """What the workspace keeps of a record, to list it after it leaves the index."""
    return {"id": record["id"], "title": record.get("title") or "", "url": record.get("url") or "",
            "date": (record.get("published") or "")[:10]}


def _tags() -> list[str]:
    text = " ".join(request.form.getlist("tags"))
    return [t for t in text.replace(",", " ").split() if t]


@bp.route("/api/collect", methods=["POST"])
@bp.route("/collect", methods=["POST"])
def collect():
    """Put records (one, those ticked, every hit of a search, or a pasted list) in a
    collection, with tags and a note."""
    name = request.form.get("collection", "")
    records, unread, left = _records_asked()
    if not records:
        raise WorkspaceProblem("no record in the index was named" +
                               (f" (not found: {', '.join(unread[:10])})" if unread else ""))
    added = _ws().add(name, [_seen(r) for r in records], _tags(), request.form.get("note", ""))
    name = " ".join(name.split())
    message = f"Added {added:,} record{'s' if added != 1 else ''} to “{name}”"
    message += f" ({len(records) - added:,} already in it)" if added < len(records) else ""
    if left:
        message += (f"; {left:,} more hits were left out (at most "
                    f"{settings().collect_max:,} at once)")
    if unread:
        message += f"; {len(unread):,} line{'s' if len(unread) != 1 else ''} named no record " \
                   f"in the index: {', '.join(unread[:5])}"
    searched = request.form.get("search")  # from the search page: back to it
    back = url_for("search.search") + ("?" + searched if searched else "") \
        if searched is not None else url_for("workspace.collection", name=name)
    return _done(message + ".", back, added=added, not_found=unread, left_out=left)


@bp.route("/api/collections")
@bp.route("/collections")
def collections():
    ws = _ws()
    found, tags = ws.collections(), ws.tag_names()
    if _api():
        return jsonify(collections=found, tags=[{"tag": t, "records": n} for t, n in tags])
    return render_template("collections.html", collections=found, tags=tags,
                           req=SearchRequest())


def members(name: str) -> list[tuple[Kept, dict[str, Any] | None]]:
    """The records of a collection, each with its record in the index now (None: it left
    the index, and what the workspace last saw of it stands in)."""
    kept = _ws().members(name)
    now = {r["id"]: r for r in search_index().records([k.record for k in kept])}
    return [(k, now.get(k.record)) for k in kept]


@bp.route("/api/collection")
@bp.route("/collection")
def collection():
    """One collection: its records (those no longer in the index say so), their tags and
    notes, exports, and the search within it."""
    name = request.args.get("name", "")
    rows = members(name)
    if _api():
        return jsonify(collection=name, records=[_row(k, r) for k, r in rows])
    within = search_url(search_request({"collection": [name]}))
    return render_template("collection.html", name=name, rows=rows, req=SearchRequest(),
                           within=within)


def _row(kept: Kept, record: dict[str, Any] | None) -> dict[str, Any]:
    """One record of a collection as its exports write it."""
    source = ""
    if record is not None:
        source = record["provider"].get("name") or record["provider"].get("domain") or ""
    return {"id": kept.record, "in_index": record is not None,
            "title": record["title"] if record else kept.title,
            "url": (record.get("url") or "") if record else kept.url,
            "date": (record.get("published") or "")[:10] if record else kept.date,
            "source": source, "tags": list(kept.tags), "note": kept.note,
            "collections": list(kept.collections)}


@bp.route("/collection.csv")
def collection_csv():
    """A collection as CSV (a spreadsheet opens it and runs no formula): a row a record,
    its tags separated by `;`."""
    name = request.args.get("name", "")
    rows = [_row(k, r) for k, r in members(name)]

    def body() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([csv_safe("; ".join(v) if isinstance(v, list) else
                                      ("yes" if v is True else "no" if v is False else v))
                             for v in (row[c] for c in EXPORT_COLUMNS)])
        yield "\ufeff" + out.getvalue()

    return Response(body(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=\"{_file_name(name)}.csv\""})


@bp.route("/collection.jsonl")
def collection_jsonl():
    """A collection as JSON Lines: an object a record, tags as a list."""
    name = request.args.get("name", "")
    rows = [_row(k, r) for k, r in members(name)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return Response(text, mimetype="application/x-ndjson", headers={
        "Content-Disposition": f"attachment; filename=\"{_file_name(name)}.jsonl\""})


def _file_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60].strip("-")
    return f"collection-{safe or 'export'}"


@bp.route("/api/collection/remove", methods=["POST"])
@bp.route("/collection/remove", methods=["POST"])
def remove():
    name, rid = request.form.get("name", ""), request.form.get("record", "")
    _ws().remove(name, rid)
    return _done("Removed from the collection.", url_for("workspace.collection", name=name))


@bp.route("/api/collection/rename", methods=["POST"])
@bp.route("/collection/rename", methods=["POST"])
def rename_collection():
    name, new = request.form.get("name", ""), request.form.get("new", "")
    _ws().rename_collection(name, new)
    new = " ".join(new.split())
    return _done(f"Renamed to “{new}”.", url_for("workspace.collection", name=new))


@bp.route("/api/collection/delete", methods=["POST"])
@bp.route("/collection/delete", methods=["POST"])
def delete_collection():
    name = request.form.get("name", "")
    _ws().delete_collection(name)
    return _done(f"Deleted the collection “{name}” (the records' tags and notes stay).",
                 url_for("workspace.collections"))


def _record_asked() -> dict[str, Any]:
    rid = request.form.get("record", "")
    record = search_index().record(rid) if RECORD_ID.match(rid) else None
    if record is None:
        kept = _ws().kept(rid) if RECORD_ID.match(rid) else None
        if kept is None:
            raise WorkspaceProblem(f"no record with id {rid[:40]!r}")
        return {"id": kept.record, "title": kept.title, "url": kept.url, "date": kept.date}
    return _seen(record)


@bp.route("/api/record/tag", methods=["POST"])
@bp.route("/record/tag", methods=["POST"])
def tag():
    record = _record_asked()
    tags = _tags()
    _ws().tag([record], tags)
    return _done(f"Tagged {', '.join(tags)}.", url_for("record.document", record_id=record["id"]))


@bp.route("/api/record/untag", methods=["POST"])
@bp.route("/record/untag", methods=["POST"])
def untag():
    record = _record_asked()
    _ws().untag(record["id"], request.form.get("tag", ""))
    return _done("Tag removed.", url_for("record.document", record_id=record["id"]))


@bp.route("/api/record/note", methods=["POST"])
@bp.route("/record/note", methods=["POST"])
def note():
    record = _record_asked()
    text = request.form.get("note", "")
    _ws().write_note(record, text)
    return _done("Note saved." if text.strip() else "Note removed.",
                 url_for("record.document", record_id=record["id"]))


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), timezone.utc)
