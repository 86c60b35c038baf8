"""Batch search: a list of queries (pasted, uploaded, or in the URL) in, a table of counts
out, as a page, CSV and JSON, streamed as the rows are counted.

Read-only, like every route; /batch and /api/batch also take POST, because a list of a
thousand names does not fit in a URL. One batch runs at a time in each serving process, so
a batch never takes more than one thread's share of the workers.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import datetime, timezone
from typing import Iterable, Iterator
from urllib.parse import urlencode

from flask import (Response, current_app, jsonify, render_template, request, stream_template,
                   stream_with_context, url_for)
from werkzeug.exceptions import RequestEntityTooLarge

from ..index.schema import FACETS
from ..search import batch as batches
from ..search.request import BadRequest, SearchRequest
from . import search_index
from .views import FACET_LABELS, bp, search_url  # first: views imports this module, and downloads, at its end
from .downloads import _csv_safe, slug, stamp  # noqa: E402

MAX_BODY = 8 * 2**20  # bytes of one batch request: 1,000 long queries fit
SHARE_URL_MAX = 2000  # a batch whose URL is longer is shared by its CSV or JSON instead
LANE_WAIT_S = 10.0  # a second batch in the same process waits this long for the first
RETRY_AFTER_S = 10
# The search parameters a batch takes: its filters and dates, for every row (`sort` sorts
# the table, `q` is not one: the rows are the queries).
BASE_PARAMS = ("topic", "topics", "provider", "providers", "source", "category", "type",
               "kind", "year", "from", "to", "match")
CSV_COLUMNS = ["line", "label", "query", "total", "stories", "notice", "error", "search_url",
               "batch_note"]


class Asked:
    """What a batch request asks for: its text, the filters of every row, the sort, the format."""

    def __init__(self, text: str, base: SearchRequest, sort: str, fmt: str):
        self.text, self.base, self.sort, self.fmt = text, base, sort, fmt

    def pairs(self, **changes) -> list[tuple[str, str]]:
        """The batch as URL parameters (what a GET link to it carries)."""
        sort = changes.get("sort", self.sort)
        return ([("queries", self.text)] + self.base.params(q="")
                + ([("sort", sort)] if sort else [])
                + ([("format", changes["format"])] if changes.get("format") else []))

    def url(self, endpoint: str = "search.batch", **changes) -> str | None:
        """The GET URL of this batch, or None when it is too long to share as a link."""
        link = url_for(endpoint) + "?" + urlencode(self.pairs(**changes))
        return link if len(link) <= SHARE_URL_MAX else None


def _text() -> str:
    """The batch's lines from the query string, the form or an uploaded file (a file, when
    chosen, is run instead of the text box, and shown in it), line breaks made `\n`."""
    request.max_content_length = MAX_BODY
    request.max_form_memory_size = MAX_BODY
    try:
        text = request.values.get("queries", "")
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise TooLarge(f"a batch may be at most {MAX_BODY // 2**20} MB; split it into smaller "
                       "batches") from None
    if upload is not None and upload.filename:
        text = batches.decode(upload.stream.read())
    lines = batches.LINE_BREAK.split(text.lstrip("\ufeff"))
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _asked(text: str) -> Asked:
    """The batch's filters and dates (for every row), its sort and its format."""
    values = request.values
    cfg = current_app.config["SEARCHAPP"]
    params = {k: values.getlist(k) for k in BASE_PARAMS if k in values}
    base = SearchRequest.from_params(params, max_query_length=cfg.max_query_length,
                                     max_facet_values=cfg.max_facet_values)
    # A heading's button (`resort`) wins over the sort the form carries.
    sort = (values.get("resort") or values.get("sort") or "").strip()
    batches.sort_key(sort)  # refused now, before anything runs
    fmt = values.get("format", "").strip()
    if fmt not in ("", "html", "csv", "json"):
        raise BadRequest(f"format must be html, csv or json, not {fmt!r}")
    return Asked(text, base, sort, fmt)


class TooLarge(BadRequest):
    """A batch request larger than MAX_BODY."""


class Busy(Exception):
    """Another batch holds this process's batch lane."""


