"""The spelling index: every word of the titles and excerpts as written, findable from a
misspelling in well under a millisecond, built by the indexer beside the index.

A deletion index, as SymSpell has it: each word is filed under itself and under each
string made by deleting one of its first `PREFIX` letters; a misspelling is looked up under
itself and the strings made by deleting up to two of its letters. Two strings that meet
there are close (one letter wrong, missing, extra or swapped, and most two-letter slips),
and the true distance is then checked on the few candidates. The files are NumPy arrays
opened memory-mapped, so every server process shares one copy through the page cache.
Beside it, a sound index: each word filed under its phonetic key (`sound_key`, metaphone
from jellyfish, its aspirate H dropped), so that a word typed as it sounds finds the
spelling the records use though the letters are far apart (kadafi, Gaddafi, Qaddafi and
Gadhafi share one key; Bejing and Beijing another). Which of the candidates to offer, and
when, is `search/suggest.py`'s.

Losing it costs corrections, never searches: `Speller.load` says in words what is wrong
(`SpellingLost`), the searches go on without corrections and say so, `searchapp check`
names it, and the next `searchapp index` writes it again (`stale`). A mapped file that
shrinks under a reader would fault at the next lookup past its end (SIGBUS: no Python code
can catch it), so the sizes are checked against the recorded ones before mapping and each
file's size again before each lookup.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import jellyfish
import numpy as np

from ..engine.npyfiles import READING
from . import integrity, store

FOLDER = "spelling"
POINTER = "spelling.json"  # names the folder of the current version
FIELD = "written"  # title and excerpt words, folded, not stemmed
PREFIX = 10  # letters of a word its deletions are made from (longer words: the rest must match)
MIN_LENGTH = 3
VERSION = 3  # of the files below (3: the sound index): an older spelling index is rebuilt
# An incremental run rebuilds the spelling index when the index has grown by this share
# since it was built; in between, new words wait (a suggestion is always checked against
# the live index, so a deleted word is never offered).
REBUILD_GROWTH = 0.1
FILES = ("keys.npy", "owners.npy", "df.npy", "words.txt",
         "sounds.npy", "sounders.npy")  # the sound index: hashed keys, sorted, and their words
_FOLDER_NAME = re.compile(rf"{FOLDER}-[0-9]+\Z")  # a pointer never leads out of its build
# What losing it costs, said wherever the loss is named.
COST = ('spelling corrections ("did you mean") are off until `searchapp index` or '
        "`searchapp check --repair` writes it again")


class SpellingLost(Exception):
    """The spelling index cannot be used; the message names the file and what is wrong."""


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def sound_key(word: str) -> str:
    """How `word` sounds: its metaphone without the H an aspirate leaves (Gadhafi, Khadafy
    sound as Gaddafi), '' for a word metaphone cannot read."""
    try:
        return jellyfish.metaphone(word).replace("H", "")
    except (ValueError, TypeError):
        return ""


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
    sounds, sounders = [], []
    for n, word in enumerate(words):
        if len(word) >= MIN_LENGTH and word.isalpha() and (key := sound_key(word)):
            sounds.append(_key("#" + key))
            sounders.append(n)
    sounds_a = np.array(sounds, dtype=np.uint64)
    heard = np.argsort(sounds_a, kind="stable")
    # A new folder each time, then the pointer switched to it: a reader opening the spelling
    # index sees one whole version, never files of two; the old folder goes afterwards.
    name = f"{FOLDER}-{time.time_ns()}"
    tmp = build_dir / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.save(tmp / "keys.npy", keys_a[order])
    np.save(tmp / "owners.npy", np.array(owners, dtype=np.uint32)[order])
    np.save(tmp / "df.npy", np.array(df, dtype=np.uint32))
    (tmp / "words.txt").write_text("\n".join(words), encoding="utf-8")
    np.save(tmp / "sounds.npy", sounds_a[heard])
    np.save(tmp / "sounders.npy", np.array(sounders, dtype=np.uint32)[heard])
    integrity.record(tmp)
    os.replace(tmp, build_dir / name)
    store.write_json(build_dir / POINTER, {"folder": name, "records": records,
                                           "words": len(words), "version": VERSION,
                                           "generation": reader.generation()})
    for old in [*build_dir.glob(f"{FOLDER}-*"), build_dir / FOLDER]:  # and the unversioned one
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def built_for(build_dir: Path) -> dict:
    """What the live spelling index was built from: records, words, index generation."""
    return store.read_json(build_dir / POINTER)


def stale(build_dir: Path, records: int) -> bool:
    """Whether an incremental run should rebuild the spelling index: outgrown, or lost
    (missing, damaged, of another version: every file against its checksum, a few
    milliseconds per million words)."""
    built = built_for(build_dir).get("records")
    return not isinstance(built, int) or records > built * (1 + REBUILD_GROWTH) \
        or records < built * (1 - REBUILD_GROWTH) or lost(build_dir, checksums=True) is not None


def lost(build_dir: Path, checksums: bool = False, verified=None,
         fresh_s: float | None = None) -> str | None:
    """What is wrong with the build's spelling index, in words, or None when it can be
    used (`checksums`, `verified`, `fresh_s`: as integrity.problems takes them)."""
    try:
        Speller.load(build_dir, checksums, verified, fresh_s)
    except SpellingLost as exc:
        return str(exc)
    return None


def _pointed(build_dir: Path) -> tuple[Path, dict]:
    """(the folder the pointer names, checked to be one; what the pointer says)."""
    where = f"{build_dir.name}/{POINTER}"
    try:
        meta = json.loads((build_dir / POINTER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpellingLost(f"{where} (which names the spelling index) is missing") from None
    except (OSError, ValueError) as exc:  # a UnicodeDecodeError is a ValueError
        raise SpellingLost(f"{where} (which names the spelling index) cannot be read "
                           f"({type(exc).__name__})") from None
    name = meta.get("folder") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not _FOLDER_NAME.match(name):
        raise SpellingLost(f"{where} is damaged: it names no spelling folder")
    if meta.get("version") != VERSION:
        raise SpellingLost(f"{where} names a spelling index of version {meta.get('version')!r}"
                           f"; this searchapp reads version {VERSION}")
    if not (build_dir / name).is_dir():
        raise SpellingLost(f"{build_dir.name}/{name} (the spelling index {POINTER} names) "
                           "is missing")
    return build_dir / name, meta


@dataclass
class Speller:
    """Close words of the index, from the files `build` wrote: every title and excerpt word
    as written, in the index's order. (Completions and patterns read each segment's own
    words, search/words.py, which a reindex never leaves behind.)"""

    keys: np.ndarray
    owners: np.ndarray
    words: list[str]
    df: np.ndarray  # records holding each word, when the spelling index was built
    generation: int | None  # the index generation it was built from
    sounds: np.ndarray  # the sound keys of the words, hashed and sorted ...
    sounders: np.ndarray  # ... and the word each belongs to
    lost: str | None = None  # set once a mapped file is found shorter than when opened

    @classmethod
    def load(cls, build_dir: Path, checksums: bool = False, verified=None,
             fresh_s: float | None = None) -> "Speller":
        """The build's spelling index, memory-mapped (every process shares one copy), once
        every file is there and of the size recorded (`checksums`: and matches its
        checksum); SpellingLost says what is wrong."""
        folder, meta = _pointed(build_dir)
        sums = integrity.read_sums(folder)
        for name in FILES:
            found = integrity.file_problems(folder, name, sums.get(name), checksums, verified,
                                            f"{build_dir.name}/{folder.name}", fresh_s)
            if found:
                raise SpellingLost(found[0])
        where = f"{build_dir.name}/{folder.name}"
        try:
            with READING:
                keys = np.load(folder / "keys.npy", mmap_mode="r")
                owners = np.load(folder / "owners.npy", mmap_mode="r")
                df = np.load(folder / "df.npy", mmap_mode="r")
                sounds = np.load(folder / "sounds.npy", mmap_mode="r")
                sounders = np.load(folder / "sounders.npy", mmap_mode="r")
            words = (folder / "words.txt").read_text(encoding="utf-8").split("\n")
        except (OSError, ValueError) as exc:  # a UnicodeDecodeError is a ValueError
            raise SpellingLost(f"{where} cannot be read ({type(exc).__name__}: "
                               f"{str(exc)[:120]})") from None
        if len(df) != len(words) or len(keys) != len(owners) or len(sounds) != len(sounders):
            raise SpellingLost(f"{where} is damaged: its files do not agree on how many "
                               "words it holds")
        return cls(keys, owners, words, df, meta.get("generation"), sounds, sounders)

    def intact(self) -> bool:
        """Whether every mapped file is still as long as when it was mapped (a lookup past
        the end of one that shrank would kill the process); remembers `lost` when not."""
        if self.lost is None:
            for name, array in (("keys.npy", self.keys), ("owners.npy", self.owners),
                                ("df.npy", self.df), ("sounds.npy", self.sounds),
                                ("sounders.npy", self.sounders)):
                mapped = getattr(array, "_mmap", None)
                try:
                    short = mapped is not None and mapped.size() < array.offset + array.nbytes
                except (OSError, ValueError):  # closed under us, or gone
                    short = True
                if short:
                    self.lost = f"the spelling index's {name} shrank after it was opened"
                    break
        return self.lost is None

    def completions(self, prefix: str, limit: int) -> list[str]:
        """The `limit` words starting with `prefix` that the most records hold."""
        if not self.intact():
            return []
        lo = bisect.bisect_left(self.words, prefix)
        hi = bisect.bisect_left(self.words, prefix + "\U0010ffff")
        if hi - lo <= limit:
            return self.words[lo:hi]
        counts = np.asarray(self.df[lo:hi])
        best = np.argpartition(-counts, limit - 1)[:limit]
        best = best[np.lexsort((best, -counts[best]))]
        return [self.words[lo + int(i)] for i in best]


    def candidates(self, word: str, limit: int = 64) -> list[str]:
        """Words of the index at most two letters from `word` (not `word` itself), nearest first.

        The lookups go nearest first (the word itself, then with one letter deleted, then
        two), and stop collecting once there are plenty: a short word's two-letter
        deletions reach thousands of words, and stopping among them in hash order lost
        `court` for `cort` (`corp` was offered instead)."""
        if not self.intact():
            return []
        owners: set[int] = set()
        seen: set[str] = set()
        for depth in range(3):
            variants = sorted(_deletions(word, depth) - seen)
            seen.update(variants)
            lookups = np.array(sorted(_key(v) for v in variants), dtype=np.uint64)
            lo = np.searchsorted(self.keys, lookups, side="left")
            hi = np.searchsorted(self.keys, lookups, side="right")
            for a, b in zip(lo.tolist(), hi.tolist()):
                owners.update(self.owners[a:b].tolist())
            if len(owners) > 4 * limit:
                break
        found = []
        for n in owners:
            if n >= len(self.words):  # flipped bytes (the background check will say so)
                continue
            candidate = self.words[n]
            if candidate != word:
                d = distance(word, candidate)
                if d <= 2:
                    found.append((d, candidate))
        return [w for _, w in sorted(found)[:limit]]


    def sounding(self, word: str, limit: int = 256) -> list[str]:
        """Words of the index that sound as `word` does (its `sound_key`), not `word` itself;
        at most `limit` of them (a short key is shared by many words)."""
        key = sound_key(word)
        if not key or not self.intact():
            return []
        lookup = np.array([_key("#" + key)], dtype=np.uint64)
        lo, hi = (int(i) for i in (np.searchsorted(self.sounds, lookup, side="left")[0],
                                   np.searchsorted(self.sounds, lookup, side="right")[0]))
        found = (self.words[n] for n in self.sounders[lo:min(hi, lo + limit)].tolist()
                 if n < len(self.words))  # (flipped bytes: the background check says so)
        return [w for w in found if w != word]


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


MAX_STARS = 6  # `*` runs in one pattern: each more multiplies how long a match may take


def matching_lines(text: str, pattern: str, limit: int) -> list[str]:
    """Up to `limit` lines of `text` matching a wildcard pattern, found at C speed.

    A run of wildcards becomes one bounded step (`*?*?` is "two letters or more"), so a
    pattern cannot make the regular expression backtrack without end; a pattern with more
    than MAX_STARS runs holding `*` matches nothing.
    """
    parts, stars = [], 0
    for run, group in itertools.groupby(pattern, key=lambda c: c in "*?"):
        chars = "".join(group)
        if not run:
            parts.append(re.escape(chars))
            continue
        letters = chars.count("?")
        if "*" in chars:
            stars += 1
            parts.append(f"[^\n]{{{letters},}}")
        else:
            parts.append(f"[^\n]{{{letters}}}")
    if stars > MAX_STARS:
        return []
    found = re.finditer(f"^{''.join(parts)}$", text, re.MULTILINE)
    return [m.group(0) for m in itertools.islice(found, limit)]
