"""The ranking model, whole: BM25F's parameters, the field weights and the idf, in one place.

A word's counts in the title, the excerpt, the source and the topic are each multiplied by
the field's weight and normalised by that field's length (B), added up, and saturated once
(K1), then multiplied by the word's Robertson-Sparck Jones idf over the live records that
have the word in any of those fields. `scoring.py` computes exactly this over arrays; where
it hands a query shape to Whoosh, Whoosh scores with `WEIGHTING`, its per-field BM25F with
the same B and K1. Every value was chosen on Cranfield and CISI (`bench/relevance.py`), where
this model ranks at least as well as SQLite FTS5's bm25; docs/benchmarks.md's "Ranking" section
gives the figures.
"""

from __future__ import annotations

import numpy as np
from whoosh import scoring

# Longer fields a little more normalised (B) and word counts saturating later (K1) than the
# usual 0.75 and 1.2 ranked better on both collections.
B = 0.9
K1 = 2.0

# Weight of a word's count in each field a bare word is looked for in. A title word counts
# three times: 3 ranked best of 1-3, and it is the weight SQLite FTS5 is given in the same
# benchmark. The query parser searches exactly these fields.
FIELD_WEIGHTS = {"title": 3.0, "excerpt": 1.0, "source": 1.0, "topic": 1.5}

WEIGHTING = scoring.BM25F(B=B, K1=K1)  # what Whoosh scores with where scoring.py hands over


def idf(matching: int, total: int) -> float:
    """Robertson-Sparck Jones idf: rarer words weigh more, and a word in every record still
    weighs a little (Whoosh's `log(N/(n+1)) + 1` weighs common words more)."""
    return float(np.log(1 + (total - matching + 0.5) / (matching + 0.5)))


def normalised(tf: np.ndarray, lengths: np.ndarray, avg_length: float) -> np.ndarray:
    """A field's weighted counts, normalised by how long the field is against its average."""
    return tf / ((1 - B) + B * lengths / avg_length)


def saturated(tf: np.ndarray) -> np.ndarray:
    """Summed, normalised counts saturating towards K1 + 1: the tenth mention adds little."""
    return tf * (K1 + 1) / (K1 + tf)
