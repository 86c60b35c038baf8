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

import threading
from collections import OrderedDict
from typing import Callable

import numpy as np
from whoosh.codec import whoosh3
from whoosh.matching import wrappers
from whoosh.util.numeric import byte_to_length

# What a length byte stands for (Whoosh stores each field's length in one lossy byte).
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


class PostingCache:
    """Arrays read from immutable segments, least recently used first out past `max_bytes`."""

    def __init__(self, max_bytes: int = 256 * 2**20):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[tuple, tuple[np.ndarray, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, read: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = read()
        size = sum(a.nbytes for a in found)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self.bytes += size
            while self.bytes > self.max_bytes and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.bytes -= sum(a.nbytes for a in old)
        return found

    def forget(self, live_segment_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._items if k[0] not in live_segment_ids]:
                self.bytes -= sum(a.nbytes for a in self._items.pop(key))


def postings(leaf, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers within the segment, weights) of one term, deleted documents included."""
    if (fieldname, btext) not in leaf:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    m = _unfiltered(leaf.postings(fieldname, btext))
    ids: list = []
    weights: list = []
    if isinstance(m, whoosh3.W3LeafMatcher):
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.append(np.asarray(m._ids, dtype=np.int32))
            weights.append(np.asarray(m._weights, dtype=np.float32))
            m._next_block()
        if not ids:
            return _EMPTY_IDS, _EMPTY_WEIGHTS
        return np.concatenate(ids), np.concatenate(weights)
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
        out[:count] = np.frombuffer(bytes(dbfile.get(base, count)), dtype=np.uint8)
    else:
        out[:] = np.fromiter((reader[i] for i in range(n)), dtype=np.uint8, count=n)
    return out


def _unfiltered(m):
    """Whoosh hides a segment's deleted documents behind a FilterMatcher; we mask them later."""
    while isinstance(m, wrappers.FilterMatcher):
        m = m.child
    return m
