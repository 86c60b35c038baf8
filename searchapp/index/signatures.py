"""Signatures: what a record's title and excerpt are cut down to so that its copies can be
found among a million records, a MinHash of its word runs and two keys of its headline in
SIGNATURE_BYTES.

PERMS minima, each kept as its low 16 bits (b-bit minwise hashing: two signatures agree at a
position with probability J + (1 - J) / 65536, J the Jaccard similarity of the two sets of
shingles), then KEYS keys of ROWS positions each, a 63-bit hash of the headline's words with
the excerpt's first figure (the headline key) and with its first LEAD_WORDS words (the lead
key; 0: a headline of fewer than two words, or an excerpt shorter than that), 144 bytes in
a column of the record's segment. Records with fewer
than MIN_SHINGLES shingles (a bare headline: "U.S. weekly money supply" recurs every week)
get none and are never judged.

Both are made of the text as an outlet's copy of a wire story differs least from another's:
the marks an outlet adds are left out before the words are read ("CORRECTED -" and "Update
2:" before a headline, "(AP)" or "- Reuters" in or after it, a dateline such as "NEW YORK
(Reuters) -" before the excerpt, and the "'s" one feed writes apart as "world 's"). On the
labelled pairs (bench/bench_stories.py) that alone took story recall from 0.69 to 0.79 at
the same precision; the headline key is what lets two copies under one headline whose
excerpts were cut or edited apart be grouped at a lower agreement, and the lead key groups
one story filed twice under one headline that goes on differently after its first sentence,
which a MinHash estimate of their agreement (a Jaccard near 0.25, give or take 0.05) groups
one time in two (alike.py).
"""

from __future__ import annotations

import hashlib
import re
import zlib

import numpy as np

from whoosh.support.charset import accent_map

from .analysis import WORD_PATTERN

PERMS = 64
ROWS = 4  # positions per band: four 16-bit values are one uint64
BANDS = PERMS // ROWS
KEYS = 2  # the headline key and the lead key, each one band
POSITIONS = PERMS + KEYS * ROWS
SIGNATURE_BYTES = POSITIONS * 2
VERSION = 2  # of what a signature holds: 2, outlets' marks left out and the keys
LEAD_WORDS = 12  # of the excerpt, in the lead key
SHINGLE = 3  # words per shingle
MIN_SHINGLES = 8

_rng = np.random.default_rng(20261201)  # fixed: signatures are kept in the index
_A = _rng.integers(1, 1 << 63, size=(PERMS, 1), dtype=np.uint64) | np.uint64(1)  # odd
_B = _rng.integers(0, 1 << 63, size=(PERMS, 1), dtype=np.uint64)
_WORDS = re.compile(WORD_PATTERN)
_DIGIT = re.compile(r"\d")
_HEADLINE_MARKS = re.compile(  # before a headline, then in or after it
    r"^\s*(?:\(?(?:corrected|correction|update\s*\d*|refile|repeat)\)?\s*[-:]+\s*)+"
    r"|\s*[(\[](?:ap|reuters|afp|afx)[)\]]\s*"
    r"|\s+[-|]\s+(?:reuters|ap|afp|business recorder)\s*$", re.IGNORECASE)
_DATELINE = re.compile(  # "PORTLAND, Ore., Feb 26 (Reuters) -", "(AP) --", "BAGHDAD, Iraq -"
    r"^(?:(?:[A-Z][^\n()]{0,60}?)?\((?i:ap|reuters|afp|afx|cp)\)|(?i:ap|reuters|afp)"
    r"|[A-Z][A-Z .,']{2,40}(?:, [A-Z][a-z]+)?)\s*(?:--|-|\u2014|\u2013)+\s*")
_APART_S = re.compile(r"\s*'s\b")
_QUOTE_LINK = re.compile(  # a feed's link to a share price: "<A HREF=...>GE.N</A>", ": Quote, ..."
    r"<a href[^>]*>|</a>|:\s*quote,\s*profile,\s*research", re.IGNORECASE)
_KEY_MASK = (1 << 63) - 1  # a key's top bit is clear: set, it marks a record with no key
NUMBER_WEIGHT = 3
FIGURES = 1  # of the excerpt's first figures, in the headline key
LEAD = 20  # words of the excerpt they are taken from (a copy cut shorter keeps them)
_SALT_VALUES = [0x5BD1E995 * (k + 1) & 0xFFFFFFFF for k in range(NUMBER_WEIGHT - 1)]


def words(text: str) -> list[str]:
    """A text's words as signatures read them: lower-cased, accents folded, "'s" dropped."""
    text = text.lower()
    if not text.isascii():  # translate looks every character up in Python: only when needed
        text = text.translate(accent_map)
    if "'" in text:
        text = _APART_S.sub("", text)
    return _WORDS.findall(text)


