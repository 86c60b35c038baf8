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

Nothing a run meets stops the watch: another indexer holding the index, a full disk, a
damaged index, a bug. The run's reason is said (and shown on the status page, through
beacon.py), what it was to index is kept, and a run over the whole folder tries again at
the next event or after a pause that grows to `RETRY_MAX` seconds; as the index is only
ever swapped whole, the index then converges to what a full build makes. The events
themselves may fail too (watchfiles cannot hand over a path that is not UTF-8, and drops
the batch with it): the watch starts again, and a run over the whole folder catches up. So
does the seeds folder going away: the watcher waits for it to come back.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

import watchfiles

from ..ingest.folder import IGNORED_SUFFIXES, scan
from . import store
from .beacon import Beacon
from .indexer import Indexer
from .summary import Summary

STEP_MS = 50  # quiet this long after an event: the batch is complete
DEBOUNCE_MS = 1000  # a batch is handed over after this long even while events keep coming
TICK_MS = 500  # how often `stop` is asked while nothing happens
TIDY_AFTER = 5.0  # seconds without events after which the segments runs left are merged
RETRY_AFTER = 1.0  # seconds before a failed run is tried again (the least; it doubles)
RETRY_MAX = 30.0  # ... up to this


def watch(indexer: Indexer, settings, report: Callable[[Summary], None], full_first: bool = False,
          stop: Callable[[], bool] = lambda: False,
          say: Callable[[str], None] = lambda message: None) -> None:
    beacon = Beacon(indexer.root, indexer.seeds).start()
    runner = _Runner(indexer, report, say, stop, beacon)
    try:
        if settings.watch_polling:
            _poll(runner, settings, full_first)
        else:
            _follow(runner, full_first)
    finally:
        beacon.close()


def _follow(runner: "_Runner", full_first: bool) -> None:
    """Watch by events; each pass of the outer loop is one watch of the folder, begun with a
    run over all of it (the first, or a catch-up after the events failed or the folder
    came back)."""
    seeds = runner.indexer.seeds
    catch_up = "full" if full_first else "scan"
    while not runner.stop():
        if not runner.wait_for_folder():
            return
        identity = _identity(seeds)
        events = watchfiles.watch(seeds, watch_filter=None, debounce=DEBOUNCE_MS, step=STEP_MS,
                                  rust_timeout=TICK_MS, yield_on_timeout=True,
                                  stop_event=_Asked(runner.stop), raise_interrupt=True)
        pending: set[str] = set()
        untidy_since = None  # a run merged less than it could, to be quick
        try:
            while not runner.stop():
                try:
                    raw = next(events)  # the first call starts the watch: from then on, nothing is missed
                except StopIteration:
                    return  # told to stop
                except Exception as exc:  # noqa: BLE001 - e.g. a path that is not UTF-8
                    runner.say(f"file events could not be read ({exc}); catching up with a "
                               "run over the whole seeds folder")
                    catch_up = catch_up or "scan"
                    break
                if _identity(seeds) != identity:
                    runner.say(f"the seeds folder {seeds} went away; waiting for it to come back")
                    catch_up = "scan"
                    break
                fresh = _relative(seeds, (path for _, path in raw))
                pending |= fresh
                runner.beacon.set(pending=len(pending))
                if catch_up or pending:
                    if not runner.due(bool(fresh)):
                        continue
                    if catch_up:  # a run over the whole folder takes in what is pending too
                        done = runner.run(full=catch_up == "full")
                    else:
                        done = runner.run(changed=set(pending))
                    if done:
                        catch_up, pending = None, set()
                        untidy_since = time.monotonic()
                        runner.beacon.set(pending=0)
                    elif not runner.waiting_for_lock:
                        catch_up = catch_up or "scan"  # what failed may be anything: look at all
                    continue
                if untidy_since is not None and time.monotonic() - untidy_since > TIDY_AFTER:
                    untidy_since = None
                    runner.merge_when_idle()
        finally:
            events.close()
            if pending:
                catch_up = catch_up or "scan"


