"""What one shard's actor does, in plain Python (Ray only wraps it, pool.py): open its
shard of the shared index folder read-only, at whichever generation the coordinator names,
and answer the two rounds of a search, and the records and term vectors of its documents.

Document numbers here are the shard's own (its segments in order), which the coordinator
offsets into the numbers of the whole index. Each thread of the actor has its own Whoosh
searcher (they are not safe to share), as each thread of a web process has; the decoded
postings are shared by all of them, keyed by segment, as in SearchIndex.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import query as wq

from ..engine import segments, shards, zerocopy
from ..engine.cache import PostingCache
from ..engine.codec import searched_fields
from ..engine.deadline import after_ms
from ..engine.ranking import WEIGHTING
from ..engine.scoring import ArrayScorer, Counting, Statistics
from ..index import store

# Generations a thread keeps open: the one being served and the one before it (searches
# still running on it when a reindex lands).
KEEP_GENERATIONS = 2


@dataclass(frozen=True)
class At:
    """A shard at one generation, as the coordinator's snapshot sees it (`size`: its document
    numbers, checked on opening, so that offsets can never go astray)."""

    build: str
    generation: int
    size: int


class _View:
    """One thread's searcher and scorer on a shard at one generation."""

    def __init__(self, folder: Path, at: At, cache: PostingCache):
        self.searcher = shards.searcher([folder], [at.generation], at.generation, WEIGHTING)
        try:
            leaves = segments.leaves(self.searcher)
            size = self.searcher.reader().doc_count_all()
            if size != at.size:
                raise ValueError(f"{folder} holds {size} documents at generation "
                                 f"{at.generation}, the coordinator counts {at.size}")
            self.scorer = ArrayScorer(self.searcher, leaves, segments.alive(leaves, size), cache)
        except BaseException:
            self.searcher.close()
            raise

    def close(self) -> None:
        self.searcher.close()


class ShardSearcher:
    """Shard `number` of the builds in `root` (a folder every node reads at the same path)."""

    def __init__(self, root: str, number: int, posting_cache_mb: int):
        zerocopy.install()
        self.root, self.number = Path(root), number
        self.cache = PostingCache(posting_cache_mb * 2**20)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._newest: list[At] = []  # the generations asked for last, newest last

    # -- calls from the coordinator ----------------------------------------------------------

    def hello(self) -> dict:
        """Who answers: for tests and the status page (process, node, whether Ray's usage
        statistics are off in this process)."""
        node = ""
        try:
            import ray
            node = ray.get_runtime_context().get_node_id()
        except Exception:
            pass
        return {"shard": self.number, "pid": os.getpid(), "node": node,
                "usage_stats": os.environ.get("RAY_USAGE_STATS_ENABLED", "")}

    def open(self, at: At) -> int:
        """Open `at` now (a reindex landed: the first search of it should not pay)."""
        return len(self._view(at).scorer.alive)

    def frequencies(self, at: At, q: wq.Query, budget_ms: float | None) -> tuple[dict, bool]:
        """Round one: for each word of `q`, how many live records of this shard have it."""
        scorer = self._view(at).scorer
        counting = Counting()
        scorer.stats = counting
        try:
            scorer.run(q, after_ms(budget_ms))
        finally:
            scorer.stats = None
        return counting.frequencies, scorer.cut_short

    def score(self, at: At, q: wq.Query, stats: Statistics | None, budget_ms: float | None
              ) -> tuple[np.ndarray, np.ndarray | None, bool, bool]:
        """Round two: every match of `q` in this shard, scored with the whole collection's
        `stats` (or, with none, only which documents match); and whether a word was scored
        that `stats` did not count (the coordinator then asks round one)."""
        scorer = self._view(at).scorer
        if stats is None:
            docs = scorer.matching(q, after_ms(budget_ms))
            return docs, None, scorer.cut_short, False
        scorer.stats = stats
        try:
            found = scorer.run(q, after_ms(budget_ms))
        finally:
            scorer.stats = None
        return found.docs, found.scores, scorer.cut_short, stats.missed

    def records(self, at: At, docs: list[int]) -> list[str]:
        """The stored records (JSON, as the indexer merged them) of some of this shard's
        documents."""
        reader = self._view(at).searcher.reader()
        return [searched_fields(reader, int(d))["data"] for d in docs]

    def vectors(self, at: At, docs: list[int], field: str, budget_ms: float | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The term vectors of some documents, as one array of terms and each document's
        count of them: hundreds of small arrays cost more to send than their contents."""
        found = self._view(at).scorer.vectors(docs, field, after_ms(budget_ms))
        counts = np.array([len(terms) for terms in found], dtype=np.int64)
        return (np.concatenate(found) if found else np.zeros(0, dtype="S1")), counts

    # -- generations -------------------------------------------------------------------------

    def _view(self, at: At) -> _View:
        views: dict[At, _View] = self._local.__dict__.setdefault("views", {})
        view = views.get(at)
        if view is not None:
            return view
        with self._lock:
            if at not in self._newest:
                self._newest = (self._newest + [at])[-KEEP_GENERATIONS:]
            keep = set(self._newest)
        for old in [k for k in views if k not in keep]:
            views.pop(old).close()
        folder = store.shard_folders(self.root / at.build, self.number + 1)[self.number]
        view = views[at] = _View(folder, at, self.cache)
        return view