def headline(title: str) -> list[str]:
    """The words of a headline without the marks an outlet adds to it."""
    return words(_HEADLINE_MARKS.sub(" ", title))


def lead(excerpt: str) -> list[str]:
    """The words of an excerpt without the dateline an outlet puts first, nor its links to
    share prices."""
    if "<" in excerpt or ":" in excerpt:
        excerpt = _QUOTE_LINK.sub(" ", excerpt)
    return words(_DATELINE.sub("", excerpt.strip(), count=1))


def shingles(title: str, excerpt: str) -> np.ndarray:
    """32-bit hashes of the SHINGLE-word runs of a record's headline and excerpt (`headline`,
    `lead`; the ellipsis a cut excerpt ends with is no word); repeats are kept (they change
    no minimum). Plain Python over a record's few dozen words: NumPy's cost per call was
    most of a full build's time spent here."""
    return _shingles(headline(title) + lead(excerpt))


def _shingles(words: list[str]) -> np.ndarray:
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
    if any(_DIGIT.search(w) for w in words):
        # A shingle holding a number counts NUMBER_WEIGHT times (as copies under salts): the
        # figures are what tell this week's recurring report from last week's.
        figure = [not w.isalpha() and bool(_DIGIT.search(w)) for w in words]
        numbered = [x for x, a, b, c in zip(mixed, figure, figure[1:], figure[2:]) if a or b or c]
        mixed += [(x ^ salt) & m for salt in _SALT_VALUES for x in numbered]
    return np.array(mixed, dtype=np.uint64)


_HASHES: dict[str, int] = {}  # word -> its hash (a build meets the same words again and again)


def signature(title: str, excerpt: str) -> bytes:
    """The record's signature (SIGNATURE_BYTES), or b"" when it is too short to judge: each
    of PERMS positions the minimum of a multiply-shift hash of the shingles, then the
    headline key and the lead key."""
    head, words = headline(title), lead(excerpt)
    hashed = _shingles(head + words)
    if len(hashed) < MIN_SHINGLES:
        return b""
    minima = ((_A * hashed + _B) >> np.uint64(32)).min(axis=1)
    return (minima & np.uint64(0xFFFF)).astype("<u2").tobytes() \
        + np.array(_keys(head, words), dtype="<u8").tobytes()


def _keys(found: list[str], words: list[str]) -> list[int]:
    """The headline key: the headline's words and the first FIGURES figures of the excerpt's
    first LEAD (this week's recurring report is last week's headline over other figures);
    the lead key: the headline's words and the excerpt's first LEAD_WORDS. 0 for a headline
    of fewer than two words (too common alone) or a shorter excerpt. `found` and `words`:
    the headline's and the excerpt's (`headline`, `lead`)."""
    if len(found) < 2:
        return [0, 0]
    figures = [w for w in words[:LEAD] if not w.isalpha() and _DIGIT.search(w)][:FIGURES]
    head = " ".join(found)
    first = _key(f"{head}|{' '.join(figures)}")
    return [first, _key(f"{head}||{' '.join(words[:LEAD_WORDS])}")
            if len(words) >= LEAD_WORDS else 0]


def _key(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _KEY_MASK or 1


def keys_of(sigs: np.ndarray) -> np.ndarray:
    """(len(sigs), KEYS) uint64: the headline and lead keys of each row of `sigs` (rows of
    POSITIONS uint16; 0: none)."""
    return np.ascontiguousarray(sigs[:, PERMS:POSITIONS]).view("<u8").reshape(len(sigs), KEYS)


def agreement(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of two records' shingles; 0 when either has none."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        return 0.0
    return float(np.count_nonzero(values(a) == values(b))) / PERMS


def values(raw: bytes) -> np.ndarray:
    """A signature's PERMS MinHash positions."""
    return np.frombuffer(raw, dtype="<u2", count=PERMS)


def keys(raw: bytes) -> tuple[int, int]:
    """A signature's headline key and lead key (0: none)."""
    head, first = np.frombuffer(raw, dtype="<u8", offset=PERMS * 2, count=KEYS).tolist()
    return head, first


def needed(threshold: float) -> int:
    """Positions of PERMS that must agree for an agreement of `threshold`."""
    return max(1, int(np.ceil(threshold * PERMS - 1e-9)))


def signatures(raw: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(POSITIONS uint16 per record, whether it has a signature) from the column's values."""
    out = np.zeros((len(raw), POSITIONS), dtype="<u2")
    present = np.fromiter((len(r) == SIGNATURE_BYTES for r in raw), dtype=bool, count=len(raw))
    if present.any():
        out[present] = np.frombuffer(b"".join(r for r, p in zip(raw, present) if p),
                                     dtype="<u2").reshape(-1, POSITIONS)
    return out, present
