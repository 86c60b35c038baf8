"""Distinctive terms: the words over-represented in a result set compared with the whole collection.

Scored with Dunning's log-likelihood ratio (G²) on document counts: how surprising it is
that a word appears in this many of the matching records, given how many records of the
whole collection contain it. Words are read from each record's term vector (title and
excerpt, lower-cased and accent-folded, not stemmed, so they read as written); a large
result set is scored over a fixed-size sample, and the result says so. The sample is picked
by a hash of the records' ids (`Columns.sample`), so it is the same records however the
index is sharded.

Left out: the query's own words in every form the index stems alike (`prices` leaves out
price and prices, `barrel` barrels), the outlets' names (outlets.py: "reuters" stands out
wherever Reuters' stories do), and every word when fewer than MIN_MATCHES records match (a
word of a single result is "over-represented" by being in it; the page says there are too
few to tell).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..reader import analysis
from .query import query_words

FIELD = "written"
SAMPLE = 500  # records read at most: enough for the top words, cheap enough to type over
MIN_MATCHES = 5  # fewer matches than this set no word apart


@dataclass(frozen=True)
class Term:
    text: str
    count: int  # matching records (in the sample) that contain it
    background: int  # records of the whole collection that contain it
    score: float


@dataclass(frozen=True)
class Terms:
    terms: tuple[Term, ...]
    sample_size: int  # records read
    population: int  # records matching
    comparable: bool  # False when the results are the whole collection: nothing to compare
    too_few: bool = False  # fewer than MIN_MATCHES results: none shown

    @property
    def sampled(self) -> bool:
        return self.sample_size < self.population


# The words (bytes) of each document's term vector in a field (the engine's fast reader;
# several at once, which a cluster reads from their shards together), and how many records
# of the collection hold a word in a field.
WordsOf = Callable[[np.ndarray, str], list[np.ndarray]]
FrequencyOf = Callable[[str, bytes], int]
# At most n of some document numbers, the same records for the same set whatever their numbers.
Sampler = Callable[[np.ndarray, int], np.ndarray]


def _spread(docs: np.ndarray, n: int) -> np.ndarray:
    return docs[np.linspace(0, len(docs) - 1, n).astype(np.int64)]


def of_query(words_of: WordsOf, frequency_of: FrequencyOf, docs: np.ndarray,
             collection_size: int, q: str, pick: Sampler = _spread,
             outlets: frozenset[str] = frozenset()) -> Terms:
    """The distinctive words of a search's matches, leaving out the query's own words (in
    every form) and the outlets' names."""
    return distinctive(words_of, frequency_of, docs, collection_size,
                       {analysis.fold_word(w) for w in query_words(q)}, pick=pick,
                       outlets=outlets)


def distinctive(words_of: WordsOf, frequency_of: FrequencyOf, docs: np.ndarray,
                collection_size: int, exclude: set[str], limit: int = 20,
                sample: int = SAMPLE, pick: Sampler = _spread,
                outlets: frozenset[str] = frozenset()) -> Terms:
    """The `limit` words most over-represented in `docs` (global document numbers), none of
    the forms of the words `exclude` nor `outlets`."""
    matching = len(docs)
    if matching == 0 or matching >= collection_size:
        return Terms((), 0, matching, comparable=False)
    if matching < MIN_MATCHES:
        return Terms((), 0, matching, comparable=True, too_few=True)
    forms = _Forms(exclude)
    chosen = docs
    if matching > sample:
        chosen = pick(docs, sample)
    present: Counter[bytes] = Counter()
    for words in words_of(chosen, FIELD):
        present.update(words.tolist())
    scale = matching / len(chosen)
    rest = collection_size - matching
    # A word in fewer than 1% of the records read cannot be among the most distinctive of a
    # large set (and looking up how common each is in the collection is most of the cost).
    least = 1 if len(chosen) <= 10 else max(2, len(chosen) // 100)
    scored = []
    for word, seen in present.items():
        if seen < least:
            continue
        text = word.decode("utf-8")
        if _boring(text) or text in outlets or forms.holds(text):
            continue
        background = frequency_of(FIELD, word)
        inside = min(seen * scale, background)
        outside = background - inside
        if rest <= 0 or inside / matching <= outside / rest:
            continue  # not over-represented
        scored.append(Term(text, seen, background, _g2(inside, outside, matching, rest)))
    scored.sort(key=lambda t: (-t.score, t.text))
    return Terms(tuple(scored[:limit]), len(chosen), matching, comparable=True)


def _boring(text: str) -> bool:
    return len(text) < 3 or text in analysis.NOISE or text.isdigit()


class _Forms:
    """The query's words in every form: a word is one of them when it is one, begins with
    one, or stems as one does (by the index's own stemmer, so singular and plural)."""

    def __init__(self, words: set[str]):
        self.words = {w for w in words if w}
        self.long = tuple(w for w in self.words if len(w) >= 3)
        self.stems = {analysis.stem_word(w) for w in self.words} - {None}
        self.heads = {w[:3] for w in self.words}

    def holds(self, text: str) -> bool:
        if text in self.words or text.startswith(self.long):
            return True
        # A word stems as a query word only if it begins as one: most words need no stemming.
        return text[:3] in self.heads and analysis.stem_word(text) in self.stems


def _g2(a: float, b: float, size_a: int, size_b: int) -> float:
    """Log-likelihood of a word in `a` of `size_a` records here and `b` of `size_b` elsewhere."""
    total = size_a + size_b
    with_word = a + b
    cells = ((a, size_a * with_word / total), (b, size_b * with_word / total),
             (size_a - a, size_a * (total - with_word) / total),
             (size_b - b, size_b * (total - with_word) / total))
    return 2 * sum(o * math.log(o / e) for o, e in cells if o > 0 and e > 0)
