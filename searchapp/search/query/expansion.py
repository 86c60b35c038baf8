"""The user's query as the index reads it: parsed (language.py), a pasted text reduced to its
telling words, and every prefix, wildcard and fuzzy term expanded once, over the whole
index, into the index terms it stands for, within the configured caps.
"""

from __future__ import annotations

from whoosh import query as wq

from ...engine.deadline import Deadline, passed
from ...engine.expand import BoundedPrefix, BoundedWildcard, expansions, is_expanding
from ...engine.pause import pause
from ...engine.ranking import Pasted
from ...reader import WORDS_AS_WRITTEN, Snapshot, analysis, sound_key
from ..budget import SearchLimits
from .language import ParsedQuery, is_pasted_text, parse_user_query, query_words
from ..request import SearchRequest

FUZZY_FARTHER = 0.4  # a fuzzy match one edit further than the nearest weighs this much of it
MAX_QUERY_TERMS = 1024  # index terms all of a query's patterns may stand for together
NOTHING = "\x00"  # a term no record has
PASTED_WORDS = 100  # words of a pasted text searched (the rarest in the collection, if more)
_WRITTEN = WORDS_AS_WRITTEN["title"]
_BODY = WORDS_AS_WRITTEN["body"]  # a pasted text's words are looked for in bodies too


def parse(snap: Snapshot, req: SearchRequest, limits: SearchLimits,
          deadline: float | None = None, like: bool = False) -> ParsedQuery:
    """The user's query, with every prefix, wildcard and fuzzy term expanded once, over the
    whole index, into the index terms it stands for. A pasted text (or, with `like`, a
    passage no record has every word of) is searched as "records like this text".

    Whoosh would otherwise expand them per segment, so the `max_wildcard_terms` cap and
    the typed word's "most frequent completions" would depend on how the index happens
    to be split (an incremental index could answer differently from a full rebuild), and
    highlighting would expand them again, maybe differently.
    """
    reader = snap.searcher.reader()
    if like or (is_pasted_text(req.q) and req.like):
        words = _telling_words(reader, req.q)
        if words:
            # A word the text repeats weighs as often as it is said (BM25's query term
            # frequency): a pasted abstract names its subject more than once.
            parsed = parse_user_query(" ".join(w if n == 1 else f"{w}^{n}"
                                               for w, n in words.items()), "any", typing=False)
            parsed.notice = (f"Searching for records like this text: any of its {len(words)} "
                             "most distinctive words, best matches first.")
            if like:
                parsed.notice = "No record has every word of this text. " + parsed.notice
        else:
            parsed = ParsedQuery(wq.NullQuery, "None of the words of this text is in any record.")
        parsed.like = True
    else:
        parsed = parse_user_query(req.q, req.match, req.typing)
    if req.shortened:
        parsed.notice = " ".join(filter(None, (
            f"Your text was {req.shortened:,} characters long; its first {len(req.q):,} were "
            "searched.", parsed.notice)))
    if req.conflict or req.hint:  # what the request says of its own dates comes first
        parsed.notice = " ".join(filter(None, (
            f"No record can match: {req.conflict}." if req.conflict else "", req.hint,
            parsed.notice)))
    if parsed.query is None or parsed.query is wq.NullQuery:
        return parsed

    # Each pattern's index terms, with the edits a fuzzy term's are away (title and excerpt
    # expand over the same words).
    done: dict[tuple, dict[str, int]] = {}
    room = [MAX_QUERY_TERMS]  # index terms the whole query may still stand for

    def expand(node):
        nonlocal deadline
        if not is_expanding(node):
            return node
        field = node.field()
        waited = pause()  # a heavy search's patterns: light searches beside it first
        if waited and deadline is not None:
            deadline += waited
        if passed(deadline):
            parsed.cut_short = True
            return wq.NullQuery
        # Title and excerpt expand over the same words as written: a fuzzy word is matched
        # against the whole vocabulary once for both, not once for each.
        key = (type(node), WORDS_AS_WRITTEN.get(field, field),
               getattr(node, "written", None) or node.text, getattr(node, "best", None),
               getattr(node, "maxdist", None), getattr(node, "prefixlength", None))
        if key not in done:
            if room[0] <= 0:
                parsed.notice = parsed.notice or (
                    f"This query stands for more than {MAX_QUERY_TERMS:,} words of the index; "
                    "the patterns past them match nothing. Fewer patterns will find more.")
            cap = min(limits.max_wildcard_terms, room[0])
            found, more = _expanded(node, reader, cap, snap, deadline) if room[0] > 0 \
                else ({}, True)
            parsed.capped = parsed.capped or more  # the counts are "at least" these
            # Past the deadline, the scan of the vocabulary stopped where it was.
            parsed.cut_short = parsed.cut_short or passed(deadline)
            done[key] = found
            room[0] -= len(found)
        texts = done[key]
        if not texts:  # matches nothing (not left out: `a AND x*` must not find every `a`)
            return wq.Term(field, NOTHING)
        if isinstance(node, wq.FuzzyTerm):
            # A fuzzy term's matches keep its weight (the title's, and any `^n` typed), the
            # nearest whole, each further edit at FUZZY_FARTHER of it: `goverment~2` ranks
            # government's records above those of the rarer movement, two edits away.
            # Its matches share one idf, the commonest's (`blend`: engine/scoring.py).
            closest = min(texts.values())
            blend = ("fuzzy", getattr(node, "written", None) or node.text, node.maxdist)
            return wq.Or([_blended(wq.Term(field, t, boost=node.boost
                                           * FUZZY_FARTHER ** (edits - closest)), blend)
                          for t, edits in texts.items()])
        # A prefix or wildcard scores as one constant match, as Whoosh scores it itself.
        constant = wq.ConstantScoreQuery(wq.Or([wq.Term(field, t) for t in texts]),
                                         score=node.boost)
        constant.boost = 1.0  # normalize() multiplies boosts of nested groups through it
        return constant

    query = parsed.query.accept(expand).normalize()
    if parsed.like and query is not wq.NullQuery:
        query = Pasted(query)  # its words saturate as a pasted text's (ranking.PASTED)
    return ParsedQuery(query, parsed.notice, parsed.cut_short, parsed.like, parsed.capped,
                       parsed.completing)


