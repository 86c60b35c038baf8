"""A segment's columns as NumPy arrays, without a Python step per document.

An array segment's columns (engine/codec) are arrays already: a numeric column is a view of
its file, a bytes column a blob and the ends of its pieces. In a W3 segment numbers are read
in one slice of the mapped segment. Byte strings (facet values) become a
small list of the distinct values and one ordinal per document. Finding those means looking
at every document's value once, ~0.3 s per column per million records in Python, so the
result is kept beside its segment (segments.kept_path).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from . import segments
from .codec.reading import ArrayColumnReader, BytesColumnReader

PATHS: Counter = Counter()  # which way each column was read, for the fast-path test
# Bytes of the table a bytes column's values are padded into to be grouped at once (a column
# of short values, as facets are; a longer one is grouped a document at a time).
_PADDED_BYTES = 64 * 2**20


def numbers(leaf, name: str, default: int) -> np.ndarray:
    """Each document's value of a numeric column (int64), `default` where it has none."""
    n = leaf.doc_count_all()
    if not leaf.has_column(name):
        return np.full(n, default, dtype=np.int64)
    reader = leaf.column_reader(name, translate=False)
    if isinstance(reader, ArrayColumnReader):
        PATHS["numbers: arrays"] += 1
        # Copied (one memcpy), not a view: the columns of a segment are kept by caches that
        # can outlive its reader, and a view would keep its file mapped after it is merged
        # away or its folder's filesystem let go of.
        values = reader.array()
        out = np.full(n, default, dtype=np.int64)
        out[:min(n, len(values))] = values[:n]
        return out
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
    if isinstance(reader, BytesColumnReader):
        PATHS["fixed bytes: arrays"] += 1
        blob, ends = reader.pieces()
        ends = ends.astype(np.int64)[:n + 1]
        rows = np.flatnonzero(np.diff(ends) == width)
        data = np.frombuffer(blob, dtype=np.uint8)
        if len(rows) == n and n and int(ends[-1] - ends[0]) == width * n:
            # a copy: what is read here is kept (stories), and a view would keep the file mapped
            return data[ends[0]:ends[-1]].reshape(n, width).copy(), np.ones(n, dtype=bool)
        step = np.arange(width)
        for at in range(0, len(rows), 8192):  # gathered in slices: the index array stays small
            part = rows[at:at + 8192]
            out[part] = data[ends[part, None] + step]
        present[rows] = True
        return out, present
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
    if isinstance(reader, BytesColumnReader):
        PATHS["enumerated: arrays"] += 1
        return _enumerate_pieces(*reader.pieces(), n)
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


def _enumerate_pieces(blob, ends: np.ndarray, n: int) -> dict:
    """The distinct values of a blob cut at `ends` (in order of first appearance) and each
    document's ordinal: the values are grouped by NumPy, as fixed-width byte strings (NumPy's
    `S` type drops trailing NUL bytes, so their lengths are compared as well)."""
    ends = ends.astype(np.int64)[:n + 1]
    count = len(ends) - 1
    sizes = np.diff(ends)
    width = int(sizes.max()) if count else 0
    if width * count > _PADDED_BYTES:  # a few very long values: one dict step per document
        PATHS["enumerated: long values"] += 1
        data, seen = bytes(blob[int(ends[0]):int(ends[-1])]) if count else b"", {}
        cut = (ends - ends[0]).tolist()
        ordinals = np.zeros(n, dtype=np.int32)
        ordinals[:count] = np.fromiter((seen.setdefault(data[a:b], len(seen))
                                        for a, b in zip(cut, cut[1:])), dtype=np.int32, count=count)
        if count < n:
            ordinals[count:] = seen.setdefault(b"", len(seen))
        return {"values": [v.decode("utf-8", "replace") for v in seen], "ordinals": ordinals}
    data = np.frombuffer(blob, dtype=np.uint8)
    padded = np.zeros((count, max(width, 1)), dtype=np.uint8)
    if width:
        inside = np.arange(width) < sizes[:, None]
        padded[:, :width][inside] = data[(ends[:-1, None] + np.arange(width))[inside]]
    keys = np.empty(count, dtype=[("value", f"V{max(width, 1)}"), ("size", "<i8")])
    keys["value"] = padded.view(f"V{max(width, 1)}").ravel()
    keys["size"] = sizes
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # the values in order of first appearance
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    ordinals = np.zeros(n, dtype=np.int32)
    ordinals[:count] = rank[inverse.ravel()]
    values = [bytes(blob[int(ends[i]):int(ends[i + 1])]).decode("utf-8", "replace")
              for i in first[order].tolist()]
    if count < n:  # documents past the last value written have none
        if "" not in values:
            values.append("")
        ordinals[count:] = values.index("")
    return {"values": values, "ordinals": ordinals}


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
