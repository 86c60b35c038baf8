"""`searchapp index --watch`: index seed files as they arrive, change or disappear.

File-system events (watchfiles: inotify on Linux, FSEvents, ReadDirectoryChangesW) say which
paths changed, and a run looks at those paths only: nothing scans a million files to find a
hundred new ones. Events are gathered from before the first run, so nothing written while it
runs is missed. A batch of events is handed over once no new event has come for `STEP_MS`:
a file closed after writing, or moved into place, makes no further events, while one still
being written keeps making them; under a steady stream of arrivals a batch is handed over
every `DEBOUNCE_MS` all the same. A file that is bad once written is reported, and retried
the next time it changes. Runs merge few segments, to be quick; what they leave is merged
once no event has come for `TIDY_AFTER` seconds.

On network and container mounts events do not arrive: with the `watch_polling` setting the
folder is scanned every `watch_interval` seconds instead, and a change is indexed once the
folder has looked the same for `watch_settle` seconds (as seen, not by file times, which may
lie in the future), or `watch_max_wait` seconds after it first changed if it never does.

A watcher outlives what would stop a single run: another indexer holding the index (it
says so and tries again), and the seeds folder going away (it waits for it to come back,
then catches up with a run over the whole folder). What it says goes to `say`. It beats
now and then in `WATCHER.json` in the index folder, so a server's status page can say
whether the folder is watched, since when, and how many changes wait.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

from . import store
from .indexer import IGNORED_SUFFIXES, Indexer, Summary, scan

STEP_MS = 50  # quiet this long after an event: the batch is complete
DEBOUNCE_MS = 1000  # a batch is handed over after this long even while events keep coming
TICK_MS = 500  # how often `stop` is asked while nothing happens
TIDY_AFTER = 5.0  # seconds without events after which the segments runs left are merged
RETRY_AFTER = 1.0  # seconds between tries while another indexer holds the index
STATE = "WATCHER.json"  # in the index folder: who watches, since when, still alive
BEAT = 10.0  # seconds between the watcher's heartbeats in it


def state(root: Path) -> dict | None:
    """The watcher of an index as it last said (pid, seeds, since, heartbeat, pending), with
    `running`: its process is alive and it beat lately. None when none ever watched."""
    found = store.read_json(Path(root) / STATE)
    if not found:
        return None
    alive = isinstance(found.get("pid"), int) and _alive(found["pid"])
    recent = time.time() - float(found.get("heartbeat") or 0) < 3 * BEAT
    return {**found, "running": alive and recent}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: it exists
        return True
    return True


class _Beacon:
    """Writes STATE now and then, so a server can say whether the folder is watched."""

    def __init__(self, indexer: Indexer):
        self.path = indexer.root / STATE
        self.seeds = str(indexer.seeds)
        self.since = time.time()
        self.last = 0.0

    def beat(self, pending: int = 0, now: bool = False) -> None:
        if not now and time.monotonic() - self.last < BEAT:
            return
        self.last = time.monotonic()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            store.write_json(self.path, {"pid": os.getpid(), "seeds": self.seeds,
                                         "since": self.since, "heartbeat": time.time(),
                                         "pending": pending})
        except OSError:
            pass  # a read-only index folder: the status page says it does not know


def watch(indexer: Indexer, settings, report: Callable[[Summary], None], full_first: bool = False,
          stop: Callable[[], bool] = lambda: False,
          say: Callable[[str], None] = lambda message: None) -> None:
    runner = _Runner(indexer, report, say, stop)
    runner.beacon.beat(now=True)
    if settings.watch_polling:
        _poll(runner, settings, full_first)
        return
    from watchfiles._rust_notify import RustNotify  # the object watchfiles.watch drives

    full = full_first
    while not stop():
        if not runner.wait_for_folder():
            return
        identity = _identity(indexer.seeds)
        with RustNotify([str(indexer.seeds)], False, False, 300, True, True) as events:
            # The first run, and the one after the folder came back: the whole folder.
            while not runner.run(full=full) and not stop():
                time.sleep(RETRY_AFTER)
            full = False
            runner.beacon.beat(now=True)
            cancel = threading.Event()
            pending: set[str] = set()
            untidy_since = None  # a run merged less than it could, to be quick
            while not stop():
                if _identity(indexer.seeds) != identity:
                    say(f"the seeds folder {indexer.seeds} went away; waiting for it to come back")
                    break
                raw = events.watch(DEBOUNCE_MS, STEP_MS, TICK_MS, cancel)
                if raw == "signal":
                    raise KeyboardInterrupt
                if not isinstance(raw, str):
                    pending |= _relative(indexer.seeds, (path for _, path in raw))
                runner.beacon.beat(len(pending))
                if pending:
                    if runner.run(changed=pending):
                        pending = set()
                        untidy_since = time.monotonic()
                        runner.beacon.beat(now=True)
                    continue
                if untidy_since is not None and time.monotonic() - untidy_since > TIDY_AFTER:
                    untidy_since = None
                    runner.tidy()


class _Runner:
    """Runs the indexer, saying why a run could not happen instead of stopping the watch."""

    def __init__(self, indexer: Indexer, report, say, stop):
        self.indexer, self.report, self.say, self.stop = indexer, report, say, stop
        self.beacon = _Beacon(indexer)
        self._last = None

    def run(self, **kwargs) -> bool:
        """True when the run happened (whatever it found); False to try again later."""
        try:
            self.report(self.indexer.run(**kwargs))
        except store.LockTimeout:
            self._once("another indexer holds the index; trying again until it lets go")
            return False
        except store.IndexProblem as exc:
            self._once(f"{exc}; trying again when seed files change")
            return self.indexer.seeds.is_dir()  # gone: keep what changed for when it is back
        self._last = None
        return True

    def tidy(self) -> None:
        try:
            self.indexer.tidy()
        except store.IndexProblem:
            pass  # merging can wait for the next idle moment

    def wait_for_folder(self) -> bool:
        """Block until the seeds folder exists; False if told to stop first."""
        while not self.indexer.seeds.is_dir():
            self._once(f"the seeds folder {self.indexer.seeds} is missing; waiting for it")
            if self.stop():
                return False
            self.beacon.beat()
            time.sleep(TICK_MS / 1000)
        return True

    def _once(self, message: str) -> None:
        if message != self._last:
            self._last = message
            self.say(message)


def _identity(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _relative(seeds: Path, paths) -> set[str]:
    """Changed paths relative to the seeds folder, without the ones no run would index."""
    given, real = os.path.abspath(seeds), os.path.realpath(seeds)
    out = set()
    for path in paths:
        rel = os.path.relpath(path, given)
        if rel.startswith(".."):  # reported under the folder's real path (a linked folder)
            rel = os.path.relpath(path, real)
        if rel == "." or rel.startswith(".."):
            continue
        rel = rel.replace(os.sep, "/")
        if any(part.startswith(".") for part in rel.split("/")) or rel.endswith(IGNORED_SUFFIXES):
            continue
        out.add(rel)
    return out


def _poll(runner: _Runner, settings, full_first: bool) -> None:
    indexer = runner.indexer
    while not runner.run(full=full_first):
        if runner.stop():
            return
        time.sleep(RETRY_AFTER)
    indexed = _signature(indexer)
    seen, changed_at, first_change = indexed, 0.0, None
    while not runner.stop():
        time.sleep(settings.watch_interval)
        if not runner.wait_for_folder():
            return
        current = _signature(indexer)
        now = time.monotonic()
        runner.beacon.beat(_differing(indexed, current))
        if current == indexed:
            seen, first_change = current, None
            continue
        if current != seen:  # still changing
            seen, changed_at = current, now
        first_change = first_change or now
        if now - changed_at < settings.watch_settle \
                and now - first_change < settings.watch_max_wait:
            continue  # something is still being written: wait until it settles
        if runner.run():
            indexed, first_change = current, None
            runner.beacon.beat(now=True)


def _differing(indexed: dict, current: dict) -> int:
    """Files new, changed or gone between two scans."""
    if current == indexed:
        return 0
    return sum(1 for rel, sig in current.items() if indexed.get(rel) != sig) \
        + sum(1 for rel in indexed if rel not in current)


def _signature(indexer: Indexer) -> dict[str, tuple[int, int]]:
    indexer.scans += 1
    return {rel: (st.st_size, st.st_mtime_ns) for rel, st in scan(indexer.seeds).items()}