class Running:
    """A batch under way: its rows as they are counted (sorted at the end when asked),
    holding this process's batch lane and one snapshot until closed."""

    def __init__(self, queries: list[batches.Query], sort: str):
        self.queries, self.sort = queries, sort
        self.done = self.failed = 0
        self.generation = ""
        self.took_s = 0.0
        self.started = time.perf_counter()
        lane = _lane()
        if not lane.acquire(timeout=LANE_WAIT_S):
            raise Busy()
        self._lane: threading.Semaphore | None = lane
        try:
            self._rows = search_index().batch(queries)
            # The first row now: a missing or damaged index fails before a response starts.
            self._first = next(self._rows, None)
        except BaseException:
            self.close()
            raise
        if self._first is not None:
            self.generation = self._first.generation

    def __iter__(self) -> Iterator[batches.Counted]:
        rows = self._counted()
        if batches.sort_key(self.sort) != ("line", False):
            rows = iter(batches.sorted_rows(list(rows), self.sort))
        yield from rows

    def _counted(self) -> Iterator[batches.Counted]:
        pending = [self._first] if self._first is not None else []
        for row in _chain(pending, self._rows):
            self.done += 1
            self.failed += row.error is not None
            yield row
        self.took_s = time.perf_counter() - self.started
        self.close()  # every row counted: the rest of the response needs neither

    def close(self) -> None:
        """Let go of the snapshot and the lane (once; also when the body is never read)."""
        rows = getattr(self, "_rows", None)
        if rows is not None:
            rows.close()
        if self._lane is not None:
            lane, self._lane = self._lane, None
            lane.release()


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


_LANES = threading.Lock()


def _lane() -> threading.Semaphore:
    """This process's batch lane: one batch at a time (the app is made once per process)."""
    with _LANES:
        return current_app.extensions.setdefault("searchapp.batch_lane", threading.Semaphore(1))


@bp.route("/batch", methods=["GET", "POST"])
def batch():
    """Batch search: up to 1,000 queries, one a line, with the page's filters, counted as a
    table that streams in as the rows are counted; `format=csv` or `json` downloads it.
    POST because a long list does not fit in a URL; it writes nothing."""
    try:
        text = _text()
    except TooLarge as exc:
        return _page(Asked("", SearchRequest(), "", ""), error=str(exc), status=413)
    asked = Asked(text, SearchRequest(), "", "")
    try:
        asked = _asked(text)
        if asked.fmt == "json":
            return _api(asked)
        queries = batches.read(text, asked.base, max_query_length=_max_length()) \
            if text.strip() else []
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
        return _busy(_page(asked, error=_BUSY, status=503))
    if asked.fmt == "csv":
        return _streamed(_csv(asked, running), running, "text/csv", asked, "csv")
    body = stream_template("batch.html", **_page_context(asked), running=running,
                           has_labels=any(q.label for q in queries))
    return _streamed(body, running, "text/html")


@bp.route("/api/batch", methods=["GET", "POST"])
def api_batch():
    """The batch as JSON (or CSV with `format=csv`): the stable contract in the README."""
    try:
        text = _text()
    except TooLarge as exc:
        return jsonify(error=str(exc), status=413), 413
    asked = _asked(text)
    if asked.fmt == "csv":
        running = _running(asked)
        if running is None:
            return _busy(jsonify(error=_BUSY, status=503), 503)
        return _streamed(_csv(asked, running), running, "text/csv", asked, "csv")
    return _api(asked)


def _max_length() -> int:
    return current_app.config["SEARCHAPP"].max_query_length


def _running(asked: Asked) -> "Running | None":
    """The batch started (None when another holds this process's lane); 400 without queries."""
    queries = batches.read(asked.text, asked.base, max_query_length=_max_length())
    if not queries:
        raise BadRequest("no queries: give them in `queries`, one a line (or upload a file "
                         "as `file`); blank lines and lines starting with # are skipped")
    try:
        return Running(queries, asked.sort)
    except Busy:
        return None


_BUSY = ("Another batch is running in this server process; batches run one at a time so "
         "that searches stay quick. Try again in a few seconds.")


def _api(asked: Asked):
    running = _running(asked)
    if running is None:
        return _busy(jsonify(error=_BUSY, status=503), 503)
    return _streamed(_json(asked, running), running, "application/json")


def _busy(response, status: int | None = None):
    if isinstance(response, tuple):
        response = current_app.make_response(response)
    if status is not None:
        response.status_code = status
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _streamed(body: Iterable[str], running: Running, mimetype: str, asked: Asked | None = None,
              kind: str | None = None) -> Response:
    response = Response(stream_with_context(_chunks(body)), mimetype=mimetype)
    response.call_on_close(running.close)  # also when the body is never read (HEAD)
    if kind is not None:
        response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(asked, kind)}"'
    return response


def _chunks(pieces: Iterable[str], size: int = 16384, every_s: float = 0.25,
            first_s: float = 0.02) -> Iterator[str]:
    """Pieces gathered into chunks of about `size` characters, or whatever came within
    `every_s` seconds (`first_s` for the first, so the page's head shows at once): rows
    arrive as they are counted, without a write per table cell."""
    buffer: list[str] = []
    held, last, wait = 0, time.perf_counter(), first_s
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        now = time.perf_counter()
        if held >= size or now - last >= wait:
            yield "".join(buffer)
            buffer, held, last, wait = [], 0, now, every_s
    if buffer:
        yield "".join(buffer)


