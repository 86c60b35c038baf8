"""Least-recently-used caches bounded by the bytes their values hold, not by their number.

One cached posting list can be 8 bytes or 8 MB, and one cached search can hold the match
arrays of a single record or of a million, so a count of entries says nothing about memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    def __init__(self, max_bytes: int, size: Callable[[V], int]):
        self.max_bytes = max_bytes
        self.size = size
        self.bytes = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The cached value for `key`, or `compute()`'s, kept unless it alone overflows."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        value = compute()
        nbytes = self.size(value)
        if nbytes > self.max_bytes:
            return value
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, nbytes)
                self.bytes += nbytes
            while self.bytes > self.max_bytes:
                _, (_, old) = self._items.popitem(last=False)
                self.bytes -= old
        return value

    def forget(self, stale: Callable[[Any], bool]) -> None:
        """Drop every entry whose key `stale` says no longer applies."""
        with self._lock:
            for key in [k for k in self._items if stale(k)]:
                self.bytes -= self._items.pop(key)[1]

    def __len__(self) -> int:
        return len(self._items)


class PostingCache(ByteLRU):
    """Arrays read from immutable segments, keyed by (segment id, ...), within a byte budget."""

    def __init__(self, max_bytes: int = 192 * 2**20):
        super().__init__(max_bytes, lambda arrays: sum(a.nbytes for a in arrays) + 200)

    def forget_segments(self, live_segment_ids: set[str]) -> None:
        self.forget(lambda key: key[0] not in live_segment_ids)
