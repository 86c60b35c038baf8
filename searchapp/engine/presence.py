"""Which records have any word in a field (`title:*`, Whoosh's `Every`), read from the
field's length column instead of every posting of every word of the field.

Whoosh answers `Every("title")` by reading the posting list of each word of the field one
posting at a time in Python: 1.7 s over 41k records, with no way to stop it at a search's
budget. A record has a word in a field exactly when its length there is not 0, and a scored
field keeps every record's length in one column: one read per segment, cached with the
postings. A field that keeps no lengths (a keyword field, of few words) unites its words'
postings, looking at the clock between words.
"""

from __future__ import annotations

import numpy as np

from . import postings as post
from .cache import PostingCache
from .deadline import Deadline, passed
from .scored import NO_DOCS


def with_words(schema, leaves, cache: PostingCache, fieldname: str, deadline: Deadline
               ) -> tuple[np.ndarray, bool]:
    """(the global numbers of the records, deleted ones included, with any word in
    `fieldname`; whether the deadline stopped the reading first)."""
    if fieldname not in schema:
        return NO_DOCS, False
    scored = schema[fieldname].scorable
    found, stopped = [], False
    for leaf, offset, sid in leaves:
        if scored and post.has_lengths(leaf, fieldname):
            lengths = post.through(cache, leaf, (sid, "l", fieldname),
                                   lambda leaf=leaf: (post.length_bytes(leaf, fieldname),))[0]
            local = np.flatnonzero(lengths)
        elif stopped or passed(deadline):
            stopped = True
            continue
        else:
            try:
                # (a union over every word's postings, not a copy of them: kept in any segment)
                local = cache.get((sid, "e", fieldname),
                                  lambda leaf=leaf: (_united(leaf, fieldname, deadline),))[0]
            except post.TimeUp:  # not cached: the next search reads it whole
                stopped = True
                continue
        found.append(local.astype(np.int64) + offset)
    return (np.concatenate(found) if found else NO_DOCS), stopped


def _united(leaf, fieldname: str, deadline: Deadline) -> np.ndarray:
    """A segment's records with any word in a field, from every word's postings."""
    ids = []
    for btext in leaf.lexicon(fieldname):
        if passed(deadline):
            raise post.TimeUp
        ids.append(post.postings(leaf, fieldname, btext, deadline)[0])
    return np.unique(np.concatenate(ids)) if ids else NO_DOCS
