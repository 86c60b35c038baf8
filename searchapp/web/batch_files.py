"""A batch search's downloads: its CSV (a spreadsheet opens it, and runs no formulas) and
its JSON, both written as the rows are counted, and a file name that says what was counted."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterator

from ..search import batch as batches
from ..search.request import SearchRequest
from ..search.serialize import BATCH_COLUMNS, CsvText, counted_to_json, counted_to_row
from .batch_asked import Asked
from .batch_lane import Running
from .files import filters_named, slug, stamp
from .links import row_url


def note(asked: Asked, running: Running) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    filters = "; ".join(f"{k}={v}" for k, v in asked.base.params(q="")) or "no filters"
    return (f"{len(running.queries):,} queries; {filters}; index {running.generation}; "
            f"run {when}")


def csv_body(asked: Asked, running: Running) -> Iterator[str]:
    """UTF-8 with a byte-order mark (spreadsheets read it as UTF-8). Every row carries the
    batch's filters, so a sorted or filtered sheet still says what it counted."""
    text = CsvText(BATCH_COLUMNS)
    said = note(asked, running)
    for row in running:
        text.row(counted_to_row(row, _external(row), said))
        if text.held() > 8192:
            yield text.take()
    yield text.take()


def _external(row: batches.Counted) -> str | None:
    return row_url(row, external=True) if row.query.request is not None else None


def json_body(asked: Asked, running: Running) -> Iterator[str]:
    """The JSON document, written as the rows are counted: the rows, then the figures."""
    head = {"queries": len(running.queries), "params": _params(asked.base),
            "sort": batches.sort_key(asked.sort)[0] if asked.sort else "line",
            "descending": batches.sort_key(asked.sort)[1], "generation": running.generation}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    for n, row in enumerate(running):
        yield ("," if n else "") + "\n" + json.dumps(counted_to_json(row, _external(row)),
                                                     ensure_ascii=False)
    tail = {"counted": running.done - running.failed, "errors": running.failed,
            "took_ms": round(running.took_s * 1000, 1)}
    yield "\n], " + json.dumps(tail)[1:] + "\n"


def _params(base: SearchRequest) -> dict:
    out: dict[str, list[str] | str] = {}
    for k, v in base.params(q=""):
        out.setdefault(k, []).append(v)
    return {k: v[0] if k in ("from", "to", "match") else v for k, v in out.items()}


def file_name(asked: Asked, kind: str) -> str:
    parts = filters_named(asked.base.filters, asked.base.date_from, asked.base.date_to)
    lines = len(batches.lines_of(asked.text))
    name = slug(" ".join(parts), 80) if parts else ""
    return f"searchapp-batch-{lines}-queries{'-' + name if name else ''}-{stamp()}.{kind}"
