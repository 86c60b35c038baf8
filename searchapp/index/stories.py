"""Stories: records that are copies of one article (a wire story run by many outlets, lightly
edited) share a story id, the smallest record id among them.

Each record gets a MinHash signature of the word shingles of its title and excerpt when it
is written: PERMS minima, each kept as its low 16 bits (b-bit minwise hashing: two
signatures agree at a position with probability J + (1 - J) / 65536, J the Jaccard
similarity of the two sets of shingles), 128 bytes in a column of its segment. Two records
are *alike* when their signatures are equal in one of BANDS bands of ROWS positions (a band
is 8 bytes, read as one uint64, so finding who shares one is a sort), agree in at least
`threshold` of all positions, and were published within `window_hours` of each other (when
both have a date). A story is a connected group of alike records.

Measured on labelled pairs from the news corpora (bench/bench_stories.py), nearly every
false join was a recurring report ("Fed adds reserves via customer repurchases") on
another day with other figures: hence the window, and shingles holding a number counting
NUMBER_WEIGHT times (added again under salts), so that differing figures weigh more.

datasketch does the same per record with Python objects (its LSH keeps a set per bucket, a
gigabyte at a million records); arrays over every record's signature are a fraction of that
and are grouped in seconds. Records with fewer than MIN_SHINGLES shingles (a bare headline:
"U.S. weekly money supply" recurs every week) are not judged: each is a story of its own.

A story depends on the records alone, not on the order they arrived in, so an incremental
run (`regroup`: the stories of the records it changed, and of those they now join) gives
what a full rebuild (`group`) gives; a test holds the two to each other.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whoosh.support.charset import accent_map

from ..engine import columns, segments
from ..settings import Settings
from .analysis import WORD_PATTERN
from .schema import NO_DATE

PERMS = 64
ROWS = 4  # positions per band: four 16-bit values are one uint64
BANDS = PERMS // ROWS
SIGNATURE_BYTES = PERMS * 2
SHINGLE = 3  # words per shingle
MIN_SHINGLES = 8
BIG_BUCKET = 2000  # past this, a band's bucket is compared along its sorted order only

_rng = np.random.default_rng(20261201)  # fixed: signatures are kept in the index
_A = _rng.integers(1, 1 << 63, size=(PERMS, 1), dtype=np.uint64) | np.uint64(1)  # odd
_B = _rng.integers(0, 1 << 63, size=(PERMS, 1), dtype=np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)
_WORDS = re.compile(WORD_PATTERN)
_DIGIT = re.compile(r"\d")
NUMBER_WEIGHT = 3
_SALT_VALUES = [0x5BD1E995 * (k + 1) & 0xFFFFFFFF for k in range(NUMBER_WEIGHT - 1)]
UNDATED = NO_DATE  # a record with no date is within any window
_SIEVE = np.uint64((1 << 22) - 1)


def shingles(title: str, excerpt: str) -> np.ndarray:
    """32-bit hashes of the SHINGLE-word runs of a record's text, lower-cased and accents
    folded (the ellipsis a cut excerpt ends with is no word); repeats are kept (they change
    no minimum). Plain Python over a record's few dozen words: NumPy's cost per call was
    most of a full build's time spent here."""
    text = f"{title}\n{excerpt}".lower()
    if not text.isascii():  # translate looks every character up in Python: only when needed
        text = text.translate(accent_map)
    words = _WORDS.findall(text)
    n = len(words) - SHINGLE + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    known = _HASHES
    if len(known) > 500_000:
        known.clear()
    get = known.get
    h = [get(w) or known.setdefault(w, zlib.crc32(w.encode("utf-8")) | 1) for w in words]
    k, m = 0x9E3779B1, 0xFFFFFFFF
    # An order-sensitive mix of each run's word hashes (SHINGLE is 3).
    mixed = [((a * k + b) & m) * k + c & m for a, b, c in zip(h, h[1:], h[2:])]
    if _DIGIT.search(text):
        # A shingle holding a number counts NUMBER_WEIGHT times (as copies under salts): the
        # figures are what tell this week's recurring report from last week's.
        figure = [not w.isalpha() and bool(_DIGIT.search(w)) for w in words]
        numbered = [x for x, a, b, c in zip(mixed, figure, figure[1:], figure[2:]) if a or b or c]
        mixed += [(x ^ salt) & m for salt in _SALT_VALUES for x in numbered]
    return np.array(mixed, dtype=np.uint64)


