"""Signatures: what a record's title and excerpt are cut down to so that its copies can be
found among a million records, a MinHash of its word runs in SIGNATURE_BYTES.

PERMS minima, each kept as its low 16 bits (b-bit minwise hashing: two signatures agree at a
position with probability J + (1 - J) / 65536, J the Jaccard similarity of the two sets of
shingles), 128 bytes in a column of the record's segment. Records with fewer than
MIN_SHINGLES shingles (a bare headline: "U.S. weekly money supply" recurs every week) get
none and are never judged.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from whoosh.support.charset import accent_map

from .analysis import WORD_PATTERN

PERMS = 64
ROWS = 4  # positions per band: four 16-bit values are one uint64
BANDS = PERMS // ROWS
SIGNATURE_BYTES = PERMS * 2
SHINGLE = 3  # words per shingle
MIN_SHINGLES = 8

_rng = np.random.default_rng(20261201)  # fixed: signatures are kept in the index
_A = _rng.integers(1, 1 << 63, size=(PERMS, 1), dtype=np.uint64) | np.uint64(1)  # odd
_B = _rng.integers(0, 1 << 63, size=(PERMS, 1), dtype=np.uint64)
_WORDS = re.compile(WORD_PATTERN)
_DIGIT = re.compile(r"\d")
NUMBER_WEIGHT = 3
_SALT_VALUES = [0x5BD1E995 * (k + 1) & 0xFFFFFFFF for k in range(NUMBER_WEIGHT - 1)]


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
    return float(np.count_nonzero(values(a) == values(b))) / PERMS


def values(raw: bytes) -> np.ndarray:
    """A signature's PERMS positions."""
    return np.frombuffer(raw, dtype="<u2")


def needed(threshold: float) -> int:
    """Positions of PERMS that must agree for an agreement of `threshold`."""
    return max(1, int(np.ceil(threshold * PERMS - 1e-9)))


def signatures(raw: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(PERMS uint16 per record, whether it has a signature) from the column's values."""
    out = np.zeros((len(raw), PERMS), dtype="<u2")
    present = np.fromiter((len(r) == SIGNATURE_BYTES for r in raw), dtype=bool, count=len(raw))
    if present.any():
        out[present] = np.frombuffer(b"".join(r for r, p in zip(raw, present) if p),
                                     dtype="<u2").reshape(-1, PERMS)
    return out, present
