"""The query shapes the array scorer does not compute, scored by Whoosh itself, and stopped
at the search's deadline like everything else.

Whoosh collects matches one at a time in Python; a shape left to it (a phrase of slop 0,
anything the scorer has not learnt) must not run past the budget of the search that asked.
Whoosh's own TimeLimitCollector starts a timer thread for every search; `Until` reads the
clock every CHECK_EVERY matches instead.
"""

from __future__ import annotations

import numpy as np
from whoosh.collectors import WrappingCollector
from whoosh.searching import TimeLimit

from .deadline import Deadline, passed
from .scored import Scored


class Until(WrappingCollector):
    """Whoosh's collecting, stopped (TimeLimit) once past a deadline."""

    CHECK_EVERY = 256

    def __init__(self, child, deadline: Deadline):
        super().__init__(child)
        self.deadline = deadline

    def collect_matches(self) -> None:
        child = self.child
        for n, sub_docnum in enumerate(child.matches(), 1):
            if n % self.CHECK_EVERY == 0 and passed(self.deadline):
                raise TimeLimit
            child.collect(sub_docnum)


def scored(searcher, q, deadline: Deadline) -> tuple[Scored, bool]:
    """(Whoosh's matches of `q` with its scores, by document number; whether the deadline
    stopped the collecting first: then the matches are those collected by then)."""
    collector = Until(searcher.collector(limit=None), deadline)
    stopped = False
    try:
        searcher.search_with_collector(q, collector)
    except TimeLimit:
        stopped = True
    top = collector.results().top_n
    if not top:
        return Scored.empty(), stopped
    docs = np.fromiter((d for _, d in top), dtype=np.int64, count=len(top))
    scores = np.fromiter((s for s, _ in top), dtype=np.float64, count=len(top))
    order = np.argsort(docs)
    return Scored(docs[order], scores[order]), stopped
