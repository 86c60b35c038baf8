"""Reading Whoosh segments by position gives the same bytes as the copying reader, and a
segment that shrinks under a reader fails a read (Shrunk) instead of killing the process."""

from __future__ import annotations

import io
import mmap

import pytest

from whoosh.codec.whoosh3 import W3Codec

from searchapp.engine import shards
from searchapp.engine.codec import ArrayTermsReader
from searchapp.index.schema import build_schema
from searchapp.engine.zerocopy import PositionalFile, SegmentPart, Shrunk, installed
from searchapp.search import SearchIndex, SearchRequest


@pytest.fixture
def pair(tmp_path):
    data = b"first line\nsecond line\n" + bytes(range(256)) * 40 + b"\nlast"
    path = tmp_path / "blob"
    path.write_bytes(b"xyz" + data + b"after")  # the part is 3 bytes in, and ends early
    with open(path, "rb", buffering=0) as source:
        yield PositionalFile(source, 3, len(data), "blob"), io.BytesIO(data), path


def test_reads_seeks_and_lines_match_bytesio(pair):
    ours, theirs, _ = pair
    assert ours.readline() == theirs.readline()
    assert ours.read(5) == theirs.read(5)
    assert ours.peek(3)[:3] == theirs.getvalue()[theirs.tell():theirs.tell() + 3]
    assert ours.seek(-7, io.SEEK_END) == theirs.seek(-7, io.SEEK_END)
    assert ours.read() == theirs.read()
    assert ours.read(10) == theirs.read(10) == b""
    assert ours.seek(100) == theirs.seek(100) and ours.tell() == theirs.tell() == 100
    buffer_a, buffer_b = bytearray(16), bytearray(16)
    assert ours.readinto(buffer_a) == theirs.readinto(buffer_b) and buffer_a == buffer_b
    ours.seek(4, io.SEEK_CUR), theirs.seek(4, io.SEEK_CUR)
    assert ours.read(30_000) == theirs.read(30_000)  # longer than a chunk read ahead
    assert ours.read_at(8000, 500) == theirs.getvalue()[8000:8500]  # across two chunks


def test_a_file_that_shrank_fails_the_read_that_meets_its_end(pair):
    ours, _, path = pair
    assert ours.read(10) == b"first line"
    with open(path, "r+b") as f:
        f.truncate(100)
    assert ours.read_at(20, 10)  # read ahead before the cut: still the bytes it had
    with pytest.raises(Shrunk, match="shrank after it was opened"):
        ours.read_at(9000, 10)  # past the chunk read ahead


def test_search_index_reads_segments_by_position(index_dir):
    """The index's own segments are array segments, read over read-only maps (engine/codec
    checks their size before each read); a W3 segment is still read by position."""
    index = SearchIndex(index_dir)
    assert installed()
    with index.using() as snap:
        leaf = snap.searcher.reader().leaf_readers()[0][0]
        assert isinstance(leaf._terms, ArrayTermsReader)
        assert isinstance(leaf._terms._t.container._buf, mmap.mmap)
    assert index.search(SearchRequest(q="facial recognition")).total == 21
    index.close()


def test_a_w3_segment_is_read_by_position(tmp_path):
    folder = tmp_path / "shard"
    shards.create(folder, build_schema())
    writer = shards.writer(folder, codec=W3Codec())
    for n in range(50):
        writer.add_document(id=f"{n:016x}", title=f"police camera {n}", excerpt="court")
    writer.commit()
    reader = shards.reader([folder], [shards.latest(folder)], 1)
    try:
        leaf = reader.leaf_readers()[0][0] if hasattr(reader, "leaf_readers") else reader
        assert isinstance(leaf._terms._dbfile, SegmentPart)
        assert isinstance(leaf._terms._dbfile.file, PositionalFile)
        assert len(list(leaf.postings("title", b"police").all_ids())) == 50
    finally:
        reader.close()
