"""Whoosh postings and field lengths of one segment, read a block at a time into NumPy arrays.

Whoosh's matchers score a query one posting at a time in Python, which is what made broad
queries (`police OR privacy`, a three-letter typed prefix) slow. Reading a term's postings
as arrays costs about one Python step per block of 128 postings, and segments never change
once written, so the arrays are cached per segment and shared by every generation of the
index until the cache's byte budget pushes out the least recently used.

This is the one module that reads Whoosh's codec internals (`W3LeafMatcher` blocks, the
length columns); everything it reads has a slow, public fallback. A segment of our own
array codec (engine/codec), which every writer of the index writes, is read as the arrays
it is: nothing to decode, and nothing cached (`through`), since the arrays are views of
the mapped files.
"""

from __future__ import annotations

import itertools
import pickle
from collections import Counter

import numpy as np
from whoosh import formats
from whoosh.codec import whoosh3
from whoosh.matching import wrappers
from whoosh.util.numeric import byte_to_length

from .codec.reading import ArrayPerDocReader, ArrayTermsReader
from .deadline import passed


# What a length byte stands for (Whoosh stores each field's length in one lossy byte).
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
# How often each way of reading was taken; the engine's test checks the fast ones are, so an
# upgrade of Whoosh that changes its internals shows up there rather than as a slowdown.
PATHS: Counter[str] = Counter()
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
_COUNT = formats._INT_SIZE  # the count before a posting's pickled position gaps


class TimeUp(Exception):
    """A search's deadline passed in the middle of reading a long posting list."""


# Blocks of postings read between looks at the clock (a block is ~20 us to read; the list
# of a word in a third of a million records is 2,600 blocks).
BLOCKS_PER_LOOK = 64


def postings(leaf, fieldname: str, btext: bytes, deadline: float | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers within the segment, weights) of one term, deleted documents
    included; raises TimeUp when past `deadline` (a `time.perf_counter()` value) before
    the end of a long list."""
    arrays = _array_terms(leaf)
    if arrays is not None:  # an array segment: the term's postings are views of its file
        PATHS["postings: arrays"] += 1
        found = arrays.postings_arrays(fieldname, btext)
        if found is None:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        return found[0], found[1]  # views of the file (<u4, <f4), not copies
    if (fieldname, btext) not in leaf:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    m = _unfiltered(leaf.postings(fieldname, btext))
    ids: list = []
    weights: list = []
    if isinstance(m, whoosh3.W3LeafMatcher) and not m._byteids:
        PATHS["postings: blocks"] += 1
        return _blocks(m, deadline)
    PATHS["postings: one at a time"] += 1
    while m.is_active():  # inlined postings (rare terms) and any other matcher
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


def _blocks(m, deadline: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Every block of a posting list, decoded together. A block's data is a pickled tuple
    of ids (the first one whole, then the gaps) and weights (None when all are 1, one float
    when all are the same); Whoosh turns the gaps back into ids one Python step per posting.
    Here the gaps of all blocks are added up in one NumPy pass: each block's first id is
    made a gap from the last id of the block before, which its header holds."""
    gaps: list = []
    weights: list = []
    lasts: list[int] = []
    while m.is_active():
        if m._data is None:
            m._read_data()
        block_ids, block_weights = m._data[0], m._data[1]
        n = len(block_ids)
        gaps.append(block_ids)
        if block_weights is None:
            weights.append(np.ones(n, dtype=np.float32))
        elif isinstance(block_weights, float):
            weights.append(np.full(n, block_weights, dtype=np.float32))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float32))
        lasts.append(m._maxid)
        m._next_block()
        if deadline is not None and len(lasts) % BLOCKS_PER_LOOK == 1 and passed(deadline):
            raise TimeUp
    if not gaps:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    sizes = np.fromiter(map(len, gaps), dtype=np.int64, count=len(gaps))
    flat = np.fromiter(itertools.chain.from_iterable(gaps), dtype=np.int64, count=int(sizes.sum()))
    if len(gaps) > 1:
        firsts = np.cumsum(sizes)[:-1]
        flat[firsts] -= np.array(lasts[:-1], dtype=np.int64)
    return np.cumsum(flat).astype(np.int32), np.concatenate(weights)


