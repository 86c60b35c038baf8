"""Bringing the index up to date with the seeds folder: incrementally, or by a full rebuild.

The index is the one source of truth: each record stores the drafts it was merged from,
so an incremental run only parses new and changed files, takes the drafts of deleted or
changed files out of the records that hold them, and re-merges just those records. It
first plans (what changed, which records that touches, what to write), then commits each
shard it touches (writing.py), moves the index-wide pointer on once (store.py), then
writes the manifest (manifest.py), which only saves re-reading unchanged files.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import json
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

import numpy as np

from ..engine import shards, zerocopy
from ..ingest import records
from ..ingest.seeds import Limits, Problem, SeedRejected, parse_bytes, utf8_name
from . import integrity, spelling, stories, store, writing
from . import manifest as manifest_mod
from .manifest import HELD, Manifest, Rows
from .schema import id_key, source_token

IGNORED_SUFFIXES = ("~", ".tmp", ".swp", ".part", ".crdownload")
PARALLEL_FROM = 2000  # files; below this, starting processes costs more than it saves
PARALLEL_WRITE_FROM = 20_000  # drafts of a full build; below, shards are written one by one


@dataclass
class Summary:
    seen: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    rejected: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0
    full: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        return (f"{'full rebuild' if self.full else 'indexed'}: {self.seen} files seen, "
                f"{self.new} new, {self.changed} changed, {self.deleted} deleted, "
                f"{self.rejected} rejected; records {self.added} added, {self.updated} updated, "
                f"{self.removed} removed; {self.seconds:.2f} s")

    @property
    def ok(self) -> bool:
        return self.rejected == 0


@dataclass
class _Loaded:
    rel: str
    entry: dict[str, Any]  # size, mtime_ns, sha1
    # The file's drafts, each as compact JSON (id, JSON): a dict per draft would hold
    # several times the memory, and a full build of a million files keeps them all.
    drafts: list[tuple[str, str]] | None = None
    warnings: list[Problem] = field(default_factory=list)
    problem: Problem | None = None


@dataclass
class Stored:
    """A record as the index holds it: its document number and its stored fields."""

    docnum: int
    fields: dict[str, Any]

    def drafts(self) -> list[dict[str, Any]]:
        return json.loads(self.fields["drafts"])


@dataclass
class Plan:
    """What an incremental run will change, worked out before anything is written."""

    loaded: list[_Loaded]
    retired: set[str]  # files whose drafts go from the records that hold them
    existing: dict[str, Stored]  # records those files or the new drafts touch, by id
    new_drafts: dict[str, list[str]]  # by record id
    before: Manifest  # as the run found it
    manifest: Manifest  # to write after the commit
    writes: list[tuple[int | None, dict | None]] = field(default_factory=list)  # (delete, add)
    changed: set[int] = field(default_factory=set)  # id keys of the records written or removed


class Pool(Protocol):
    """Where a full build parses and writes shards instead of this machine's processes
    (cluster/build.py: tasks on a Ray cluster). As `Executor.map`: results in job order."""

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], chunksize: int = 1
            ) -> Iterator[Any]: ...


class Indexer:
    """Indexes one seeds folder into one index folder, one writer at a time.

    `pool`, when given, runs a full build's parsing and shard writing (an incremental run
    touches few files, and stays in this process and its forks)."""

    def __init__(self, seeds: Path, root: Path, limits: Limits = Limits(), lock_timeout: float = 10.0,
                 workers: int = 0, progress: Callable[[int, int], None] | None = None,
                 shards: int = 0, story_rule: stories.Rule = stories.Rule(),
                 pool: Pool | None = None):
        zerocopy.install()
        _children_die_with_parent()
        self.seeds, self.root, self.limits = Path(seeds), Path(root), limits
        self.lock_timeout, self.workers, self.progress = lock_timeout, workers, progress
        self.shards = shards or writing.default_shards()  # of a full build
        self.story_rule = story_rule
        self.pool = pool
        self._now = int(time.time())  # when this run's new records were first seen
        self.scans = 0  # folder scans this indexer made (a watch test counts them)
        self._skipped: list[Problem] = []  # what this run's scans left out, and why
        self._looked_at: set[str] | None = None  # a watched run's paths (None: the whole folder)

    @classmethod
    def from_settings(cls, settings, progress: Callable[[int, int], None] | None = None,
                      pool: Pool | None = None) -> "Indexer":
        limits = Limits(max_bytes=settings.max_seed_bytes, max_nodes=settings.max_yaml_nodes)
        return cls(settings.seeds, settings.index, limits, settings.lock_timeout,
                   settings.parse_workers, progress, settings.shards,
                   stories.Rule(settings.story_threshold, settings.story_window_hours), pool)

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
        self._skipped, self._looked_at = [], None
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
            try:
                if fresh or outdated:
                    summary = self._full(current.build if current and not repair else None)
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
            if outdated:
                summary.warnings.insert(0, (
                    f"the index was built with format {was or 'unknown'}; this searchapp "
                    f"reads format {store.FORMAT}, so it was rebuilt in full"))
            summary.warnings[:0] = sorted(set(self._skipped), key=lambda p: p.path)
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
        refused = summary.errors + [p for p in self._skipped if p.message == NOT_UTF8]
        manifest_mod.record_run(current.build, summary.line(), refused, self._looked_at)

    def tidy(self) -> bool:
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
            touched = writing.tidy(current.folders, self.lock_timeout)
            if not touched:
                return False
            gens = [touched.get(i, gen) for i, gen in enumerate(current.shards)]
            self._group(store.Live(current.build, current.generation + 1, tuple(gens)),
                        current.generation, np.zeros(0, dtype=np.int64))  # the same stories
            now = store.make_live(self.root, current.build, current.generation + 1, gens)
            for i in touched:
                shards.clean(current.folders[i], {current.shards[i], gens[i]})
            stories.clean(current.build, {current.generation, now.generation})
            Manifest.move_on(current.build, current.generation, now.generation)
            return True

    # -- incremental: plan, then apply ------------------------------------------------------

    def _incremental(self, current: store.Live, changed: set[str] | None) -> Summary:
        summary = Summary()
        build, folders = current.build, current.folders
        for folder, gen in zip(folders, current.shards):
            # A run killed after committing shards but before moving the pointer left
            # generations no reader ever saw: they go, and so do files no generation uses.
            shards.rollback(folder, gen)
            shards.clean(folder, {gen})
        view = store.IndexView(current)
        with view.searcher() as searcher:
            plan = self._plan(build, searcher, current.generation, summary, changed)
            starts = _shard_starts(searcher, folders)
        if plan.writes:
            touched = writing.apply(folders, starts, plan.writes, self.lock_timeout)
            gens = [touched.get(i, gen) for i, gen in enumerate(current.shards)]
            before = current
            self._group(store.Live(build, current.generation + 1, tuple(gens)),
                        current.generation, np.array(sorted(plan.changed), dtype=np.int64))
            current = store.make_live(self.root, build, current.generation + 1, gens)
            for i in touched:  # what readers of the generation before may still be opening stays
                shards.clean(folders[i], {before.shards[i], gens[i]})
            stories.clean(build, {before.generation, current.generation})
        else:
            touched = {}
            if stories.Stories.load(stories.path(build, current.generation)) is None:
                self._group(current, None, None)  # an index that lacks its stories
        for i, folder in enumerate(folders):
            if i not in touched:  # kept files and sums an index written before them lacks
                writing.settle(folder)
        if plan.writes or plan.loaded or (plan.manifest is not plan.before
                                          and plan.manifest.files != plan.before.files):
            plan.manifest.write(build, current.generation, before=plan.before)
        self._spell(build, current, summary)
        return summary

    def _plan(self, build: Path, searcher, generation: int, summary: Summary,
              watched: set[str] | None = None) -> Plan:
        """Which files changed, which records they touch, and what to write for each."""
        manifest = Manifest.read(build, only=watched) if watched is not None else None
        if manifest is not None and manifest.lists_everything_in(generation):
            self._looked_at = set(watched)
            files = self._files_named(watched)
            summary.seen = manifest.total - len(manifest.files) + len(files)
        else:  # no watcher, or a manifest that cannot be trusted to list everything
            manifest = Manifest.read(build)
            files = self._scan()
            summary.seen = len(files)
        loaded = self._load(manifest.stale(files), manifest)
        read = {l.rel for l in loaded if l.drafts is not None}  # the rejected count as such
        deleted = {rel for rel in manifest.files if rel not in files}
        summary.new = sum(1 for rel in read if rel not in manifest)
        summary.changed = len(read) - summary.new
        good = [l for l in loaded if l.drafts is not None]
        summary.warnings.extend(w for l in good for w in l.warnings)
        retired = {l.rel for l in good} | deleted  # files whose old drafts must go
        new_drafts = _drafts_by_id(good)

        # Files the index has records of but the folder no longer holds: deleted while the
        # manifest was lost or stale (a run killed between commit and manifest). Their
        # records must go as well.
        orphans: set[str] = set()
        if not manifest.lists_everything_in(generation):
            on_disk = {source_token(rel) for rel in files}
            orphans = {t.decode() if isinstance(t, bytes) else t
                       for t in searcher.lexicon("sources")} - on_disk
        tokens = {source_token(rel) for rel in retired} | orphans
        existing = _stored_records(searcher, tokens, new_drafts)
        for stored in existing.values():
            retired.update(d["source"] for d in stored.drafts()
                           if source_token(d["source"]) in orphans)
        summary.deleted = len(deleted | {r for r in retired if r not in files})
        held = _rejections(loaded, searcher, summary)

        plan = Plan(loaded, retired, existing, new_drafts, manifest,
                    self._next_manifest(manifest, deleted, loaded, held)
                    if loaded or deleted or held else manifest)  # nothing changed: the same
        for rid in sorted(set(existing) | set(new_drafts)):
            old = existing.get(rid)
            kept = [d for d in old.drafts() if d["source"] not in retired] if old else []
            seen = (old.fields.get("seen") if old else None) or self._now
            doc = self._merge(rid, kept + new_drafts.get(rid, []), summary, seen)
            if doc is None:
                if old is not None:
                    plan.writes.append((old.docnum, None))
                    plan.changed.add(id_key(rid))
                    summary.removed += 1
            elif old is None:
                plan.writes.append((None, doc))
                plan.changed.add(id_key(rid))
                summary.added += 1
            elif (doc["hash"], doc["drafts"]) != (old.fields["hash"], old.fields["drafts"]):
                plan.writes.append((old.docnum, doc))
                plan.changed.add(id_key(rid))
                summary.updated += 1
        return plan

    def _scan(self) -> dict[str, os.stat_result]:
        self.scans += 1
        return scan(self.seeds, self._skipped)

    def _files_named(self, changed: set[str]) -> dict[str, os.stat_result]:
        """The seed files at the paths a watcher saw change: no folder scan. A changed
        folder (moved in, or away) is scanned, and only it."""
        files = {}
        for rel in changed:
            if not utf8_name(rel):
                self._skipped.append(Problem(rel, None, NOT_UTF8))
                continue
            path = self.seeds / rel
            link = _linked_folder_on_the_way(self.seeds, rel)
            if link is not None:  # a watch follows links into folders; the scan does not
                self._skipped.append(Problem(link, None, LINKED_FOLDER))
                continue
            try:
                st = os.stat(path)
            except OSError:
                continue  # gone: the manifest rows read for it (and under it) are deletions
            if os.path.islink(path):  # as the scan treats links (see `_link_target`)
                if os.path.isdir(path):
                    self._skipped.append(Problem(rel, None, LINKED_FOLDER))
                    continue
                if _link_target(os.fspath(path), os.path.realpath(self.seeds)) is None:
                    continue
            if os.path.isdir(path):
                files.update((f"{rel}/{sub}", sub_st)
                             for sub, sub_st in scan(path, self._skipped).items())
            elif os.path.isfile(path):
                files[rel] = st
        return dict(sorted(files.items()))

    @staticmethod
    def _next_manifest(manifest: Manifest, deleted: set[str], loaded: list[_Loaded],
                       held: dict[str, list]) -> Manifest:
        """Unchanged files keep their entries; read files get new ones unless rejected. It
        remembers which rows it changed, so that writing it does not compare a million."""
        entries = dict(manifest.files)  # one copy in C; a comprehension took 1.8 s at 1M
        for rel in deleted:
            entries.pop(rel, None)
        changed = set()
        for item in loaded:
            if item.drafts is not None or (item.problem is None and item.rel in entries):
                if entries.get(item.rel) != item.entry:  # a racy file read again: the same
                    changed.add(item.rel)
                entries[item.rel] = item.entry
        for rel in held:  # rejected, but the index keeps its records: the manifest must say so
            if rel not in entries:
                entries[rel] = dict(HELD)
                changed.add(rel)
        out = Manifest(entries)
        out.rows_changed, out.rows_gone = changed, deleted - set(held)
        return out

    # -- full rebuild -------------------------------------------------------------------------

    def _full(self, old_build: Path | None) -> Summary:
        """Build the index anew beside the live one. Nothing the size of the collection is
        held in memory: drafts go to spill files per shard, manifest rows to the database,
        as each file is read."""
        summary = Summary(full=True)
        files = self._scan()
        summary.seen = len(files)
        rels = sorted(files)
        del files
        build = store.new_build(self.root, self.shards)
        folders = store.shard_folders(build, self.shards)
        spill = writing.Spill(build, self.shards)
        rows = Rows(build)

        def take(item: _Loaded) -> bool:
            """Spill a read file's drafts and list it; keep only the rejected."""
            if item.drafts is None:
                return True
            spill.add(item.drafts)
            rows.add(item.rel, item.entry)
            summary.warnings.extend(item.warnings)
            return False

        try:
            rejected = self._load(rels, Manifest(), take, self.pool)
            del rels
            held = self._held_from(old_build, rejected, summary)
            kept_entries = Manifest.read(old_build, only=set(held)) if held else Manifest()
            for rel, rel_drafts in held.items():  # what a now-broken file gave: nothing is lost
                spill.add((d["id"], json.dumps(d, ensure_ascii=False)) for d in rel_drafts)
                rows.add(rel, kept_entries.get(rel) or dict(HELD))
            # A process per shard where there are cores and records enough to pay for them.
            # Forked children share this process's memory: without freezing, the garbage
            # collector would touch every object's header in each and copy them all.
            processes = (os.cpu_count() or 1) if spill.drafts >= PARALLEL_WRITE_FROM else 1
            first_seen = self._first_seen(old_build)
            gc.freeze()
            try:
                written = writing.write_all(folders, spill, processes, first_seen, self.pool)
            finally:
                gc.unfreeze()
            del first_seen
            for part in written:
                summary.added += part.added
                summary.warnings.extend(part.warnings)
            gens = [part.generation for part in written]
            self._group(store.Live(build, 1, tuple(gens)), None, None)
            self._spell(build, store.Live(build, 1, tuple(gens)), summary, always=True)
            rows.finish(1)
            summary.new, summary.changed, summary.deleted = rows.compare(
                old_build, {item.rel for item in rejected if item.rel not in held})
        finally:
            spill.remove()
            rows.close()
        store.make_live(self.root, build, 1, gens)
        return summary

    def _held_from(self, old_build: Path | None, loaded: list[_Loaded], summary: Summary
                   ) -> dict[str, list[dict]]:
        """Rejected files, reported, with the drafts the old build holds from each."""
        try:
            current = store.live(self.root)
        except store.IndexDamaged:
            current = None
        if old_build is None or current is None or current.build != old_build \
                or not current.shards or store.format_of(old_build) != store.FORMAT \
                or not any(l.problem for l in loaded):
            return _rejections(loaded, None, summary)
        try:
            with store.IndexView(current).searcher() as searcher:
                return _rejections(loaded, searcher, summary)
        except Exception:  # the old build is damaged: nothing of it can be kept
            return _rejections(loaded, None, summary)

    # -- pieces -----------------------------------------------------------------------------

    def _first_seen(self, old_build: Path | None) -> writing.FirstSeen:
        """When the records of the build being replaced first entered the index (nothing,
        for a first build or a repair, or when that build cannot be read)."""
        try:
            current = store.live(self.root)
            if old_build is None or current is None or current.build != old_build \
                    or not current.shards:
                return writing.FirstSeen.nothing(self._now)
            with store.IndexView(current).searcher() as searcher:
                return writing.FirstSeen.of_reader(searcher.reader(), self._now)
        except Exception:  # a damaged old build: its times are lost, not the rebuild
            return writing.FirstSeen.nothing(self._now)

    def _group(self, live: store.Live, before: int | None, changed: np.ndarray | None) -> None:
        """Group the records of `live` (not yet live) into stories and keep them beside it:
        from the stories of generation `before` and the id keys of the records the run
        `changed`, or (when either is missing, or the threshold changed) from scratch."""
        old = stories.Stories.load(stories.path(live.build, before)) \
            if before is not None and changed is not None else None
        if old is not None and not len(changed) and old.rule == self.story_rule.key:
            found = old  # the same records (a merge of segments): the same stories
        else:
            with store.IndexView(live).searcher() as searcher:
                keys, sigs, present, dates = stories.of_reader(searcher.reader())
            if old is not None:
                found = stories.regroup(keys, sigs, present, dates, old, changed,
                                        self.story_rule)
            else:
                found = stories.group(keys, sigs, present, dates, self.story_rule)
        found.save(stories.path(live.build, live.generation))
        store.note_story_rule(live.build, self.story_rule.threshold, self.story_rule.window_hours)

    @staticmethod
    def _spell(build: Path, current: store.Live, summary: Summary, always: bool = False) -> None:
        """Rebuild the spelling index when it is missing or outgrown. It only helps searches,
        so failing to write it is a warning: the index commit before it stands."""
        try:
            with store.IndexView(current).searcher() as searcher:
                if always or spelling.stale(build, searcher.doc_count()):
                    spelling.build(build, searcher.reader(), searcher.doc_count())
        except OSError as exc:
            summary.warnings.append(Problem(str(build.name), None, "the spelling index could "
                                            f"not be rebuilt ({exc.strerror or exc}); "
                                            "suggestions use the one before"))

    def _merge(self, rid: str, drafts: list[dict | str], summary: Summary, seen: int
               ) -> dict | None:
        doc, problems = writing.merge(rid, drafts, seen)
        summary.warnings.extend(problems)
        return doc

    def _load(self, rels: list[str], manifest: Manifest,
              keep: Callable[[_Loaded], bool] | None = None,
              pool: Pool | None = None) -> list[_Loaded]:
        """Read, hash and parse files; a file whose content hash is unchanged is not parsed.
        With `keep`, each item is handed to it as it arrives, and only those it returns
        True for are kept. With `pool`, the files are parsed there, however few."""
        jobs = ((str(self.seeds), rel, self.limits, manifest.get(rel)) for rel in rels)
        workers = self.workers or (os.cpu_count() or 1)
        done: list[_Loaded] = []
        seen = 0

        def take(item: _Loaded) -> None:
            nonlocal seen
            seen += 1
            if keep is None or keep(item):
                done.append(item)
            self._tick(seen, len(rels))

        if pool is not None:
            for item in pool.map(_load_one, jobs, chunksize=64):
                take(item)
        elif len(rels) >= PARALLEL_FROM and workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as executor:
                for item in executor.map(_load_one, jobs, chunksize=64):
                    take(item)
        else:
            for job in jobs:
                take(_load_one(job))
        return done

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


