"""`searchapp index --watch`: index seed files as they arrive, change or disappear.

The folder is polled (stat only; cheap, and it works on network and container mounts
where file events do not arrive). A file is indexed once it has stopped changing for
`watch_settle` seconds, so a file still being written is waited for, not rejected; one
that is still bad after that is reported and retried the next time it changes.
"""

from __future__ import annotations

import time
from typing import Callable

from .indexer import Indexer, Summary, scan


def watch(indexer: Indexer, settings, report: Callable[[Summary], None], full_first: bool = False,
          stop: Callable[[], bool] = lambda: False) -> None:
    report(indexer.run(full=full_first))
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
    return {rel: (st.st_size, st.st_mtime_ns) for rel, st in scan(indexer.seeds).items()}
