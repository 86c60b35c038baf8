"""One open searcher on one generation of the index, with everything searches read from it:
column arrays, the array scorer, and records by document number or id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
        self.searcher: Searcher = ix.searcher(weighting=WEIGHTING)
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
