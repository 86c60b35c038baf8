""""Did you mean": the query with each word the index does not know, or knows only as a rare
slip, replaced by the word of the index the evidence says was meant.

Candidates come from the spelling index the indexer builds (index/spelling.py): words at
most two letters away, and words that sound the same (Bejing: Beijing, kadafi: Gaddafi).
Each is weighed as a noisy channel weighs it: how many records hold it (the more, the
likelier it was meant) against how unlikely the slip from it to what was typed is
(`slip_cost`: a doubled or dropped double letter, a swap, a key next to the intended one
cost less than any other letter; a candidate that sounds as typed costs SOUND times as
much). A candidate is offered only when it is far more common than the word as typed
(MORE_COMMON times) and likelier than it, so a word is never replaced by a rarer spelling
(`tarrifs` is `tariffs`, in 108 records, not `tarriffs`, in one, though that is one letter
nearer), nor by a stop word, which no one searches for (`Bejing` is not `being`); and with
more words, the records the whole corrected query finds stand for how
common the word is, so the rest of the query has its say (`supreme cort`: court, not corp).
Candidates are checked against the live index, so a suggestion is always a word some record
has. When the spelling index is lost, a slip finds nothing and nothing would say why:
`unavailable` is the notice such a search carries instead.
"""

from __future__ import annotations

import math
import re
from typing import Callable

from ..reader import SPELLING_FIELD as FIELD, Speller, analysis, distance, sound_key
from .query import query_words

SUGGEST_BELOW = 50  # look for a better spelling when a query finds fewer records than this
MORE_COMMON = 20  # a known word is replaced only by one in this many times more records
MAX_WORDS = 8  # words of one query looked at (a pasted paragraph gets no suggestion)
WEIGHT = 6.0  # how much a slip of cost 1 (one letter wrong) weighs against how common a word is:
# a candidate one letter further must be held by e^6 (about 400) times more records. Chosen
# on bench/bench_corrections.py's generated typos (5: more corrected, more right words too).
MAX_COST = 2.0  # the costliest slip corrected in a word of more than five letters ...
MAX_COST_SHORT = 1.0  # ... and in a shorter one (two edits turn a short word into any other)
SOUND = 0.6  # the share a slip costs from a word that sounds the same (as long, or a letter longer)
OPTIONS = 3  # close spellings of a word weighed against the rest of the query ...
CONTEXT_WORDS = 2  # ... for this many of its doubtful words
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
UNAVAILABLE = ("Spelling corrections are unavailable: the index's spelling data is missing or "
               "damaged, so a misspelt word is not corrected (`searchapp check` says more).")
PATTERNED = re.compile(r"(?:^|(?<=\s))(?:=\S+|[^\s*?~]*[*?~]\S*)")  # `=word`, `flie*`, `word~`


def suggest(speller: Speller | None, reader, q: str, typing: bool = False,
            count: Callable[[str], int] | None = None) -> str | None:
    """The query with its doubtful words replaced; None when there is nothing better. While
    `typing`, a last word that begins some longer word of the index is still being written:
    it is completed (see query/language.py), not corrected. With `count` (records a query finds),
    the other words of the query choose between close spellings: `supreme cort` is
    `supreme court`, though `corp` is seven times as common in business news."""
    if speller is None:
        return None
    words = every_word = query_words(q)
    if typing and words and q and not q[-1].isspace():
        last = analysis.fold_word(words[-1])
        if any(w != last for w in speller.completions(last, 2)):
            words = words[:-1]
    asked = {w for p in PATTERNED.findall(q) for w in query_words(p)}  # meant as written
    words = [w for w in dict.fromkeys(words) if w not in _OPERATORS and w not in asked]
    choices: list[tuple[str, list[tuple[str, float]]]] = []
    for word in words[:MAX_WORDS]:
        folded = analysis.fold_word(word)
        if len(folded) < 3 or folded.isdigit() or folded in analysis.NOISE:
            continue
        options = _better(speller, reader, folded)
        if options:
            choices.append((word, options))
    if not choices:
        return None

    def corrected(picks: list[str]) -> str:
        out = q
        for (word, _), best in zip(choices, picks):
            out = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", best, out)
        return out

    picks = [options[0][0] for _, options in choices]
    if count is not None and len(every_word) > 1:
        # With other words, the records the corrected query finds stand for how common the
        # candidate is: the rest of the query supports one spelling over another.
        for i, (_, options) in enumerate(choices[:CONTEXT_WORDS]):
            if len(options) > 1:
                found = []
                for k, (o, cost) in enumerate(options):
                    n = count(corrected(picks[:i] + [o] + picks[i + 1:]))
                    found.append((math.log(n) - WEIGHT * cost if n else -math.inf, -k, o))
                picks[i] = max(found)[2]
    out = corrected(picks)
    return out if out != q else None


