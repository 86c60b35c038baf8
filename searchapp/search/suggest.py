""""Did you mean": the query with each word the index does not know, or knows only as a rare
slip, replaced by the closest word of the index that is far more common.

Candidates come from the spelling index the indexer builds (index/spelling.py), and are
checked against the live index, so a suggestion is always a word some record has. When that
index is lost, a slip finds nothing and nothing would say why: `unavailable` is the notice
such a search carries instead.
"""

from __future__ import annotations

import re
from typing import Callable

from ..reader import SPELLING_FIELD as FIELD, Speller, analysis, distance
from .query import query_words

SUGGEST_BELOW = 50  # look for a better spelling when a query finds fewer records than this
MORE_COMMON = 20  # a known word is replaced only by one in this many times more records
MAX_WORDS = 8  # words of one query looked at (a pasted paragraph gets no suggestion)
OPTIONS = 3  # close spellings of a word weighed against the rest of the query ...
CONTEXT_WORDS = 2  # ... for this many of its doubtful words
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
UNAVAILABLE = ("Spelling corrections are unavailable: the index's spelling data is missing or "
               "damaged, so a misspelt word is not corrected (`searchapp check` says more).")
_PATTERNED = re.compile(r"(?:^|(?<=\s))(?:=\S+|[^\s*?~]*[*?~]\S*)")  # `=word`, `flie*`, `word~`


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
    asked = {w for p in _PATTERNED.findall(q) for w in query_words(p)}  # meant as written
    words = [w for w in dict.fromkeys(words) if w not in _OPERATORS and w not in asked]
    choices: list[tuple[str, list[str]]] = []
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

    picks = [options[0] for _, options in choices]
    if count is not None and len(every_word) > 1:
        for i, (_, options) in enumerate(choices[:CONTEXT_WORDS]):
            if len(options) > 1:
                found = [(count(corrected(picks[:i] + [o] + picks[i + 1:])), -k, o)
                         for k, o in enumerate(options)]
                picks[i] = max(found)[2]
    out = corrected(picks)
    return out if out != q else None


def unavailable(lost: str | None, q: str, found: int) -> str | None:
    """The notice of a search that would have looked for a better spelling (a query that
    finds fewer than SUGGEST_BELOW records) while the spelling index is `lost`
    (Snapshot.spelling_lost), else None."""
    return UNAVAILABLE if lost and q.strip() and found < SUGGEST_BELOW else None


def _better(speller: Speller, reader, word: str) -> list[str]:
    """Words far more common than `word`, closest first, the most common of equally close
    ones first (at most OPTIONS)."""
    have = reader.doc_frequency(FIELD, word)
    options = []
    most = 1 if len(word) <= 5 else 2  # two edits turn a short word into any other (at&t: act)
    for candidate in speller.candidates(word):
        d = distance(word, candidate)
        df = reader.doc_frequency(FIELD, candidate) if d <= most else 0
        if df and df >= MORE_COMMON * have:
            options.append((d, -df, candidate))
    return [c for _, _, c in sorted(options)[:OPTIONS]]