def _rejections(loaded: list[_Loaded], searcher, summary: Summary) -> dict[str, list[dict]]:
    """Report every rejected file. A file that turns bad keeps what its last good version gave
    the index (nothing already indexed is lost): for each such file, the drafts it gave, read
    from `searcher` (the live index, or the build a full rebuild replaces)."""
    held: dict[str, list[dict]] = {}
    for item in loaded:
        if item.problem is None:
            continue
        summary.rejected += 1
        problem, records_kept, drafts = item.problem, 0, []
        if searcher is not None:
            for docnum in searcher.document_numbers(sources=source_token(item.rel)):
                records_kept += 1
                drafts.extend(d for d in json.loads(searcher.stored_fields(docnum)["drafts"])
                              if d["source"] == item.rel)
        if records_kept:
            held[item.rel] = drafts
            problem = Problem(problem.path, problem.line,
                              f"{problem.message} (keeping the {records_kept} record(s) indexed "
                              "from its last good version)")
        summary.errors.append(problem)
    return held


_FORK_HOOKED = False


def _children_die_with_parent() -> None:
    """Make processes this indexer forks (parsers, Whoosh's writers) end when it does.

    Without it, a `kill -9` of the indexer leaves its workers waiting forever on a queue
    nobody will write to again. Linux's PR_SET_PDEATHSIG does it (it fires when the forking
    thread ends; the pools here fork from the caller's thread); elsewhere this is a no-op.
    """
    global _FORK_HOOKED
    if _FORK_HOOKED:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return
    forking = {"parent": 0}

    def before() -> None:
        forking["parent"] = os.getpid()

    def in_child() -> None:
        prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: forked from the main thread, see above
        if os.getppid() != forking["parent"]:  # the parent died before the line above ran
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=in_child)
    _FORK_HOOKED = True


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


