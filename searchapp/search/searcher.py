"""The live index as searches see it: one shared snapshot per index generation, reopened when
a reindex commits (never per request), and the recent searches of that generation.

The web views, the JSON API, the exports and the `searchapp search` command all call
`SearchIndex.search`, so they agree on what matches, in what order, with which counts.
What one search computes is `answer.py`'s. Each thread searches through a snapshot of its
own (snapshot.py), so no search waits for another.
"""

from __future__ import annotations

import atexit
import gc
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from whoosh import index as whoosh_index

from ..engine import zerocopy
from ..engine.cache import ByteLRU, PostingCache
from ..index import beacon, integrity, manifest, store
from . import answer
from .answer import Clock, Limits, Prepared
from .distinctive import Terms
from .facets import SegmentCache
from .highlight import mark
from .request import BadRequest, SearchRequest
from .results import IndexStats, IndexStatus, QuerySummary, SearchResult
from .snapshot import Generation, Snapshot, open_searcher
from .words import WordCache


class SearchIndex:
    """Opens nothing until the first search; `close()` lets go of every open snapshot."""

    def __init__(self, root: Path, facet_max: int = 500, max_wildcard_terms: int = 512,
                 posting_cache_mb: int = 192, recent_cache_mb: int = 64, freeze_gc: bool = False,
                 budget_ms: float = 500, remote=None):
        zerocopy.install()
        # On a cluster (cluster/pool.py): the shards' actors score and read the records.
        self.remote = remote
        self.root = Path(root)
        self.limits = Limits(facet_max=facet_max, max_wildcard_terms=max_wildcard_terms,
                             budget_ms=budget_ms)
        self.posting_cache_bytes = posting_cache_mb * 2**20
        self._recent: ByteLRU[Prepared] = ByteLRU(recent_cache_mb * 2**20, Prepared.nbytes)
        self.freeze_gc = freeze_gc
        # Held briefly: to count users and to switch generations. Reentrant: a garbage
        # collection under it may finalise an abandoned export, which releases its snapshot.
        self._lock = threading.RLock()
        self._gen: Generation | None = None
        self._local = threading.local()  # each thread's own snapshot
        self._open: set[Snapshot] = set()
        self._cache: tuple[str, SegmentCache, PostingCache, WordCache] | None = None
        # Heavy queries are matched one at a time per process (see answer.prepare): with a
        # process per core, light searches always find a core free enough to answer on.
        self._heavy_lane = threading.Semaphore(1)
        # Damage (index/integrity.py): the generation whose files were checked on opening,
        # files whose checksums were found sound, and (live, message) once damage is found.
        self._checked: store.Live | None = None
        self._verified: set = set()
        self._damage: tuple[store.Live, str] | None = None

    @classmethod
    def from_settings(cls, settings, recent: bool = True, freeze_gc: bool = False) -> "SearchIndex":
        """The index as the settings describe it: the one way the CLI and the web app make it.

        `recent=False` for a process that runs one search and exits (nothing to repeat);
        `freeze_gc` for a process that only serves (see `_generation`). With the `cluster`
        setting, the shards are searched by actors on that Ray cluster.
        """
        remote = None
        if settings.cluster:
            from ..cluster import connect
            from ..cluster.pool import ShardPool
            connect(settings.cluster)
            remote = ShardPool(settings.index, settings.cluster_timeout_ms,
                               settings.posting_cache_mb)
        return cls(settings.index, facet_max=settings.facet_max, remote=remote,
                   max_wildcard_terms=settings.max_wildcard_terms,
                   posting_cache_mb=settings.posting_cache_mb,
                   recent_cache_mb=settings.recent_cache_mb if recent else 0,
                   freeze_gc=freeze_gc, budget_ms=settings.search_budget_ms)

    # -- snapshots: one per thread, on the latest generation -------------------------------

    @contextmanager
    def using(self) -> Iterator[Snapshot]:
        """This thread's snapshot, reopened first if the index changed. A search failing
        inside Whoosh on a damaged file raises IndexDamaged, which says so."""
        snap = self.hold()
        try:
            yield snap
        except (store.IndexProblem, BadRequest):
            raise
        except Exception as exc:
            self._diagnose(snap.gen.live, exc)
            raise
        finally:
            self.release(snap)

    def _diagnose(self, live: store.Live, exc: BaseException) -> None:
        """Raise IndexDamaged if a failure came from a damaged file of `live` (every file
        against its checksum); otherwise return, and the failure is what it was."""
        found = integrity.damage(live, checksums=True, verified=self._verified)
        if found:
            self._damage = (live, found)
            raise store.IndexDamaged(found) from exc

    def _refuse_damaged(self, live: store.Live) -> None:
        """The quick check of a generation's files, once per generation; and the damage the
        background check found."""
        if self._damage is not None and self._damage[0] == live:
            raise store.IndexDamaged(self._damage[1])
        if live != self._checked:
            found = integrity.damage(live)
            if found:
                self._damage = (live, found)
                raise store.IndexDamaged(found)
            self._checked = live
            threading.Thread(target=self._verify, args=(live,), daemon=True,
                             name="searchapp-verify").start()

    def _verify(self, live: store.Live) -> None:
        """Every file of a newly opened generation against its checksum, in the background
        (flipped bytes would otherwise give wrong answers, not errors). Files found sound
        are not read again for later generations."""
        try:
            found = integrity.damage(live, checksums=True, verified=self._verified)
        except Exception:  # the build went away meanwhile: the next open checks again
            return
        if found:
            self._damage = (live, found)

    def hold(self) -> Snapshot:
        """This thread's snapshot on the latest generation, kept open until `release` even
        across a reindex."""
        snap = getattr(self._local, "snap", None)
        live = store.live(self.root)
        if live is not None:
            self._refuse_damaged(live)
        if snap is not None and not snap.retired and snap.current(live):
            with self._lock:
                if not snap.retired:
                    snap.users += 1
                    if snap.remote is not None:
                        snap.remote.begin()
                    return snap
        fresh = self._open_snapshot()  # held once already: no sweep can close it
        with self._lock:
            self._local.snap = fresh
            if snap is not None:
                self._retire(snap)
            for other in list(self._open):  # idle snapshots of other threads, now stale
                if other.gen is not self._gen and other.users == 0:
                    self._retire(other)
        return fresh

    def release(self, snap: Snapshot) -> None:
        """A replaced snapshot is closed when its last user lets go of it."""
        with self._lock:
            snap.users -= 1
            if snap.users == 0 and (snap.retired or snap.gen is not self._gen):
                self._retire(snap)  # replaced, or of a generation no longer served

    def _retire(self, snap: Snapshot) -> None:
        """No longer handed out; closed now if unused, else by its last `release`."""
        snap.retired = True
        if snap.users == 0:
            self._close(snap)

    def _close(self, snap: Snapshot) -> None:
        if snap in self._open:  # once: another thread's sweep may have closed it already
            self._open.discard(snap)
            snap.close()

    def _open_snapshot(self, private: bool = False) -> Snapshot:
        """A new snapshot on the live generation, already held once (and, when `private`,
        never handed to anyone else: closed at its release)."""
        live = None
        for attempt in range(5):  # a reindex may land between reading CURRENT and opening
            live = store.live(self.root)
            if live is not None:
                self._refuse_damaged(live)
            ix = store.open_build(self.root, live)
            searcher = snap = None
            try:
                searcher = open_searcher(ix)
                gen = self._generation(live, searcher)
                snap = Snapshot(gen, ix, searcher) if gen is not None else None
                if snap is not None and self.remote is not None:
                    self._attach(snap)
            except (FileNotFoundError, whoosh_index.EmptyIndexError, ValueError):
                time.sleep(0.02 * attempt)
            except store.ShardsMissing:  # the cluster, not the files
                raise
            except Exception as exc:  # struct, zlib, pickle errors: a damaged file?
                self._diagnose(live, exc)
                raise
            finally:
                if snap is None:  # failed, or a reindex landed meanwhile: try the newer one
                    if searcher is not None:
                        searcher.close()
                    ix.close()
            if snap is None:
                continue
            with self._lock:
                snap.users, snap.retired = 1, private
                self._open.add(snap)
            return snap
        if live is not None:  # files missing for good, rather than a reindex racing us?
            self._diagnose(live, store.NoIndex("could not be opened"))
        raise store.NoIndex(f"the index in {self.root} kept changing while it was opened")

    def _attach(self, snap: Snapshot) -> None:
        """Make `snap` search through the cluster's actors; a snapshot that cannot is closed,
        never left to search here instead without saying so."""
        try:
            self.remote.attach(snap)
            snap.remote.warm()
        except Exception as exc:
            snap.close()
            raise store.ShardsMissing(f"the cluster's shards cannot be asked: {exc}") from exc

    def _generation(self, live: store.Live, searcher) -> Generation | None:
        """The shared generation `searcher` is on, made when it is new; None when the searcher
        is older than the one already open (a reindex landed while it opened)."""
        toc, build = live.generation, live.build
        if live != store.live(self.root):
            return None  # a reindex moved CURRENT on while this one opened
        with self._lock:
            gen = self._gen
            if gen is not None and gen.build == build:
                if gen.toc_generation == toc:
                    return gen
                if gen.toc_generation > toc:
                    return None
            if self._cache is None or self._cache[0] != build.name:
                self._cache = (build.name, SegmentCache(build), PostingCache(self.posting_cache_bytes),
                               WordCache(build))
            gen = self._gen = Generation(live, searcher, *self._cache[1:])
            self._recent.forget(lambda key: key[0] != gen.name)
            if self.freeze_gc:
                # A process that only serves (`searchapp serve`): what the generation holds
                # lives until the next reindex, so take it out of the garbage collector's full
                # passes, which would otherwise scan it in the middle of searches. It freezes
                # every object of the process, which is why it is not the default.
                gc.unfreeze()
                gc.collect()
                gc.freeze()
            return gen

    def close(self) -> None:
        """Close every snapshot not in use; those in use close when let go of."""
        with self._lock:
            for snap in list(self._open):
                self._retire(snap)
            self._gen = None
        self._local = threading.local()

    def snapshots(self) -> list[tuple[str, int]]:
        """(generation, users) of every open snapshot: for health checks and tests."""
        with self._lock:
            return [(snap.generation, snap.users) for snap in self._open]

    def close_at_exit(self) -> "SearchIndex":
        atexit.register(self.close)
        return self

    def forget_recent(self) -> None:
        """Drop the recent searches (benchmarks time searches, not the cache)."""
        self._recent.forget(lambda key: True)

    def stats(self) -> IndexStats:
        with self.using() as snap:
            return IndexStats(snap.searcher.doc_count(), snap.generation, snap.updated)

    def status(self) -> IndexStatus:
        """The index, its last run, what that refused, and its watcher, for `/status`: read
        from the manifest and the watcher's heartbeat, whatever state the index is in."""
        stats = problem = None
        try:
            stats = self.stats()
        except store.IndexProblem as exc:  # said without where the index lives on disk
            problem = self._unplaced(str(exc))
        try:
            live = store.live(self.root)
        except store.IndexProblem:
            live = None
        done = manifest.status(live.build) if live is not None else manifest.Status()
        watcher = beacon.state(self.root) or {}
        running = bool(watcher.get("running"))
        cluster = self.remote.health(len(live.shards)) if self.remote is not None and live \
            else None
        # A watcher that is not running says why (its supervisor wrote it as it died);
        # one that is running, what its last run could not do, if it failed.
        trouble = watcher.get("error") if running else watcher.get("stopped")
        trouble_at = watcher.get("error_at") if running else watcher.get("stopped_at")
        return IndexStatus(
            stats=stats, problem=problem, last_run=done.last_run,
            last_run_at=_moment(done.last_run_ns / 1e9 if done.last_run_ns else None),
            refused=done.refused, refused_total=done.refused_total, watching=running,
            watching_since=_moment(watcher.get("since")) if running else None,
            watch_problem=self._unplaced(trouble, watcher.get("seeds")) if trouble else None,
            watch_problem_at=_moment(trouble_at) if trouble else None,
            pending=watcher.get("pending") if running else None, cluster=cluster)

    def _unplaced(self, message: str, seeds: str | None = None) -> str:
        """`message` without where the index (and the seeds folder) live on disk."""
        for folder, name in ((self.root, "the index folder"),
                             (Path(seeds) if seeds else None, "the seeds folder")):
            if folder is not None:
                message = message.replace(str(folder.resolve()), name).replace(str(folder), name)
        return message

    # -- searching --------------------------------------------------------------------------

    def search(self, req: SearchRequest, terms: bool = True, hits: bool = True) -> SearchResult:
        """Hits for one page, with highlights, facet counts, the research views and a suggestion.

        Everything but the page of hits is kept for recent searches of this generation:
        typing repeats prefixes, paging and the distinctive-terms request repeat the search,
        and the front page is the same browse for everyone.

        Distinctive terms are the costliest part (they read term vectors); pass `terms=False`
        where they are fetched separately, as the page does while the user types. The views
        that show no hits (the research views, a facet's values, the timeline's files) pass
        `hits=False`: the page of hits is read and highlighted anew each time.
        """
        clock = Clock()
        with self.using() as snap:
            done = self._prepared(snap, req, clock)
            if not hits:
                page = []
            elif req.grouped:
                page = answer.story_hits(snap, done.highlight, answer.story_page(snap, req, done.found))
            else:
                page = answer.hits(snap, done.highlight, answer.page_order(snap, req, done.found))
            clock.lap("hits")
            found = answer.terms_of(snap, done, req) if terms else None
            clock.lap("terms")
            if not hits:  # the research views, facets, timeline files: all or nothing
                _every_shard(snap)
        return SearchResult(request=req, total=int(len(done.found.final)), hits=page,
                            facets=done.facets, took_ms=clock.total(), suggestion=done.suggestion,
                            suggestion_total=done.suggestion_total, showing=done.showing,
                            notice=done.parsed.notice, generation=snap.generation,
                            timeline=done.timeline, terms=found, top=done.top, timings=clock.laps,
                            stories=done.stories, shards=_answered(snap))

    def distinctive_terms(self, req: SearchRequest) -> Terms:
        """Only the distinctive terms of a search (the page loads them after the results)."""
        with self.using() as snap:
            return _whole(snap, answer.terms_of(snap, self._prepared(snap, req, Clock()), req))

    def _prepared(self, snap: Snapshot, req: SearchRequest, clock: Clock) -> Prepared:
        key = (snap.generation, answer.search_key(req))
        return self._recent.get(key, lambda: answer.prepare(snap, req, self.limits, clock,
                                                             self._heavy_lane))

    def compare(self, requests: list[SearchRequest], interval: str | None = None,
                top: int = 5) -> list[QuerySummary]:
        """Several queries on one time axis (the span of all their matches), with top facets."""
        with self.using() as snap:
            return _whole(snap, answer.compare(snap, requests, self.limits, interval, top))

    def batch(self, queries: list["batch.Query"]) -> Iterator["batch.Counted"]:
        """Many queries counted (records and stories, not ranked) through one snapshot, so
        every row sees the same index generation, even if a reindex lands meanwhile; each
        row is yielded as soon as it is counted, so a response can stream. Close the
        iterator to let go of the snapshot early."""
        from . import batch
        with self.using() as snap:
            for row in batch.run(snap, queries, self.limits, self._heavy_lane):
                yield _whole(snap, row)

    def export(self, req: SearchRequest, batch: int = 500) -> "Export":
        """Every matching record in result order, in batches, so memory stays flat.

        The matching runs now (so a missing index fails before a response starts); the
        records are then read batch by batch through a snapshot of the export's own, of the
        generation it began with, even if a reindex lands meanwhile. The caller must close()
        the export (a response that is never read, as for HEAD, still lets go).
        """
        snap = self._open_snapshot(private=True)  # closed when the export lets go
        try:
            # Every match: an export is never cut short by the time budget of a search.
            done = answer.prepare(snap, req, replace(self.limits, budget_ms=0), Clock())
            order = _whole(snap, answer.full_order(snap, req, done.found))
        except BaseException:
            self.release(snap)
            raise
        return Export(self, snap, order, batch)

    def first_seen(self, req: SearchRequest, limit: int = 50
                   ) -> tuple[list[tuple[dict[str, Any], datetime | None]], str]:
        """The matches of a search that entered the index last (not the last published: a
        feed of a search shows what each reindex brought), each with when it entered, and
        the generation they are of."""
        with self.using() as snap:
            done = self._prepared(snap, replace(req, typing=False), Clock())
            docs = snap.columns.first_seen(_whole(snap, done.found.final), limit)
            return [(snap.record(int(d)), _moment(int(snap.columns.seen[d]) or None))
                    for d in docs], snap.generation

    # -- single records ---------------------------------------------------------------------

    def record(self, record_id: str) -> dict[str, Any] | None:
        with self.using() as snap:
            return snap.record_by_id(record_id)

    def records(self, ids: list[str]) -> list[dict[str, Any]]:
        """The records with these ids that exist, in the given order."""
        with self.using() as snap:
            docs = [d for d in (snap.docnum(rid) for rid in ids) if d is not None]
            return [_whole(snap, r) for r in snap.records(docs)]

    def marked(self, record: dict[str, Any], q: str) -> tuple[str, str]:
        """A record's title and excerpt with the words of the query `q` marked, as a hit of
        that search would show them (a query that cannot be read marks nothing)."""
        with self.using() as snap:
            try:
                parsed = answer.parse(snap, SearchRequest(q=q, typing=False), self.limits)
            except BadRequest:
                parsed = None
            terms = answer.highlight_terms(snap, parsed) if parsed is not None else \
                {"title": frozenset(), "excerpt": frozenset(), "exact": frozenset()}
        return (mark(record["title"], terms["title"], terms["exact"], long_after=20_000),
                mark(record["excerpt"], terms["excerpt"], terms["exact"], long_after=20_000))

    def copies(self, record_id: str, limit: int = 200) -> tuple[str, list[dict[str, Any]]]:
        """(the record's story id, the other records of its story, earliest first)."""
        with self.using() as snap:
            docnum = snap.docnum(record_id)
            if docnum is None:
                return "", []
            cols = snap.columns
            members = cols.copies_in(docnum, cols.all_docs)[:limit]
            return cols.story_id(docnum), [_whole(snap, r) for r in snap.records(members)]

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
            return [_whole(snap, r) for r in snap.records([hit.docnum for hit in results])]


