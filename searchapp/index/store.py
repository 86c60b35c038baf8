"""The index folder: which build is live, what format it has, and who may write to it.

Layout of the index folder:
    CURRENT          the index-wide pointer: the live build folder, its generation, and the
                     Whoosh generation of each of its shards; replaced atomically
    build-<stamp>/   searchapp.json (format, shard count), manifest.sqlite, the spelling
                     index, and shard-00/, shard-01/, ...: one Whoosh index per shard
    .write.lock      held (lockf) by the one process that writes

A record lives in the shard a stable hash of its id names (index/writing.py). Readers open
every shard at the generation CURRENT names and keep that view until CURRENT changes. A run
commits the shards it touched, then moves CURRENT on once, so a reader never sees half a
run; a full rebuild is written beside the live build and swapped in the same way.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from whoosh import scoring

from ..engine import shards as engine_shards
from .schema import FORMAT, build_schema

POINTER = "CURRENT"
_BUILD_NAME = re.compile(r"build-[A-Za-z0-9._-]+\Z")
META = "searchapp.json"
LOCK = ".write.lock"
_IN_PROCESS = threading.Lock()


class IndexProblem(Exception):
    """An index problem a user can act on; the message says what to do."""


class NoIndex(IndexProblem):
    pass


class FormatMismatch(IndexProblem):
    pass


class IndexDamaged(IndexProblem):
    """Files of the live build are missing or changed (index/integrity.py says which)."""


class LockTimeout(IndexProblem):
    pass


class ShardsMissing(IndexProblem):
    """A shard of a cluster did not answer, where an answer cannot say it is partial (an
    export, a record page, a feed): the request answers 503 and can be tried again."""


@dataclass(frozen=True)
class Live:
    """What CURRENT names: a build, its index-wide generation, each shard's Whoosh generation."""

    build: Path
    generation: int
    shards: tuple[int, ...]

    @property
    def folders(self) -> list[Path]:
        return shard_folders(self.build, len(self.shards))

    def searcher(self, weighting=None):
        """Every shard at the generation CURRENT named, read as one Whoosh index (the caller
        closes it; FileNotFoundError when a later run has already cleaned it away)."""
        return engine_shards.searcher(self.folders, list(self.shards), self.generation,
                                      weighting or scoring.BM25F())


def shard_folders(build: Path, count: int) -> list[Path]:
    return [build / f"shard-{i:02d}" for i in range(count)]


