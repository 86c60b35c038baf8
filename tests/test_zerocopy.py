"""Reading memory-mapped Whoosh segments in place gives the same bytes as the copying reader."""

from __future__ import annotations

import io
import mmap

import pytest

from searchapp.search import SearchIndex, SearchRequest
from searchapp.engine.zerocopy import MemoryViewFile, installed


@pytest.fixture
def pair(tmp_path):
    data = b"first line\nsecond line\n" + bytes(range(256)) * 4 + b"\nlast"
    path = tmp_path / "blob"
    path.write_bytes(data)
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)[3:]
    yield MemoryViewFile(view), io.BytesIO(data[3:])


def test_reads_seeks_and_lines_match_bytesio(pair):
    ours, theirs = pair
    assert ours.readline() == theirs.readline()
    assert ours.read(5) == theirs.read(5)
    assert ours.seek(-7, io.SEEK_END) == theirs.seek(-7, io.SEEK_END)
    assert ours.read() == theirs.read()
    assert ours.read(10) == theirs.read(10) == b""
    assert ours.seek(100) == theirs.seek(100) and ours.tell() == theirs.tell() == 100
    buffer_a, buffer_b = bytearray(16), bytearray(16)
    assert ours.readinto(buffer_a) == theirs.readinto(buffer_b) and buffer_a == buffer_b
    ours.seek(4, io.SEEK_CUR), theirs.seek(4, io.SEEK_CUR)
    assert ours.read(300) == theirs.read(300)


def test_search_index_reads_segments_in_place(index_dir):
    index = SearchIndex(index_dir)
    assert installed()
    with index.using() as snap:
        leaf = snap.searcher.reader().leaf_readers()[0][0]
        assert isinstance(leaf._terms._dbfile.file, MemoryViewFile)
    assert index.search(SearchRequest(q="facial recognition")).total == 21
    index.close()