NOT_UTF8 = "the file name is not valid UTF-8, which the index cannot store; rename it to index it"


def scan(seeds: Path, skipped: list[Problem] | None = None) -> dict[str, os.stat_result]:
    """Every seed file under `seeds` by its path relative to it (hidden and temp files skipped).

    Left out, and said in `skipped`: names that are not UTF-8 (the index cannot store them)
    and symbolic links to folders (never followed, so a link loop cannot repeat the folder
    or lead out of it). Left out silently: links to a file inside the folder, which is
    found under its own name.

    os.scandir, not pathlib: at 100k files pathlib's objects were 90% of an incremental run.
    In no order: callers sort what they read (sorting a million names twice was a second of
    every run).
    """
    found: dict[str, os.stat_result] = {}
    links: list[tuple[str, str]] = []
    real_root = os.path.realpath(seeds)
    pending = [("", os.fspath(seeds))]
    say = skipped.append if skipped is not None else (lambda problem: None)
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # a folder deleted while scanning: the next run sees it gone
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            rel = f"{prefix}{name}"
            if not utf8_name(name):
                say(Problem(rel, None, NOT_UTF8))
                continue
            try:
                if entry.is_symlink():
                    if entry.is_dir():
                        say(Problem(rel, None, LINKED_FOLDER))
                    elif _link_target(entry.path, real_root) is not None:
                        links.append((rel, entry.path))
                elif entry.is_dir():
                    pending.append((f"{rel}/", entry.path))
                elif entry.is_file():
                    found[rel] = entry.stat()
            except OSError:
                continue  # deleted between listing and stat
    linked: set[str] = set()  # several links to one file outside: the first by name
    for rel, path in sorted(links):
        real = os.path.realpath(path)
        if real not in linked:
            try:
                found[rel] = os.stat(path)
            except OSError:
                continue
            linked.add(real)
    return found


