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


def remember(root: Path, current: store.Live | None = None) -> None:
    """Keep the live build's first-seen times with those kept before (the earliest wins), so
    a record that leaves and comes back is not new either: after a full build (opening the
    build's searcher costs a few tenths of a second at 100k records; an incremental run
    adds only what it wrote, `add`). A file that cannot be written is no failure of the
    run: only a later repair would lose what it holds."""
    try:
        current = current or store.live(root)
        if current is None:
            return
        with current.searcher() as searcher:
            now = writing.FirstSeen.of_reader(searcher.reader(), 0)
        _merge(root, now.keys, now.seen)
    except Exception:  # a damaged live build or a full disk: the times kept before stay
        return


def add(root: Path, docs: list[dict], current: store.Live) -> None:
    """Keep the first-seen times of the records an incremental run wrote (all of the live
    build's, the first time: an index made before this file was kept)."""
    if not (Path(root) / FILE).exists():
        remember(root, current)
        return
    if not docs:
        return
    try:
        _merge(root, np.array([d["c_idkey"] for d in docs], dtype=np.int64),
               np.array([d["c_seen"] for d in docs], dtype=np.int64))
    except Exception:
        return


def _merge(root: Path, new_keys: np.ndarray, new_seen: np.ndarray) -> None:
    old = recall(root, 0)
    keys = np.concatenate([old.keys, new_keys])
    seen = np.concatenate([old.seen, new_seen])
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
