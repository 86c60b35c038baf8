"""Batch search: many queries in, a count per query out (records and stories), as
researchers bring a list of names to a collection.

The text of a batch is read into rows, one query a line (`label<TAB>query` keeps a label;
blank lines, lines starting with `#` and a first line of column names such as
`Label<TAB>Query` are skipped); each row is a search of its own with
the batch's filters. `run` counts the rows through one snapshot, so every row sees the same
index generation, and yields each row as soon as it is counted, so a response can stream.
Counting needs no ranking, no facets and no suggestion: a row costs its matching only.
"""

from __future__ import annotations

import codecs
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import ContextManager, Iterable, Iterator

from whoosh import query as wq

from ..engine.deadline import after_ms
from . import answer
from .answer import SearchLimits
from .request import BadRequest, RequestLimits, SearchRequest
from .snapshot import Snapshot

MAX_QUERIES = 1000  # rows one batch may hold (blank and comment lines not counted)
BATCH_BUDGET_S = 60.0  # past this, the rows left are not run, and say so
YIELD_EVERY_S = 0.01  # a batch lets go of the interpreter (and the core) this often
SORTS = ("line", "label", "query", "total", "stories")
# A column sorted for the first time: names from A, counts from the largest.
DESCENDING_FIRST = ("total", "stories")

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A first line of column names, as two columns copied from a sheet with their header bring:
# `Label<TAB>Query` (any case). Only with the tab: a line of one word is a query.
HEADER_LABELS = frozenset({"label", "labels", "name", "names"})
HEADER_QUERIES = frozenset({"query", "queries", "search", "searches", "search term",
                            "search terms"})


class TooManyQueries(BadRequest):
    """More rows than a batch may hold: said before anything runs."""


@dataclass(frozen=True)
class Query:
    """One row of a batch as asked: where it was, its label, its text, and the search it
    stands for (None when it cannot be run, and `error` says why)."""

    line: int  # its line in the text, from 1 (blank and comment lines counted)
    label: str
    text: str
    request: SearchRequest | None
    error: str | None = None


@dataclass(frozen=True)
class Counted:
    """One row's answer: records and stories, what the parser said, or why it did not run."""

    query: Query
    total: int | None
    stories: int | None
    notice: str | None
    error: str | None
    generation: str
    took_ms: float
    # The correction the page would show instead, and its count (the count is the words').
    showing: str | None = None
    showing_total: int | None = None


def decode(data: bytes) -> str:
    """An uploaded file of queries as text: UTF-8 (with or without a byte-order mark),
    UTF-32 or UTF-16 with its mark (a spreadsheet's "Unicode text"), else Windows-1252.
    UTF-32's marks are looked for first: the little-endian one (FF FE 00 00) starts with
    UTF-16's (FF FE), and read as UTF-16 it puts a NUL between every two letters."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return data.decode("utf-32", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def lines_of(text: str) -> list[tuple[int, str, str]]:
    """(line number, label, query) of each query line: blank lines, `#` comments and a
    header line (`header_line`) are skipped; a tab splits a label from its query
    (`label<TAB>query`, label kept as given)."""
    out = []
    header = header_line(text)
    for number, line in enumerate(LINE_BREAK.split(text.lstrip("\ufeff")), start=1):
        if not line.strip() or line.lstrip().startswith("#") or number == header:
            continue
        label, _, query = line.partition("\t") if "\t" in line else ("", "", line)
        if not query.strip():  # `label<TAB>` with nothing after it: the label is the query
            label, query = "", label
        out.append((number, label.strip(), query.strip()))
    return out


def header_line(text: str) -> int | None:
    """The number of the line that names the columns (`Label<TAB>Query`), when the first
    line that is not blank or a comment does; else None."""
    for number, line in enumerate(LINE_BREAK.split(text.lstrip("\ufeff")), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        label, tab, query = line.partition("\t")
        if tab and label.strip().casefold() in HEADER_LABELS \
                and query.strip().casefold() in HEADER_QUERIES:
            return number
        return None
    return None


def read(text: str, base: SearchRequest, limits: RequestLimits, *,
         max_queries: int = MAX_QUERIES) -> list[Query]:
    """The rows of a batch, each with the search it stands for: the query as written, the
    batch's filters and dates (a row's own `year:` narrows them), every word as typed (no
    completion of the last one, no correction). Too many rows raise TooManyQueries. The
    `limits` are the settings', from whoever reads the batch."""
    max_query_length = limits.max_query_length
    found = lines_of(text)
    if len(found) > max_queries:
        raise TooManyQueries(
            f"this batch has {len(found):,} queries; at most {max_queries:,} can run at once "
            f"(blank lines and lines starting with # are not counted). Split it into batches "
            f"of {max_queries:,}.")
    shared = [(k, v) for k, v in base.params(q="", page=1, sort="relevance", interval="",
                                             scale="count", span="", literal=False)]
    # The base was checked already, under the configured limits: a row takes its filters as
    # they are.
    most = max([1, *(len(v) for v in base.filters.values())])
    out = []
    for number, label, query in found:
        if len(query) > max_query_length:
            out.append(Query(number, label, query, None,
                             f"this query is {len(query):,} characters long; a batch runs queries "
                             f"of at most {max_query_length:,}"))
            continue
        params: dict[str, list[str]] = {}
        for k, v in shared + [("q", query), ("typing", "0"), ("literal", "1")]:  # finished
            params.setdefault(k, []).append(v)
        try:
            req = SearchRequest.from_params(params, replace(limits, max_facet_values=most))
        except BadRequest as exc:
            out.append(Query(number, label, query, None, str(exc)))
            continue
        out.append(Query(number, label, query, req))
    return out


