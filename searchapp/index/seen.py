"""When each record first entered the index, kept beside the builds (`first-seen.npz` in the
index folder) after every run: a full rebuild reads the times from the build it replaces,
but a repair reads nothing of a damaged build, and without this file every record would be
new again (a saved search's "N new since you looked" and every feed flooded)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import store, writing

FILE = "first-seen.npz"


def remember(root: Path, current: store.Live) -> None:
    """Keep the live build's first-seen times with those kept before (the earliest wins), so
    a record that leaves and comes back is not new either. A file that cannot be written is
    no failure of the run: only a later repair would lose what it holds."""
    try:
        with current.searcher() as searcher:
            now = writing.FirstSeen.of_reader(searcher.reader(), 0)
        old = recall(root, 0)
        keys = np.concatenate([old.keys, now.keys])
        seen = np.concatenate([old.seen, now.seen])
        known = seen > 0
        keys, seen = keys[known], seen[known]
        order = np.lexsort((seen, keys))
        keys, seen = keys[order], seen[order]
        keys, first = np.unique(keys, return_index=True)
        path = Path(root) / FILE
        part = path.with_name(f".{FILE}.{os.getpid()}.tmp")
        with open(part, "wb") as out:
            np.savez(out, keys=keys, seen=seen[first])
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except Exception:  # a damaged live build or a full disk: the times kept before stay
        return


def recall(root: Path, now: int) -> writing.FirstSeen:
    """The first-seen times kept beside the builds (nothing when there are none, or the file
    cannot be read)."""
    try:
        with np.load(Path(root) / FILE, allow_pickle=False) as data:
            keys, seen = data["keys"].astype(np.int64), data["seen"].astype(np.int64)
        if len(keys) != len(seen) or (len(keys) > 1 and np.any(keys[1:] <= keys[:-1])):
            return writing.FirstSeen.nothing(now)
        return writing.FirstSeen(keys, seen, now)
    except Exception:
        return writing.FirstSeen.nothing(now)
