"""A query's matches with their scores (`Scored`), and the set algebra of the scorer over
them: union with scores added, intersection, restriction, distinct documents, all as whole
NumPy arrays, and each adding its scores in the order given, so that every way of
combining the same parts gives the same bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_DOCS = np.zeros(0, dtype=np.int64)
NO_SCORES = np.zeros(0, dtype=np.float64)


@dataclass
class Scored:
    docs: np.ndarray  # global document numbers, ascending, unique, live
    scores: np.ndarray  # parallel to docs

    @classmethod
    def empty(cls) -> "Scored":
        return cls(NO_DOCS, NO_SCORES)


def union(parts: list[Scored], size: int = 0) -> Scored:
    """Every document of any part, its scores added (`size`: the index's document count)."""
    parts = [p for p in parts if len(p.docs)]
    if not parts:
        return Scored.empty()
    if len(parts) == 1:
        return parts[0]
    return Scored(*sum_by_doc(np.concatenate([p.docs for p in parts]),
                              np.concatenate([p.scores for p in parts]), size))


def best_of(parts: list[Scored]) -> Scored:
    """Every document of any part, with its best score among them (one word written several
    ways scores as the way that scores best, not as the sum of them)."""
    parts = [p for p in parts if len(p.docs)]
    if len(parts) <= 1:
        return parts[0] if parts else Scored.empty()
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    order = np.lexsort((-scores, docs))
    docs, scores = docs[order], scores[order]
    first = np.ones(len(docs), dtype=bool)
    first[1:] = docs[1:] != docs[:-1]
    return Scored(docs[first], scores[first])


# Past this many postings per document of the index, adding them up in an array as long as
# the index (no sort) beats sorting them (an OR of common words: 20 of them took 15 ms to
# sort at 100k records).
DENSE_SHARE = 1 / 8


def sum_by_doc(docs: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct `docs`, ascending; the sum of `values` for each). The sums are added
    in the order given either way, so both ways give the same bits."""
    if size and len(docs) >= size * DENSE_SHARE:
        seen = np.zeros(size, dtype=bool)
        seen[docs] = True
        unique = np.flatnonzero(seen)
        return unique, np.bincount(docs, weights=values, minlength=size)[unique]
    unique, inverse = np.unique(docs, return_inverse=True)
    return unique, np.bincount(inverse, weights=values, minlength=len(unique))


def distinct(docs: np.ndarray, size: int) -> np.ndarray:
    """The distinct `docs`, ascending, as `sum_by_doc` finds them."""
    if size and len(docs) >= size * DENSE_SHARE:
        seen = np.zeros(size, dtype=bool)
        seen[docs] = True
        return np.flatnonzero(seen)
    return np.unique(docs)


def intersect(a: Scored, b: Scored) -> Scored:
    """The documents of both, their scores added."""
    docs, ia, ib = np.intersect1d(a.docs, b.docs, assume_unique=True, return_indices=True)
    return Scored(docs, a.scores[ia] + b.scores[ib])


def restrict(a: Scored, docs: np.ndarray, inside: bool = True) -> Scored:
    """`a` at the documents in `docs` (or, with inside=False, at the others)."""
    keep = np.isin(a.docs, docs, assume_unique=True, invert=not inside)
    return Scored(a.docs[keep], a.scores[keep])
