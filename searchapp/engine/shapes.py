"""The shapes of a Whoosh query tree the engine understands, and the one walk over them.

The array scorer (scoring.py) computes some shapes itself and hands the rest to Whoosh; a
cluster's coordinator foresees which words the scorer will ask the record counts of
(`word_keys`); highlighting looks for the words a query stands for (`leaves`). All three
read a node through `scoring` and `matching` here, so a shape the scorer learns is one the
coordinator foresees, and the other way round.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Iterator

from whoosh import query as wq

from .ranking import AS_WRITTEN_FIELDS, Pasted


class Kind(enum.Enum):
    NULL = "matches nothing"
    TERM = "one word in one field"
    WORDS = "an Or: each word (its terms in several fields) scored once, the rest added"
    AND = "every positive part, without the Not parts"
    AND_NOT = "the first part, without the matches of the second"
    REQUIRE = "the first part, where the second matches too, both scored"
    AND_MAYBE = "the first part, plus the second's score where both match"
    PASTED = "its child, its words scored with a pasted text's saturation"
    NOT = "everything else, each scoring 1"
    CONSTANT = "its child's matches, each scoring the same"
    NEAR = "a phrase: its words in order, each within `slop` of the one before"
    EVERY = "every record with a word in the field (`title:*`), each scoring its boost"
    ANY = "(matching) the matches of any part"
    SCORED = "(matching) the matches of the node as scored"
    WHOOSH = "a shape scored by Whoosh itself"


@dataclass(frozen=True)
class Shape:
    kind: Kind
    scored: tuple = ()  # children scored in their own right, in order
    matched: tuple = ()  # children whose matches alone count (no score of theirs is kept)
    words: tuple = ()  # the words scored at this node: each a tuple of its terms


def scoring(q: wq.Query) -> Shape:
    """`q` as the scorer scores it (`ArrayScorer._node`)."""
    kind = type(q)
    if q is wq.NullQuery or kind is type(wq.NullQuery):
        return Shape(Kind.NULL)
    if kind is wq.Term:
        return Shape(Kind.TERM, words=((q,),))
    if kind is wq.ConstantScoreQuery:
        return Shape(Kind.CONSTANT, matched=(q.child,))
    if kind is wq.Or and not q.scale and not q.minmatch:
        words: dict[tuple, list[wq.Term]] = {}  # one word in several fields, scored once
        rest = []
        for sub in q.subqueries:
            if type(sub) is wq.Term:
                words.setdefault(word_of(sub), []).append(sub)
            else:
                rest.append(sub)
        return Shape(Kind.WORDS, scored=tuple(rest), words=tuple(map(tuple, words.values())))
    if kind is wq.And:
        return Shape(Kind.AND, scored=tuple(s for s in q.subqueries if not isinstance(s, wq.Not)),
                     matched=tuple(s.query for s in q.subqueries if isinstance(s, wq.Not)))
    if kind is wq.AndNot:
        return Shape(Kind.AND_NOT, scored=(q.a,), matched=(q.b,))
    if kind is wq.Require:
        return Shape(Kind.REQUIRE, scored=(q.a, q.b))
    if kind is wq.AndMaybe:
        return Shape(Kind.AND_MAYBE, scored=(q.a, q.b))
    if kind is Pasted:
        return Shape(Kind.PASTED, scored=(q.child,))
    if kind is wq.Not:
        return Shape(Kind.NOT, matched=(q.query,))
    if kind is wq.Phrase and q.slop >= 1 and q.words:
        return Shape(Kind.NEAR, words=tuple((wq.Term(q.fieldname, w),) for w in q.words))
    if kind is wq.Every:
        return Shape(Kind.EVERY)
    return Shape(Kind.WHOOSH)


def matching(q: wq.Query) -> Shape:
    """`q` as the scorer matches it when no score is wanted (`ArrayScorer.docs`): the shapes
    it matches without scoring, and otherwise the node scored (SCORED)."""
    kind = type(q)
    if kind is wq.Term:
        return Shape(Kind.TERM)
    if kind is wq.ConstantScoreQuery:
        return Shape(Kind.CONSTANT, matched=(q.child,))
    if kind is wq.Or and not q.minmatch:
        return Shape(Kind.ANY, matched=tuple(q.subqueries))
    if kind is wq.AndNot:
        return Shape(Kind.AND_NOT, matched=(q.a, q.b))
    if kind is Pasted:  # the same matches, whatever the saturation
        return Shape(Kind.ANY, matched=(q.child,))
    if kind is wq.Every:
        return Shape(Kind.EVERY)
    return Shape(Kind.SCORED, scored=(q,))


def text_of(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


def word_of(term: wq.Term) -> tuple[bool, str]:
    """Which word of an Or a term scores with: its text, in whichever fields; the words as
    written (AS_WRITTEN_FIELDS) are a word of their own, so that the form typed adds its own
    score to its stem's whether or not the two are spelled alike."""
    return term.fieldname in AS_WRITTEN_FIELDS, text_of(term.text)


def index_bytes(schema, fieldname: str, text) -> bytes | None:
    """A term as the index stores it; None if the field or the text cannot be indexed."""
    if fieldname not in schema:
        return None
    if isinstance(text, bytes):
        return text
    try:
        return schema[fieldname].to_bytes(text)
    except ValueError:
        return None


def indexed(schema, terms) -> list[tuple[wq.Term, bytes, bool]]:
    """(term, its bytes in the index, whether its field is scored) of each of one word's
    terms that the index can hold."""
    out = []
    for term in terms:
        btext = index_bytes(schema, term.fieldname, term.text)
        if btext is not None:
            out.append((term, btext, schema[term.fieldname].scorable))
    return out


def idf_key(found: list[tuple[wq.Term, bytes, bool]]) -> tuple:
    """What a word's idf counts the records of, the same in every shard: its scored
    (field, term) pairs (`indexed`)."""
    return tuple((term.fieldname, btext) for term, btext, scorable in found if scorable)


def word_keys(q: wq.Query, schema) -> set[tuple] | None:
    """The words the scorer will ask the idf of when scoring `q` (`idf_key`s), those of the
    parts it only matches included; None for a query with a part Whoosh scores. A word
    missed costs a cluster a round, not a wrong score: the shard says it missed a count."""
    keys: set[tuple] = set()

    def scored(node, kept: bool = True) -> bool:
        """Whether the scorer computes every part of `node` whose score is `kept`."""
        shape = scoring(node)
        if shape.kind is Kind.WHOOSH:
            return not kept
        for terms in shape.words:
            keys.add(idf_key(indexed(schema, terms)))
        for child in shape.matched:
            matched(child)
        return all([scored(child, kept) for child in shape.scored])  # each walked

    def matched(node) -> None:
        shape = matching(node)
        if shape.kind is Kind.SCORED:  # matched by scoring it: its words are asked too
            scored(node, kept=False)
        for child in shape.matched:
            matched(child)

    return keys if scored(q) else None


def leaves(q: wq.Query, narrow: Callable[[wq.Query], object] | None = None,
           context: object = None) -> Iterator[tuple[wq.Query, object]]:
    """Every leaf of `q` (a term, a phrase, a prefix ...) with the context it stands in,
    depth first. At a REQUIRE, `narrow(requirement)` may give a context for the required
    side: then that side alone is walked, in it (`=word`: the words as written)."""
    if narrow is not None and scoring(q).kind is Kind.REQUIRE:
        inner = narrow(q.b)
        if inner:
            yield from leaves(q.a, narrow, inner)
            return
    if q.is_leaf():
        yield q, context
        return
    for child in q.children():
        yield from leaves(child, narrow, context)
