"""Writing records into shards: which shard holds a record, the drafts a full build spills
to disk per shard, one shard built by one process, and an incremental run's changes
committed shard by shard.

A record goes to the shard a hash of its id names, so the same record is always in the same
shard, whatever file its drafts come from. A full build does not hold every draft in memory
(a million records' drafts were gigabytes): parsed drafts are appended to their shard's
spill file as they arrive, and each shard's process reads back one record's drafts at a
time, in id order, by offsets into its file.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ..engine import bulk, columns, lexicon, segments, shards, zerocopy
from ..ingest.problems import Problem
from ..ingest.reading import Pool
from . import integrity
from .analysis import index_words
from .documents import merge
from .schema import FACET_COLUMNS, WORD_FIELDS, id_key

SPILL = "spill-{:02d}.tmp"  # beside the shards in the build folder; gone once written
MAX_DEFAULT_SHARDS = 8


def default_shards() -> int:
    """One shard per core (each is written by a process of its own), at most 8."""
    return max(1, min(MAX_DEFAULT_SHARDS, os.cpu_count() or 1))


def shard_of(record_id: str, count: int) -> int:
    """The shard a record lives in: stable across runs, machines and Python versions."""
    if count == 1:
        return 0
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % count


def index_cuts(schema) -> dict[str, bulk.Cut]:
    """How the bulk writer cuts each field it can cut without Whoosh's analysers."""
    cuts = {}
    for name, field in schema.items():
        cut = index_words(field.analyzer) if field.indexed else None
        if cut is not None:
            cuts[name] = cut
    return cuts


@dataclass
class FirstSeen:
    """When each record of the build a full rebuild replaces first entered the index, so
    that a rebuild keeps those times (a feed of new matches is not flooded by it); a record
    it did not hold is first seen `now`."""

    keys: np.ndarray  # id keys, sorted
    seen: np.ndarray
    now: int

    @classmethod
    def of_reader(cls, reader, now: int) -> "FirstSeen":
        leaves = segments.leaves(reader)
        size = sum(leaf.doc_count_all() for leaf, _, _ in leaves)
        alive = segments.alive(leaves, size)
        keys = np.concatenate([columns.numbers(leaf, "c_idkey", 0) for leaf, _, _ in leaves]
                              or [np.zeros(0, dtype=np.int64)])[alive]
        seen = np.concatenate([columns.numbers(leaf, "c_seen", 0) for leaf, _, _ in leaves]
                              or [np.zeros(0, dtype=np.int64)])[alive]
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], seen[order], now)

    @classmethod
    def nothing(cls, now: int) -> "FirstSeen":
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), now)

    def of(self, record_id: str) -> int:
        if len(self.keys):
            key = id_key(record_id)
            at = int(np.searchsorted(self.keys, key))
            if at < len(self.keys) and self.keys[at] == key and self.seen[at] > 0:
                return int(self.seen[at])
        return self.now


def ready_for_readers(folder: Path) -> None:
    """What follows a shard's commit. The facet columns and words of its new segments are
    kept now, so that no serving process pays for them on its first search (seconds at 1M
    records; a file that cannot be written is made by the first search instead); then the
    checksums of its new files are recorded (index/integrity.py)."""
    gen = shards.latest(folder)
    if gen < 0:
        return
    reader = shards.reader([folder], [gen], gen)
    try:
        leaves = segments.leaves(reader)
        columns.prepare(leaves, list(FACET_COLUMNS), folder)
        lexicon.prepare(leaves, list(WORD_FIELDS), folder)
    finally:
        reader.close()
    integrity.record(folder)


# -- a full build ---------------------------------------------------------------------------

class Spill:
    """Drafts appended to one file per shard as the parsers hand them over."""

    def __init__(self, build: Path, count: int):
        self.paths = [build / SPILL.format(i) for i in range(count)]
        self._files = [open(p, "wb") for p in self.paths]
        self.count = count
        self.drafts = 0

    def add(self, drafts: Iterable[tuple[str, str]]) -> None:
        for rid, draft in drafts:
            if "\n" in rid or "\t" in rid:
                continue  # cannot happen (ids are hex digests); a line must stay one draft
            self._files[shard_of(rid, self.count)].write(f"{rid}\t{draft}\n".encode("utf-8"))
            self.drafts += 1

    def close(self) -> None:
        for f in self._files:
            f.close()

    def remove(self) -> None:
        self.close()
        for p in self.paths:
            p.unlink(missing_ok=True)


@dataclass
class Written:
    """What writing one shard did, sent back to the indexer."""

    added: int = 0
    generation: int = 0
    warnings: list[Problem] = field(default_factory=list)


def write_all(folders: list[Path], spill: Spill, processes: int, first_seen: FirstSeen,
              pool: Pool | None = None) -> list[Written]:
    """Build every shard from its spill file, `processes` shards at a time, or each as a
    job of `pool` (a cluster's, writing to storage its nodes share)."""
    spill.close()
    jobs = [(folder, path, first_seen) for folder, path in zip(folders, spill.paths)]
    if pool is not None:
        return list(pool.map(write_shard, jobs))
    if processes <= 1 or len(jobs) == 1:
        return [write_shard(job) for job in jobs]
    # Forked: the children share the parent's memory (its manifest entries) copy-on-write.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(processes, len(jobs)), mp_context=context) as pool:
        return list(pool.map(write_shard, jobs))


