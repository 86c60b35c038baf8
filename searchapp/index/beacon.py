"""What the watcher of an index says about itself, for a server's status page to read.

The watcher beats in `WATCHER.json` in the index folder: its pid, the seeds folder, since
when it watches, how many changes wait, and the last run that failed (with its reason), or
why it is not running (its supervisor writes that when it dies). A beat comes every
`BEAT` seconds from a thread of its own, so a long run does not look like a dead watcher.

A reader believes "watching" only while the pid is a live process (not a zombie nobody has
reaped) and the heartbeat is recent: a watcher killed with kill -9 stops being "watching"
at once, a frozen one within `STALE` seconds. Kept apart from the watcher itself, so that
the read side can ask without importing the indexer.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from . import store

STATE = "WATCHER.json"  # in the index folder
BEAT = 1.0  # seconds between heartbeats
STALE = 5.0  # a heartbeat older than this: the watcher is stuck or gone


def state(root: Path) -> dict | None:
    """The watcher of an index as it last said, with `running`: its process is alive and it
    beat lately. None when none ever watched."""
    found = store.read_json(Path(root) / STATE)
    if not found:
        return None
    pid = found.get("pid")
    alive = isinstance(pid, int) and alive_pid(pid)
    recent = time.time() - float(found.get("heartbeat") or 0) < STALE
    return {**found, "running": alive and recent}


def alive_pid(pid: int) -> bool:
    """A process with this pid runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: it exists
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # no /proc here: the signal said it exists


def note(root: Path, **fields) -> None:
    """Merge `fields` into the state (the supervisor's word on a watcher that died)."""
    path = Path(root) / STATE
    try:
        store.write_json(path, {**store.read_json(path), **fields})
    except OSError:
        pass  # a read-only or full index folder: the status page says it does not know


class Beacon:
    """The watcher's side: beats from a thread of its own until `close`."""

    def __init__(self, root: Path, seeds: Path):
        self.path = Path(root) / STATE
        self.fields = {"pid": os.getpid(), "seeds": str(seeds), "since": time.time(),
                       "pending": 0, "error": None, "error_at": None, "stopped": None}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Beacon":
        self.beat()
        self._thread = threading.Thread(target=self._beat_on, name="searchapp-beacon",
                                        daemon=True)
        self._thread.start()
        return self

    def set(self, **fields) -> None:
        """Change what the next beat says (`pending`, `error`), and beat now if it changed."""
        with self._lock:
            changed = any(self.fields.get(k) != v for k, v in fields.items())
            self.fields.update(fields)
        if changed:
            self.beat()

    def beat(self) -> None:
        with self._lock:
            data = {**self.fields, "heartbeat": time.time()}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                store.write_json(self.path, data)
            except OSError:
                pass  # a full disk or read-only folder: the next beat tries again

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * BEAT)

    def _beat_on(self) -> None:
        while not self._stop.wait(BEAT):
            self.beat()
