"""Several Whoosh indexes (shards) read as one, each at a chosen generation of its own, and
written so that a reader of the generation before never finds its files gone.

One `MultiReader` over the segments of every shard is what the searcher sees: global
document numbers, and statistics (record count, document frequencies, field lengths) summed
over all shards, so BM25F ranks exactly as over one index of the same records. A shard's
commit writes its table of contents only: Whoosh's own commit then deletes the files of
every older generation, which readers that have just read the index-wide pointer (still
naming the one before) would be opening. `clean` removes them after the pointer moves on.
"""

from __future__ import annotations

import os
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, FileIndex
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from .codec import ArrayCodec, ArraySegment

INDEX_NAME = "MAIN"  # Whoosh's default index name inside each shard's folder


class KeepingWriter(SegmentWriter):
    """Whoosh's segment writer, writing our array codec (engine/codec) unless given another,
    minus deleting older generations' files at commit. Every writer of the index is one of
    these (a full build's bulk writer, an incremental run's, a merge's), so every segment
    written, merged ones too, is an array segment."""

    def __init__(self, ix, codec=None, **kwargs):
        super().__init__(ix, codec=ArrayCodec() if codec is None else codec, **kwargs)

    def _commit_toc(self, segments) -> None:
        TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)


def create(folder: Path, schema) -> FileIndex:
    folder.mkdir(parents=True, exist_ok=True)
    return FileStorage(str(folder)).create_index(schema, indexname=INDEX_NAME)


def open_index(folder: Path) -> FileIndex:
    return FileIndex(FileStorage(str(folder)), indexname=INDEX_NAME)


def latest(folder: Path) -> int:
    """The newest generation written in a shard's folder (-1 when none)."""
    return TOC._latest_generation(FileStorage(str(folder)), INDEX_NAME)


def toc_name(generation: int) -> str:
    return TOC._filename(INDEX_NAME, generation)


def files_of(folder: Path, generation: int) -> list[str]:
    """The files a shard's generation is read from: its table of contents and the files of
    its segments (an array segment's containers, one compound file of a W3 segment, or the
    parts of one that is not)."""
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, INDEX_NAME, gen=generation)
    names = [toc_name(generation)]
    for seg in toc.segments:
        if isinstance(seg, ArraySegment):
            names.extend(seg.files())
        elif seg.is_compound():
            names.append(seg.make_filename(seg.COMPOUND_EXT))
        else:
            names.extend(seg.list_files(storage))
    return names


def writer(folder: Path, timeout: float = 0.0, limitmb: int = 128, codec=None) -> KeepingWriter:
    """A shard's writer (our array codec unless another `codec` is given)."""
    return KeepingWriter(open_index(folder), timeout=timeout, limitmb=limitmb, codec=codec)


def reader(folders: list[Path], generations: list[int], generation: int):
    """One reader over every segment of each shard at its generation (raises
    FileNotFoundError or whoosh's EmptyIndexError when a generation's files are gone)."""
    readers: list[SegmentReader] = []
    schema = None
    try:
        for folder, gen in zip(folders, generations):
            storage = FileStorage(str(folder))
            toc = TOC.read(storage, INDEX_NAME, gen=gen)
            schema = schema or toc.schema
            for seg in toc.segments:
                readers.append(SegmentReader(storage, toc.schema, seg, generation=gen))
                readers[-1].kept_folder = folder  # segments.home: its kept files go here
    except BaseException:
        for r in readers:
            r.close()
        raise
    if not readers:
        return EmptyReader(schema)
    return MultiReader(readers, generation=generation)


def searcher(folders: list[Path], generations: list[int], generation: int, weighting) -> Searcher:
    return Searcher(reader(folders, generations, generation), weighting=weighting)


def rollback(folder: Path, generation: int) -> None:
    """Forget generations after `generation`: a run killed after its shard commits but
    before the pointer moved wrote them, and no reader ever saw them."""
    storage = FileStorage(str(folder))
    pattern = TOC._pattern(INDEX_NAME)
    for name in storage.list():
        found = pattern.match(name)
        if found and int(found.group(1)) > generation:
            storage.delete_file(name)


def clean(folder: Path, keep: set[int]) -> None:
    """Delete tables of contents of generations not in `keep`, and every segment file (with
    the arrays kept beside segments) none of the kept generations uses."""
    storage = FileStorage(str(folder))
    toc_pattern, segment_pattern = TOC._pattern(INDEX_NAME), TOC._segment_pattern(INDEX_NAME)
    used: set[str] = set()
    for gen in keep:
        try:
            used.update(seg.segment_id() for seg in TOC.read(storage, INDEX_NAME, gen=gen).segments)
        except (OSError, ValueError, EOFError):
            return  # a generation we keep cannot be read: delete nothing rather than too much
    for name in storage.list():
        if name.startswith("."):
            continue
        toc, segment = toc_pattern.match(name), segment_pattern.match(name)
        if (toc and int(toc.group(1)) not in keep) or (segment and segment.group(1) not in used):
            try:
                os.unlink(folder / name)
            except OSError:
                pass
