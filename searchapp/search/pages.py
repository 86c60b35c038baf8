"""A page of a search's results: the page's documents in the search's order (by relevance,
ties by id, or by date), a page of stories with each story's other copies folded under
its best match, every match in order for an export, and the hits with their records read
at once and their words marked.
"""

from __future__ import annotations

import numpy as np

from ..reader import Snapshot
from .highlight import fragments, mark
from .matching import Matches
from .request import SearchRequest
from .results import Hit

COPIES_SHOWN = 12  # under a story's hit; the rest are one link away (`story=`)


def page_order(snap: Snapshot, req: SearchRequest, found: Matches) -> list[tuple[int, float | None]]:
    """(document number, score) of the request's page of hits."""
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    if found.scored is not None:
        docs, scores = found.best(snap.columns.idkeys, stop)
        return [(int(d), float(sc)) for d, sc in zip(docs[start:stop], scores[start:stop])]
    if start >= len(found.final):
        return []
    docs = snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"), stop=stop)
    return [(int(d), None) for d in docs[start:stop]]


def story_page(snap: Snapshot, req: SearchRequest, found: Matches
               ) -> list[tuple[int, float | None, np.ndarray]]:
    """The request's page of stories: for each, its best match (by the search's order) with
    its score, and the story's other matches (earliest first)."""
    cols = snap.columns
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    if start >= len(found.final):
        return []
    ahead = max(3 * stop, 60)  # matches read to find `stop` stories; more when copies crowd
    while True:
        if found.scored is not None:
            docs, scores = found.best(cols.idkeys, ahead)
        else:
            docs = cols.by_date(found.final, newest=(req.effective_sort != "oldest"), stop=ahead)
            scores = None
        stories = cols.story[docs]
        _, first = np.unique(stories, return_index=True)
        first.sort()
        if len(first) >= stop or ahead >= len(found.final):
            break
        ahead *= 4
    shown = first[start:stop]
    return [(int(docs[i]), None if scores is None else float(scores[i]),
             cols.copies_in(int(docs[i]), found.final)) for i in shown]


def story_hits(snap: Snapshot, terms: dict[str, frozenset[str]], page) -> list[Hit]:
    """The hits of a page of stories, each with its first copies; every record read at once
    (on a cluster, one call per shard); a record a shard did not give is left out."""
    shown = [[int(d) for d in copies[:COPIES_SHOWN]] for _, _, copies in page]
    records = snap.records([d for d, _, _ in page] + [d for few in shown for d in few])
    copies_of = iter(records[len(page):])
    out = []
    for (docnum, score, copies), record, few in zip(page, records, shown):
        found = [r for r in (next(copies_of) for _ in few) if r is not None]
        if record is not None:
            hit = _hit(snap, terms, docnum, score, record)
            hit.copies, hit.more_copies = found, max(0, len(copies) - COPIES_SHOWN)
            out.append(hit)
    return out


def full_order(snap: Snapshot, req: SearchRequest, found: Matches
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Every match in result order, with its relevance score when sorted by relevance (for
    exports: the scores the page shows), else None."""
    if found.scored is not None:
        return found.best(snap.columns.idkeys)
    return snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"),
                                stop=len(found.final)), None


def hits(snap: Snapshot, terms: dict[str, frozenset[str]], order) -> list[Hit]:
    """The hits at (document number, score), their records read at once; a record a shard
    of a cluster did not give is left out."""
    records = snap.records([d for d, _ in order])
    return [_hit(snap, terms, docnum, score, record)
            for (docnum, score), record in zip(order, records) if record is not None]


def _hit(snap: Snapshot, terms: dict[str, frozenset[str]], docnum: int, score: float | None,
         record: dict) -> Hit:
    return Hit(record["id"], record, score,
               mark(record["title"], terms["title"], terms["exact"]),
               mark(record["excerpt"], terms["excerpt"], terms["exact"]),
               story_id=snap.columns.story_id(docnum),
               body_html=fragments(record.get("body", ""), terms.get("body", frozenset()),
                                   terms["exact"], shown=record.get("excerpt") or ""))
