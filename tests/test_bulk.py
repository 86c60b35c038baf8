"""The bulk writer of a full build writes the segment Whoosh's own writer would: every file
of it byte for byte, from the same records, whether its postings were spilled to disk in
runs or not; in our array codec (what every writer of the index writes) and in W3."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from searchapp.engine import bulk, shards
from searchapp.engine.codec import ArrayCodec, ArraySegment
from searchapp.index import writing
from searchapp.index.schema import build_schema

from conftest import FIXTURES, SEEDS, whoosh_documents, write_generated





def segment_files(folder: Path) -> dict[str, bytes]:
    """Every file of the one segment of a shard (inside it, for a compound one), named
    without the segment's id."""
    storage = FileStorage(str(folder))
    (segment,) = TOC.read(storage, shards.INDEX_NAME).segments
    if isinstance(segment, ArraySegment):
        return {name.replace(segment.segment_id(), "SEG"): (folder / name).read_bytes()
                for name in segment.files()}
    inside = segment.open_compound_file(storage)
    return {name.replace(segment.segment_id(), "SEG"): inside.open_file(name).read()
            for name in inside.list()}


def write(folder: Path, docs: list[dict], make) -> dict[str, bytes]:
    shards.create(folder, build_schema())
    writer = make(folder)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return segment_files(folder)


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> list[dict]:
    generated = tmp_path_factory.mktemp("generated")
    write_generated(generated, 300)
    found = whoosh_documents(SEEDS, generated, FIXTURES)
    assert len(found) > 400
    return found


@pytest.mark.parametrize("codec", [ArrayCodec, W3Codec])
@pytest.mark.parametrize("run_postings", [bulk.RUN_POSTINGS, 1_000, 97])
def test_the_bulk_writer_writes_whooshs_segment_byte_for_byte(tmp_path, docs, run_postings, codec):
    theirs = write(tmp_path / "whoosh", docs, lambda f: shards.writer(f, codec=codec()))
    ours = write(tmp_path / "bulk", docs, lambda f: bulk.BulkWriter(
        shards.open_index(f), writing.index_cuts(build_schema()), run_postings=run_postings,
        codec=codec()))
    assert sorted(ours) == sorted(theirs)
    assert len(ours) == (2 if codec is ArrayCodec else len(ours))  # the two containers
    assert [name for name in theirs if ours[name] != theirs[name]] == []
    assert not any(p.name.startswith(".bulk-") for p in (tmp_path / "bulk").iterdir()), \
        "spilled runs are removed"


def merge_all(writer, existing):
    """A merge policy merging every segment into the commit's new one."""
    for segment in existing:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, segment))
    return []


def test_every_writer_of_the_index_writes_the_array_codec(tmp_path, docs):
    """A full build's bulk writer, an incremental run's writer and a merge of their
    segments: each new segment is an array segment, its two containers and nothing else."""
    folder = tmp_path / "shard"
    shards.create(folder, build_schema())
    writer = bulk.BulkWriter(shards.open_index(folder), writing.index_cuts(build_schema()))
    for doc in docs[:100]:
        writer.add_document(**doc)
    writer.commit()
    writer = shards.writer(folder)
    for doc in docs[100:150]:
        writer.add_document(**doc)
    writer.commit(mergetype=lambda w, existing: existing)  # a segment of its own
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, shards.INDEX_NAME)
    assert [type(s) for s in toc.segments] == [ArraySegment, ArraySegment]
    writer = shards.writer(folder)
    writer.commit(mergetype=merge_all)
    (merged,) = TOC.read(storage, shards.INDEX_NAME).segments
    assert isinstance(merged, ArraySegment) and merged.doc_count_all() == 150
    assert sorted(shards.files_of(folder, shards.latest(folder))) == sorted(
        [shards.toc_name(shards.latest(folder)), *merged.files()])
    assert not list(folder.glob("*.seg"))


def test_a_cancelled_bulk_write_leaves_no_runs_behind(tmp_path, docs):
    folder = tmp_path / "shard"
    shards.create(folder, build_schema())
    writer = bulk.BulkWriter(shards.open_index(folder), writing.index_cuts(build_schema()),
                             run_postings=50)
    for doc in docs[:40]:
        writer.add_document(**doc)
    assert any(p.name.startswith(".bulk-") for p in folder.iterdir())
    writer.cancel()
    assert not any(p.name.startswith(".bulk-") for p in folder.iterdir())
    assert shards.latest(folder) == 0  # the empty index create() made; nothing committed
