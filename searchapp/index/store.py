"""The index folder: which build is live, what format it has, and who may write to it.

Layout of the index folder:
    CURRENT          name of the live build folder, replaced atomically on a full rebuild
    build-<stamp>/   a Whoosh index, plus searchapp.json (format) and manifest.sqlite
    .write.lock      held (lockf) by the one process that writes

Readers open the build CURRENT names and keep it until they see CURRENT or the Whoosh
generation change; a full rebuild is written beside the live build and swapped in, so
readers never see a half-built index.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from whoosh import index as whoosh_index

from .schema import FORMAT, build_schema

POINTER = "CURRENT"
META = "searchapp.json"
LOCK = ".write.lock"
_IN_PROCESS = threading.Lock()


class IndexProblem(Exception):
    """An index problem a user can act on; the message says what to do."""


class NoIndex(IndexProblem):
    pass


class FormatMismatch(IndexProblem):
    pass


class LockTimeout(IndexProblem):
    pass


def live_build(root: Path) -> Path | None:
    """The folder of the live build, or None when nothing has been built yet."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return root / name if name else None


def open_live(root: Path):
    """Open the live Whoosh index, refusing one built with another format."""
    return open_build(root, live_build(root))


def open_build(root: Path, build: Path | None):
    """Open the Whoosh index of one build (the live one as read once by the caller)."""
    if build is None or not whoosh_index.exists_in(str(build)):
        raise NoIndex(f"no index in {root}: run `searchapp index` first")
    check_format(build)
    return whoosh_index.open_dir(str(build))


def format_of(build: Path) -> int | None:
    """The format an index was built with (None if its meta file is gone or unreadable)."""
    try:
        found = json.loads((build / META).read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, int) else None


def check_format(build: Path) -> None:
    found = format_of(build)
    if found != FORMAT:
        raise FormatMismatch(
            f"the index in {build.parent} was built with format {found or 'unknown'}, "
            f"this searchapp reads format {FORMAT}: run `searchapp index --full` to rebuild it")


def new_build(root: Path):
    """Create an empty index in a fresh build folder (not yet live)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    build = root / f"build-{stamp}-{os.getpid()}"
    build.mkdir()
    write_json(build / META, {"format": FORMAT, "created": _now()})
    return build, whoosh_index.create_in(str(build), build_schema())


def make_live(root: Path, build: Path) -> None:
    """Point CURRENT at `build` atomically, then remove builds no reader should still need."""
    tmp = root / f".{POINTER}.tmp"
    tmp.write_text(build.name + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)
    remove_stale_builds(root, keep={build.name})


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