def run(snap: Snapshot, queries: Iterable[Query], limits: SearchLimits,
        heavy_lane: ContextManager = nullcontext(), budget_s: float = BATCH_BUDGET_S
        ) -> Iterator[Counted]:
    """Each row counted through `snap`, yielded as soon as it is known. A row is a search
    with the time budget of any search; a heavy one takes the heavy lane as a search does;
    every YIELD_EVERY_S between rows the interpreter and the core are let go, so other
    requests get their turn. The same search twice is counted once."""
    snap.gen.ready()
    stop = after_ms(budget_s * 1000 or None)
    yielded = time.perf_counter()
    done: dict[tuple, tuple[int, int, str | None, str | None, int | None]] = {}
    for query in queries:
        started = time.perf_counter()
        if query.request is None:
            yield Counted(query, None, None, None, query.error, snap.generation, 0.0)
            continue
        if stop is not None and started > stop:
            yield Counted(query, None, None, None,
                          f"not run: the batch stopped after {budget_s:g} s; run the rest as "
                          "a batch of its own", snap.generation, 0.0)
            continue
        key = answer.search_key(query.request)
        if key not in done:
            done[key] = count(snap, query.request, limits, heavy_lane)
        total, stories, notice, showing, showing_total = done[key]
        now = time.perf_counter()
        yield Counted(query, total, stories, notice, None, snap.generation,
                      round((now - started) * 1000, 2), showing, showing_total)
        if now - yielded >= YIELD_EVERY_S:  # a sleep costs ~0.08 ms: not after every row
            time.sleep(0)  # other threads of this process, and other processes, get a turn
            yielded = time.perf_counter()


def count(snap: Snapshot, req: SearchRequest, limits: SearchLimits,
          heavy_lane: ContextManager = nullcontext()
          ) -> tuple[int, int, str | None, str | None, int | None]:
    """(records, stories, notice, correction, its records) of one search: what /api/search
    counts and the correction it would show, without ranking or facets. A row is not
    interactive: it counts in full, with no time budget of a search (the batch as a whole
    has one, between rows)."""
    limits = replace(limits, budget_ms=0)
    heavy = answer.looks_heavy(req.q)
    with heavy_lane if heavy else nullcontext():
        deadline = limits.deadline()
        parsed = answer.parse(snap, req, limits, deadline)
        many = parsed.query is not None and parsed.query is not wq.NullQuery \
            and sum(1 for _ in parsed.query.leaves()) > answer.HEAVY_TERMS
        with heavy_lane if many and not heavy else nullcontext():
            if many and not heavy:
                deadline = limits.deadline()  # its budget starts when it gets its turn
            found = answer.matching(snap, parsed, req, rank=False, deadline=deadline)
            parsed, found = answer.like_passage(snap, req, limits, parsed, found, deadline,
                                                rank=False)
    showing, better = answer.correction(snap, req, limits, found, None)
    return (int(len(found.final)), snap.columns.story_count(found.final), parsed.notice,
            showing, better if showing else None)


def sort_key(text: str) -> tuple[str, bool]:
    """`total`, `-total` (descending), ... as (column, descending); empty is input order.
    One `-` only: `--total` is refused, not read as `-total`, so a link or a script that
    doubled it learns so instead of getting a sort it did not write."""
    text = (text or "").strip()
    if not text:
        return "line", False
    descending = text.startswith("-")
    column = text[1:] if descending else text
    if column not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)} (with one - before it to "
                         f"sort descending), not {text[:40]!r}")
    return column, descending


def sorted_rows(rows: Iterable[Counted], sort: str) -> list[Counted]:
    """The rows by one column, equals in input order. By label, query or count, the rows
    that did not run come last whichever the direction; by line they keep their place."""
    column, descending = sort_key(sort)
    rows = sorted(rows, key=lambda r: r.query.line, reverse=column == "line" and descending)
    if column == "line":
        return rows
    ran = [r for r in rows if r.error is None]
    failed = [r for r in rows if r.error is not None]
    if column in ("label", "query"):
        ran.sort(key=lambda r: _text_key(r.query.label or r.query.text if column == "label"
                                          else r.query.text), reverse=descending)
    else:
        ran.sort(key=lambda r: getattr(r, column), reverse=descending)
    return ran + failed


def _text_key(text: str) -> str:
    return text.casefold()
