"""The spelling index: every word of the titles and excerpts as written, findable from a
misspelling in well under a millisecond, built by the indexer beside the index.

A deletion index, as SymSpell has it: each word is filed under itself and under each
string made by deleting one of its first `PREFIX` letters; a misspelling is looked up under
itself and the strings made by deleting up to two of its letters. Two strings that meet
there are close (one letter wrong, missing, extra or swapped, and most two-letter slips),
and the true distance is then checked on the few candidates. The files are NumPy arrays
opened memory-mapped, so every server process shares one copy through the page cache.
Which of the candidates to offer, and when, is `search/suggest.py`'s.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import re

import numpy as np

from . import store

FOLDER = "spelling"
FIELD = "body"  # title and excerpt words, folded, not stemmed
PREFIX = 10  # letters of a word its deletions are made from (longer words: the rest must match)
MIN_LENGTH = 3
VERSION = 2  # of the files below: an index with an older spelling index gets a new one
# An incremental run rebuilds the spelling index when the index has grown by this share
# since it was built; in between, new words wait (a suggestion is always checked against
# the live index, so a deleted word is never offered).
REBUILD_GROWTH = 0.1


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _deletions(word: str, depth: int) -> set[str]:
    """`word` (cut to PREFIX letters) and every string made by deleting up to `depth` letters."""
    found = {word[:PREFIX]}
    edge = set(found)
    for _ in range(depth):
        edge = {w[:i] + w[i + 1:] for w in edge for i in range(len(w)) if len(w) > 1}
        found |= edge
    return found


def build(build_dir: Path, reader, records: int) -> None:
    """Write the spelling index of the index `reader` reads (called by the indexer)."""
    words, df = [], []
    for text, info in reader.iter_field(FIELD):  # one pass: each word with its record count
        words.append(text.decode("utf-8") if isinstance(text, bytes) else text)
        df.append(info.doc_frequency())
    keys, owners = [], []
    for n, word in enumerate(words):  # every word is listed (patterns match any of them) ...
        if len(word) < MIN_LENGTH or any(c.isdigit() for c in word):
            continue  # ... but only real words are offered as spellings
        for variant in _deletions(word, 1):
            keys.append(_key(variant))
            owners.append(n)
    keys_a = np.array(keys, dtype=np.uint64)
    order = np.argsort(keys_a, kind="stable")
    folder = build_dir / FOLDER
    tmp = build_dir / f".{FOLDER}.tmp"
    tmp.mkdir(exist_ok=True)
    np.save(tmp / "keys.npy", keys_a[order])
    np.save(tmp / "owners.npy", np.array(owners, dtype=np.uint32)[order])
    np.save(tmp / "df.npy", np.array(df, dtype=np.uint32))
    (tmp / "words.txt").write_text("\n".join(words), encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps({"records": records, "words": len(words),
                                               "version": VERSION}), encoding="utf-8")
    if folder.exists():
        old = build_dir / f".{FOLDER}.old"
        os.replace(folder, old)
        os.replace(tmp, folder)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        os.replace(tmp, folder)


def stale(build_dir: Path, records: int) -> bool:
    """Whether an incremental run should rebuild the spelling index (missing, or outgrown)."""
    meta = store.read_json(build_dir / FOLDER / "meta.json")
    built = meta.get("records")
    return not isinstance(built, int) or meta.get("version") != VERSION \
        or records > built * (1 + REBUILD_GROWTH) \
        or records < built * (1 - REBUILD_GROWTH)


@dataclass
class Speller:
    """Close words of the index, and the words matching a pattern, from the files `build`
    wrote: every title and excerpt word as written, in the index's order."""

    keys: np.ndarray
    owners: np.ndarray
    words: list[str]
    text: str  # the words, one a line: a pattern is matched against all of them at C speed
    df: np.ndarray  # records holding each word, when the spelling index was built

    def completions(self, prefix: str, limit: int) -> list[str]:
        """The `limit` words starting with `prefix` that the most records hold."""
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff")
        if hi - lo <= limit:
            return self.words[lo:hi]
        counts = np.asarray(self.df[lo:hi])
        best = np.argpartition(-counts, limit - 1)[:limit]
        best = best[np.lexsort((best, -counts[best]))]
        return [self.words[lo + int(i)] for i in best]

    def matching(self, pattern: str, limit: int) -> list[str]:
        """Up to `limit` words matching a wildcard pattern (`*` any letters, `?` one)."""
        return matching_lines(self.text, pattern, limit)


    @classmethod
    def open(cls, build_dir: Path) -> "Speller | None":
        folder = build_dir / FOLDER
        try:
            keys = np.load(folder / "keys.npy", mmap_mode="r")
            owners = np.load(folder / "owners.npy", mmap_mode="r")
            text = (folder / "words.txt").read_text(encoding="utf-8")
            df = np.load(folder / "df.npy", mmap_mode="r")
        except (OSError, ValueError):
            return None
        words = text.split("\n")
        return cls(keys, owners, words, text, df) if len(df) == len(words) else None

    def candidates(self, word: str, limit: int = 64) -> list[str]:
        """Words of the index at most two letters from `word` (not `word` itself), nearest first."""
        lookups = np.array(sorted(_key(v) for v in _deletions(word, 2)), dtype=np.uint64)
        lo = np.searchsorted(self.keys, lookups, side="left")
        hi = np.searchsorted(self.keys, lookups, side="right")
        owners = set()
        for a, b in zip(lo.tolist(), hi.tolist()):
            owners.update(self.owners[a:b].tolist())
            if len(owners) > 4 * limit:
                break
        found = []
        for n in owners:
            candidate = self.words[n]
            if candidate != word:
                d = distance(word, candidate)
                if d <= 2:
                    found.append((d, candidate))
        return [w for _, w in sorted(found)[:limit]]


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of two letters is one."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            cur.append(cost)
        prev2, prev = prev, cur
    return prev[-1]


def matching_lines(text: str, pattern: str, limit: int) -> list[str]:
    """Up to `limit` lines of `text` matching a wildcard pattern, found at C speed."""
    regex = "".join("[^\n]*" if c == "*" else "[^\n]" if c == "?" else re.escape(c)
                    for c in pattern)
    found = re.finditer(f"^{regex}$", text, re.MULTILINE)
    return [m.group(0) for m in itertools.islice(found, limit)]
