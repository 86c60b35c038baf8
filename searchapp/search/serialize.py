"""The shapes a search leaves in: the JSON of the API and `searchapp search --json`, and the
CSV rows of every download (the stable contract), with the one CSV writer they are written by.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Sequence

from .batch import Counted
from .dates import BadRequest
from .results import Hit, QuerySummary, SearchResult
from .distinctive import Terms
from .timeline import Timeline


def hit_to_json(hit: Hit) -> dict[str, Any]:
    r = hit.record
    return {
        "id": r["id"],
        "title": r["title"],
        "excerpt": r["excerpt"],
        "url": r["url"],
        "provider": {"name": r["provider"]["name"], "domain": r["provider"]["domain"]},
        "topics": r["topics"],
        "category": r["category"],
        "type": r["type"],
        "kind": r["kind"],
        "published": r["published"],
        "score": round(hit.score, 4) if hit.score is not None else None,
        # The body's best one or two passages with the query's words marked ([]: no word of
        # the query is in the body, or there is none); the body itself is /api/doc's.
        "highlights": {"title": hit.title_html, "excerpt": hit.excerpt_html,
                       "body": hit.body_html},
        "story_id": hit.story_id or None,
        # Grouped by story: the other matches of this hit's story (the first few of them).
        "copies": [{"id": c["id"], "title": c["title"], "url": c["url"],
                    "provider": {"name": c["provider"]["name"], "domain": c["provider"]["domain"]},
                    "published": c["published"]} for c in hit.copies],
        "more_copies": hit.more_copies,
    }


def result_to_json(result: SearchResult) -> dict[str, Any]:
    req = result.request
    return {
        "query": req.q,
        "params": dict_params(req.params()),
        "total": result.total,
        "stories": result.stories,
        # False: the counts are at least these (a time budget, a pattern's cap or a missing
        # shard cut the search; `notice` says which; `full=1` counts without the budget).
        "exact": result.exact,
        "group": "story" if req.grouped else "records",
        "page": req.page,
        "per_page": req.per_page,
        "pages": result.pages,
        "took_ms": result.took_ms,
        "notice": result.notice,
        **({"shards": {"answered": result.shards[0], "total": result.shards[1],
                       "partial": result.partial}} if result.shards else {}),
        "results": [hit_to_json(h) for h in result.hits],
        "facets": {name: [{"value": v.value, "count": v.count, "selected": v.selected}
                          for v in values]
                   for name, values in result.facets.items()},
        "suggestion": result.suggestion,
        "suggestion_total": result.suggestion_total,
        # `total` and `stories` count the query as written. With a correction the results
        # listed are its own ("Showing results for ..."), counted apart; `literal=1` lists
        # the words as typed.
        "showing_results_for": result.showing,
        "showing_total": result.showing_total if result.showing else None,
        # Words of the query listed (the correction's when showing one) that other records
        # spell other ways: each spelling with the records the query finds with it instead,
        # and the query that finds every spelling (`all_q`), with its records.
        "spellings": [{"word": s.word, "also": [{"spelling": w, "total": n, "q": other_q}
                                                for w, n, other_q in s.others],
                       "all_q": s.everything, "all_total": s.total} for s in result.spellings],
        # Only with `typing=1` (a keystroke's search): the unfinished last word whose
        # completions are counted too. Null: every word counted as written.
        "completing": result.completing,
        # Searched as "records like this text" (a pasted passage); `like=0` asks for every word.
        "like_text": result.like,
        "generation": result.generation,
        "interval": result.timeline.interval if result.timeline else None,
        "timeline": timeline_to_json(result.timeline) if result.timeline else [],
        # Dated matches the timeline leaves out (it spans where most are; span=all: all).
        "timeline_outside": result.timeline.outside if result.timeline else 0,
        "terms": terms_to_json(result.terms),
        "terms_sample": ({"sampled": result.terms.sampled, "size": result.terms.sample_size,
                          "of": result.terms.population} if result.terms else None),
    }


def timeline_to_json(timeline: Timeline) -> list[dict[str, Any]]:
    return [{"start": b.start.date().isoformat(), "end": b.last_day.date().isoformat(),
             "count": b.count, "share": round(b.share, 6)} for b in timeline.buckets]


def terms_to_json(terms: Terms | None) -> list[dict[str, Any]]:
    if terms is None:
        return []
    return [{"term": t.text, "count": t.count, "background": t.background,
             "score": round(t.score, 3)} for t in terms.terms]


def summary_to_json(summary: QuerySummary) -> dict[str, Any]:
    return {"query": summary.request.q, "params": dict_params(summary.request.params()),
            "total": summary.total, "notice": summary.notice,
            "showing_results_for": summary.showing, "showing_total": summary.showing_total,
            "interval": summary.timeline.interval,
            "timeline": timeline_to_json(summary.timeline),
            "top": {name: [{"value": v, "count": c} for v, c in values]
                    for name, values in summary.top.items()}}


def dict_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 and k in ("q", "from", "to", "sort", "match", "page") else v
            for k, v in out.items()}


EXPORT_COLUMNS = ("id", "title", "excerpt", "url", "provider", "domain", "topics", "category",
                  "type", "kind", "published", "published_date", "quality", "cited_by",
                  "related", "story_id")
# On every exported row: the search that made it (a URL that redoes it) and what it was.
EXPORT_SOURCE = ("export_search", "export_note")
# Last, so every column before them keeps its place: the row's place in the search's order
# (from 1) and its relevance score as /api/search gives it (empty unless sorted by relevance).
EXPORT_RANK = ("rank", "score")


def record_to_row(r: dict[str, Any]) -> list[str]:
    """One CSV row; list fields joined with '; '. `published_date` is the day alone, which a
    spreadsheet reads as a date and sorts; `published` keeps the exact ISO timestamp. Ids
    a spreadsheet would take for numbers are written as text (`id_cell`)."""
    return [id_cell(r["id"]), r["title"], r["excerpt"], r["url"] or "", r["provider"]["name"],
            r["provider"]["domain"], "; ".join(r["topics"]), r["category"], r["type"], r["kind"],
            r["published"] or "", (r["published"] or "")[:10],
            "" if r["quality"] is None else str(r["quality"]),
            id_cell("; ".join(r["cited_by"])), id_cell("; ".join(r["related"])),
            id_cell(r.get("story_id", ""))]


# The CSV's columns `columns=` may choose from, in the order a choice is written: the
# article's text (`body`) only when asked for (a spreadsheet of whole articles is heavy).
CSV_CHOICES = EXPORT_COLUMNS + ("body",)
SPREADSHEET_CELL = 32_767  # characters one cell holds (Excel's limit; LibreOffice's is larger)
CUT_MARK = " … [cut: {:,} characters in all]"


def csv_columns(asked: str | None) -> tuple[str, ...]:
    """The columns a CSV export writes (`columns=title,body`: those, in that order; empty or
    absent: EXPORT_COLUMNS), before EXPORT_SOURCE and EXPORT_RANK, which every row ends with;
    BadRequest naming any column there is not."""
    names = [n.strip().lower() for n in (asked or "").split(",") if n.strip()]
    if not names:
        return EXPORT_COLUMNS
    unknown = [n for n in names if n not in CSV_CHOICES]
    if unknown:
        raise BadRequest(f"no column {', '.join(map(repr, unknown))}; columns= takes any of "
                         f"{', '.join(CSV_CHOICES)}")
    return tuple(dict.fromkeys(names))


def cell_cut(text: str, limit: int = SPREADSHEET_CELL) -> str:
    """`text`, or as much of it as a spreadsheet cell holds with a marker saying it was cut
    and how long it was (a longer cell spills into the next rows, or will not open)."""
    if len(text) <= limit:
        return text
    mark = CUT_MARK.format(len(text))
    return text[:limit - len(mark)] + mark


def record_cells(r: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    """One CSV row of the chosen `columns` (`record_to_row`'s cells, and the body cut to a
    cell's size)."""
    if columns == EXPORT_COLUMNS:
        return record_to_row(r)
    cells = dict(zip(EXPORT_COLUMNS, record_to_row(r)))
    cells["body"] = cell_cut(r.get("body") or "")
    return [cells[c] for c in columns]


def rank_cells(rank: int, score: float | None) -> list[Any]:
    """The EXPORT_RANK cells of the record at `rank`: numbers, which a spreadsheet sorts."""
    return [rank, "" if score is None else score]


# An id is 16 hex digits; about one in a thousand has no letter a-f, or only an `e` between
# digits, and a spreadsheet reads it as a number: `6275860902799670` loses its last digits
# (15 significant ones at most), `5e93477569813257` becomes 5 x 10^93477569813257.
_READ_AS_NUMBER = re.compile(r"[0-9]+(?:[eE][0-9]+)?")


class SpreadsheetText(str):
    """A cell already written as a spreadsheet's text (`="..."`): `csv_safe` leaves it."""


def id_cell(value: str) -> str:
    """An id as a CSV cell: itself, or `="6275860902799670"` when a spreadsheet would read it
    as a number. Excel, LibreOffice and Google Sheets show that as the text
    6275860902799670 (a formula of one constant: no reference, no function); the JSON Lines
    export keeps every id plain, for programs."""
    if value and _READ_AS_NUMBER.fullmatch(value):
        return SpreadsheetText(f'="{value}"')
    return value


def record_to_export(r: dict[str, Any]) -> dict[str, Any]:
    """One JSON Lines record: every field we index and show (never `secured`, never paths)."""
    return {k: v for k, v in r.items() if k != "sources"}


def status_to_json(status) -> dict[str, Any]:
    """`/api/status`: the index, its last run, the files refused, the watcher."""
    stats = status.stats
    return {
        "records": stats.records if stats else None,
        "generation": stats.generation if stats else None,
        "updated": stats.updated.isoformat() if stats and stats.updated else None,
        "problem": status.problem,
        "last_run": {"summary": status.last_run,
                     "ended": status.last_run_at.isoformat() if status.last_run_at else None},
        "refused": [{"file": path, "line": line, "reason": message}
                    for path, line, message in status.refused],
        "refused_total": status.refused_total,
        "watching": status.watching,
        "watching_since": status.watching_since.isoformat() if status.watching_since else None,
        "pending": status.pending,
        "watch_problem": status.watch_problem,
        "watch_problem_at": status.watch_problem_at.isoformat() if status.watch_problem_at
        else None,
        **({"cluster": {"answering": status.cluster[0], "shards": status.cluster[1],
                        "nodes": status.cluster[2]}} if status.cluster else {}),
    }


# -- CSV -------------------------------------------------------------------------------------

# A cell a spreadsheet would run as a formula starts with one of these (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with a quote; other cells
    (numbers among them, and ids made text by `id_cell`) as they are."""
    if isinstance(cell, str) and cell[:1] in FORMULA_START \
            and not isinstance(cell, SpreadsheetText):
        return "'" + cell
    return cell


class CsvText:
    """One CSV document, written a row at a time and taken in pieces, so a download streams
    with flat memory. Every cell passes through `csv_safe`: no export runs formulas. With
    `bom` it starts with a byte-order mark, without which spreadsheets that assume the
    system's code page show "â€¦" for "…"."""

    def __init__(self, header: Sequence[str], bom: bool = True):
        self._buffer = io.StringIO()
        if bom:
            self._buffer.write("\ufeff")
        self._writer = csv.writer(self._buffer)
        self.row(header)

    def row(self, cells: Iterable[Any]) -> None:
        self._writer.writerow([csv_safe(cell) for cell in cells])

    def held(self) -> int:
        """Characters written since the last `take`."""
        return self._buffer.tell()

    def take(self) -> str:
        """What was written since the last `take` (all of it, the first time)."""
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


def csv_document(header: Sequence[str], rows: Iterable[Iterable[Any]], bom: bool = True) -> str:
    """A whole CSV document (for the small downloads, made at once)."""
    text = CsvText(header, bom)
    for row in rows:
        text.row(row)
    return text.take()


TIMELINE_COLUMNS = ("start", "end", "count", "all_records", "share")


def timeline_columns(counted: str = "records") -> tuple[str, ...]:
    """`/timeline.csv`'s header: with count=stories the baseline is every story (all_stories)."""
    return TIMELINE_COLUMNS if counted == "records" else (*TIMELINE_COLUMNS[:3], f"all_{counted}",
                                                          *TIMELINE_COLUMNS[4:])


def timeline_rows(timeline: Timeline) -> Iterable[list[Any]]:
    """A search's attention over time: a row per period (`/timeline.csv`)."""
    return ([b.start.date().isoformat(), b.last_day.date().isoformat(), b.count, b.baseline,
             f"{b.share:.6f}"] for b in timeline.buckets)


def comparison_columns(summaries: Sequence[QuerySummary]) -> list[str]:
    return ["start", "end"] + [f"{s.request.q} ({what})" for s in summaries
                               for what in ("count", "share")]


def comparison_rows(summaries: Sequence[QuerySummary]) -> Iterable[list[Any]]:
    """Compared queries on their shared axis: a row per period, a count and a share per
    query (`/compare.csv`)."""
    for buckets in zip(*(s.timeline.buckets for s in summaries)):
        yield ([buckets[0].start.date().isoformat(), buckets[0].last_day.date().isoformat()]
               + [v for b in buckets for v in (b.count, f"{b.share:.6f}")])


BATCH_COLUMNS = ("line", "label", "query", "total", "stories", "notice", "error", "search_url",
                 "batch_note", "showing_results_for", "showing_total")


def counted_to_row(row: Counted, search_url: str | None, note: str) -> list[str]:
    """One row of a batch search's CSV; every row carries the batch's note (its filters, its
    index), so a sorted or filtered sheet still says what it counted."""
    q = row.query
    return [str(q.line), q.label, q.text, _number(row.total), _number(row.stories),
            row.notice or "", row.error or "", search_url or "", note, row.showing or "",
            _number(row.showing_total)]


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def counted_to_json(row: Counted, search_url: str | None) -> dict[str, Any]:
    """One row of a batch search's JSON (`/api/batch`)."""
    q = row.query
    return {"line": q.line, "label": q.label, "query": q.text, "total": row.total,
            "stories": row.stories, "notice": row.notice, "error": row.error,
            "search_url": search_url, "took_ms": row.took_ms,
            # The count is the words' as written; the correction the page shows instead:
            "showing_results_for": row.showing, "showing_total": row.showing_total}
