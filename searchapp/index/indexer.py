"""Bringing the index up to date with the seeds folder: incrementally, or by a full rebuild.

One writer at a time, under the index's write lock. An incremental run plans (plan.py:
what changed, which records that touches, what to write), commits each shard it touches
(writing.py), keeps the stories and spelling of the new generation (derived.py), moves the
index-wide pointer on once (store.py), then writes the manifest (manifest.py), which only
saves re-reading unchanged files. A first run, a changed format, `--full` and a repair
build anew beside the live index (build.py). The seeds folder is read through `ingest`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..engine import shards, zerocopy
from ..ingest.folder import NOT_UTF8
from ..ingest.reading import Intake, Pool
from ..ingest.seeds import SeedLimits
from . import build, derived, integrity, lifeline, plan as plans, seen, stories, store, writing
from . import manifest as manifest_mod
from .manifest import Manifest
from .summary import Summary  # noqa: F401 - re-exported: what `run` returns


class Indexer:
    """Indexes one seeds folder into one index folder, as `settings` (settings.Settings)
    say: the folders, the seed limits, the lock's timeout, the parsing processes, a full
    build's shards and the story rule.

    `pool`, when given, runs a full build's parsing and shard writing (an incremental run
    touches few files, and stays in this process and its forks)."""

    def __init__(self, settings, progress: Callable[[int, int], None] | None = None,
                 pool: Pool | None = None):
        zerocopy.install()
        lifeline.forks_die_with_parent()
        self.intake = Intake(settings.seeds, SeedLimits.of(settings), settings.parse_workers,
                             progress)
        self.seeds, self.root = self.intake.seeds, Path(settings.index)
        self.lock_timeout = settings.lock_timeout
        self.shards = settings.shards or writing.default_shards()  # of a full build
        self.story_rule = stories.Rule.of(settings)
        self.pool = pool
        self._now = int(time.time())  # when this run's new records were first seen

    @property
    def scans(self) -> int:
        """Folder scans this indexer made (a watch test counts them)."""
        return self.intake.scans

    def run(self, full: bool = False, changed: set[str] | None = None,
            repair: bool = False) -> Summary:
        """Bring the index up to date; a first run, or `full`, builds it anew and swaps it in.

        `changed` (paths relative to the seeds folder) is what a watcher saw change: only
        those files are looked at, and the folder is not scanned. A damaged live build is
        refused (IndexDamaged says what and how to repair it); `repair` builds anew from
        the seeds alone, reading nothing of the live build."""
        if not self.seeds.is_dir():
            raise store.IndexProblem(f"seeds folder {self.seeds} does not exist")
        started = time.perf_counter()
        self._now = int(time.time())
        self.intake.begin()
        with store.write_lock(self.root, self.lock_timeout):
            try:
                current = store.live(self.root)
            except store.IndexDamaged:
                if not repair:
                    raise
                current = None
            # Builds left by a run that was killed are garbage: only one writer runs at once.
            store.remove_stale_builds(self.root, keep={current.build.name} if current else set())
            fresh = full or repair or current is None or not current.build.is_dir()
            # An index this searchapp cannot read is rebuilt, not refused: it goes on being
            # served (by the searchapp that wrote it) until the new build is swapped in.
            was = None if fresh else store.format_of(current.build)
            outdated = not fresh and (was != store.FORMAT or not current.shards)
            if not (fresh or outdated):
                _refuse_damaged(current)
                # Story signatures of an earlier version are in the segments: rebuilt too.
                outdated = stories.signed_before(current)
            try:
                if fresh or outdated:
                    summary = build.full(self.root, current.build if current and not repair
                                         else None, self.shards, self.intake, self._now,
                                         self.story_rule, self.pool)
                else:
                    summary = self._incremental(current, changed)
            except store.IndexProblem:
                raise
            except Exception as exc:
                if not (fresh or outdated):  # a file of the live build failed to read
                    _refuse_damaged(current, checksums=True, cause=exc)
                if not isinstance(exc, OSError):
                    raise
                # disk full, read-only, gone: the live index is untouched
                raise store.IndexProblem(
                    f"cannot write the index in {self.root}: {exc.strerror or exc}"
                    f"{f' ({exc.filename})' if exc.filename else ''}; the index as it was "
                    "before this run is untouched and still served") from None
            if outdated and was == store.FORMAT and current.shards:
                summary.warnings.insert(0, (
                    "the index's story signatures were made by another version of "
                    "searchapp, so it was rebuilt in full"))
            elif outdated:
                summary.warnings.insert(0, (
                    f"the index was built with format {was or 'unknown'}; this searchapp "
                    f"reads format {store.FORMAT}, so it was rebuilt in full"))
            if fresh or outdated:  # kept beside the builds, for a repair (index/seen.py)
                seen.remember(self.root)
            summary.warnings[:0] = sorted(set(self.intake.skipped), key=lambda p: p.path)
            summary.seconds = time.perf_counter() - started
            self._record(summary)
        return summary

    def _record(self, summary: Summary) -> None:
        """Keep the run's summary line and what it refused with the index (the status page
        shows them, after a restart too). A watched run looked at some paths only: only
        their refusals are replaced."""
        try:
            current = store.live(self.root)
        except store.IndexProblem:
            return
        if current is None or not current.build.is_dir():
            return
        store.note_seeds(current.build, self.seeds)
        refused = summary.errors + [p for p in self.intake.skipped if p.message == NOT_UTF8]
        manifest_mod.record_run(current.build, summary.line(), refused, self.intake.looked_at)

    def merge_small_segments(self) -> bool:
        """Merge what incremental runs left unmerged (they merge little, to be quick): for a
        watcher, when it has nothing else to do. True when the index changed."""
        with store.write_lock(self.root, self.lock_timeout):
            current = store.live(self.root)
            if current is None or not current.shards or not current.build.is_dir() \
                    or store.format_of(current.build) != store.FORMAT \
                    or integrity.damage(current):
                return False
            for folder, gen in zip(current.folders, current.shards):
                shards.rollback(folder, gen)
            touched = writing.merge_small_segments(current.folders, self.lock_timeout)
            if not touched:
                return False
            gens = [touched.get(i, gen) for i, gen in enumerate(current.shards)]
            derived.group_stories(store.Live(current.build, current.generation + 1, tuple(gens)),
                                  current.generation, np.zeros(0, dtype=np.int64),  # the same
                                  self.story_rule)
            now = store.make_live(self.root, current.build, current.generation + 1, gens)
            for i in touched:
                shards.clean(current.folders[i], {current.shards[i], gens[i]})
            stories.clean(current.build, {current.generation, now.generation})
            Manifest.move_on(current.build, current.generation, now.generation)
            return True

    def _incremental(self, current: store.Live, changed: set[str] | None) -> Summary:
        """Plan under one searcher of the live generation, then apply: a commit per shard
        touched, the new generation's stories, the pointer moved on once, the manifest."""
        summary = Summary()
        build, folders = current.build, current.folders
        for folder, gen in zip(folders, current.shards):
            # A run killed after committing shards but before moving the pointer left
            # generations no reader ever saw: they go, and so do files no generation uses.
            shards.rollback(folder, gen)
            shards.clean(folder, {gen})
        with current.searcher() as searcher:
            plan = plans.make(build, searcher, current.generation, self.intake, self._now,
                              summary, changed)
            starts = _shard_starts(searcher, folders)
        if plan.writes:
            touched = writing.apply(folders, starts, plan.writes, self.lock_timeout)
            gens = [touched.get(i, gen) for i, gen in enumerate(current.shards)]
            before = current
            derived.group_stories(store.Live(build, current.generation + 1, tuple(gens)),
                                  current.generation,
                                  np.array(sorted(plan.changed), dtype=np.int64), self.story_rule)
            current = store.make_live(self.root, build, current.generation + 1, gens)
            seen.add(self.root, [doc for _, doc in plan.writes if doc], current)
            for i in touched:  # what readers of the generation before may still be opening stays
                shards.clean(folders[i], {before.shards[i], gens[i]})
            stories.clean(build, {before.generation, current.generation})
        else:
            touched = {}
            if stories.Stories.load(stories.path(build, current.generation)) is None:
                derived.group_stories(current, None, None, self.story_rule)  # they were lost
        for i, folder in enumerate(folders):
            if i not in touched:  # kept files and sums an index written before them lacks
                writing.ready_for_readers(folder)
        if plan.writes or plan.loaded or (plan.manifest is not plan.before
                                          and plan.manifest.files != plan.before.files):
            plan.manifest.write(build, current.generation, before=plan.before)
        derived.respell(current, summary.warnings)
        return summary


def _shard_starts(searcher, folders: list[Path]) -> list[int]:
    """The first global document number of each shard in `searcher` (engine/shards.py puts
    the shards' segments one after another)."""
    starts, total = [], 0
    leaves = searcher.reader().leaf_readers()
    for folder in folders:
        starts.append(total)
        total += sum(leaf.doc_count_all() for leaf, _ in leaves
                     if getattr(leaf, "kept_folder", None) == folder)
    return starts


def _refuse_damaged(current: store.Live, checksums: bool = False,
                    cause: BaseException | None = None) -> None:
    """Raise IndexDamaged when the live build is (checking every file's checksum too when
    reading it has just failed): a run would fail on it, or build on wrong records."""
    found = integrity.damage(current, checksums=checksums)
    if found:
        raise store.IndexDamaged(found) from cause
