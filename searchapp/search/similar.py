"""More like this: the records that share most of one record's distinctive words, the copies
of its own story left out.

A record's words are read from its term vector (title and excerpt as written, lower-cased and
accent-folded), each weighed by tf-idf: how often the record holds it (a word of the headline
the excerpt repeats counts twice) times its idf over the whole index. The KEY_WORDS weightiest
that another record also holds are searched for, each boosted by its weight, and a record
must hold at least SHARED of them (Whoosh's `Or(minmatch=)` is not implemented: the records
holding enough are counted from the words' postings and given as the search's filter).
Whoosh's own `more_like` took its key terms from the stemmed excerpt by a divergence model
and let a record match on one word: under "VOLCKER SAYS TRADE DEFICIT IS MAJOR CHALLENGE" it
listed "SpaceShipOne, take two" (a "challenge"). Copies of the record's story are left out:
the record page lists them apart, and they would fill the list with the same article.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from whoosh import query as wq

from ..reader import Snapshot, analysis
from .outlets import outlet_words

FIELD = "written"
KEY_WORDS = 12  # words searched for
SHARED = 2  # of them a record must hold
COMMON = 0.5  # a word in more than half the records says nothing of one (idf weighs the rest)
_DIGIT = re.compile(r"\d")  # "1950s", "3.5": a figure is no subject


def key_words(snap: Snapshot, docnum: int) -> list[tuple[str, float]]:
    """The record's KEY_WORDS most distinctive words that some other record holds, with
    their tf-idf, weightiest first (ties by word)."""
    size = max(len(snap.columns.all_docs), 1)
    outlets = outlet_words(snap)
    scored = []
    for word, tf in snap.searcher.reader().vector_as("frequency", docnum, FIELD):
        if len(word) < 3 or word in analysis.NOISE or _DIGIT.search(word) or word in outlets:
            continue
        held = snap.doc_frequency(FIELD, word.encode("utf-8"))
        if 1 < held <= COMMON * size:  # held by this record alone: shared by none
            scored.append((word, tf * math.log(size / held)))
    scored.sort(key=lambda w: (-w[1], w[0]))
    return scored[:KEY_WORDS]


def more_like(snap: Snapshot, docnum: int, limit: int) -> list[int]:
    """Document numbers of the `limit` records most like `docnum`, best first, without it
    or the other copies of its story."""
    words = key_words(snap, docnum)
    if len(words) < SHARED:
        return []
    cols = snap.columns
    own = {docnum, *cols.copies_in(docnum, cols.all_docs).tolist()}
    held: Counter[int] = Counter()  # how many of the words each record holds
    for word, _ in words:
        held.update(snap.searcher.docs_for_query(wq.Term(FIELD, word)))
    enough = {doc for doc, n in held.items() if n >= SHARED} - own
    if not enough:
        return []
    asked = wq.Or([wq.Term(FIELD, word, boost=weight) for word, weight in words])
    return [hit.docnum for hit in snap.searcher.search(asked, limit=limit, filter=enough)]
