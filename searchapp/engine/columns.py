"""A segment's columns as NumPy arrays, without a Python step per document.

Numbers are read in one slice of the mapped segment. Byte strings (facet values) become a
small list of the distinct values and one ordinal per document. Finding those means looking
at every document's value once, ~0.3 s per column per million records in Python, so the
result is kept beside its segment (segments.kept_path).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from . import segments

PATHS: Counter = Counter()  # which way each column was read, for the fast-path test


def numbers(leaf, name: str, default: int) -> np.ndarray:
    """Each document's value of a numeric column (int64), `default` where it has none."""
    n = leaf.doc_count_all()
    if not leaf.has_column(name):
        return np.full(n, default, dtype=np.int64)
    reader = leaf.column_reader(name, translate=False)
    typecode = getattr(reader, "_typecode", None)
    dbfile, base, count = (getattr(reader, a, None) for a in ("_dbfile", "_basepos", "_count"))
    out = np.full(n, default, dtype=np.int64)
    if typecode and dbfile is not None and base is not None and count is not None and count <= n:
        PATHS["numbers: one read"] += 1
        dtype = np.dtype(">" + typecode)
        out[:count] = np.frombuffer(bytes(dbfile.get(base, count * dtype.itemsize)), dtype=dtype)
    else:
        PATHS["numbers: one at a time"] += 1
        out[:] = np.fromiter(iter(reader), dtype=np.int64, count=n)
    return out


def enumerated(leaf, segment_id: str, name: str, folder: Path | None) -> tuple[list[str], np.ndarray]:
    """(distinct values, each document's index into them) of a byte-string column; values
    are text (UTF-8, damaged bytes replaced), a document without one has "". Kept beside the
    segment in `folder` when given."""
    n = leaf.doc_count_all()
    found, was_kept = segments.kept(segments.kept_path(segments.home(leaf, folder), segment_id, name),
                                    lambda arrays: _valid(arrays, n),
                                    lambda: _enumerate(leaf, name, n))
    PATHS["enumerated: kept"] += was_kept
    return found


def fixed_bytes(leaf, name: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(each document's value as a row of `width` bytes, whether it has one of that width)
    of a byte-string column: one read of the segment and one gather, where a bytes object per
    document was half a second per 100,000 records."""
    n = leaf.doc_count_all()
    out = np.zeros((n, width), dtype=np.uint8)
    present = np.zeros(n, dtype=bool)
    if not leaf.has_column(name):
        return out, present
    reader = leaf.column_reader(name, translate=False)
    lengths, offsets = getattr(reader, "_lengths", None), getattr(reader, "_offsets", None)
    dbfile, base = getattr(reader, "_dbfile", None), getattr(reader, "_basepos", None)
    if lengths is not None and offsets is not None and dbfile is not None and base is not None \
            and len(lengths) <= n and len(offsets) == len(lengths):
        PATHS["fixed bytes: one read"] += 1
        lengths = np.asarray(lengths, dtype=np.int64)
        offsets = np.asarray(offsets, dtype=np.int64)
        rows = np.flatnonzero(lengths == width)
        if len(rows):
            end = int(offsets[rows].max()) + width
            data = np.frombuffer(dbfile.get(base, end), dtype=np.uint8)  # in place, read-only
            starts = offsets[rows]
            if len(rows) == n and np.array_equal(starts, starts[0] + width * np.arange(n)):
                # Every document's value, one after another: the segment's own bytes.
                return data[starts[0]:starts[0] + width * n].reshape(n, width), \
                    np.ones(n, dtype=bool)
            if np.array_equal(starts, starts[0] + width * np.arange(len(rows))):
                # Written one after another (every value of this width): a slice.
                out[rows] = data[starts[0]:starts[0] + width * len(rows)].reshape(-1, width)
            else:  # gathered in slices, so the index array stays small
                step = np.arange(width)
                for at in range(0, len(rows), 8192):
                    part = rows[at:at + 8192]
                    out[part] = data[offsets[part, None] + step]
            present[rows] = True
        return out, present
    PATHS["fixed bytes: one at a time"] += 1
    for docnum, value in enumerate(reader):
        if len(value) == width:
            out[docnum] = np.frombuffer(value, dtype=np.uint8)
            present[docnum] = True
    return out, present


def prepare(leaves, names: list[str], folder: Path) -> None:
    """Write the kept files of every segment that lacks them (the indexer, after a commit)."""
    for leaf, segment_id, name in segments.missing(leaves, names, folder):
        enumerated(leaf, segment_id, name, folder)


def _enumerate(leaf, name: str, n: int) -> dict:
    if not leaf.has_column(name):
        return {"values": [""], "ordinals": np.zeros(n, dtype=np.int32)}
    reader = leaf.column_reader(name, translate=False)
    lengths, offsets = getattr(reader, "_lengths", None), getattr(reader, "_offsets", None)
    dbfile, base = getattr(reader, "_dbfile", None), getattr(reader, "_basepos", None)
    seen: dict[bytes, int] = {}
    if lengths is not None and offsets is not None and dbfile is not None and base is not None \
            and len(lengths) <= n and len(offsets) == len(lengths):
        PATHS["enumerated: one read"] += 1
        lengths, offsets = list(lengths), list(offsets)
        end = max((o + l for o, l in zip(offsets, lengths)), default=0)
        data = bytes(dbfile.get(base, end)) if end else b""
        raw = (data[o:o + l] for o, l in zip(offsets, lengths))
        ordinals = np.zeros(n, dtype=np.int32)
        ordinals[:len(lengths)] = np.fromiter((seen.setdefault(v, len(seen)) for v in raw),
                                              dtype=np.int32, count=len(lengths))
        if len(lengths) < n:  # documents past the last value written have none
            ordinals[len(lengths):] = seen.setdefault(b"", len(seen))
    else:
        PATHS["enumerated: one at a time"] += 1
        ordinals = np.fromiter((seen.setdefault(v, len(seen)) for v in reader),
                               dtype=np.int32, count=n)
    return {"values": [v.decode("utf-8", "replace") for v in seen], "ordinals": ordinals}


def _valid(kept: dict | None, n: int) -> tuple[list[str], np.ndarray] | None:
    """A kept file's contents, if they are whole and this segment's."""
    if kept is None:
        return None
    values, ordinals = kept.get("values"), kept.get("ordinals")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values) \
            or ordinals is None or ordinals.dtype != np.int32 or ordinals.shape != (n,) \
            or (n and (ordinals.min() < 0 or ordinals.max() >= len(values))):
        return None
    return values, ordinals