class Export:
    """The records of an export, read batch by batch from one snapshot, held until closed."""

    def __init__(self, index: SearchIndex, snap: Snapshot, order: np.ndarray, batch: int):
        self.index, self.snap, self.order, self.batch = index, snap, order, batch
        self.closed = False
        self.total, self.generation = len(order), snap.generation

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            for start in range(0, len(self.order), self.batch):
                docs = self.order[start:start + self.batch]
                records = self.snap.records(docs)
                for docnum, record in zip(docs.tolist(), records):
                    _whole(self.snap, record)["story_id"] = self.snap.columns.story_id(docnum)
                yield records
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.index.release(self.snap)


def _answered(snap: Snapshot) -> tuple[int, int] | None:
    """On a cluster: (shards that answered, shards)."""
    if snap.remote is None:
        return None
    return snap.shard_count - snap.absent, snap.shard_count


def _every_shard(snap: Snapshot) -> None:
    """Where an answer cannot say that it is partial, a shard of a cluster that did not
    answer while it was computed is a 503, to try again."""
    if snap.absent:
        raise store.ShardsMissing(
            f"{snap.shard_count - snap.absent} of {snap.shard_count} shards of the cluster "
            "answered; this needs all of them. Try again in a moment.")


def _whole(snap: Snapshot, value):
    """`value` (a record, where None is one a shard did not give), if every shard answered."""
    _every_shard(snap)
    if value is None:
        raise store.ShardsMissing("a shard of the cluster did not answer; try again in a moment")
    return value


def _moment(seconds) -> datetime | None:
    return datetime.fromtimestamp(seconds, timezone.utc) if isinstance(seconds, (int, float)) \
        else None
