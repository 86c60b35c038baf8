"""The files of an array segment: their names, their NumPy types, and how they are opened.

Every file is a flat little-endian array (or a blob its companion array cuts into pieces),
written once and read with `numpy.frombuffer` over a read-only memory map: the kernel's page
cache is the only cache, shared by every process, and nothing is decoded to be read.
"""

from __future__ import annotations

import base64
import errno
import datetime
import json
import mmap
import os
import struct

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

# A segment is two files (`<segment id><ext>`), each a container of named parts: a header,
# the parts one after another (each starting at a multiple of ALIGN bytes, so that every
# array is aligned for its type), a JSON directory of the parts, and a footer pointing at
# it. One map per file: a segment holds two descriptors open, not one per array.
TERMS_FILE = ".arrterms"  # the term table and the postings
DOCS_FILE = ".arrdocs"    # stored fields, lengths, vectors, columns
MAGIC = b"SAARRAY1"
ALIGN = 64
_FOOTER = struct.Struct("<QQ8s")  # directory offset, directory length, MAGIC

# Parts of the terms file
TERMS, TBLOB = "terms", "tblob"
P_DOCS, P_WEIGHTS, P_COUNTS, P_POSITIONS, P_BLOCKS = (
    "docs", "weights", "counts", "positions", "blocks")
# Parts of the documents file
LENGTH_BYTES, EXACT_LENGTHS = "lenbytes", "lengths"
V_SPANS, V_BLOB, V_ENDS, V_WEIGHTS, V_COUNTS, V_POSITIONS, V_POSSTART = (
    "vspans", "vblob", "vends", "vweights", "vcounts", "vpositions", "vposstart")
STORED, STORED_ENDS = "stored", "storedends"
APART, APART_ENDS = "apart", "apartends"  # stored fields no search reads (KeptApart)


def column_part(fieldname: str, part: str) -> str:
    return f"col_{part}_{fieldname}"


def column_file(fieldname: str) -> str:
    """The extension of a column kept in Whoosh's own layout, in a file of its own."""
    return f".col_{fieldname}"


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


# Stored fields kept apart (a KeptApart field: what only the indexer reads back, such as the
# drafts a record was merged from) are one JSON object per document too, compressed with
# zlib using the document's other stored fields as its preset dictionary: a record's drafts
# repeat its merged record nearly word for word, so they cost ~90 bytes instead of ~2 kB.
# Only `stored_fields` (Whoosh's API, the indexer) inflates them; a search reads `searched`.

def apart_bytes(fields: dict, searched: bytes) -> bytes:
    import zlib

    c = zlib.compressobj(6, zdict=searched) if searched else zlib.compressobj(6)
    return c.compress(stored_bytes(fields)) + c.flush()


def apart_fields(data: bytes, searched: bytes) -> dict:
    import zlib

    d = zlib.decompressobj(zdict=searched) if searched else zlib.decompressobj()
    return stored_fields(d.decompress(data) + d.flush())


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


class Container:
    """A container file opened for reading: its parts as arrays or bytes, over one map."""

    def __init__(self, storage, name: str):
        self.name = name
        self._buf = read_bytes(storage, name)
        size = len(self._buf)
        if size < len(MAGIC) + _FOOTER.size or bytes(self._buf[:len(MAGIC)]) != MAGIC:
            raise ValueError(f"{name} is not an array container (damaged or cut short)")
        at, length, magic = _FOOTER.unpack(bytes(self._buf[size - _FOOTER.size:]))
        if magic != MAGIC or at + length > size - _FOOTER.size:
            raise ValueError(f"{name} ends without its directory (damaged or cut short)")
        self._size = size
        directory = json.loads(bytes(self._buf[at:at + length]).decode("utf-8"))
        self.parts: dict[str, list[int]] = directory["parts"]
        self.meta = directory["meta"]
        self._view = memoryview(self._buf) if size else None

    def verify(self) -> None:
        """Raise `Shrunk` if the file is now shorter than when it was mapped: reading a
        page of a map past its file's end is SIGBUS, which kills the process (a truncated
        file must fail one search, not the server). Readers call this before each read that
        starts from their entry points; a truncation racing a read in progress is not
        caught."""
        if isinstance(self._buf, mmap.mmap):
            now = self._buf.size()  # the file's size now (fstat), not the map's
            if now < self._size:
                from ..zerocopy import Shrunk

                raise Shrunk(errno.EIO, f"{self.name} is {now:,} bytes, written with "
                             f"{self._size:,}: the file shrank after it was opened")

    def array(self, part: str, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        offset, nbytes = self.parts[part]
        if not nbytes:
            return np.zeros(0, dtype=dtype)
        return np.frombuffer(self._buf, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset)

    def bytes(self, part: str) -> memoryview:
        offset, nbytes = self.parts[part]
        return self._view[offset:offset + nbytes]


class ContainerWriter:
    """Writes a container: parts added whole or copied from a file written beforehand."""

    def __init__(self, storage, name: str):
        self._storage = storage
        self._file = storage.create_file(name)
        self._file.write(MAGIC)
        self._pos = len(MAGIC)
        self._parts: dict[str, list[int]] = {}

    def _align(self) -> None:
        pad = -self._pos % ALIGN
        if pad:
            self._file.write(b"\0" * pad)
            self._pos += pad

    def add(self, part: str, data, dtype=None) -> None:
        if dtype is not None:
            data = np.ascontiguousarray(data, dtype=np.dtype(dtype)).tobytes()
        self._align()
        self._file.write(bytes(data) if not isinstance(data, (bytes, bytearray)) else data)
        self._parts[part] = [self._pos, len(data)]
        self._pos += len(data)

    def add_from(self, part: str, tempname: str) -> None:
        """The bytes of a file of the same storage as a part, then the file deleted."""
        self._align()
        start = self._pos
        f = self._storage.open_file(tempname)
        try:
            while True:
                chunk = f.read(1 << 24)
                if not chunk:
                    break
                self._file.write(chunk)
                self._pos += len(chunk)
        finally:
            f.close()
        self._storage.delete_file(tempname)
        self._parts[part] = [start, self._pos - start]

    def close(self, meta: dict) -> None:
        directory = json.dumps({"parts": self._parts, "meta": meta}, sort_keys=True).encode("utf-8")
        self._file.write(directory)
        self._file.write(_FOOTER.pack(self._pos, len(directory), MAGIC))
        self._file.close()
