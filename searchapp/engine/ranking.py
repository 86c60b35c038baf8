"""The ranking model, whole: BM25F's parameters, the field weights and the idf, in one place.

A word's counts in the title, the excerpt, the body, the source and the topic are each multiplied by
the field's weight and normalised by that field's length (B), added up, and saturated once
(K1), then multiplied by the word's Robertson-Sparck Jones idf over the live records that
have the word in any of those fields. The word as typed, in the title and excerpt as written
(`written`, not stemmed), is a second word scored the same way at EXACT_WEIGHT: of two records
alike but for `prices` and `price`, the one saying `prices` ranks first. `scoring.py`
computes exactly this over arrays; where it hands a query shape to Whoosh, Whoosh scores with
`WEIGHTING`, its per-field BM25F with the same B and K1.

The tuned choices, each chosen on the first half of Cranfield's queries through the real
search path (`bench/relevance.py --half --collection cranfield`) and reported over both
collections in full (docs/benchmarks.md, "Ranking"): B, K1 and FIELD_WEIGHTS here; the
stemmer (`index/analysis.STEMMER`); and how a pasted text is searched
(`search/query/expansion.py`: its telling words, each weighted by how often it is said).
"""

from __future__ import annotations

import numpy as np
from whoosh import scoring

# Longer fields a little more normalised (B) than the usual 0.75, and word counts saturating
# far later (K1) than the usual 1.2: a title word already counts three times, and abstracts
# that say the query's words again and again are the ones about it. Of 1.2-12, 6 ranked best.
B = 0.9
K1 = 6.0

# The field of the title's and excerpt's words as written (index/schema.py files them there).
AS_WRITTEN = "written"
# The body's words as written: beside `written` for the word as typed, kept apart from it so
# that the distinctive words, more like this and spelling stay with titles and excerpts.
BODY_AS_WRITTEN = "written_body"
AS_WRITTEN_FIELDS = (AS_WRITTEN, BODY_AS_WRITTEN)

# The weight of the word as typed (the AS_WRITTEN field): enough to
# put the form typed above a form that only shares its lemma, little enough not to outrank
# a record that says the word more (0.1 and 0.3 ranked lower on both collections).
EXACT_WEIGHT = 0.02

# Weight of a word's count in each field a bare word is looked for in. A title word counts
# three times: 3 ranked best of 1-5. The query parser searches exactly these fields.
# The article's own text (`body`) counts below the excerpt, which is its summary: a word
# said once in paragraph six says less about the article than a word of its excerpt; chosen
# on Cranfield and CISI with the abstracts as bodies (docs/benchmarks.md, "Full text").
BODY_WEIGHT = 1.0
FIELD_WEIGHTS = {"title": 3.0, "excerpt": 1.0, "body": BODY_WEIGHT, "source": 1.0,
                 "topic": 1.5, AS_WRITTEN: EXACT_WEIGHT, BODY_AS_WRITTEN: EXACT_WEIGHT}

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