_HASHES: dict[str, int] = {}  # word -> its hash (a build meets the same words again and again)


def signature(title: str, excerpt: str) -> bytes:
    """The record's MinHash signature (SIGNATURE_BYTES), or b"" when it is too short to judge.
    Each position is the minimum of a multiply-shift hash of the shingles."""
    hashed = shingles(title, excerpt)
    if len(hashed) < MIN_SHINGLES:
        return b""
    minima = ((_A * hashed + _B) >> np.uint64(32)).min(axis=1)
    return (minima & np.uint64(0xFFFF)).astype("<u2").tobytes()


def agreement(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of two records' shingles; 0 when either has none."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        return 0.0
    return float(np.count_nonzero(_sig(a) == _sig(b))) / PERMS


def alike(a: bytes, b: bytes, rule: "Rule", dates: tuple[int | None, int | None] = (None, None)
          ) -> bool:
    """The rule the index groups by, for one pair: published within `rule.window_hours` of
    each other (when both have a date; 0: any time apart), a shared band, and enough
    agreement."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        return False
    if None not in dates and rule.window_hours \
            and abs(dates[0] - dates[1]) > rule.window_hours * 3600:
        return False
    bands_a, bands_b = _sig(a).view("<u8"), _sig(b).view("<u8")
    return bool((bands_a == bands_b).any()) and agreement(a, b) >= _needed(rule.threshold) / PERMS


def _sig(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u2")


def _needed(threshold: float) -> int:
    """Positions of PERMS that must agree."""
    return max(1, int(np.ceil(threshold * PERMS - 1e-9)))


# -- grouping ---------------------------------------------------------------------------------

@dataclass
class Stories:
    """Which records share a story: `keys` (sorted id keys, see schema.id_key) of every record
    in a story of two or more, and `story` (the story's key: its smallest id key) of each."""

    keys: np.ndarray
    story: np.ndarray
    rule: float  # Rule.key of the rule they were grouped by

    @classmethod
    def none(cls, rule: float = 0.0) -> "Stories":
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty.copy(), rule)

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The story key of each of these id keys (a record in no story is its own)."""
        keys = np.asarray(keys, dtype=np.int64)
        out = keys.copy()
        if len(self.keys) and len(keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            found = self.keys[at] == keys
            out[found] = self.story[at[found]]
        return out

    def save(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=self.keys, story=self.story,
                     rule=np.array([self.rule]))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Stories | None":
        """The stories kept at `path`, or None if missing or not whole."""
        try:
            with np.load(path, allow_pickle=False) as kept:
                keys, story, rule = kept["keys"], kept["story"], kept["rule"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if keys.dtype != np.int64 or story.dtype != np.int64 or keys.shape != story.shape \
                or rule.shape != (1,) or (len(keys) > 1 and (keys[1:] <= keys[:-1]).any()):
            return None
        return cls(keys, story, float(rule[0]))


FILE = "stories-{}.npz"  # in the build folder, one per index generation


def path(build: Path, generation: int) -> Path:
    return build / FILE.format(generation)


def clean(build: Path, keep: set[int]) -> None:
    """Remove the stories of generations no reader will open again."""
    for found in build.glob("stories-*.npz"):
        number = found.name[len("stories-"):-len(".npz")]
        if not number.isdigit() or int(number) not in keep:
            found.unlink(missing_ok=True)


def of_reader(reader) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(id keys, signatures, whether each is a live record with one, dates) of every document
    `reader` holds, deleted ones included but never `present` (copying a million signatures
    to leave them out was half of an incremental run's time here)."""
    leaves = segments.leaves(reader)
    if not leaves:
        return np.zeros(0, dtype=np.int64), np.zeros((0, PERMS), dtype="<u2"), \
            np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    size = sum(leaf.doc_count_all() for leaf, _, _ in leaves)
    read = [columns.fixed_bytes(leaf, "c_minhash", SIGNATURE_BYTES) for leaf, _, _ in leaves]
    sigs = np.concatenate([rows for rows, _ in read]).view("<u2")
    present = np.concatenate([has for _, has in read]) & segments.alive(leaves, size)
    keys = np.concatenate([columns.numbers(leaf, "c_idkey", 0) for leaf, _, _ in leaves])
    dates = np.concatenate([columns.numbers(leaf, "c_date", UNDATED) for leaf, _, _ in leaves])
    return keys, sigs, present, dates


def signatures(raw: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(PERMS uint16 per record, whether it has a signature) from the column's values."""
    out = np.zeros((len(raw), PERMS), dtype="<u2")
    present = np.fromiter((len(r) == SIGNATURE_BYTES for r in raw), dtype=bool, count=len(raw))
    if present.any():
        out[present] = np.frombuffer(b"".join(r for r, p in zip(raw, present) if p),
                                     dtype="<u2").reshape(-1, PERMS)
    return out, present


@dataclass(frozen=True)
class Rule:
    """When two records are alike: the `story_threshold` and `story_window_hours` settings."""

    threshold: float
    window_hours: float

    @classmethod
    def of(cls, settings: Settings) -> "Rule":
        """The rule `settings` configure."""
        return cls(settings.story_threshold, settings.story_window_hours)

    @property
    def key(self) -> float:
        """Both, as one number kept with the stories (a change regroups everything)."""
        return round(self.threshold, 6) + 1000 * round(self.window_hours, 3)


def group(keys: np.ndarray, sigs: np.ndarray, present: np.ndarray, dates: np.ndarray,
          rule: Rule) -> Stories:
    """Every record's story, from scratch (a full build, or a changed rule)."""
    rows = np.flatnonzero(present)
    a, b = _verified(sigs, dates, _pairs_among(sigs, rows), rule)
    return _stories(keys, a, b, rule.key, np.zeros(0, dtype=np.int64), Stories.none(rule.key))


def regroup(keys: np.ndarray, sigs: np.ndarray, present: np.ndarray, dates: np.ndarray,
            before: Stories, changed: np.ndarray, rule: Rule) -> Stories:
    """The stories after a run that added, changed or removed the records with id keys
    `changed`, from the stories `before` it: the stories those records were in are taken
    apart and made again, with every record now alike one of their members (and whole the
    stories those join); every other story is as it was.

    `keys`, `sigs`, `present` and `dates` are of every record now in the index."""
    if before.rule != rule.key:
        return group(keys, sigs, present, dates, rule)
    changed = np.unique(np.asarray(changed, dtype=np.int64))
    touched = np.unique(before.of(changed))  # the stories they were in
    members = before.keys[np.isin(before.story, touched)]
    affected = np.union1d(changed, members)
    rows = np.flatnonzero(np.isin(keys, affected) & present)
    a, b = _verified(sigs, dates, _pairs_with(sigs, present, rows), rule)
    return _stories(keys, a, b, rule.key, affected, before)


def _stories(keys: np.ndarray, a: np.ndarray, b: np.ndarray, rule: float,
             affected: np.ndarray, before: Stories) -> Stories:
    """Stories from the old ones (less the `affected` records' stories) and new links
    (rows `a[i]`-`b[i]` of `keys`)."""
    keep = ~np.isin(before.keys, affected) & ~np.isin(before.story, before.of(affected))
    old_keys, old_story = before.keys[keep], before.story[keep]
    if not len(a):
        return Stories(old_keys, old_story, rule)
    # Nodes: the linked records, and the stories of old ones they link into, whole.
    linked = np.unique(np.concatenate([keys[a], keys[b]]))
    joined_story = before.of(linked)
    joined = np.isin(old_story, joined_story)
    nodes = np.unique(np.concatenate([linked, old_keys[joined]]))
    left = np.searchsorted(nodes, np.concatenate([keys[a], old_keys[joined]]))
    right = np.searchsorted(nodes, np.concatenate([keys[b], old_story[joined]]))
    label = _components(len(nodes), left, right)
    smallest = np.full(len(nodes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, label, nodes)
    story = smallest[label]
    in_story = np.bincount(label, minlength=len(nodes))[label] > 1
    out_keys = np.concatenate([old_keys[~joined], nodes[in_story]])
    out_story = np.concatenate([old_story[~joined], story[in_story]])
    order = np.argsort(out_keys, kind="stable")
    return Stories(out_keys[order], out_story[order], rule)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each node's component, as its smallest node number (links a[i]-b[i])."""
    label = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # pointer jumping: long chains close in few passes
        label = label[label]
        if np.array_equal(label, before):
            return label


def _band_keys(sigs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), BANDS) uint64: each band of each row's signature as one number."""
    return np.ascontiguousarray(sigs[rows]).view("<u8").reshape(len(rows), BANDS)


def _pairs_among(sigs: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Candidate pairs among `rows` (row numbers of `sigs`): those sharing a band."""
    if len(rows) < 2:
        return []
    bands = _band_keys(sigs, rows)
    found = []
    for band in range(BANDS):
        column = bands[:, band]
        order = np.argsort(column, kind="stable")
        values = column[order]
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        sizes = np.diff(np.r_[starts, len(values)])
        for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist()):
            members = rows[order[start:start + size]]
            found.append(_bucket_pairs(sigs, members))
    return found


def _bucket_pairs(sigs: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Candidate pairs (n, 2) in one band's bucket: every pair; in a bucket of more than
    BIG_BUCKET records, each with the next few in signature order (the one place a full
    build may link less than every alike pair; real buckets are far smaller)."""
    members = np.sort(members)
    if len(members) <= BIG_BUCKET:
        i, j = np.triu_indices(len(members), 1)
        return np.stack([members[i], members[j]], axis=1)
    members = members[np.lexsort(sigs[members].T[::-1])]
    return np.sort(np.concatenate([np.stack([members[:-k], members[k:]], axis=1)
                                   for k in range(1, 33)]), axis=1)


def _pairs_with(sigs: np.ndarray, present: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Candidate pairs with one side in `rows`, the other anywhere."""
    if not len(rows):
        return []
    everyone = np.flatnonzero(present)
    all_bands = _band_keys(sigs, everyone)
    mine = _band_keys(sigs, rows)
    found = []
    sieve = np.zeros(_SIEVE + 1, dtype=bool)
    for band in range(BANDS):
        order = np.argsort(mine[:, band], kind="stable")
        values = mine[order, band]
        column = all_bands[:, band]
        # A table lookup of each record's low bits first: a gather, where a search of every
        # record among `values` was most of an incremental run's time at a million records.
        sieve[:] = False
        sieve[values & _SIEVE] = True
        hit = np.flatnonzero(sieve[column & _SIEVE])
        hit = hit[np.isin(column[hit], values)]
        if not len(hit):
            continue
        low = np.searchsorted(values, column[hit], side="left")
        high = np.searchsorted(values, column[hit], side="right")
        counts = high - low
        other = np.repeat(everyone[hit], counts)
        starts = np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        own = rows[order[starts]]
        pairs = np.sort(np.stack([own, other], axis=1), axis=1)
        found.append(pairs[pairs[:, 0] != pairs[:, 1]])
    return found


def _verified(sigs: np.ndarray, dates: np.ndarray, found: list[np.ndarray], rule: Rule
              ) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs published close enough and whose signatures agree enough, each once."""
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.concatenate(found).astype(np.int64), axis=0)
    if rule.window_hours:
        da, db = dates[pairs[:, 0]], dates[pairs[:, 1]]
        close = (da <= UNDATED) | (db <= UNDATED) | (np.abs(da - db) <= rule.window_hours * 3600)
        pairs = pairs[close]
    need = _needed(rule.threshold)
    keep = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), 200_000):
        part = pairs[start:start + 200_000]
        keep[start:start + len(part)] = \
            (sigs[part[:, 0]] == sigs[part[:, 1]]).sum(axis=1) >= need
    pairs = pairs[keep]
    return pairs[:, 0], pairs[:, 1]
