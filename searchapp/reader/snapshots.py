"""The live index as one process reads it: one shared generation, reopened when a reindex
commits (never per request), and each thread's own snapshot of it, closed when no one uses
it any more.

A reindex may land at any moment: a snapshot in use stays open, on its generation, until its
last user lets go; the next search of its thread gets a snapshot of the new one. Each thread
searches through a snapshot of its own (generation.py), so no search waits on another's
files. Damage is told apart from other failures here (damage.py): when a generation is
first opened, and whenever a read of it fails.
"""

from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as whoosh_index

from ..engine import zerocopy
from ..engine.cache import PostingCache
from ..index import store
from .columns import SegmentCache
from .damage import Damage
from .generation import Generation, Snapshot, open_searcher
from .scorer import Cluster
from .words import WordCache


class Reader:
    """Opens nothing until the first `hold`; `close()` lets go of every open snapshot.

    `cluster`, when given, scores and reads every snapshot's records on its shards;
    `innocent`: failures inside a snapshot that are never a damaged file (a bad request), so
    no checksum is read for them; `on_generation` is told the name of each new generation;
    `freeze_gc` is for a process that only serves (see `_generation`).
    """

    def __init__(self, root: Path, posting_cache_mb: int, cluster: Cluster | None = None,
                 innocent: tuple[type[BaseException], ...] = (),
                 on_generation: Callable[[str], None] = lambda name: None, *,
                 freeze_gc: bool):
        zerocopy.install()
        self.root = Path(root)
        self.cluster = cluster
        self.posting_cache_bytes = posting_cache_mb * 2**20
        self.freeze_gc = freeze_gc
        self._innocent = (store.IndexProblem, *innocent)
        self._on_generation = on_generation
        # Held briefly: to count users and to switch generations. Reentrant: a garbage
        # collection under it may finalise an abandoned export, which releases its snapshot.
        self._lock = threading.RLock()
        self._gen: Generation | None = None
        self._local = threading.local()  # each thread's own snapshot
        self._open: set[Snapshot] = set()
        self._cache: tuple[str, SegmentCache, PostingCache, WordCache] | None = None
        self.damage = Damage()

    @contextmanager
    def using(self) -> Iterator[Snapshot]:
        """This thread's snapshot, reopened first if the index changed. A search failing
        inside Whoosh on a damaged file raises IndexDamaged, which says so."""
        snap = self.hold()
        try:
            yield snap
        except self._innocent:
            raise
        except Exception as exc:
            self.damage.diagnose(snap.gen.live, exc)
            raise
        finally:
            self.release(snap)

    def hold(self) -> Snapshot:
        """This thread's snapshot on the latest generation, kept open until `release` even
        across a reindex."""
        snap = getattr(self._local, "snap", None)
        live = store.live(self.root)
        if live is not None:
            self.damage.refuse(live)
        if snap is not None and not snap.retired and snap.current(live):
            with self._lock:
                if not snap.retired:
                    snap.users += 1
                    if snap.remote is not None:
                        snap.remote.begin()
                    return snap
        fresh = self.open_snapshot()  # held once already: no sweep can close it
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

    def open_snapshot(self, private: bool = False) -> Snapshot:
        """A new snapshot on the live generation, already held once (and, when `private`,
        never handed to anyone else: closed at its release)."""
        live = None
        for attempt in range(5):  # a reindex may land between reading CURRENT and opening
            live = store.live(self.root)
            if live is not None:
                self.damage.refuse(live)
            checked = store.open_build(self.root, live)
            searcher = snap = None
            try:
                searcher = open_searcher(checked)
                gen = self._generation(live, searcher)
                snap = self._snapshot(gen, searcher) if gen is not None else None
            except (FileNotFoundError, whoosh_index.EmptyIndexError, ValueError):
                time.sleep(0.02 * attempt)
            except store.ShardsMissing:  # the cluster, not the files
                raise
            except Exception as exc:  # struct, zlib, pickle errors: a damaged file?
                self.damage.diagnose(live, exc)
                raise
            finally:
                if snap is None:  # failed, or a reindex landed meanwhile: try the newer one
                    if searcher is not None:
                        searcher.close()
            if snap is None:
                continue
            with self._lock:
                snap.users, snap.retired = 1, private
                self._open.add(snap)
            return snap
        if live is not None:  # files missing for good, rather than a reindex racing us?
            self.damage.diagnose(live, store.NoIndex("could not be opened"))
        raise store.NoIndex(f"the index in {self.root} kept changing while it was opened")

    def _snapshot(self, gen: Generation, searcher) -> Snapshot:
        """A snapshot of `gen`; on a cluster, searching through its actors, or none: one that
        cannot is never left to search here instead without saying so."""
        snap = Snapshot(gen, searcher, self.cluster)
        if snap.remote is None:
            return snap
        try:
            snap.remote.warm()
        except Exception as exc:
            snap.close()
            raise store.ShardsMissing(f"the cluster's shards cannot be asked: {exc}") from exc
        return snap

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
                self._cache = (build.name, SegmentCache(build),
                               PostingCache(self.posting_cache_bytes), WordCache(build))
            gen = self._gen = Generation(live, searcher, *self._cache[1:],
                                         spelling_damage=self.damage.spelling)
            self._on_generation(gen.name)
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
