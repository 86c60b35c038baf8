"""Reading Whoosh segments in place, by position, never memory-mapped.

Whoosh (whoosh3 3.54) memory-maps each compound segment file, then wraps each of its parts
in `BufferFile`, whose `BytesIO(buf)` copies it: ~58 ms per searcher opened at 100k records
and most of the server's memory (see docs/whoosh-notes.md). A mapped file is also a
hazard: truncated while mapped (a copy over it, a full disk, a mistaken command), the next
read of a page past its new end is SIGBUS, which no Python code can catch; it killed the
serving process, and with one worker the whole server.

So here a compound segment is not mapped at all: each part is read with `os.pread` on the
segment's open file, a slice at a time, through a small file-like view. Same bytes, no
copy of the whole, the kernel's page cache shared by every searcher and process; and a
file that shrank gives a short read, which raises `Shrunk` (an OSError) for the reader's
damage check to name (reader/damage.py). Reading every posting list of a field this way
takes ~4% more CPU than through the map; searches, mostly answered from the arrays and
caches beside, measure the same, and opening a searcher is quicker (no map to make).
`install()` is called by the modules that open indexes; it is idempotent. Worth offering
upstream.
"""

from __future__ import annotations

import errno
import io
import os
from array import array

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import StructFile
from whoosh.system import IS_LITTLE

_original_init = CompoundStorage.__init__
_original_open = CompoundStorage.open_file
_original_close = CompoundStorage.close

PEEK = 256  # bytes: a block header's pickle is ~30
CHUNK = 8192  # bytes read ahead: most reads of a posting list or a stored record are smaller


class Shrunk(OSError):
    """A segment file ends before a part it was written with: it was truncated after it was
    opened (index/integrity.py then says by how much)."""


class PositionalFile:
    """A read-only, seekable file over `length` bytes at `offset` of an open file, read with
    `os.pread` (positionless, so the parts of one segment share one descriptor)."""

    def __init__(self, source: io.FileIO, offset: int, length: int, name: str):
        self._source = source  # held: the descriptor stays open while any part is read
        self._fd = source.fileno()
        self._offset, self._length, self.name = offset, length, name
        self._pos = 0
        self._chunk: tuple[int, bytes] = (0, b"")  # (position, bytes): replaced whole

    def read_at(self, pos: int, size: int) -> bytes:
        """`size` bytes from `pos` (fewer only at the end of the part). Most reads fall in
        the chunk read last (a hash table's slots, a block's header then its data): the
        hit is the first test, as reading 40,000 posting lists calls this 500,000 times."""
        at, chunk = self._chunk
        rel = pos - at
        if rel >= 0 and size >= 0 and rel + size <= len(chunk):
            return chunk[rel:rel + size]
        size = min(size, self._length - pos)
        if size <= 0 or pos < 0:
            return b""
        if size >= CHUNK:
            return self._pread(pos, size)
        chunk = self._pread(pos, min(CHUNK, self._length - pos))
        self._chunk = (pos, chunk)  # one assignment: a thread reading beside sees either
        return chunk[:size]

    def _pread(self, pos: int, size: int) -> bytes:
        data = os.pread(self._fd, size, self._offset + pos)
        if len(data) < size:
            raise Shrunk(errno.EIO, f"{self.name} ends before byte {self._offset + pos + size:,}"
                         " that it was written with: the file shrank after it was opened")
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._length - self._pos
        data = self.read_at(self._pos, size)
        self._pos += len(data)
        return data

    def peek(self, size: int = 0) -> bytes:
        """Bytes from the current position without moving it, at most PEEK of them. The
        C unpickler prefetches through `peek` when a file has it, and otherwise calls
        `read` once per opcode: Whoosh unpickles a small header before every block of
        postings, 20 reads each, a fifth of reading a posting list."""
        return self.read_at(self._pos, min(max(size, 1), PEEK))

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        end = self._length if size is None or size < 0 else min(self._length, self._pos + size)
        line = b""
        while self._pos + len(line) < end:
            piece = self.read_at(self._pos + len(line), min(CHUNK, end - self._pos - len(line)))
            newline = piece.find(b"\n")
            if newline >= 0:
                line += piece[:newline + 1]
                break
            line += piece
        self._pos += len(line)
        return line

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._length
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence ({whence})")
        self._pos = max(0, offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._chunk = (0, b"")


class SegmentPart(StructFile):
    """One part of a compound segment as Whoosh's readers use it (a `BufferFile` in
    Whoosh), read through a `PositionalFile`."""

    def __init__(self, source: io.FileIO, offset: int, length: int, name: str):
        super().__init__(PositionalFile(source, offset, length, name), name=name)
        self._source, self._offset, self._length = source, offset, length
        self.get = self.file.read_at  # (position, length) -> bytes; hot: no extra call

    def get(self, position: int, length: int) -> bytes:  # (replaced per instance above)
        return self.file.read_at(position, length)

    def get_array(self, position: int, typecode: str, length: int) -> array:
        found = array(typecode)
        found.frombytes(self.get(position, length * found.itemsize))
        if IS_LITTLE:
            found.byteswap()
        return found

    def subset(self, position: int, length: int, name: str | None = None) -> "SegmentPart":
        return SegmentPart(self._source, self._offset + position, length, name or self._name)


def _init_unmapped(self, dbfile, use_mmap=True, basepos=0):
    """Whoosh's own opening (the part directory read from the file), minus the map: the
    parts are read from a descriptor of our own, and Whoosh's file handle is closed."""
    _original_init(self, dbfile, use_mmap=False, basepos=basepos)
    try:
        fd = dbfile.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return  # not a real file (a test's RamStorage): Whoosh's own reading
    self._positional = io.FileIO(os.dup(fd), "rb")
    self._file.close()
    self._file = None


def _open_part(self, name, *args, **kwargs):
    source = getattr(self, "_positional", None)
    if source is None or self.is_closed:
        return _original_open(self, name, *args, **kwargs)
    offset, length = self.range(name)
    return SegmentPart(source, offset, length, name)


def _close(self):
    _original_close(self)
    self._positional = None  # closed when the last part reading it is let go of too


def install() -> None:
    """Make Whoosh read compound segments by position (safe to call more than once)."""
    CompoundStorage.__init__ = _init_unmapped
    CompoundStorage.open_file = _open_part
    CompoundStorage.close = _close


def installed() -> bool:
    return CompoundStorage.open_file is _open_part
