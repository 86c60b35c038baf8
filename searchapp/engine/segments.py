"""A searcher's segments as the array code sees them: each segment's reader, its first global
document number and its id, which documents are live, and when the index was last written."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

Leaf = tuple[object, int, str]  # (segment reader, first global document number, segment id)


def leaves(searcher) -> list[Leaf]:
    out = []
    for leaf, offset in searcher.reader().leaf_readers():
        segment = leaf.segment()
        out.append((leaf, offset, segment.segment_id() if segment else f"ram-{id(leaf)}"))
    return out


def alive(leaves: list[Leaf], size: int) -> np.ndarray:
    """For each global document number, whether its record is live (not deleted)."""
    out = np.ones(size, dtype=bool)
    for leaf, offset, _ in leaves:
        if leaf.has_deletions():
            deleted = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)  # a property
            out[offset + deleted] = False
    return out


def committed_at(folder: Path) -> datetime | None:
    """When the index in `folder` last committed: the time of its newest table of contents
    (Whoosh names them `_MAIN_<generation>.toc`)."""
    try:
        toc = max((folder / n for n in os.listdir(folder) if n.startswith("_MAIN_")),
                  key=lambda p: p.stat().st_mtime)
        return datetime.fromtimestamp(toc.stat().st_mtime, tz=timezone.utc)
    except (OSError, ValueError):
        return None
