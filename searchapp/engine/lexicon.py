"""A segment's words of one field, in order, with how many of its records hold each.

Completing a typed prefix and matching a wildcard pattern need the words of a field as
written. Whoosh's lexicon of a whole index merges every segment's term index in Python, a
third of a second for 33k words at 100k records, paid again by each serving process after
each reindex. One segment's words are read in one pass over its own term index instead, and
kept beside it (segments.kept_path): a reindex adds the words of its new segments only.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from . import segments
from .codec.reading import ArrayTermsReader

PATHS: Counter = Counter()  # read or kept, for the fast-path test


def words(leaf, segment_id: str, field: str, folder: Path | None) -> tuple[list[str], np.ndarray]:
    """(the words of `field` in this segment, sorted; the records holding each, deleted
    ones included)."""
    found, was_kept = segments.kept(segments.kept_path(segments.home(leaf, folder), segment_id, f"w_{field}"),
                                    _valid, lambda: _read(leaf, field))
    PATHS["words: kept" if was_kept else "words: read"] += 1
    return found


def prepare(leaves, fields: list[str], folder: Path) -> None:
    """Write the kept words of every segment that lacks them (the indexer, after a commit)."""
    for leaf, segment_id, name in segments.missing(leaves, [f"w_{f}" for f in fields], folder):
        words(leaf, segment_id, name.removeprefix("w_"), folder)


def _read(leaf, field: str) -> dict:
    found_words, counts = [], []
    terms = getattr(leaf, "_terms", None)
    if field in leaf.schema and isinstance(terms, ArrayTermsReader):  # the term table at once
        PATHS["words: arrays"] += 1
        texts, df = terms.field_terms(field)
        return {"words": [t.decode("utf-8", "replace") for t in texts], "df": df}
    if field in leaf.schema:
        for text, info in leaf.iter_field(field):
            found_words.append(text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
            counts.append(info.doc_frequency())
    return {"words": found_words, "df": np.array(counts, dtype=np.uint32)}


def _valid(kept: dict | None) -> tuple[list[str], np.ndarray] | None:
    if kept is None:
        return None
    found, df = kept.get("words"), kept.get("df")
    if not isinstance(found, list) or df is None or df.dtype != np.uint32 or df.shape != (len(found),) \
            or not all(isinstance(w, str) and "\n" not in w for w in found):
        return None
    return found, df