def positions(leaf, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document number, position) of every occurrence of one term within the segment."""
    arrays = _array_terms(leaf)
    if arrays is not None and arrays.has_positions(fieldname):
        PATHS["positions: arrays"] += 1
        found = arrays.postings_arrays(fieldname, btext)
        if found is None:
            return _EMPTY_IDS, _EMPTY_IDS
        docs, _, counts, starts, where = found  # a term's positions are one run of the array
        first, n = int(starts[0]), int(counts.sum())
        return np.repeat(docs.astype(np.int32), counts), where[first:first + n].astype(np.int32)
    if (fieldname, btext) not in leaf:
        return _EMPTY_IDS, _EMPTY_IDS
    m = _unfiltered(leaf.postings(fieldname, btext))
    if isinstance(m, whoosh3.W3LeafMatcher) and type(m.format) is formats.Positions:
        PATHS["positions: blocks"] += 1
        return _block_positions(m)
    PATHS["positions: one at a time"] += 1
    docs: list[int] = []
    where: list[int] = []
    while m.is_active():
        found = m.value_as("positions")
        docs.extend([m.id()] * len(found))
        where.extend(found)
        m.next()
    return np.array(docs, dtype=np.int32), np.array(where, dtype=np.int32)


_NO_TERMS = np.zeros(0, dtype=bytes)


def vector_terms(leaf, docnum: int, fieldname: str) -> np.ndarray:
    """The terms of one document's term vector (bytes), without decoding their counts: a
    block of them at a time instead of one (term, count) pair per Python step."""
    if not leaf.has_vector(docnum, fieldname):
        return _NO_TERMS
    perdoc = getattr(leaf, "_perdoc", None)
    if isinstance(perdoc, ArrayPerDocReader):
        PATHS["vectors: arrays"] += 1
        found = perdoc.vector_terms(docnum, fieldname)
        return np.array(found, dtype=bytes) if found else _NO_TERMS
    m = leaf.vector(docnum, fieldname)
    terms: list[bytes] = []
    if isinstance(m, whoosh3.W3LeafMatcher):
        PATHS["vectors: blocks"] += 1
        while m.is_active():
            m._read_ids()
            terms.extend(m._ids)
            m._next_block()
    else:
        PATHS["vectors: one at a time"] += 1
        terms.extend(m.all_ids())
    if not terms:
        return _NO_TERMS
    # A vector's terms are pickled as text (Whoosh writes them as str): encode them, or
    # NumPy would try ASCII and fail on the first `café`.
    return np.array([t.encode("utf-8") if isinstance(t, str) else t for t in terms], dtype=bytes)


def _block_positions(m) -> tuple[np.ndarray, np.ndarray]:
    """Positions a block at a time. Each posting's value is its count and a pickled list of
    position gaps (Whoosh's `Positions.encode`); when every gap of a block is below 256 (in
    titles and excerpts nearly always) the pickles have one fixed shape and the gaps are
    read out of the block's bytes in a few NumPy steps, not one Python call per posting."""
    ids: list[np.ndarray] = []
    gaps: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    while m.is_active():
        m._read_ids()
        m._read_values()
        n, g = _block_gaps(m._values)
        ids.append(np.asarray(m._ids, dtype=np.int32))
        counts.append(n)
        gaps.append(g)
        m._next_block()
    if not ids:
        return _EMPTY_IDS, _EMPTY_IDS
    n, flat = np.concatenate(counts), np.concatenate(gaps)
    running = np.cumsum(flat)
    first = np.cumsum(n) - n  # each posting's first gap in `flat`
    before = np.repeat(running[first] - flat[first], n)  # the sum just before a posting's gaps
    return np.repeat(np.concatenate(ids), n), (running - before).astype(np.int32)


_SMALL_GAP = ord("K")  # pickle's BININT1: an int below 256 in the next byte
_PICKLE_HEAD = 9  # the count (4 bytes), then PROTO 2, EMPTY_LIST, BINPUT 0 (5 bytes)


