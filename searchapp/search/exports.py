"""Exports: every matching record of a search in result order, read a page at a time through a
snapshot of the export's own, so that memory stays flat and a reindex landing meanwhile
changes nothing of it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..reader import Snapshot
from .partial import whole


class Export:
    """The records of an export, read a page at a time from one snapshot, held until closed
    (`release` lets go of the snapshot, once); `scores`, in the same order, when the export
    is sorted by relevance."""

    def __init__(self, snap: Snapshot, order: np.ndarray, page: int,
                 release: Callable[[Snapshot], None], scores: np.ndarray | None = None):
        self.snap, self.order, self.page, self.scores = snap, order, page, scores
        self._release = release
        self.closed = False
        self.total, self.generation = len(order), snap.generation

    def score(self, rank: int) -> float | None:
        """The relevance score of the record at `rank` (from 1), rounded as /api/search
        rounds it; None when the export is not sorted by relevance."""
        if self.scores is None:
            return None
        return round(float(self.scores[rank - 1]), 4)

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            for start in range(0, len(self.order), self.page):
                docs = self.order[start:start + self.page]
                records = self.snap.records(docs)
                for docnum, record in zip(docs.tolist(), records):
                    whole(self.snap, record)["story_id"] = self.snap.columns.story_id(docnum)
                yield records
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._release(self.snap)
