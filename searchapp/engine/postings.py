"""Whoosh postings and field lengths of one segment, read a block at a time into NumPy arrays.

Whoosh's matchers score a query one posting at a time in Python, which is what made broad
queries (`police OR privacy`, a three-letter typed prefix) slow. Reading a term's postings
as arrays costs about one Python step per block of 128 postings, and segments never change
once written, so the arrays are cached per segment and shared by every generation of the
index until the cache's byte budget pushes out the least recently used.

This is the one module that reads Whoosh's codec internals (`W3LeafMatcher` blocks, the
length columns); everything it reads has a slow, public fallback.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from whoosh.codec import whoosh3
from whoosh.matching import wrappers
from whoosh.util.numeric import byte_to_length


# What a length byte stands for (Whoosh stores each field's length in one lossy byte).
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
# How often each way of reading was taken; the engine's test checks the fast ones are, so an
# upgrade of Whoosh that changes its internals shows up there rather than as a slowdown.
PATHS: Counter[str] = Counter()
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


def postings(leaf, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers within the segment, weights) of one term, deleted documents included."""
    if (fieldname, btext) not in leaf:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    m = _unfiltered(leaf.postings(fieldname, btext))
    ids: list = []
    weights: list = []
    if isinstance(m, whoosh3.W3LeafMatcher):
        PATHS["postings: blocks"] += 1
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.append(np.asarray(m._ids, dtype=np.int32))
            weights.append(np.asarray(m._weights, dtype=np.float32))
            m._next_block()
        if not ids:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        return np.concatenate(ids), np.concatenate(weights)
    PATHS["postings: one at a time"] += 1
    while m.is_active():  # inlined postings (rare terms) and any other matcher
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


def positions(leaf, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document number, position) of every occurrence of one term within the segment."""
    if (fieldname, btext) not in leaf:
        return _EMPTY_IDS, _EMPTY_IDS
    m = _unfiltered(leaf.postings(fieldname, btext))
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
    return np.array(terms, dtype=bytes) if terms else _NO_TERMS


def length_bytes(leaf, fieldname: str) -> np.ndarray | None:
    """Each document's length byte for a field (0: empty), or None if the field keeps none."""
    n = leaf.doc_count_all()
    perdoc = getattr(leaf, "_perdoc", None)
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


def _unfiltered(m):
    """Whoosh hides a segment's deleted documents behind a FilterMatcher; we mask them later."""
    while isinstance(m, wrappers.FilterMatcher):
        m = m.child
    return m