def _block_gaps(values) -> tuple[np.ndarray, np.ndarray]:
    """(gaps per posting, all gaps) of one block's position values."""
    sizes = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    raw = np.frombuffer(b"".join(values), dtype=np.uint8)
    at = np.cumsum(sizes) - sizes
    n = (raw[at].astype(np.int64) << 24) | (raw[at + 1].astype(np.int64) << 16) \
        | (raw[at + 2].astype(np.int64) << 8) | raw[at + 3]
    stop = (raw[at + sizes - 1] == ord(".")).astype(np.int64)
    many = (n > 1).astype(np.int64)  # a list of several: MARK, the items, APPENDS; else APPEND
    if (sizes == _PICKLE_HEAD + 2 * n + 1 + many + stop).all():
        item = np.repeat(at + _PICKLE_HEAD + many, n) + 2 * _ranks(n)  # each "K"
        if (raw[item] == _SMALL_GAP).all():
            return n, raw[item + 1].astype(np.int64)
    PATHS["positions: pickles"] += 1  # a gap of 256 or more somewhere in the block
    lists = [pickle.loads(v[_COUNT:] if v.endswith(b".") else v[_COUNT:] + b".") for v in values]
    flat = list(itertools.chain.from_iterable(lists))
    return (np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)),
            np.array(flat, dtype=np.int64))


def _ranks(n: np.ndarray) -> np.ndarray:
    """0, 1, ..., n[i] - 1 for each i, concatenated."""
    ends = np.cumsum(n)
    return np.arange(int(ends[-1]) if len(n) else 0) - np.repeat(ends - n, n)


def has_lengths(leaf, fieldname: str) -> bool:
    """Whether the segment keeps each document's length byte for a field (`length_bytes`)."""
    perdoc = getattr(leaf, "_perdoc", None)
    return perdoc is not None and perdoc.has_column(whoosh3._lenfield(fieldname))


def length_bytes(leaf, fieldname: str) -> np.ndarray | None:
    """Each document's length byte for a field (0: empty), or None if the field keeps none."""
    n = leaf.doc_count_all()
    perdoc = getattr(leaf, "_perdoc", None)
    if isinstance(perdoc, ArrayPerDocReader):
        PATHS["lengths: arrays"] += 1
        found = perdoc.length_bytes(fieldname)
        return None if found is None else found[:n]  # a view of the file
    name = whoosh3._lenfield(fieldname)
    if perdoc is None or not perdoc.has_column(name):
        return None
    reader = perdoc.column_reader(name, whoosh3.LENGTHS_COLUMN)
    out = np.zeros(n, dtype=np.uint8)
    dbfile, base, count = (getattr(reader, a, None) for a in ("_dbfile", "_basepos", "_count"))
    if dbfile is not None and base is not None and count is not None and count <= n:
        PATHS["lengths: one read"] += 1
        out[:count] = np.frombuffer(bytes(dbfile.get(base, count)), dtype=np.uint8)
    else:
        PATHS["lengths: one at a time"] += 1
        out[:] = np.fromiter((reader[i] for i in range(n)), dtype=np.uint8, count=n)
    return out


def mapped(leaf) -> bool:
    """Whether a segment is one of our array codec's, whose postings, lengths and vectors
    are views of its mapped files: the kernel's page cache is their only cache, shared by
    every process, so no process keeps copies of them (`through`)."""
    return _array_terms(leaf) is not None


def through(cache, leaf, key, read):
    """`read()`, kept in `cache` under `key` for a W3 segment (decoding its blocks is the
    cost a cache saves); read each time for an array segment (`mapped`)."""
    if mapped(leaf):
        PATHS["cache: passed by"] += 1
        return read()
    return cache.get(key, read)


def _array_terms(leaf) -> ArrayTermsReader | None:
    """The terms reader of a segment written by our array codec (engine/codec), else None."""
    terms = getattr(leaf, "_terms", None)
    return terms if isinstance(terms, ArrayTermsReader) else None


def _unfiltered(m):
    """Whoosh hides a segment's deleted documents behind a FilterMatcher; we mask them later."""
    while isinstance(m, wrappers.FilterMatcher):
        m = m.child
    return m
