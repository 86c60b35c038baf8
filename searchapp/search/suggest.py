""""Did you mean": each word of a query that the index does not know, replaced by its nearest
known word from titles and excerpts as written."""

from __future__ import annotations

import re

from ..index.analysis import fold_word
from .parser import query_words

FIELD = "body"  # title and excerpt words, unstemmed
SUGGEST_BELOW = 3  # offer "did you mean" when a query finds fewer records than this


def suggest(searcher, q: str) -> str | None:
    """The query with each unknown word replaced by its nearest known word; None if none is."""
    reader = searcher.reader()
    corrector = searcher.corrector(FIELD)
    changed, out = False, q
    for word in dict.fromkeys(query_words(q)):
        folded = fold_word(word)
        if len(folded) < 3 or word in ("AND", "OR", "NOT") or (FIELD, folded) in reader:
            continue
        options = corrector.suggest(folded, limit=3)
        if options:
            best = min(options, key=lambda s: (_distance(s, folded), s))
            out = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", best, out)
            changed = True
    return out if changed and out != q else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: the corrector's options, closest first."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
