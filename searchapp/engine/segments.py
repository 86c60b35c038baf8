"""A searcher's segments as the array code sees them: each segment's reader, its first global
document number and its id, which documents are live, when the index was last written, and
the files of arrays kept beside a segment.

A segment never changes once written, so whatever is derived from it alone (a column's
distinct values, its words) can be computed once and kept in a file beside it,
`<segment id>.<name>.npz`: written by the indexer right after its commit, or by the first
process that needs it, and loaded in milliseconds by every later one. Whoosh deletes such a
file with its segment, because the name matches its segment-file pattern.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np

from .npyfiles import READING

T = TypeVar("T")
Leaf = tuple[object, int, str]  # (segment reader, first global document number, segment id)


def leaves(searcher) -> list[Leaf]:
    """The segments of a searcher (or of a reader) in document-number order."""
    reader = searcher.reader() if hasattr(searcher, "ixreader") else searcher
    out = []
    for leaf, offset in reader.leaf_readers():
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


# A segment is merged into the next commit's new one unless it holds more than this many
# times the documents of all the smaller segments and the commit's own together.
TIER = 4


def tiered(budget: int | None = None):
    """`merge_tiers` merging at most `budget` records of existing segments (None: no bound).
    Merging costs ~7 s per 10,000 records here, so a run that must be searchable in a second
    merges little, and what it leaves is merged when there is time (a watcher, when idle)."""
    return lambda writer, existing: merge_tiers(writer, existing, budget)


def merge_tiers(writer, existing: list, budget: int | None = None) -> list:
    """Whoosh merge policy (`writer.commit(mergetype=merge_tiers)`): the segments to keep as
    they are; the others are merged into the commit's new segment.

    Whoosh's own policy (MERGE_SMALL) only merges segments smaller than Fibonacci numbers of
    their count, so every incremental run of a few hundred records left one segment more,
    forever, and each search looked every word up in each (11 segments after a few runs at
    100k records; an OR of 20 wildcards read 22,000 posting lists). Here segments form a
    ladder, each at least TIER times all the smaller ones: a run merges only small ones,
    never the big ones, and an index holds a few segments per power of TIER of its size.
    Merging also drops deleted records for good."""
    from whoosh.reading import SegmentReader

    added = getattr(writer, "docnum", 0) - getattr(writer, "docbase", 0)  # this commit's records
    total = added
    merge = []
    # Nothing a quarter the size of the largest or more is merged: two segments of the same
    # size (a full build's) would otherwise be rewritten whole by a run that adds nothing.
    cap = max((s.doc_count_all() for s in existing), default=0) / TIER
    merging = 0
    for seg in sorted(existing, key=lambda s: s.doc_count_all()):
        n = seg.doc_count_all()
        if n > cap or ((merge or total) and n > TIER * total) \
                or (budget is not None and merging + n > budget):
            break
        merging += n
        merge.append(seg)
        total += n
    if not merge or (len(merge) == 1 and not added):
        return existing
    for seg in merge:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    merged = {id(seg) for seg in merge}
    return [seg for seg in existing if id(seg) not in merged]


def committed_at(folders: list[Path]) -> datetime | None:
    """When the index in `folders` (its shards) last committed: the time of the newest table
    of contents (Whoosh names them `_MAIN_<generation>.toc`)."""
    try:
        newest = max(os.stat(folder / n).st_mtime for folder in folders
                     for n in os.listdir(folder) if n.startswith("_MAIN_"))
        return datetime.fromtimestamp(newest, tz=timezone.utc)
    except (OSError, ValueError):
        return None


_NAME = re.compile(r"[A-Za-z0-9_]+\Z")


def home(leaf, folder: Path | None) -> Path | None:
    """Where a segment's kept files go: the folder of its shard (engine/shards.py tells each
    segment reader it opens), else `folder`; None (keep nothing) when `folder` is None."""
    if folder is None:
        return None
    return getattr(leaf, "kept_folder", None) or folder


def kept_path(folder: Path | None, segment_id: str, name: str) -> Path | None:
    """Where `name` of a segment is kept; None when it cannot be (no folder, odd names)."""
    if folder is None or not _NAME.match(segment_id) or not _NAME.match(name):
        return None
    return folder / f"{segment_id}.{name}.npz"


def kept(path: Path | None, valid: Callable[[dict | None], T | None], make: Callable[[], dict]
         ) -> tuple[T, bool]:
    """(what `valid` makes of the file at `path`, True) when it holds a good one; otherwise
    (what `valid` makes of `make()`'s arrays, False), those arrays kept at `path`."""
    if path is not None:
        found = valid(load_kept(path))
        if found is not None:
            return found, True
    arrays = make()
    if path is not None:
        save_kept(path, arrays)
    return valid(arrays), False


def missing(leaves: list[Leaf], names: list[str], folder: Path) -> Iterator[tuple[object, str, str]]:
    """(segment reader, segment id, name) of each kept file the segments lack."""
    for leaf, _, segment_id in leaves:
        for name in names:
            path = kept_path(home(leaf, folder), segment_id, name)
            if path is not None and not path.exists():
                yield leaf, segment_id, name


def load_kept(path: Path) -> dict | None:
    """The arrays of a kept file (a list of strings stored as JSON comes back as a list), or
    None if it is missing or damaged."""
    try:
        with READING, np.load(path, allow_pickle=False) as kept:
            out = {name: kept[name] for name in kept.files}
        for name, value in list(out.items()):
            if name.endswith("_json"):
                out[name.removesuffix("_json")] = json.loads(value.tobytes().decode("utf-8"))
        return out
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, EOFError):
        return None


def save_kept(path: Path, arrays: dict) -> None:
    """Write atomically: several processes may race to write the same file (the last one
    wins, with the same contents); a folder we may not write to just means no kept file.
    A list of strings is stored as JSON (no pickles in an index)."""
    out = {f"{k}_json" if isinstance(v, list) else k:
           np.frombuffer(json.dumps(v, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
           if isinstance(v, list) else v for k, v in arrays.items()}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # Whoosh ignores dot files
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **out)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
