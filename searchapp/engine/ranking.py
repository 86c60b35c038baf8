"""The ranking model, whole: BM25F's parameters, the field weights and the idf, in one place.

A word's counts in the title, the excerpt, the body, the source and the topic are each multiplied by
the field's weight and normalised by that field's length (B), added up, and saturated once
(K1), then multiplied by the word's Robertson-Sparck Jones idf over the live records that
have the word in any of those fields. The word as typed, in the title and excerpt as written
(`written`, not stemmed), is a second word scored the same way at EXACT_WEIGHT: of two records
alike but for `prices` and `price`, the one saying `prices` ranks first. `scoring.py`
computes exactly this over arrays; where it hands a query shape to Whoosh, Whoosh scores with
`WEIGHTING`, its per-field BM25F with the same B and K1.

A query typed as words and a pasted text saturate differently (`Saturation`: TYPED, and
PASTED for a text searched as "records like this text", marked by wrapping its query in
`Pasted`). On Cranfield's first half, typed queries ranked best at K1 2, B 0.75, and pasted
texts at K1 9, B 0.9: a pasted abstract that says a word three times (a query term frequency
of three) is about records that say it again and again, where two words typed mean any
record that says each once or twice.

The tuned choices, each chosen on the first half of Cranfield's queries through the real
search path (`bench/relevance.py --half --collection cranfield`) and reported over both
collections in full (docs/benchmarks.md, "Ranking"): the two saturations and FIELD_WEIGHTS
here; the stemmer (`index/analysis.STEMMER`); and how a pasted text is searched
(`search/query/expansion.py`: its telling words, each weighted by how often it is said).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh import scoring


@dataclass(frozen=True)
class Saturation:
    """BM25's two parameters: K1, how late a word's count saturates, and B, how much a
    field's length normalises it."""

    k1: float
    b: float


# A typed query: counts saturating a little later than the usual 1.2 (a title word already
# counts three times); of K1 1.2-9 and B 0.75/0.9, 2 and 0.75 ranked best.
TYPED = Saturation(k1=2.0, b=0.75)
# A pasted text: counts saturating far later, longer fields more normalised; of the same
# grid, 9 and 0.9 ranked best (6: within 0.006 MAP).
PASTED = Saturation(k1=9.0, b=0.9)
B, K1 = TYPED.b, TYPED.k1  # Whoosh's (WEIGHTING) where scoring.py hands a typed query over

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
# said once in paragraph six says less about the article than a word of its excerpt. With the
# abstracts as bodies, 0.9 and 1.0 tie on Cranfield's first half (0.3104 and 0.3106 MAP), 0.8
# is lower (docs/benchmarks.md, "Full text").
BODY_WEIGHT = 0.9
FIELD_WEIGHTS = {"title": 3.0, "excerpt": 1.0, "body": BODY_WEIGHT, "source": 0.5,
                 "topic": 1.5, AS_WRITTEN: EXACT_WEIGHT, BODY_AS_WRITTEN: EXACT_WEIGHT}

WEIGHTING = scoring.BM25F(B=B, K1=K1)  # what Whoosh scores with where scoring.py hands over


def idf(matching: int, total: int) -> float:
    """Robertson-Sparck Jones idf: rarer words weigh more, and a word in every record still
    weighs a little (Whoosh's `log(N/(n+1)) + 1` weighs common words more)."""
    return float(np.log(1 + (total - matching + 0.5) / (matching + 0.5)))


def normalised(tf: np.ndarray, lengths: np.ndarray, avg_length: float,
               model: Saturation = TYPED) -> np.ndarray:
    """A field's weighted counts, normalised by how long the field is against its average."""
    return tf / ((1 - model.b) + model.b * lengths / avg_length)


def saturated(tf: np.ndarray, model: Saturation = TYPED) -> np.ndarray:
    """Summed, normalised counts saturating towards K1 + 1: the tenth mention adds little."""
    return tf * (model.k1 + 1) / (model.k1 + tf)


class Pasted(wq.WrappingQuery):
    """A pasted text's query: its words scored with the PASTED saturation. Whoosh itself
    (a shape scoring.py hands over, the highlighter) reads it as its child."""

    def __init__(self, child: wq.Query, model: Saturation = PASTED):
        super().__init__(child)
        self.model = model

    def _rewrap(self, child: wq.Query) -> "Pasted":
        return Pasted(child, self.model)

    def __eq__(self, other) -> bool:
        return type(other) is Pasted and other.child == self.child and other.model == self.model

    def __hash__(self) -> int:
        return hash((Pasted, self.child, self.model))

    def normalize(self) -> wq.Query:
        child = self.child.normalize()
        return child if child is wq.NullQuery else Pasted(child, self.model)
