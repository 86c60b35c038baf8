"""The files of an array segment: their names, their NumPy types, and how they are opened.

Every file is a flat little-endian array (or a blob its companion array cuts into pieces),
written once and read with `numpy.frombuffer` over a read-only memory map: the kernel's page
cache is the only cache, shared by every process, and nothing is decoded to be read.
"""

from __future__ import annotations

import base64
import datetime
import json
import mmap
import os

import numpy as np

VERSION = 1  # of the layout below; the segment's `.meta` records it
BLOCK = 128  # postings per block of block statistics (as W3's blocks, for quality skipping)

# One row per term, in (field, term bytes) order; a field's terms are a run of rows.
TERM = np.dtype([
    ("start", "<u8"),     # the term's bytes in `.tblob`: [start, start + size)
    ("size", "<u4"),
    ("df", "<u4"),        # documents (postings)
    ("weight", "<f4"),    # total weight, as W3's term info holds it (a float32)
    ("maxweight", "<f4"),
    ("minlen", "u1"),     # shortest and longest field length among its documents, as bytes
    ("maxlen", "u1"),
    ("pad", "<u2"),
    ("minid", "<u4"),
    ("maxid", "<u4"),
    ("post", "<u8"),      # first posting in `.docs`, `.weights`, `.counts`
    ("pos", "<u8"),       # first position in `.positions`
    ("block", "<u8"),     # first block in `.blocks`
])
# Statistics of each run of BLOCK postings of a term (the last run of a term may be shorter).
BLOCK_STATS = np.dtype([("maxweight", "<f4"), ("minlen", "u1"), ("maxlen", "u1"), ("pad", "<u2")])
# A document's term vector in one field: postings [start, end) of the vector arrays.
VECTOR_SPAN = np.dtype([("start", "<u8"), ("end", "<u8")])

DOCS, WEIGHTS, COUNTS, POSITIONS = "<u4", "<f4", "<u4", "<u4"
OFFSETS = "<u8"  # ends of the pieces of a blob (a leading 0 makes n + 1 of them)

# File extensions (after the segment id). Whoosh deletes `<segment id>.<ext>` files with
# their segment, and its pattern allows letters, digits, `_` and `.` in `ext`.
META = ".meta"
TERMS, TBLOB = ".terms", ".tblob"
P_DOCS, P_WEIGHTS, P_COUNTS, P_POSITIONS, P_BLOCKS = (
    ".docs", ".weights", ".counts", ".positions", ".blocks")
LENGTH_BYTES, EXACT_LENGTHS = ".lenbytes", ".lengths"
V_SPANS, V_BLOB, V_ENDS, V_WEIGHTS, V_COUNTS, V_POSITIONS, V_POSSTART = (
    ".vspans", ".vblob", ".vends", ".vweights", ".vcounts", ".vpositions", ".vposstart")
STORED, STORED_ENDS = ".stored", ".storedends"


def column_ext(fieldname: str, part: str) -> str:
    return f".col_{part}_{fieldname}"


# How a field's posting values are kept: as arrays for the formats Whoosh's fields use.
EXISTENCE, FREQUENCY, POSITIONS_KIND = "existence", "frequency", "positions"


def format_kind(fmt) -> str:
    """The layout of a format's values; only the formats whose values are counts and
    positions have one (a Characters or boosts format would need its own arrays)."""
    from whoosh import formats

    kind = type(fmt)
    if kind is formats.Existence:
        return EXISTENCE
    if kind is formats.Frequency:
        return FREQUENCY
    if kind is formats.Positions:
        return POSITIONS_KIND
    raise TypeError(f"the array codec keeps no {kind.__name__} values "
                    "(Existence, Frequency and Positions only)")


# -- stored fields ---------------------------------------------------------------------------
# A document's stored fields are one JSON object. Whoosh's fields also store datetimes (DATETIME)
# and bytes; those are written as one-key objects and read back as what they were. A tuple
# comes back as a list (JSON has only the one).

def _tagged(value):
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"the array codec stores fields as JSON, and a {type(value).__name__} "
                    f"is not JSON: {value!r:.60}")


def _untagged(obj: dict):
    if len(obj) == 1:
        if "$datetime" in obj:
            return datetime.datetime.fromisoformat(obj["$datetime"])
        if "$bytes" in obj:
            return base64.b64decode(obj["$bytes"])
    return obj


def stored_bytes(fields: dict) -> bytes:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"),
                      default=_tagged).encode("utf-8")


def stored_fields(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"), object_hook=_untagged)


# -- reading ---------------------------------------------------------------------------------

def read_bytes(storage, name: str):
    """A file's bytes as a buffer: a read-only map of a file on disk, or its bytes from a
    storage without files (RamStorage). An empty file gives b""."""
    folder = getattr(storage, "folder", None)
    if folder and getattr(storage, "supports_mmap", False):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    f = storage.open_file(name)
    try:
        return bytes(f.read())
    finally:
        f.close()


def read_array(storage, name: str, dtype) -> np.ndarray:
    buf = read_bytes(storage, name)
    return np.frombuffer(buf, dtype=np.dtype(dtype)) if len(buf) else np.zeros(0, dtype=dtype)


def read_json(storage, name: str):
    return json.loads(bytes(read_bytes(storage, name)).decode("utf-8"))


def exists(storage, name: str) -> bool:
    return storage.file_exists(name)


# -- writing ---------------------------------------------------------------------------------

def write_bytes(storage, name: str, data) -> None:
    f = storage.create_file(name)
    try:
        f.write(bytes(data) if not isinstance(data, (bytes, bytearray, memoryview)) else data)
    finally:
        f.close()


def write_array(storage, name: str, values, dtype) -> None:
    write_bytes(storage, name, np.ascontiguousarray(values, dtype=np.dtype(dtype)).tobytes())


def write_json(storage, name: str, value) -> None:
    write_bytes(storage, name, json.dumps(value, sort_keys=True).encode("utf-8"))
