"""One open searcher on one generation of the index, with everything searches read from it:
column arrays, the array scorer, and records by document number or id."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from ..engine import segments
from ..engine.cache import PostingCache
from ..engine.ranking import WEIGHTING
from ..engine.scoring import ArrayScorer
from .facets import Columns, SegmentCache


class Snapshot:
    """Never changes once open; a reindex makes a new one (see searcher.SearchIndex)."""

    def __init__(self, build: Path, ix, cache: SegmentCache, postings: PostingCache):
        self.build, self.ix = build, ix
        self.searcher: Searcher = _open_searcher(ix)
        self.toc_generation = self.searcher.reader().generation()
        self.generation = f"{build.name}:{self.toc_generation}"
        self.columns = Columns(self.searcher, cache)
        postings.forget_segments({sid for _, _, sid in self.columns.leaves})
        self.scorer = ArrayScorer(self.searcher, self.columns.leaves, self.columns.alive, postings)
        self.users = 0
        self.retired = False
        self.updated = segments.committed_at(build)

    def record(self, docnum: int) -> dict[str, Any]:
        """The record stored at one document number, as the indexer merged it."""
        return json.loads(self.searcher.stored_fields(docnum)["data"])

    def docnum(self, record_id: str) -> int | None:
        return self.searcher.document_number(id=record_id)

    def record_by_id(self, record_id: str) -> dict[str, Any] | None:
        docnum = self.docnum(record_id)
        return None if docnum is None else self.record(docnum)

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


# whoosh-ng checks every segment file before opening and says IndexCorruptedError when a
# commit has just merged one away; whoosh-reloaded retried on its own.
_SEGMENT_GONE = getattr(whoosh_index, "IndexCorruptedError", OSError)


def _open_searcher(ix, tries: int = 10) -> Searcher:
    """A searcher on the index's latest generation, retried while a commit replaces segments."""
    for attempt in range(tries):
        try:
            return ix.searcher(weighting=WEIGHTING)
        except _SEGMENT_GONE:
            if attempt == tries - 1:
                raise
            time.sleep(0.02)
    raise AssertionError("unreachable")