def live(root: Path) -> Live | None:
    """The live index as CURRENT names it, or None when nothing has been built yet. A
    CURRENT written by an older searchapp (the bare build name) gives a Live with no shards:
    its format check then says to rebuild."""
    try:
        text = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
        build, generation, shards = data["build"], data["generation"], data["shards"]
        if not (isinstance(build, str) and isinstance(generation, int)
                and isinstance(shards, list) and all(isinstance(g, int) for g in shards)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        build, generation, shards = text.split()[0], -1, []  # an older searchapp's pointer
    if not _BUILD_NAME.match(build):  # it must never lead out of the index folder
        raise IndexDamaged(f"the index pointer {root / POINTER} is damaged (it names "
                           f"{build[:80]!r}, not a build); run `searchapp check --repair` to "
                           "rebuild the index from the seeds")
    return Live(root / build, generation, tuple(shards))


def live_build(root: Path) -> Path | None:
    """The folder of the live build, or None when nothing has been built yet."""
    found = live(root)
    return found.build if found else None


def open_live(root: Path) -> Live:
    """The live index, refusing one built with another format."""
    return open_build(root, live(root))


def open_build(root: Path, current: Live | None) -> Live:
    """`current` (CURRENT, as read once by the caller), checked to be a build of this
    format that names its shards."""
    if current is None or not current.build.is_dir():
        raise NoIndex(f"no index in {root}: run `searchapp index` first")
    check_format(current.build)
    if not current.shards:
        raise FormatMismatch(f"the index in {root} names no shards: run `searchapp index --full`")
    return current


def format_of(build: Path) -> int | None:
    """The format an index was built with (None if its meta file is gone or unreadable)."""
    try:
        found = json.loads((build / META).read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, int) else None


def seeds_of(build: Path) -> Path | None:
    """The seeds folder the build was last indexed from (None when it does not say)."""
    found = read_json(build / META).get("seeds")
    return Path(found) if isinstance(found, str) else None


def note_seeds(build: Path, seeds: Path) -> None:
    """Remember which seeds folder the build now reflects: a server watches only that one
    (watching another would index it over this one, deleting what it lacks)."""
    meta = read_json(build / META)
    folder = str(Path(seeds).resolve())
    if meta and meta.get("seeds") != folder:
        write_json(build / META, {**meta, "seeds": folder})


def note_story_rule(build: Path, threshold: float, window_hours: float) -> None:
    """Remember the rule the build's stories were grouped by: a reader whose stories file is
    lost groups them again by the same rule."""
    meta = read_json(build / META)
    if meta and meta.get("stories") != [threshold, window_hours]:
        write_json(build / META, {**meta, "stories": [threshold, window_hours]})


def story_rule_of(build: Path) -> tuple[float, float] | None:
    found = read_json(build / META).get("stories")
    if isinstance(found, list) and len(found) == 2 \
            and all(isinstance(v, (int, float)) for v in found):
        return float(found[0]), float(found[1])
    return None


def check_format(build: Path) -> None:
    found = format_of(build)
    if found != FORMAT:
        raise FormatMismatch(
            f"the index in {build.parent} was built with format {found or 'unknown'}, "
            f"this searchapp reads format {FORMAT}: run `searchapp index --full` to rebuild it")


def new_build(root: Path, shards: int) -> Path:
    """Create a build folder of `shards` empty shards (not yet live)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    build = root / f"build-{stamp}-{os.getpid()}"
    build.mkdir()
    write_json(build / META, {"format": FORMAT, "created": _now(), "shards": shards})
    schema = build_schema()
    for folder in shard_folders(build, shards):
        engine_shards.create(folder, schema)
    return build


def make_live(root: Path, build: Path, generation: int, shards: list[int]) -> Live:
    """Point CURRENT at this generation of `build` atomically (the one moment a run becomes
    visible), then remove builds no reader should still need."""
    current = Live(build, generation, tuple(shards))
    tmp = root / f".{POINTER}.tmp"
    tmp.write_text(json.dumps({"build": build.name, "generation": generation,
                               "shards": list(shards)}) + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)
    remove_stale_builds(root, keep={build.name})
    return current


def remove_stale_builds(root: Path, keep: set[str], grace_seconds: float = 60.0) -> None:
    """Delete builds that are neither live nor recent (a reader may still be opening one)."""
    now = time.time()
    for child in root.glob("build-*"):
        if child.name in keep or not child.is_dir():
            continue
        try:
            if now - child.stat().st_mtime > grace_seconds or not (child / META).exists():
                shutil.rmtree(child, ignore_errors=True)
        except FileNotFoundError:
            pass


def read_json(path: Path) -> dict:
    """A JSON object written by `write_json`; empty when missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict) -> None:
    """Write JSON so a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, path)


@contextmanager
def write_lock(root: Path, timeout: float) -> Iterator[None]:
    """Hold the one write lock on this index, waiting at most `timeout` seconds for it.

    A POSIX record lock (lockf): the kernel releases it when its holder dies, so a killed
    indexer never leaves a lock behind, and unlike flock it is not inherited by the
    processes an indexer forks (parsers, Whoosh's writers), which may outlive a kill -9.
    In one process, a thread lock keeps two writers apart (record locks are per process).
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / LOCK, "a+", encoding="utf-8")
    except OSError as exc:
        raise IndexProblem(f"cannot write to the index folder {root}: {exc.strerror}") from None
    deadline = time.monotonic() + timeout
    if not _IN_PROCESS.acquire(timeout=timeout):
        handle.close()
        raise LockTimeout(f"the index {root} is being written by this process; "
                          f"waited {timeout:g}s") from None
    try:
        while True:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LockTimeout(
                        f"the index {root} is being written by {holder}; waited {timeout:g}s "
                        f"for the lock {root / LOCK}. Let that run finish, or stop it, "
                        "then try again") from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {_now()}\n")
        handle.flush()
        yield
    finally:
        handle.close()
        _IN_PROCESS.release()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