def write_shard(job: tuple[Path, Path, FirstSeen]) -> Written:
    """Write one shard from its spill file: each record merged from its drafts, in id order
    (ties in a ranking fall back to id order, and documents numbered the same way keep
    runs of equal values together)."""
    folder, spill_path, first_seen = job
    zerocopy.install()  # forked children have it from the indexer; a cluster's workers do not
    done = Written()
    where: dict[str, list[tuple[int, int]]] = {}
    with open(spill_path, "rb") as f:
        position = 0
        for line in f:
            tab = line.index(b"\t")
            where.setdefault(line[:tab].decode("utf-8"), []).append(
                (position + tab + 1, len(line) - tab - 2))
            position += len(line)
    ix = shards.open_index(folder)
    writer = bulk.BulkWriter(ix, index_cuts(ix.schema))
    try:
        # Read with pread, not mapped: pages of a mapped file count as this process's memory.
        with open(spill_path, "rb") as f:
            fd = f.fileno()
            for rid in sorted(where):
                drafts = [os.pread(fd, length, start).decode("utf-8")
                          for start, length in where.pop(rid)]
                doc, problems = merge(rid, drafts, first_seen.of(rid))
                done.warnings.extend(problems)
                if doc is not None:
                    writer.add_document(**doc)
                    done.added += 1
        writer.commit()
    except BaseException:
        cancel(writer)
        raise
    spill_path.unlink(missing_ok=True)
    ready_for_readers(folder)
    done.generation = shards.latest(folder)
    return done


# -- an incremental run ---------------------------------------------------------------------

# Merging costs ~40 us per distinct word of each segment merged (a 450-record segment: ~1 s),
# so an incremental run merges nothing until a shard holds more than MAX_SEGMENTS; then it
# merges as the ladder says. A watcher merges them sooner, when idle (`merge_small_segments`).
MAX_SEGMENTS = 8


def apply(folders: list[Path], starts: list[int], writes: list[tuple[int | None, dict | None]],
          lock_timeout: float) -> dict[int, int]:
    """Delete and add, one commit per shard touched; returns {shard: its new generation}.

    `starts` are the first global document numbers of each shard in the reader the plan was
    made with. The index's write lock is held for the whole run, so those numbers still name
    the same records: deleting by number skips a term lookup per record in every segment.
    """
    by_shard: dict[int, list[tuple[int | None, dict | None]]] = {}
    for docnum, doc in writes:
        if docnum is not None:
            shard = max(i for i, s in enumerate(starts) if s <= docnum)
            by_shard.setdefault(shard, []).append((docnum - starts[shard], None))
        if doc is not None:
            by_shard.setdefault(shard_of(doc["id"], len(folders)), []).append((None, doc))
    jobs = [(folders[shard], changes, lock_timeout)
            for shard, changes in sorted(by_shard.items())]
    if len(jobs) > 1 and (os.cpu_count() or 1) > 1:  # shards commit side by side
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1),
                                 mp_context=context) as pool:
            found = list(pool.map(_commit_shard, jobs))
    else:
        found = [_commit_shard(job) for job in jobs]
    return {shard: gen for shard, gen in zip(sorted(by_shard), found)}


def _commit_shard(job: tuple[Path, list, float]) -> int:
    """One shard's deletes and adds in one commit; returns the shard's new generation."""
    folder, changes, lock_timeout = job
    writer = shards.writer(folder, timeout=lock_timeout)
    budget = None if len(writer.segments) > MAX_SEGMENTS else 0  # None: the whole ladder
    try:
        for docnum, doc in changes:
            if docnum is not None:
                writer.delete_document(docnum)
            if doc is not None:
                writer.add_document(**doc)
        writer.commit(mergetype=segments.tiered(budget))
    except BaseException:
        cancel(writer)
        raise
    ready_for_readers(folder)
    return shards.latest(folder)


def merge_small_segments(folders: list[Path], lock_timeout: float) -> dict[int, int]:
    """Merge the small segments incremental runs left, as far as the ladder says, in the
    shards where there is something to merge; returns {shard: its new generation}."""
    generations = {}
    for shard, folder in enumerate(folders):
        writer = shards.writer(folder, timeout=lock_timeout)
        try:
            before = len(writer.segments)
            kept = segments.merge_tiers(writer, list(writer.segments))
            if len(kept) == before:
                writer.cancel()
                continue
            writer.commit(mergetype=lambda w, existing: kept)
        except BaseException:
            cancel(writer)
            raise
        ready_for_readers(folder)
        generations[shard] = shards.latest(folder)
    return generations


def cancel(writer) -> None:
    """Abandon a write; on a full or read-only disk even cleaning up can fail."""
    try:
        writer.cancel()
    except Exception:
        pass
