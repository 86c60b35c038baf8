"""The words of a field, over one generation's segments: the completions of a typed prefix,
the words a wildcard pattern matches, and the words within a few edits of a fuzzy term.

Each segment's words come sorted with their record counts (engine/lexicon.py), read once per
segment and shared by every generation of a build, so a reindex costs only its new segments'
words and the lists are never merged: a prefix is looked up in each, and a word's count is
the sum of its counts in each. Counts include records deleted since their segment was
written, until Whoosh merges it away; a word only deleted records held is completed to
nothing, which finds nothing more.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ..engine import lexicon
from ..engine.deadline import Deadline, passed
from ..index.spelling import matching_lines

_LAST = "\U0010ffff"
# Words a wildcard or fuzzy scan reads between looks at the clock (a few ms of C each).
SCAN_WORDS = 32768


@dataclass
class SegmentWords:
    words: list[str]
    df: np.ndarray

    def count(self, word: str) -> int:
        i = bisect.bisect_left(self.words, word)
        return int(self.df[i]) if i < len(self.words) and self.words[i] == word else 0

    def best(self, prefix: str, limit: int) -> tuple[list[str], int]:
        """The words starting with `prefix` that the most records hold: at least `limit` of
        them, with every word tied with the last; and the most records any word left out
        holds here (0 when none is left out)."""
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + _LAST, lo)
        if hi - lo <= limit:
            return self.words[lo:hi], 0
        counts = self.df[lo:hi].astype(np.int64)
        least = int(np.partition(counts, len(counts) - limit)[len(counts) - limit])
        return [self.words[lo + int(i)] for i in np.flatnonzero(counts >= least)], least - 1


class WordCache:
    """Each segment's words of each field, for every generation of one build (in `folder`,
    where they are kept beside their segments)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._found: dict[tuple[str, str], SegmentWords] = {}
        self._lock = threading.Lock()

    def of(self, leaf, segment_id: str, field: str) -> SegmentWords:
        key = (segment_id, field)
        found = self._found.get(key)
        if found is None:
            with self._lock:  # one thread reads a segment's words; the others wait for them
                found = self._found.get(key)
                if found is None:
                    found = self._found[key] = SegmentWords(
                        *lexicon.words(leaf, segment_id, field, self.folder))
        return found

    def forget(self, live_segment_ids: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._found if k[0] not in live_segment_ids]:
                del self._found[key]


class Words:
    """One field's words over the segments of one generation."""

    def __init__(self, parts: list[SegmentWords]):
        self.parts = parts

    @cached_property
    def texts(self) -> list[str]:
        """Every word of the field, once, in order, one a line, in pieces of SCAN_WORDS
        words: made once per generation (the segments' lists share most of their words; a
        pattern scanning all of them each time took several times longer), and scanned a
        piece at a time, so a search looks at its clock between pieces."""
        words = self.sorted
        return ["\n".join(words[i:i + SCAN_WORDS]) for i in range(0, len(words), SCAN_WORDS)]

    def completions(self, prefix: str, limit: int) -> list[str]:
        """The `limit` words starting with `prefix` that the most records hold (ties: the
        first in order), exactly, however the records are split into segments and shards.

        Each segment offers its own best; a word none of them offered holds at most the sum
        of what each left out holds. While the last word chosen does not hold more than
        that, the segments are asked for more."""
        if limit <= 0:
            return []
        size = limit
        while True:
            found: dict[str, None] = {}
            bound = 0
            for part in self.parts:
                words, most_left_out = part.best(prefix, size)
                found.update(dict.fromkeys(words))
                bound += most_left_out
            counts = {w: self.count(w) for w in found}
            ranked = sorted(found, key=lambda w: (-counts[w], w))[:limit]
            if bound == 0 or (len(ranked) == limit and counts[ranked[-1]] > bound):
                return ranked
            size *= 4

    def count(self, word: str) -> int:
        """Records holding `word`, over every segment."""
        return sum(part.count(word) for part in self.parts)

    @cached_property
    def sorted(self) -> list[str]:
        """Every word of the field, once, in order."""
        if len(self.parts) == 1:
            return self.parts[0].words
        return sorted(set().union(*(p.words for p in self.parts)))

    def within(self, word: str, maxdist: int, prefix: int, limit: int,
               deadline: Deadline = None) -> list[tuple[str, int]]:
        """Up to `limit` words within `maxdist` edits of `word` that share its first `prefix`
        letters, each with its distance: the nearest first, then those most records hold.
        Past `deadline`, among the words scanned by then (SCAN_WORDS at a time).

        Edits are counted as Whoosh's fuzzy terms count them (a letter added, dropped or
        changed, or two neighbours swapped: optimal string alignment), by rapidfuzz in C over
        the words that share the prefix, instead of Whoosh walking its lexicon per segment
        in Python (seconds on a real-sized index)."""
        words = self.sorted
        lo, hi = 0, len(words)
        if prefix > 0:
            head = word[:prefix]
            lo = bisect.bisect_left(words, head)
            hi = bisect.bisect_left(words, head + _LAST, lo)
        if limit <= 0 or lo >= hi:
            return []
        found = []
        for start in range(lo, hi, SCAN_WORDS):
            found += process.extract(word, words[start:min(start + SCAN_WORDS, hi)],
                                     scorer=OSA.distance, score_cutoff=maxdist, limit=None)
            if passed(deadline):
                break
        found.sort(key=lambda f: (f[1], -self.count(f[0]), f[0]))
        return [(w, int(d)) for w, d, _ in found[:limit]]

    def matching(self, pattern: str, limit: int, deadline: Deadline = None) -> list[str]:
        """Up to `limit` words matching a wildcard pattern (`*` any letters, `?` one), in
        order; past `deadline`, among the words scanned by then (SCAN_WORDS at a time)."""
        found: list[str] = []
        for text in self.texts:
            found += matching_lines(text, pattern, limit - len(found))
            if len(found) >= limit or passed(deadline):
                break
        return found
