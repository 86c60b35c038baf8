"""The live index as searches see it: one shared snapshot per index generation, reopened when
a reindex commits (never per request), and the recent searches of that generation.

The web views, the JSON API, the exports and the `searchapp search` command all call
`SearchIndex.search`, so they agree on what matches, in what order, with which counts.
What one search computes is `answer.py`'s. Whoosh's file objects are not safe to share
between threads and pure-Python search gains nothing from running two at once, so
searches take turns on one lock.
"""

from __future__ import annotations

import atexit
import gc
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from whoosh import index as whoosh_index

from ..engine import zerocopy
from ..engine.cache import ByteLRU, PostingCache
from ..index import store
from . import answer
from .answer import Clock, Limits, Prepared
from .distinctive import Terms
from .facets import SegmentCache
from .request import SearchRequest
from .results import IndexStats, QuerySummary, SearchResult
from .snapshot import Snapshot


class SearchIndex:
    """Opens nothing until the first search; `close()` lets go of the open snapshot."""

    def __init__(self, root: Path, facet_max: int = 500, max_wildcard_terms: int = 512,
                 posting_cache_mb: int = 192, recent_cache_mb: int = 64, freeze_gc: bool = False):
        zerocopy.install()
        self.root = Path(root)
        self.limits = Limits(facet_max=facet_max, max_wildcard_terms=max_wildcard_terms)
        self.posting_cache_bytes = posting_cache_mb * 2**20
        self._recent: ByteLRU[Prepared] = ByteLRU(recent_cache_mb * 2**20, Prepared.nbytes)
        self.freeze_gc = freeze_gc
        self.lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._cache: tuple[str, SegmentCache, PostingCache] | None = None

    @classmethod
    def from_settings(cls, settings, recent: bool = True, freeze_gc: bool = False) -> "SearchIndex":
        """The index as the settings describe it: the one way the CLI and the web app make it.

        `recent=False` for a process that runs one search and exits (nothing to repeat);
        `freeze_gc` for a process that only serves (see `_current`).
        """
        return cls(settings.index, facet_max=settings.facet_max,
                   max_wildcard_terms=settings.max_wildcard_terms,
                   posting_cache_mb=settings.posting_cache_mb,
                   recent_cache_mb=settings.recent_cache_mb if recent else 0,
                   freeze_gc=freeze_gc)

    # -- the snapshot's lifecycle -----------------------------------------------------------

    @contextmanager
    def using(self) -> Iterator[Snapshot]:
        """The current snapshot, reopened first if the index changed; held under the lock."""
        with self.lock:
            snap = self.hold()
            try:
                yield snap
            finally:
                self.release(snap)

    def hold(self) -> Snapshot:
        """The current snapshot, kept open until `release`, even across a reindex."""
        with self.lock:
            snap = self._current()
            snap.users += 1
            return snap

    def release(self, snap: Snapshot) -> None:
        """A replaced snapshot is closed when its last user lets go of it."""
        with self.lock:
            snap.users -= 1
            if snap.retired and snap.users == 0:
                snap.close()

    def _current(self) -> Snapshot:
        snap = self._snapshot
        if snap is not None and store.live_build(self.root) == snap.build \
                and snap.ix.latest_generation() == snap.toc_generation:
            return snap
        fresh = self._open()
        if snap is not None:
            snap.retired = True
            if snap.users == 0:
                snap.close()
        self._snapshot = fresh
        self._recent.forget(lambda key: key[0] != fresh.generation)
        if self.freeze_gc:
            # A process that only serves (`searchapp serve`): what the snapshot holds lives
            # until the next reindex, so take it out of the garbage collector's full passes,
            # which would otherwise scan it in the middle of searches. It freezes every
            # object of the process, which is why it is not the default.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return fresh

    def _open(self) -> Snapshot:
        for attempt in range(3):  # a full rebuild may swap builds between reading CURRENT and opening
            build = store.live_build(self.root)
            try:
                ix = store.open_live(self.root)
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                if attempt == 2:
                    raise
                time.sleep(0.05)
                continue
            if self._cache is None or self._cache[0] != build.name:
                self._cache = (build.name, SegmentCache(), PostingCache(self.posting_cache_bytes))
            return Snapshot(build, ix, self._cache[1], self._cache[2])
        raise store.NoIndex(f"no index in {self.root}")

    def close(self) -> None:
        with self.lock:
            if self._snapshot is not None:
                self._snapshot.retired = True
                if self._snapshot.users == 0:
                    self._snapshot.close()
                self._snapshot = None

    def close_at_exit(self) -> "SearchIndex":
        atexit.register(self.close)
        return self

    def forget_recent(self) -> None:
        """Drop the recent searches (benchmarks time searches, not the cache)."""
        self._recent.forget(lambda key: True)

    def stats(self) -> IndexStats:
        with self.using() as snap:
            return IndexStats(snap.searcher.doc_count(), snap.generation, snap.updated)

    # -- searching --------------------------------------------------------------------------

    def search(self, req: SearchRequest, terms: bool = True) -> SearchResult:
        """Hits for one page, with highlights, facet counts, the research views and a suggestion.

        Everything but the page of hits is kept for recent searches of this generation:
        typing repeats prefixes, paging and the distinctive-terms request repeat the search,
        and the front page is the same browse for everyone.

        Distinctive terms are the costliest part (they read term vectors); pass `terms=False`
        where they are fetched separately, as the page does while the user types.
        """
        clock = Clock()
        with self.using() as snap:  # parsing too: Whoosh's stemming cache is not thread-safe
            done = self._prepared(snap, req, clock)
            hits = answer.hits(snap, done.highlight, answer.page_order(snap, req, done.found))
            clock.lap("hits")
            found = answer.terms_of(snap, done, req) if terms else None
            clock.lap("terms")
        return SearchResult(request=req, total=int(len(done.found.final)), hits=hits,
                            facets=done.facets, took_ms=clock.total(), suggestion=done.suggestion,
                            notice=done.parsed.notice, generation=snap.generation,
                            timeline=done.timeline, terms=found, top=done.top, timings=clock.laps)

    def distinctive_terms(self, req: SearchRequest) -> Terms:
        """Only the distinctive terms of a search (the page loads them after the results)."""
        with self.using() as snap:
            return answer.terms_of(snap, self._prepared(snap, req, Clock()), req)

    def _prepared(self, snap: Snapshot, req: SearchRequest, clock: Clock) -> Prepared:
        key = (snap.generation, answer.search_key(req))
        return self._recent.get(key, lambda: answer.prepare(snap, req, self.limits, clock))

    def compare(self, requests: list[SearchRequest], interval: str | None = None,
                top: int = 5) -> list[QuerySummary]:
        """Several queries on one time axis (the span of all their matches), with top facets."""
        with self.using() as snap:
            return answer.compare(snap, requests, self.limits, interval, top)

    def export(self, req: SearchRequest, batch: int = 500) -> "Export":
        """Every matching record in result order, in batches, so memory stays flat.

        The matching runs now (so a missing index fails before a response starts); the
        records are read batch by batch, letting other searches run in between, from the
        snapshot the export began with even if a reindex lands meanwhile. The caller must
        close() the export (a response that is never read, as for HEAD, still lets go).
        """
        snap = self.hold()
        try:
            with self.lock:
                order = answer.full_order(snap, req, self._prepared(snap, req, Clock()).found)
        except BaseException:
            self.release(snap)
            raise
        return Export(self, snap, order, batch)

    # -- single records ---------------------------------------------------------------------

    def record(self, record_id: str) -> dict[str, Any] | None:
        with self.using() as snap:
            return snap.record_by_id(record_id)

    def records(self, ids: list[str]) -> list[dict[str, Any]]:
        """The records with these ids that exist, in the given order."""
        with self.using() as snap:
            found = (snap.record_by_id(rid) for rid in ids)
            return [r for r in found if r is not None]

    def more_like(self, record_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Records sharing the most distinctive words of this one (Whoosh key terms)."""
        with self.using() as snap:
            docnum = snap.docnum(record_id)
            if docnum is None:
                return []
            record = snap.record(docnum)
            text = f"{record['title']} {record['excerpt']}"
            results = snap.searcher.more_like(docnum, "excerpt", text=text, top=limit,
                                              numterms=12)
            return [snap.record(hit.docnum) for hit in results]


class Export:
    """The records of an export, read batch by batch from one snapshot, held until closed."""

    def __init__(self, index: SearchIndex, snap: Snapshot, order: np.ndarray, batch: int):
        self.index, self.snap, self.order, self.batch = index, snap, order, batch
        self.closed = False

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            for start in range(0, len(self.order), self.batch):
                with self.index.lock:
                    yield [self.snap.record(int(d)) for d in self.order[start:start + self.batch]]
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.index.release(self.snap)
