"""Seed files read, hashed and parsed into drafts: in this process, in this machine's
processes, or in a pool the caller hands over (a cluster's).

A file whose content hash is the one the index already holds is not parsed again. Drafts
travel as compact JSON (id, JSON): a dict per draft would hold several times the memory,
and a full build of a million files keeps them all until they are spilled.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from . import folder, records
from .problems import Problem
from .seeds import SeedLimits, SeedRejected, parse_bytes, read_file

PARALLEL_FROM = 2000  # files; below this, starting processes costs more than it saves
# What is said of a file read through a symbolic link out of the seeds folder (which is
# indexed under the link's name, ingest/folder.py) that could not be parsed: its reason would
# quote that file (a value, a line of YAML), and /status shows refusals to anyone who asks.
LINKED_OUT = ("a link to a file outside the seeds folder, which is not a seed file that can "
              "be read; the reason is not repeated, as it would quote that file")


class Pool(Protocol):
    """Where a full build parses and writes shards instead of this machine's processes
    (cluster/build.py: tasks on a Ray cluster). As `Executor.map`: results in job order."""

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any], chunksize: int = 1
            ) -> Iterator[Any]: ...


@dataclass
class Loaded:
    """One seed file as read: its manifest entry, and its drafts, or why it was refused."""

    rel: str
    entry: dict[str, Any]  # size, mtime_ns, sha1
    drafts: list[tuple[str, str]] | None = None  # (record id, the draft as JSON)
    warnings: list[Problem] = field(default_factory=list)
    problem: Problem | None = None


def read_one(job: tuple[str, str, SeedLimits, dict | None]) -> Loaded:
    """Read, hash and parse one file (`job`: seeds folder, path in it, limits, the entry the
    index holds for it); a parser bug refuses the file, never the run."""
    seeds, rel, limits, known = job
    path = Path(seeds, rel)
    try:
        st = path.stat()
        read = read_file(path, limits)  # a huge body is read up to what is kept
    except OSError as exc:
        return Loaded(rel, {}, problem=Problem(rel, None, f"cannot read file: {exc.strerror or exc}"))
    entry = {"size": read.size, "mtime_ns": st.st_mtime_ns, "sha1": read.sha1}
    if known and known.get("sha1") == entry["sha1"]:
        return Loaded(rel, entry)  # touched but not changed
    try:
        parsed = parse_bytes(read.data, rel, limits, size=read.size)
        return Loaded(rel, entry, drafts=[(d["id"], json.dumps(d, ensure_ascii=False))
                                          for d in records.file_drafts(parsed)],
                      warnings=parsed.warnings)
    except SeedRejected as exc:
        return Loaded(rel, entry, problem=_unquoted(exc.problem, seeds, path))
    except Exception as exc:  # a parser bug must not stop the run or lose other files
        return Loaded(rel, entry, problem=_unquoted(
            Problem(rel, None, f"could not be parsed: {exc!r}"), seeds, path))


def _unquoted(problem: Problem, seeds: str, path: Path) -> Problem:
    """`problem`, unless the file was read through a link out of the seeds folder: then
    where it is, and that it was refused, without the reason (which quotes the file). Asked
    only of refused files, so a run of a million good ones resolves no links."""
    root = os.path.realpath(seeds)
    if os.path.realpath(path).startswith(root + os.sep):
        return problem
    return Problem(problem.path, problem.line, LINKED_OUT)


class Intake:
    """One indexer's way into its seeds folder: the walk and the reading, with what a run's
    walks left out (`skipped`), the paths a watched run looked at (`looked_at`; None: the
    whole folder) and how many scans were made (a watch test counts them)."""

    def __init__(self, seeds: Path, limits: SeedLimits, workers: int,
                 progress: Callable[[int, int], None] | None):
        self.seeds, self.limits, self.workers, self.progress = Path(seeds), limits, workers, progress
        self.scans = 0
        self.skipped: list[Problem] = []
        self.looked_at: set[str] | None = None

    def begin(self) -> None:
        """A new run: nothing skipped yet, the whole folder looked at."""
        self.skipped, self.looked_at = [], None

    def scan(self) -> dict[str, os.stat_result]:
        self.scans += 1
        return folder.scan(self.seeds, self.skipped)

    def named(self, changed: set[str]) -> dict[str, os.stat_result]:
        """The files at the paths a watcher saw change (a watched run looks at those only)."""
        self.looked_at = set(changed)
        return folder.named(self.seeds, changed, self.skipped)

    def read(self, rels: list[str], known: Callable[[str], dict | None],
             keep: Callable[[Loaded], bool] | None = None, pool: Pool | None = None
             ) -> list[Loaded]:
        """Read `rels`; `known(rel)` is the entry the index holds for a file. With `keep`,
        each item is handed to it as it arrives, and only those it returns True for are
        kept. With `pool`, the files are parsed there, however few."""
        jobs = ((str(self.seeds), rel, self.limits, known(rel)) for rel in rels)
        workers = self.workers or (os.cpu_count() or 1)
        done: list[Loaded] = []
        seen = 0

        def take(item: Loaded) -> None:
            nonlocal seen
            seen += 1
            if keep is None or keep(item):
                done.append(item)
            if self.progress is not None:
                self.progress(seen, len(rels))

        if pool is not None:
            for item in pool.map(read_one, jobs, chunksize=64):
                take(item)
        elif len(rels) >= PARALLEL_FROM and workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as executor:
                for item in executor.map(read_one, jobs, chunksize=64):
                    take(item)
        else:
            for job in jobs:
                take(read_one(job))
        return done
