"""Opening a Whoosh searcher without copying every segment into memory.

Whoosh (whoosh3 3.54, as whoosh-reloaded 2.7.5 before it) memory-maps each segment file, then wraps each mapped region in
`BufferFile`, whose `BytesIO(buf)` copies it. At 100k records that copy is ~58 ms per
searcher opened and most of the server's memory (see docs/whoosh-notes.md). Here `BufferFile`
reads the mapped region through a small file-like view instead: same bytes, no copy, the
kernel's page cache shared by every searcher and process. `install()` is called by the
modules that open indexes; it is idempotent. Worth offering upstream.
"""

from __future__ import annotations

import io

from whoosh.filedb import structfile

_original_init = structfile.BufferFile.__init__


PEEK = 256  # bytes: a block header's pickle is ~30


class MemoryViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview, reading slices of it on demand."""

    def __init__(self, view: memoryview):
        super().__init__()
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = bytes(self._view[self._pos:end])
        self._pos = max(self._pos, end)
        return data

    def peek(self, size: int = 0) -> bytes:
        """Bytes from the current position without moving it, at most PEEK of them. The
        C unpickler prefetches through `peek` when a file has it, and otherwise calls
        `read` once per opcode: Whoosh unpickles a small header before every block of
        postings, 20 reads each, a fifth of reading a posting list."""
        return bytes(self._view[self._pos:self._pos + min(max(size, 1), PEEK)])

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        newline = bytes(self._view[self._pos:end]).find(b"\n")
        return self.read(end - self._pos if newline < 0 else newline + 1)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = memoryview(b"")  # let go of the mapping so it can be closed
        super().close()


def _init_without_copy(self, buf, name=None, onclose=None):
    if not isinstance(buf, memoryview):
        return _original_init(self, buf, name=name, onclose=onclose)
    self._buf = buf
    self._name = name
    self.file = MemoryViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def install() -> None:
    """Make Whoosh read memory-mapped segments in place (safe to call more than once)."""
    structfile.BufferFile.__init__ = _init_without_copy


def installed() -> bool:
    return structfile.BufferFile.__init__ is _init_without_copy
