"""Downloads of a search: every matching record as CSV or JSON Lines (streamed), and the
timeline's numbers and chart, each with a file name that says what it holds."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlencode

from flask import Response, render_template, request, stream_with_context, url_for

from ..search.request import SearchRequest
from ..search.serialize import EXPORT_COLUMNS, EXPORT_SOURCE, record_to_export, record_to_row
from . import search_index
from .views import _attention, _search_request, bp

@bp.route("/timeline.csv")
def timeline_csv():
    """The attention-over-time numbers of a search, as CSV."""
    result, req = _searched()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["start", "end", "count", "all_records", "share"])
    for b in result.timeline.buckets:
        writer.writerow([b.start.date().isoformat(), b.last_day.date().isoformat(), b.count,
                         b.baseline, f"{b.share:.6f}"])
    return _download(buffer.getvalue(), "text/csv", _export_name(req, "csv", "timeline"))


@bp.route("/timeline.svg")
def timeline_svg():
    """The attention-over-time chart of a search, as a standalone SVG file."""
    result, req = _searched()
    svg = render_template("partials/_chart.svg", chart=_attention(result, req), standalone=True)
    return _download('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, "image/svg+xml",
                     _export_name(req, "svg", "timeline"))


def _searched():
    req = _search_request()
    return search_index().search(req, terms=False, hits=False), req


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/export.csv")
def export_csv():
    """Every matching record (not one page) as CSV, streamed so memory stays flat."""
    return _export("csv")


@bp.route("/export.jsonl")
def export_jsonl():
    """Every matching record as JSON Lines, streamed."""
    return _export("jsonl")


def _export(kind: str):
    req = _search_request()
    batches = search_index().export(req)
    # Where the export came from, on every row: it survives a spreadsheet's sorting and
    # filtering, and the URL redoes the search.
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = (url_for("search.search", _external=True)
              + ("?" + urlencode(req.params(page=1)) if req.params(page=1) else ""),
              f"{batches.total:,} records; index {batches.generation}; exported {when}")
    if kind == "csv":
        body = _csv_lines(batches, source, bom=request.args.get("bom", "1") != "0")
    else:
        body = _jsonl_lines(batches, source)
    mimetype = "text/csv" if kind == "csv" else "application/x-ndjson"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.call_on_close(batches.close)  # also when the body is never read (HEAD)
    response.headers["Content-Disposition"] = f'attachment; filename="{_export_name(req, kind)}"'
    return response


def _csv_lines(batches, source: tuple[str, str], bom: bool = True) -> Iterator[str]:
    """UTF-8 with a byte-order mark by default: without it, spreadsheets that assume the
    system's code page show "â€¦" for "…"."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS + EXPORT_SOURCE)
    for batch in batches:
        for record in batch:
            writer.writerow(_csv_safe(record_to_row(record)) + list(source))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _csv_safe(row: list[str]) -> list[str]:
    """Cells a spreadsheet would run as a formula are prefixed with a quote (CSV injection)."""
    return ["'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in row]


def _jsonl_lines(batches, source: tuple[str, str]) -> Iterator[str]:
    where = dict(zip(EXPORT_SOURCE, source))
    for batch in batches:
        yield "".join(json.dumps({**record_to_export(r), **where}, ensure_ascii=False) + "\n"
                      for r in batch)


def _export_name(req: SearchRequest, kind: str, what: str = "") -> str:
    """The query, the filters and the dates in the file name: two exports of one query with
    different filters are two files."""
    parts = [req.q] + [f"{'source' if f == 'provider' else f} {v}"
                       for f, values in sorted(req.filters.items()) for v in values]
    if req.date_from or req.date_to:
        parts.append(f"{req.date_from or 'start'} to {req.date_to or 'end'}")
    return f"searchapp-{slug(' '.join(parts), 100)}{'-' + what if what else ''}-{stamp()}.{kind}"


def slug(text: str, most: int) -> str:
    """Text as a file-name part: lower-case letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:most].strip("-") or "all"


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d")
