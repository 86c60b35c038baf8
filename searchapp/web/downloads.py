"""Downloads of a search: every matching record as CSV or JSON Lines (streamed), and the
timeline's numbers and chart, each with a file name that says what it holds."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for

from ..search.request import SearchRequest
from ..search.serialize import (EXPORT_RANK, EXPORT_SOURCE, CsvText, csv_columns,
                                csv_document, rank_cells, record_cells, record_to_export,
                                timeline_columns, timeline_rows)
from .files import attachment, download, filters_named, slug, stamp
from .handle import search_index
from .limits import begun, stream_place
from .params import search_request
from .rendering import attention

bp = Blueprint("downloads", __name__)


@bp.route("/timeline.csv")
def timeline_csv():
    """The attention-over-time numbers of a search, as CSV."""
    result, req = _searched()
    body = csv_document(timeline_columns(req.count), timeline_rows(result.timeline), bom=False)
    return download(body, "text/csv", _export_name(req, "csv", "timeline"))


@bp.route("/timeline.svg")
def timeline_svg():
    """The attention-over-time chart of a search, as a standalone SVG file."""
    result, req = _searched()
    svg = render_template("partials/_chart.svg", chart=attention(result, req), standalone=True)
    return download('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, "image/svg+xml",
                    _export_name(req, "svg", "timeline"))


def _searched():
    req = search_request()
    return search_index().search(req, terms=False, hits=False), req


@bp.route("/export.csv")
def export_csv():
    """Every matching record (not one page) as CSV, streamed so memory stays flat."""
    return _export("csv")


@bp.route("/export.jsonl")
def export_jsonl():
    """Every matching record as JSON Lines, streamed."""
    return _export("jsonl")


def _export(kind: str):
    req = search_request()
    columns = csv_columns(request.args.get("columns")) if kind == "csv" else ()
    place = stream_place("export")
    if isinstance(place, Response):
        return place
    try:
        export = search_index().export(req)
    except BaseException:
        place.give_back()
        raise
    # Where the export came from, on every row: it survives a spreadsheet's sorting and
    # filtering, and the URL redoes the search.
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    source = (url_for("search.search", _external=True)
              + ("?" + urlencode(req.params(page=1)) if req.params(page=1) else ""),
              f"{export.total:,} records; index {export.generation}; exported {when}")
    if kind == "csv":
        body = _csv_lines(export, source, bom=request.args.get("bom", "1") != "0",
                          columns=columns)
    else:
        body = _jsonl_lines(export, source)
    try:
        body = begun(body)
    except BaseException:
        export.close()
        place.give_back()
        raise
    mimetype = "text/csv" if kind == "csv" else "application/x-ndjson"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.call_on_close(export.close)  # also when the body is never read (HEAD)
    response.call_on_close(place.give_back)
    response.headers["Content-Disposition"] = attachment(_export_name(req, kind))
    return response


def _csv_lines(export, source: tuple[str, str], bom: bool = True,
               columns: tuple[str, ...] = ()) -> Iterator[str]:
    """UTF-8 with a byte-order mark by default; a piece per batch of records read; the
    `columns` chosen (`columns=`), then where the row came from and its rank."""
    text = CsvText(columns + EXPORT_SOURCE + EXPORT_RANK, bom)
    rank = 0
    for records in export:
        for record in records:
            rank += 1
            text.row(record_cells(record, columns) + list(source)
                     + rank_cells(rank, export.score(rank)))
        yield text.take()
    yield text.take()


def _jsonl_lines(export, source: tuple[str, str]) -> Iterator[str]:
    where = dict(zip(EXPORT_SOURCE, source))
    rank = 0
    for records in export:
        lines = []
        for r in records:
            rank += 1
            lines.append(json.dumps({**record_to_export(r), **where, "rank": rank,
                                     "score": export.score(rank)}, ensure_ascii=False) + "\n")
        yield "".join(lines)


def _export_name(req: SearchRequest, kind: str, what: str = "") -> str:
    """The query, the filters and the dates in the file name: two exports of one query with
    different filters are two files."""
    parts = [req.q] + filters_named(req.filters, req.date_from, req.date_to)
    return f"searchapp-{slug(' '.join(parts), 100)}{'-' + what if what else ''}-{stamp()}.{kind}"
