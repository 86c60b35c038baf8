"""A full build: the index made anew from the seeds beside the live one, then swapped in.

Nothing the size of the collection is held in memory: drafts go to spill files per shard,
manifest rows to the database, as each file is read; then each shard is written by a
process of its own (or a job of the caller's pool). What the build it replaces holds is
kept where the seeds cannot give it again: the records of files that turned bad, and when
each record first entered the index.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

from ..ingest.reading import Intake, Loaded, Pool
from . import derived, seen, stories, store, writing
from .manifest import HELD, Manifest, Rows
from .plan import rejections
from .summary import Summary

PARALLEL_WRITE_FROM = 20_000  # drafts of a full build; below, shards are written one by one


def full(root: Path, old_build: Path | None, shards: int, intake: Intake, now: int,
         rule: stories.Rule, pool: Pool | None = None) -> Summary:
    """Build the index in `root` anew in `shards` shards and make it live; `old_build` is
    the build it replaces (None for a first build or a repair, which keep nothing of it)."""
    summary = Summary(full=True)
    files = intake.scan()
    summary.seen = len(files)
    rels = sorted(files)
    del files
    build = store.new_build(root, shards)
    folders = store.shard_folders(build, shards)
    spill = writing.Spill(build, shards)
    rows = Rows(build)

    def take(item: Loaded) -> bool:
        """Spill a read file's drafts and list it; keep only the rejected."""
        if item.drafts is None:
            return True
        spill.add(item.drafts)
        rows.add(item.rel, item.entry)
        summary.warnings.extend(item.warnings)
        return False

    try:
        rejected = intake.read(rels, Manifest().get, take, pool)
        del rels
        held = _held_from(root, old_build, rejected, summary)
        kept_entries = Manifest.read(old_build, only=set(held)) if held else Manifest()
        for rel, rel_drafts in held.items():  # what a now-broken file gave: nothing is lost
            spill.add((d["id"], json.dumps(d, ensure_ascii=False)) for d in rel_drafts)
            rows.add(rel, kept_entries.get(rel) or dict(HELD))
        # A process per shard where there are cores and records enough to pay for them.
        # Forked children share this process's memory: without freezing, the garbage
        # collector would touch every object's header in each and copy them all.
        processes = (os.cpu_count() or 1) if spill.drafts >= PARALLEL_WRITE_FROM else 1
        first_seen = _first_seen(root, old_build, now)
        gc.freeze()
        try:
            written = writing.write_all(folders, spill, processes, first_seen, pool)
        finally:
            gc.unfreeze()
        del first_seen
        for part in written:
            summary.added += part.added
            summary.warnings.extend(part.warnings)
        gens = [part.generation for part in written]
        derived.group_stories(store.Live(build, 1, tuple(gens)), None, None, rule)
        derived.respell(store.Live(build, 1, tuple(gens)), summary.warnings, always=True)
        rows.finish(1)
        summary.new, summary.changed, summary.deleted = rows.compare(
            old_build, {item.rel for item in rejected if item.rel not in held})
    finally:
        spill.remove()
        rows.close()
    store.make_live(root, build, 1, gens)
    return summary


def _replaced(root: Path, old_build: Path | None) -> store.Live | None:
    """The live build this one replaces, when there is one that can be read."""
    try:
        current = store.live(root)
    except store.IndexDamaged:
        return None
    if old_build is None or current is None or current.build != old_build \
            or not current.shards:
        return None
    return current


def _held_from(root: Path, old_build: Path | None, loaded: list[Loaded], summary: Summary
               ) -> dict[str, list[dict]]:
    """Rejected files, reported, with the drafts the old build holds from each."""
    current = _replaced(root, old_build)
    if current is None or store.format_of(old_build) != store.FORMAT \
            or not any(l.problem for l in loaded):
        return rejections(loaded, None, summary)
    try:
        with current.searcher() as searcher:
            return rejections(loaded, searcher, summary)
    except Exception:  # the old build is damaged: nothing of it can be kept
        return rejections(loaded, None, summary)


def _first_seen(root: Path, old_build: Path | None, now: int) -> writing.FirstSeen:
    """When the records of the build being replaced first entered the index (nothing,
    for a first build or a repair, or when that build cannot be read)."""
    try:
        current = _replaced(root, old_build)
        if current is None:  # a first build or a repair: the times kept beside the builds
            return seen.recall(root, now)
        with current.searcher() as searcher:
            return writing.FirstSeen.of_reader(searcher.reader(), now)
    except Exception:  # a damaged old build: the times kept beside the builds
        return seen.recall(root, now)
