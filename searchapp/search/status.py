"""`/status` assembled: the index (or the problem that keeps it from being searched), its
last run and what that refused, its watcher and, on a cluster, its shards, from what the
index says about itself (reader/state.py), without saying where anything lives on disk.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from ..reader import Cluster, index_state
from .results import IndexStats, IndexStatus


def assemble(root: Path, stats: IndexStats | None, problem: str | None,
             cluster: Cluster | None) -> IndexStatus:
    """The status of the index in `root`: `stats` when it can be searched, else `problem`
    (said as the index said it: `unplaced` takes its folders out here)."""
    state = index_state(root)
    live, done, watcher = state.live, state.last_run, state.watcher
    running = bool(watcher.get("running"))
    shards = cluster.health(len(live.shards)) if cluster is not None and live else None
    # A watcher that is not running says why (its supervisor wrote it as it died);
    # one that is running, what its last run could not do, if it failed.
    trouble = watcher.get("error") if running else watcher.get("stopped")
    trouble_at = watcher.get("error_at") if running else watcher.get("stopped_at")
    return IndexStatus(
        stats=stats, problem=unplaced(root, problem) if problem is not None else None,
        last_run=done.last_run,
        last_run_at=moment(done.last_run_ns / 1e9 if done.last_run_ns else None),
        refused=done.refused, refused_total=done.refused_total, watching=running,
        watching_since=moment(watcher.get("since")) if running else None,
        watch_problem=unplaced(root, trouble, watcher.get("seeds")) if trouble else None,
        watch_problem_at=moment(trouble_at) if trouble else None,
        pending=watcher.get("pending") if running else None, cluster=shards)


def unplaced(root: Path, message: str, seeds: Path | str | None = None) -> str:
    """`message` without where anything lives on disk: /status and a 503 answer anyone who
    asks, and the server's folders are nobody's business. The index and seeds folders are
    named in words ("the index folder"), what is inside them by its path from there
    (`CURRENT`), any other absolute path by its last part."""
    for folder, name in ((root, "the index folder"), (seeds, "the seeds folder")):
        for shown in _spellings(folder):
            message = message.replace(shown + os.sep, "").replace(shown, name)
    return _ABSOLUTE.sub(lambda m: m.group(1), message)


# An absolute path, not inside a word or a URL: its last part is kept.
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[^\s'\"`:;,()/]+/)*([^\s'\"`:;,()/]+)")


def _spellings(folder: Path | str | None) -> list[str]:
    """The absolute ways a message may spell `folder`, longest first (a relative one is no
    leak, and as a word it could be part of the message: `index`)."""
    if not folder:
        return []
    folder = Path(folder)
    found = {str(folder.resolve()), os.path.abspath(folder)}
    if folder.is_absolute():
        found.add(str(folder))
    return sorted((f for f in found if len(f) > 1), key=len, reverse=True)


def moment(seconds) -> datetime | None:
    """A time in seconds since the epoch, as UTC; None for anything else."""
    return datetime.fromtimestamp(seconds, timezone.utc) if isinstance(seconds, (int, float)) \
        else None