def unavailable(lost: str | None, q: str, found: int) -> str | None:
    """The notice of a search that would have looked for a better spelling (a query that
    finds fewer than SUGGEST_BELOW records) while the spelling index is `lost`
    (Snapshot.spelling_lost), else None."""
    return UNAVAILABLE if lost and q.strip() and found < SUGGEST_BELOW else None


def _better(speller: Speller, reader, word: str) -> list[tuple[str, float]]:
    """(word, slip cost) of the likeliest words meant by `word`, likeliest first (at most
    OPTIONS): far more common than it, and likelier than it (more common by more than the
    slip costs)."""
    have = reader.doc_frequency(FIELD, word)
    most = MAX_COST_SHORT if len(word) <= 5 else MAX_COST
    pool = set(speller.candidates(word))
    pool.update(w for w in speller.sounding(word) if distance(word, w) <= 3)
    options = []
    for candidate in pool - analysis.NOISE:  # (`being` is never what `Bejing` meant)
        cost = slip_cost(word, candidate)
        if cost > most:
            continue
        df = reader.doc_frequency(FIELD, candidate)
        if not df or df < MORE_COMMON * have:
            continue
        score = math.log(df) - WEIGHT * cost
        if have and score <= math.log(have):  # the word as typed is the likelier
            continue
        options.append((-score, candidate, cost))
    return [(c, cost) for _, c, cost in sorted(options)[:OPTIONS]]


# The keyboard a slip is made on: a key's neighbours are the keys beside it and those of the
# rows above and below that it touches.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_AT = {c: (r, col + (0, 0.25, 0.75)[r]) for r, row in enumerate(_ROWS) for col, c in enumerate(row)}
NEAR = 0.7  # a key next to the intended one, two letters swapped
DOUBLE = 0.5  # a doubled letter typed once, or a single one twice


def neighbours(a: str, b: str) -> bool:
    """Whether keys `a` and `b` touch on a QWERTY keyboard."""
    if a not in _AT or b not in _AT or a == b:
        return False
    (ra, xa), (rb, xb) = _AT[a], _AT[b]
    return (ra == rb and abs(xa - xb) == 1) or (abs(ra - rb) == 1 and abs(xa - xb) < 1)


def slip_cost(typed: str, meant: str) -> float:
    """How unlikely a slip from `meant` to `typed` is: a weighted Damerau-Levenshtein
    (optimal string alignment) distance where a doubling or an undoubling costs DOUBLE, a
    swap or a neighbouring key NEAR, any other letter 1; all of it times SOUND when the two
    sound the same and the word meant is as long as the one typed or a letter longer (a
    letter left out is the common slip; metaphone gives `grow` the key of `growh`, and `inc`
    that of `incoe`)."""
    cost = aligned(typed, meant, _extra, _dropped, _changed, NEAR)
    key = sound_key(typed)
    alike = key and key == sound_key(meant) and 0 <= len(meant) - len(typed) <= 1
    return cost * SOUND if alike else cost


def aligned(a: str, b: str, extra: Callable[[str, int], float],
            dropped: Callable[[str, int], float], changed: Callable[[str, str], float],
            swap: float) -> float:
    """The cheapest way from `b` to `a` (optimal string alignment): `extra(a, i)` is the cost
    of a letter `a[i]` with none in `b`, `dropped(b, j)` of one `b[j]` left out,
    `changed(x, y)` of `x` for `y`, `swap` of two neighbours swapped."""
    inf = math.inf
    d = [[inf] * (len(b) + 1) for _ in range(len(a) + 1)]
    d[0][0] = 0.0
    for i in range(len(a) + 1):
        for j in range(len(b) + 1):
            best = d[i][j]
            if i:
                best = min(best, d[i - 1][j] + extra(a, i - 1))
            if j:
                best = min(best, d[i][j - 1] + dropped(b, j - 1))
            if i and j:
                x, y = a[i - 1], b[j - 1]
                best = min(best, d[i - 1][j - 1] + (0.0 if x == y else changed(x, y)))
                if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y and x != y:
                    best = min(best, d[i - 2][j - 2] + swap)
            d[i][j] = best
    return d[len(a)][len(b)]


def _changed(x: str, y: str) -> float:
    """The cost of `x` typed for `y`."""
    return NEAR if neighbours(x, y) else 1.0


def _extra(word: str, i: int) -> float:
    """The cost of `word[i]` typed where nothing was meant."""
    c = word[i]
    near = [word[k] for k in (i - 1, i + 1) if 0 <= k < len(word)]
    if c in near:
        return DOUBLE
    return NEAR if any(neighbours(c, n) for n in near) else 1.0


def _dropped(word: str, j: int) -> float:
    """The cost of `word[j]`, meant, left out."""
    c = word[j]
    return DOUBLE if c in [word[k] for k in (j - 1, j + 1) if 0 <= k < len(word)] else 1.0
