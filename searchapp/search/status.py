"""`/status` assembled: the index (or the problem that keeps it from being searched), its
last run and what that refused, its watcher and, on a cluster, its shards, from what the
index says about itself (reader/state.py), without saying where anything lives on disk.
"""

from __future__ import annotations

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


def unplaced(root: Path, message: str, seeds: str | None = None) -> str:
    """`message` without where the index (and the seeds folder) live on disk. Only absolute
    paths are replaced: a relative one leaks nothing, and is often a word of the message
    too (the default index folder is `index`: "run `searchapp index` first")."""
    for folder, name in ((Path(root), "the index folder"),
                         (Path(seeds) if seeds else None, "the seeds folder")):
        if folder is not None:
            message = message.replace(str(folder.resolve()), name)
            if folder.is_absolute():
                message = message.replace(str(folder), name)
    return message


def moment(seconds) -> datetime | None:
    """A time in seconds since the epoch, as UTC; None for anything else."""
    return datetime.fromtimestamp(seconds, timezone.utc) if isinstance(seconds, (int, float)) \
        else None
