"""`searchapp index --watch`: index seed files as they arrive, change or disappear.

File-system events (watchfiles: inotify on Linux, FSEvents, ReadDirectoryChangesW) say which
paths changed, and a run looks at those paths only: nothing scans a million files to find a
hundred new ones. Events are gathered from before the first run, so nothing written while it
runs is missed. A batch of events is handed over once no new event has come for `STEP_MS`:
a file closed after writing, or moved into place, makes no further events, while one still
being written keeps making them. A file that is bad once written is reported, and retried the
next time it changes. Runs merge few segments, to be quick; what they leave is merged once
no event has come for `TIDY_AFTER` seconds.

On network and container mounts events do not arrive: with the `watch_polling` setting the
folder is scanned every `watch_interval` seconds instead, and a change is indexed once the
folder has stopped changing for `watch_settle` seconds.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

from .indexer import IGNORED_SUFFIXES, Indexer, Summary, scan

STEP_MS = 50  # quiet this long after an event: the batch is complete
DEBOUNCE_MS = 1000  # a batch is handed over after this long even while events keep coming
TICK_MS = 500  # how often `stop` is asked while nothing happens
TIDY_AFTER = 5.0  # seconds without events after which the segments runs left are merged


def watch(indexer: Indexer, settings, report: Callable[[Summary], None], full_first: bool = False,
          stop: Callable[[], bool] = lambda: False) -> None:
    if settings.watch_polling:
        report(indexer.run(full=full_first))
        _poll(indexer, settings, report, stop)
        return
    from watchfiles._rust_notify import RustNotify  # the object watchfiles.watch drives

    with RustNotify([str(indexer.seeds)], False, False, 300, True, True) as events:
        report(indexer.run(full=full_first))
        cancel = threading.Event()
        untidy_since = None  # a run merged less than it could, to be quick
        while not stop():
            raw = events.watch(DEBOUNCE_MS, STEP_MS, TICK_MS, cancel)
            if raw == "signal":
                raise KeyboardInterrupt
            if isinstance(raw, str):  # "timeout" or "stop"
                if untidy_since is not None and time.monotonic() - untidy_since > TIDY_AFTER:
                    untidy_since = None
                    indexer.tidy()
                continue
            changed = _relative(indexer.seeds, (path for _, path in raw))
            if changed:
                report(indexer.run(changed=changed))
                untidy_since = time.monotonic()


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


def _poll(indexer: Indexer, settings, report: Callable[[Summary], None],
          stop: Callable[[], bool]) -> None:
    indexed = _signature(indexer)
    while not stop():
        time.sleep(settings.watch_interval)
        current = _signature(indexer)
        if current == indexed:
            continue
        newest = max((mtime for _, mtime in current.values()), default=0)
        if time.time() - newest / 1e9 < settings.watch_settle:
            continue  # something is still being written: wait until it settles
        report(indexer.run())
        indexed = current


def _signature(indexer: Indexer) -> dict[str, tuple[int, int]]:
    indexer.scans += 1
    return {rel: (st.st_size, st.st_mtime_ns) for rel, st in scan(indexer.seeds).items()}
