"""Batch search: a list of queries (pasted, uploaded, or in the URL) in, a table of counts
out, as a page, CSV and JSON, streamed as the rows are counted (the counting is
search/batch.py's).

Read-only, like every route; /batch and /api/batch also take POST, because a list of a
thousand names does not fit in a URL. One batch runs at a time in each serving process
(web/batch_lane.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, stream_template

from ..index.schema import FACETS
from ..search import batch as batches
from ..search.request import BadRequest, SearchRequest
from .batch_asked import Asked, TooLarge, read_asked, read_text
from .batch_files import csv_body, file_name, json_body
from .batch_lane import BUSY, Busy, Running, busy, streamed
from .handle import search_index, settings
from .params import limits
from .links import row_url, search_url
from .rendering import FACET_LABELS

bp = Blueprint("batch", __name__)


@bp.route("/batch", methods=["GET", "POST"])
def batch():
    """Batch search: up to 1,000 queries, one a line, with the page's filters, counted as a
    table that streams in as the rows are counted; `format=csv` or `json` downloads it.
    POST because a long list does not fit in a URL; it writes nothing."""
    try:
        text = read_text()
    except TooLarge as exc:
        return _page(Asked("", SearchRequest(), "", ""), error=str(exc), status=413)
    asked = Asked(text, SearchRequest(), "", "")
    try:
        asked = read_asked(text)
        if asked.fmt == "json":
            return _api(asked)
        queries = _queries(asked) if text.strip() else []
    except BadRequest as exc:
        if request.values.get("format") == "json":
            raise
        return _page(asked, error=str(exc), status=400)
    if not queries:
        note = "No queries: every line is blank or a comment (#)." if text.strip() else None
        return _page(asked, note=note)
    try:
        running = Running(queries, asked.sort)
    except Busy:
        return busy(_page(asked, error=BUSY, status=503))
    if asked.fmt == "csv":
        return streamed(csv_body(asked, running), running, "text/csv", file_name(asked, "csv"))
    body = stream_template("batch.html", **_page_context(asked), running=running,
                           has_labels=any(q.label for q in queries),
                           header=batches.header_line(text))
    return streamed(body, running, "text/html")


@bp.route("/api/batch", methods=["GET", "POST"])
def api_batch():
    """The batch as JSON (or CSV with `format=csv`): the stable contract in docs/searching.md."""
    try:
        text = read_text()
    except TooLarge as exc:
        return jsonify(error=str(exc), status=413), 413
    asked = read_asked(text)
    if asked.fmt == "csv":
        running = _running(asked)
        if running is None:
            return busy(jsonify(error=BUSY, status=503), 503)
        return streamed(csv_body(asked, running), running, "text/csv", file_name(asked, "csv"))
    return _api(asked)


def _queries(asked: Asked) -> list[batches.Query]:
    return batches.read(asked.text, asked.base, limits())


def _running(asked: Asked) -> Running | None:
    """The batch started (None when another holds this process's lane); 400 without queries."""
    queries = _queries(asked)
    if not queries:
        raise BadRequest("no queries: give them in `queries`, one a line (or upload a file "
                         "as `file`); blank lines and lines starting with # are skipped")
    try:
        return Running(queries, asked.sort)
    except Busy:
        return None


def _api(asked: Asked):
    running = _running(asked)
    if running is None:
        return busy(jsonify(error=BUSY, status=503), 503)
    return streamed(json_body(asked, running), running, "application/json")


# -- the page ------------------------------------------------------------------------------

def _page(asked: Asked, error: str | None = None, note: str | None = None, status: int = 200):
    return render_template("batch.html", **_page_context(asked), running=None, error=error,
                           note=note, has_labels=False), status


def _page_context(asked: Asked) -> dict:
    return {"asked": asked, "req": SearchRequest(), "options": _options(asked.base),
            "row_url": row_url, "hint_url": _hint_url, "sort_url": asked.url,
            "max_queries": batches.MAX_QUERIES,
            "next_sort": _next_sort, "aria_sort": _aria_sort, "described": _described}


def _hint_url(row: batches.Counted) -> str:
    """The search page of a row's correction (the one the search page would offer), with
    the batch's filters, the corrected words as written."""
    return search_url(row.query.request, q=row.showing)


def _described(base: SearchRequest) -> str:
    """The filters every row was counted with, as the results' heading says them."""
    parts = [f"{FACET_LABELS[facet]}: {', '.join(base.filters[facet])}"
             for facet in FACETS if base.filters.get(facet)]
    if base.date_from or base.date_to:
        parts.append(f"dates {base.date_from or 'any'} to {base.date_to or 'any'}")
    if base.match == "any":
        parts.append("any of the words")
    return "; ".join(parts)


def _options(base: SearchRequest) -> dict[str, list[tuple[str, int | None, bool]]]:
    """Each facet's values to choose from, over the whole index: (value, records, chosen),
    the chosen first, then the commonest, at most `facet_page_max` of them."""
    most = settings().facet_page_max
    try:
        facets = search_index().search(SearchRequest(), terms=False, hits=False).facets
    except Exception:  # the form must render whatever state the index is in
        facets = {}
    out = {}
    for facet, values in facets.items():
        chosen = base.filters.get(facet, ())
        counts = {v.value: v.count for v in values}
        listed = [(v, counts.get(v), True) for v in chosen]
        listed += [(v.value, v.count, False) for v in values[:most] if v.value not in chosen]
        out[facet] = listed
    return out


def _next_sort(asked: Asked, column: str) -> str:
    """The sort a column's heading asks for: the other direction when it is the sort now."""
    now, descending = batches.sort_key(asked.sort)
    if now == column:
        return column if descending else f"-{column}"
    return f"-{column}" if column in batches.DESCENDING_FIRST else column


def _aria_sort(asked: Asked, column: str) -> str:
    now, descending = batches.sort_key(asked.sort)
    if now != column:
        return "none"
    return "descending" if descending else "ascending"
