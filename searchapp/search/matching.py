"""Which documents a parsed query matches, and the order of relevance among them: the text
and dates (`base`), each facet's filter as a mask over it, and every filter at once
(`final`), scored in one pass over arrays when the order is relevance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq

from ..reader import Snapshot
from . import marks
from .budget import SearchLimits
from .query import ParsedQuery, is_passage, parse
from .request import SearchRequest


@dataclass
class Matches:
    base: np.ndarray  # matching the text and dates
    final: np.ndarray  # ... and every facet filter
    masks: dict[str, np.ndarray]  # per facet, over `base`
    scored: tuple[np.ndarray, np.ndarray] | None  # `final` with scores, by document number
    cut_short: bool = False  # the search's time budget ran out: what it found so far

    def best(self, ids: np.ndarray, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first `stop` of `final` by relevance (every one when None) with their scores,
        ties by record id (`ids`: each document's id key), so that the order is the same
        whichever shard or segment holds a record. A page needs only its first few: sorting
        tens of thousands of matches on every keystroke was a fifth of a broad query's time."""
        docs, scores = self.scored
        if stop is not None and stop < len(docs):
            if stop <= 0:
                return docs[:0], scores[:0]
            # Every match scoring at least the stop-th best, so that ties at the cut are
            # ordered by id like the rest.
            floor = np.partition(scores, len(scores) - stop)[len(scores) - stop]
            keep = scores >= floor
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((ids[docs], -scores))[:stop]
        return docs[order], scores[order]


def matching(snap: Snapshot, parsed: ParsedQuery, req: SearchRequest, rank: bool = True,
             deadline: float | None = None) -> Matches:
    """Documents matching the text and dates (`base`), per-facet masks, all filters (`final`).

    A relevance-sorted text query scores every match in one pass over arrays
    (engine/scoring.py), which the counts need anyway; other sorts only ask which documents
    match.
    """
    cols = snap.columns
    scored, cut_short = None, parsed.cut_short
    if parsed.query is None:
        base = cols.all_docs
    elif parsed.query is wq.NullQuery:
        base = np.zeros(0, dtype=np.int64)
    else:
        q = parsed.query
        if rank and req.effective_sort == "relevance":
            found = snap.scorer.run(q, deadline)
            scored, base = (found.docs, found.scores), found.docs
        else:
            base = snap.scorer.matching(q, deadline)
        cut_short = snap.scorer.cut_short or parsed.cut_short
    low, high = req.range_seconds()
    if low is not None or high is not None:
        base = cols.in_range(base, low, high)
    if req.story:
        base = cols.in_story(base, req.story)
    masks = {facet: marks.mask(cols, req.marks.marks(), facet, base, values)
             if facet in marks.MARK_KINDS else cols.mask(facet, base, values)
             for facet, values in req.filters.items()}
    keep = np.ones(len(base), dtype=bool)
    for m in masks.values():
        keep &= m
    final = base[keep]
    if scored is not None and len(final) < len(scored[0]):
        inside = np.isin(scored[0], final, assume_unique=True)
        scored = (scored[0][inside], scored[1][inside])
    return Matches(base, final, masks, scored, cut_short)


def like_passage(snap: Snapshot, req: SearchRequest, limits: SearchLimits, parsed: ParsedQuery,
                 found: Matches, deadline: float | None, rank: bool = True
                 ) -> tuple[ParsedQuery, Matches]:
    """A pasted passage (two sentences, a dozen words) that no record has every word of is
    searched as "records like this text" instead, saying so. Every view that counts a search
    (the page, the API, exports, batch rows, compare) goes through here, so they agree."""
    if len(found.final) or found.cut_short or parsed.like or not req.like \
            or not is_passage(req.q):
        return parsed, found
    like = parse(snap, req, limits, deadline, like=True)
    return like, matching(snap, like, req, rank=rank, deadline=deadline)