LINKED_FOLDER = "a symbolic link to a folder; links to folders are not followed"


def _linked_folder_on_the_way(seeds: Path, rel: str) -> str | None:
    """The first folder on the way from `seeds` to `rel` that is a symbolic link, if any:
    what lies behind it is not in the seeds folder, as `scan` sees it."""
    parts = rel.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        if os.path.islink(os.path.join(seeds, prefix)):
            return prefix
    return None


def _link_target(path: str, real_root: str) -> str | None:
    """The file a symbolic link leads to when it is indexed under the link's name: not for
    a link to a folder (never followed), to a file inside the seeds folder (indexed under
    its own name, once), or to nothing."""
    real = os.path.realpath(path)
    if real.startswith(real_root + os.sep) or not os.path.isfile(real):
        return None
    return real


def _refuse_damaged(current: store.Live, checksums: bool = False,
                    cause: BaseException | None = None) -> None:
    """Raise IndexDamaged when the live build is (checking every file's checksum too when
    reading it has just failed): a run would fail on it, or build on wrong records."""
    found = integrity.damage(current, checksums=checksums)
    if found:
        raise store.IndexDamaged(found) from cause


def _load_one(job: tuple[str, str, Limits, dict | None]) -> _Loaded:
    seeds, rel, limits, known = job
    path = Path(seeds, rel)
    try:
        st = path.stat()
        if st.st_size > limits.max_bytes:
            return _Loaded(rel, {}, problem=Problem(
                rel, None, f"file is {st.st_size:,} bytes, over the {limits.max_bytes:,}-byte limit"))
        data = path.read_bytes()
    except OSError as exc:
        return _Loaded(rel, {}, problem=Problem(rel, None, f"cannot read file: {exc.strerror or exc}"))
    entry = {"size": len(data), "mtime_ns": st.st_mtime_ns, "sha1": hashlib.sha1(data).hexdigest()}
    if known and known.get("sha1") == entry["sha1"]:
        return _Loaded(rel, entry)  # touched but not changed
    try:
        parsed = parse_bytes(data, rel, limits)
        return _Loaded(rel, entry, drafts=[(d["id"], json.dumps(d, ensure_ascii=False))
                                           for d in records.file_drafts(parsed)],
                       warnings=parsed.warnings)
    except SeedRejected as exc:
        return _Loaded(rel, entry, problem=exc.problem)
    except Exception as exc:  # a parser bug must not stop the run or lose other files
        return _Loaded(rel, entry, problem=Problem(rel, None, f"could not be parsed: {exc!r}"))


def _drafts_by_id(loaded: Iterable[_Loaded]) -> dict[str, list[str]]:
    """Every draft (as JSON) by the id of the record it is a draft of; frees them from `loaded`."""
    by_id: dict[str, list[str]] = {}
    for item in loaded:
        for rid, draft in item.drafts:
            by_id.setdefault(rid, []).append(draft)
        item.drafts = []
    return by_id


def _stored_records(searcher, tokens: set[str], new_drafts: dict) -> dict[str, Stored]:
    """Every record the files with these source tokens fed, and every record a new draft names."""
    found: dict[str, Stored] = {}
    for token in tokens:
        for docnum in searcher.document_numbers(sources=token):
            fields = searcher.stored_fields(docnum)
            found[fields["id"]] = Stored(docnum, fields)
    for rid in new_drafts:
        if rid not in found:
            docnum = searcher.document_number(id=rid)
            if docnum is not None:
                found[rid] = Stored(docnum, searcher.stored_fields(docnum))
    return found