def _blended(term: wq.Term, key: tuple) -> wq.Term:
    term.blend = key  # read by the array scorer; Whoosh scores it as any term
    return term


def _telling_words(reader, text: str) -> dict[str, int]:
    """The words of a pasted text that say most about it, each with how often the text says
    it: those fewest records contain (but some do), leaving out noise words."""
    found: dict[str, int] = {}
    said: dict[str, int] = {}
    for word in query_words(text):
        folded = analysis.fold_word(word)
        if len(folded) < 3 or folded in analysis.NOISE or folded.isdigit():
            continue
        if folded in said:
            said[folded] += 1
            continue
        # (most of an article's words are in its body alone)
        df = max(reader.doc_frequency(_WRITTEN, folded), reader.doc_frequency(_BODY, folded))
        if df:
            found[folded], said[folded] = df, 1
    return {w: said[w] for w in sorted(found, key=lambda w: (found[w], w))[:PASTED_WORDS]}


def _expanded(node, reader, limit: int, snap: Snapshot, deadline: Deadline
              ) -> tuple[dict[str, int], bool]:
    """The index terms a prefix, wildcard or fuzzy term stands for (at most `limit` words),
    each with its edits from a fuzzy term's word (0 otherwise), and whether it stands for
    more. In a stemmed field, a pattern or a fuzzy term is matched
    against the words as written and searched as their stems, so every prefix of a word
    finds what the word finds; the typed word's completions keep the word itself when it is
    one, and are the few most records hold by choice, never "more"."""
    words = _words_of(node, reader, limit + 1, snap, deadline)
    more = len(words) > limit and not getattr(node, "best", None)
    words = words[:limit]
    if isinstance(node, wq.FuzzyTerm):
        # Of the words equally near, one that sounds as typed is the word meant: the others
        # weigh as one edit further (`opek~`: OPEC, then open, Opel, Oper).
        typed = sound_key(getattr(node, "written", None) or node.text)
        words = [(w, edits + (sound_key(w) != typed)) for w, edits in words]
    field = node.field()
    written = WORDS_AS_WRITTEN.get(field)
    if written is None:
        return dict(words), more
    if isinstance(node, BoundedPrefix) and node.best and (written, node.text) in reader \
            and node.text not in dict(words):
        words.append((node.text, 0))
    stems: dict[str, int] = {}  # a stem is as near as its nearest word
    for word, edits in words:
        stem = analysis.stem_word(word)
        if stem:
            stems[stem] = min(stems.get(stem, edits), edits)
    return stems, more


def _words_of(node, reader, limit: int, snap: Snapshot, deadline: Deadline
              ) -> list[tuple[str, int]]:
    """Up to `limit` words (as written, where the field has such a copy) `node` stands for,
    each with its edits from a fuzzy term's word (0 for the others); a wildcard or a fuzzy
    term scanning the whole vocabulary stops at `deadline`."""
    field = node.field()
    written = WORDS_AS_WRITTEN.get(field)
    if isinstance(node, BoundedWildcard) and field in reader.schema:
        # Every word of the field is tried, at C speed, not the first few thousand in Python.
        return [(w, 0) for w in snap.words(written or field).matching(node.text, limit,
                                                                     deadline)]
    if isinstance(node, wq.FuzzyTerm):
        # The word as written, among the words as written (its stems searched in a stemmed
        # field): `recesion~` is recession, not whatever lies an edit from the stem `reces`.
        if field not in reader.schema:
            return []
        text = getattr(node, "written", None) or node.text
        return snap.words(written or field).within(text, int(node.maxdist),
                                                   node.prefixlength, limit, deadline)
    if written is None:
        found = expansions(node, reader, limit)
    elif isinstance(node, BoundedPrefix):  # the completions most records hold
        found = snap.words(written).completions(node.text, min(limit, node.best or limit))
    else:
        found = expansions(node, reader, limit, over=written)
    return [(w, 0) for w in found]
