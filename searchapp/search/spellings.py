"""Names found under several spellings: `gadhafi` is also written Gaddafi and Qaddafi in other
records, and a search for one spelling says so, with the records each finds and one link
that searches them all (an OR of the spellings).

Two words are spellings of one name when they sound the same (index/spelling.py's
`sound_key`), the letters differ only as transliterations differ (`variant_cost`: a
consonant doubled or not, an H put in or left out, one letter of a pair that spells one
sound, c k q, g q, i y, s z, f v, for another), and the records write both as names (with a
capital in mid-sentence): Gaddafi and Gadhafi are one man, filled and filed two words. (The
words around each spelling were tried as the test, but a name's few records share too few
of them: Gaddafi's and Gadhafi's were no nearer than those of filled and filed.) A much
rarer form is a slip, not a spelling (one record's `tarriffs` beside `tariffs`): it is
corrected (suggest.py), not listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ..reader import SPELLING_FIELD as FIELD, Speller, analysis, sound_key
from .query import query_words
from .suggest import DOUBLE, MAX_WORDS, MORE_COMMON, PATTERNED, aligned

MIN_LENGTH = 5  # shorter words share their sound with too many others
MOST = 3  # letters that may differ as transliterations differ ...
SAME_SOUND = (set("ckq"), set("gq"), set("iy"), set("sz"), set("fv"))  # ... pairs of one sound
VOWELS = frozenset("aeiou")
SPELLINGS = 4  # other spellings listed for one word, the most common first
_QUOTED = re.compile(r'"[^"]*"?')
_FIELD = re.compile(r"(\w+):")


@dataclass
class Spelled:
    """One word of a query found under other spellings too."""

    word: str  # as the query has it
    others: list[tuple[str, int, str]]  # (spelling, records the query with it instead finds,
    # that query)
    everything: str  # the query with the word as any of its spellings
    total: int = 0  # records that finds


def variant_cost(a: str, b: str) -> float:
    """How far `b` is from `a` in the edits transliterations make (each DOUBLE); any other
    edit makes them different words (a cost above MOST * DOUBLE)."""
    def changed(x: str, y: str) -> float:
        return DOUBLE if any(x in g and y in g for g in SAME_SOUND) else 9.0

    def extra(w: str, i: int) -> float:
        c = w[i]
        return DOUBLE if c == "h" or (c not in VOWELS and c in w[i - 1:i] + w[i + 1:i + 2]) \
            else 9.0

    return aligned(a, b, extra, extra, changed, swap=9.0)


def spellings(speller: Speller | None, reader, q: str, count: Callable[[str], int],
              named: Callable[[str], str | None]) -> list[Spelled]:
    """The words of `q` that records spell in other ways too, with those spellings counted
    (`count`: records a query finds; `named`: how the records write a word as a name, if they
    do: the spellings are shown so)."""
    if speller is None:
        return []
    words = list(dict.fromkeys(query_words(q)))
    asked = {analysis.fold_word(w) for w in words}  # a spelling the query has is not news
    # `=word` means that form; a word in a phrase or naming a field is no name to respell.
    exact = {w for p in PATTERNED.findall(q) + _QUOTED.findall(q) for w in query_words(p)} \
        | set(_FIELD.findall(q))
    found = []
    for word in [w for w in words if w not in exact][:MAX_WORDS]:
        folded = analysis.fold_word(word)
        have = reader.doc_frequency(FIELD, folded) if len(folded) >= MIN_LENGTH else 0
        if not have or not folded.isalpha() or folded in analysis.NOISE or not sound_key(folded):
            continue
        others = []
        for other in speller.sounding(folded):
            if len(other) < MIN_LENGTH or other in asked or abs(len(other) - len(folded)) > MOST \
                    or variant_cost(folded, other) > MOST * DOUBLE:
                continue
            df = reader.doc_frequency(FIELD, other)
            if df and df * MORE_COMMON >= have:  # far rarer: a slip, not a spelling
                others.append((df, other))
        written = {w: named(w) for _, w in others} if others and named(folded) else {}
        shown = [written[w] for _, w in sorted(others, key=lambda o: (-o[0], o[1]))
                 if written.get(w)][:SPELLINGS]
        if not shown:
            continue
        queries = [(w, _replaced(q, word, w)) for w in shown]
        counted = [(w, n, other_q) for w, other_q in queries if (n := count(other_q))]
        if counted:
            everything = _replaced(q, word, "(" + " OR ".join([word] + [w for w, _, _ in counted])
                                   + ")")
            found.append(Spelled(word, counted, everything, count(everything)))
    return found


def _replaced(q: str, word: str, by: str) -> str:
    """`q` with the word `word` (not a part of another) replaced by `by`."""
    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", lambda _: by, q)