# -- the page ------------------------------------------------------------------------------

def _page(asked: Asked, error: str | None = None, note: str | None = None, status: int = 200):
    return render_template("batch.html", **_page_context(asked), running=None, error=error,
                           note=note, has_labels=False), status


def _page_context(asked: Asked) -> dict:
    return {"asked": asked, "req": SearchRequest(), "options": _options(asked.base),
            "row_url": row_url, "sort_url": asked.url, "max_queries": batches.MAX_QUERIES,
            "next_sort": _next_sort, "aria_sort": _aria_sort, "described": _described}


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
    cfg = current_app.config["SEARCHAPP"]
    try:
        facets = search_index().search(SearchRequest(), terms=False, hits=False).facets
    except Exception:  # the form must render whatever state the index is in
        facets = {}
    out = {}
    for facet, values in facets.items():
        chosen = base.filters.get(facet, ())
        counts = {v.value: v.count for v in values}
        listed = [(v, counts.get(v), True) for v in chosen]
        listed += [(v.value, v.count, False) for v in values[:cfg.facet_page_max]
                   if v.value not in chosen]
        out[facet] = listed
    return out


def row_url(row: batches.Counted, external: bool = False) -> str:
    """The search page of one row, with the words as counted: no completion of the last
    word (`typing=0`), no correction (`literal=1`). Absolute (for the CSV and JSON) from
    the `base_url` setting when there is one, else from the address the batch was asked at,
    as the export's links are."""
    url = search_url(row.query.request) + "&typing=0"
    if not external:
        return url
    site = current_app.config["SEARCHAPP"].base_url or request.host_url
    return site.rstrip("/") + url


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


# -- downloads -----------------------------------------------------------------------------

def _note(asked: Asked, running: Running) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    filters = "; ".join(f"{k}={v}" for k, v in asked.base.params(q="")) or "no filters"
    return (f"{len(running.queries):,} queries; {filters}; index {running.generation}; "
            f"run {when}")


def _csv(asked: Asked, running: Running) -> Iterator[str]:
    """UTF-8 with a byte-order mark (spreadsheets read it as UTF-8); cells a spreadsheet
    would run as a formula start with a quote, as in /export.csv. Every row carries the
    batch's filters, so a sorted or filtered sheet still says what it counted."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    note = _note(asked, running)
    for row in running:
        q = row.query
        writer.writerow(_csv_safe([
            str(q.line), q.label, q.text, _number(row.total), _number(row.stories),
            row.notice or "", row.error or "",
            row_url(row, external=True) if q.request is not None else "", note]))
        if buffer.tell() > 8192:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _json(asked: Asked, running: Running) -> Iterator[str]:
    """The JSON document, written as the rows are counted: the rows, then the figures."""
    head = {"queries": len(running.queries), "params": _params(asked.base),
            "sort": batches.sort_key(asked.sort)[0] if asked.sort else "line",
            "descending": batches.sort_key(asked.sort)[1], "generation": running.generation}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    for n, row in enumerate(running):
        yield ("," if n else "") + "\n" + json.dumps(_row_json(row), ensure_ascii=False)
    tail = {"counted": running.done - running.failed, "errors": running.failed,
            "took_ms": round(running.took_s * 1000, 1)}
    yield "\n], " + json.dumps(tail)[1:] + "\n"


def _row_json(row: batches.Counted) -> dict:
    q = row.query
    return {"line": q.line, "label": q.label, "query": q.text, "total": row.total,
            "stories": row.stories, "notice": row.notice, "error": row.error,
            "search_url": row_url(row, external=True) if q.request is not None else None,
            "took_ms": row.took_ms}


def _params(base: SearchRequest) -> dict:
    out: dict[str, list[str] | str] = {}
    for k, v in base.params(q=""):
        out.setdefault(k, []).append(v)
    return {k: v[0] if k in ("from", "to", "match") else v for k, v in out.items()}


def _file_name(asked: Asked, kind: str) -> str:
    parts = [f"{'source' if f == 'provider' else f} {v}"
             for f, values in sorted(asked.base.filters.items()) for v in values]
    if asked.base.date_from or asked.base.date_to:
        parts.append(f"{asked.base.date_from or 'start'} to {asked.base.date_to or 'end'}")
    lines = len(batches.lines_of(asked.text))
    name = slug(" ".join(parts), 80) if parts else ""
    return f"searchapp-batch-{lines}-queries{'-' + name if name else ''}-{stamp()}.{kind}"