class _Asked:
    """`stop` as the event watchfiles asks (`is_set`) between its waits."""

    def __init__(self, stop: Callable[[], bool]):
        self.is_set = stop


class _Runner:
    """Runs the indexer, saying why a run could not happen instead of stopping the watch."""

    def __init__(self, indexer: Indexer, report, say, stop, beacon: Beacon):
        self.indexer, self.report, self.stop, self.beacon = indexer, report, stop, beacon
        self._say = say
        self._last = None
        self.failures = 0  # runs failed in a row
        self.waiting_for_lock = False
        self._retry_at = 0.0
        self._tried_at = 0.0

    def due(self, news: bool) -> bool:
        """Whether to run now: always after a success; after a failure, once the pause is
        over, or at news (new events), but not more than once every RETRY_AFTER seconds."""
        if not self.failures:
            return True
        now = time.monotonic()
        return now >= self._retry_at or (news and now - self._tried_at >= RETRY_AFTER)

    def run(self, **kwargs) -> bool:
        """True when the run happened (whatever it found); False to try again later."""
        self._tried_at = time.monotonic()
        self.waiting_for_lock = False
        try:
            self.report(self.indexer.run(**kwargs))
        except store.LockTimeout:
            self.waiting_for_lock = True
            self._failed("another indexer holds the index; trying again until it lets go",
                         pause=False)
            return False
        except store.IndexProblem as exc:
            self._failed(f"{exc}; trying again")
            return False
        except Exception as exc:  # noqa: BLE001 - a bug must not end the watch
            self._failed(f"a run failed ({type(exc).__name__}: {exc}); trying again")
            return False
        if self.failures:
            self.say("indexing works again")
        self.failures, self._last = 0, None
        self.beacon.set(error=None, error_at=None)
        return True

    def _failed(self, message: str, pause: bool = True) -> None:
        self.failures += 1
        wait = min(RETRY_MAX, RETRY_AFTER * 2 ** (self.failures - 1)) if pause else 0.0
        self._retry_at = time.monotonic() + wait
        self._once(message)
        self.beacon.set(error=message, error_at=time.time())

    def merge_when_idle(self) -> None:
        try:
            self.indexer.merge_small_segments()
        except Exception:  # noqa: BLE001 - merging can wait for the next idle moment
            pass

    def wait_for_folder(self) -> bool:
        """Block until the seeds folder exists; False if told to stop first."""
        while not self.indexer.seeds.is_dir():
            self._once(f"the seeds folder {self.indexer.seeds} is missing; waiting for it")
            if self.stop():
                return False
            time.sleep(TICK_MS / 1000)
        return True

    def say(self, message: str) -> None:
        self._last = message
        self._say(message)

    def _once(self, message: str) -> None:
        if message != self._last:
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
        runner.beacon.set(pending=_differing(indexed, current))
        if current == indexed:
            seen, first_change = current, None
            continue
        if current != seen:  # still changing
            seen, changed_at = current, now
        first_change = first_change or now
        if now - changed_at < settings.watch_settle \
                and now - first_change < settings.watch_max_wait:
            continue  # something is still being written: wait until it settles
        if runner.due(False) and runner.run():
            indexed, first_change = current, None
            runner.beacon.set(pending=0)


def _differing(indexed: dict, current: dict) -> int:
    """Files new, changed or gone between two scans."""
    if current == indexed:
        return 0
    return sum(1 for rel, sig in current.items() if indexed.get(rel) != sig) \
        + sum(1 for rel in indexed if rel not in current)


def _signature(indexer: Indexer) -> dict[str, tuple[int, int]]:
    indexer.intake.scans += 1
    return {rel: (st.st_size, st.st_mtime_ns) for rel, st in scan(indexer.seeds).items()}
