"""Executing one search from one snapshot and one request: everything but its page of hits
(`prepare`), in order and within its time budget, with heavy queries in their own lane:
the query expanded (query/expansion.py), matched (matching.py), completed when a half-typed word
finds nothing, counted (facets.py), corrected (suggest.py), put on a timeline and its words
to mark found (highlight.py). Nothing here keeps state between searches; the searcher
module decides what is cached and for how long.

`parse`, `matching`, `Matches`, `SearchLimits` and `Clock` are importable from here, as the batch
module and the tests have always imported them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
from whoosh import query as wq

from ..engine.deadline import Deadline
from ..reader import Snapshot, analysis
from . import distinctive
from .budget import Clock, SearchLimits
from .distinctive import Terms
from .facets import TOP_BARS, facet_counts
from .highlight import highlight_terms
from .lane import Turn
from .matching import Matches, like_passage, matching
from .outlets import outlet_words
from .query import ParsedQuery, is_pasted_text, parse, typed_last_word
from .request import SearchRequest
from .results import FacetValue
from .spellings import Spelled, spellings
from .suggest import MORE_COMMON, SUGGEST_BELOW, suggest, unavailable
from .timeline import Timeline, timeline_of

__all__ = ["Clock", "HEAVY_TERMS", "SearchLimits", "Matches", "Prepared", "correction",
           "like_passage", "looks_heavy", "matching", "parse", "prepare", "search_key",
           "terms_of"]

HEAVY_TERMS = 200  # a query standing for more index terms than this is matched in the heavy lane


@dataclass
class Prepared:
    """A search but for its page of hits: what recent searches keep."""

    parsed: ParsedQuery
    found: Matches
    facets: dict[str, list[FacetValue]]
    top: dict[str, list[tuple[str, int]]]
    suggestion: str | None
    timeline: Timeline
    highlight: dict[str, frozenset[str]]
    terms: Terms | None = None  # filled in when first asked for
    suggestion_total: int = 0  # records the suggestion finds
    showing: str | None = None  # the corrected query shown instead of the one asked
    written: tuple[int, int] | None = None  # with `showing`: (records, stories) of the words as written
    stories: int = 0  # how many stories the matches are copies of
    spellings: list[Spelled] = field(default_factory=list)  # its words' other spellings
    partial: bool = False  # a shard of a cluster did not answer: not kept, asked again

    def nbytes(self) -> int:
        if self.found.cut_short or self.partial:
            return 2**62  # larger than any cache: a search cut short is not kept, but rerun
        arrays = [self.found.base, self.found.final, *self.found.masks.values(),
                  *(self.found.scored or ())]
        values = sum(len(v) for v in self.facets.values()) + len(self.timeline.buckets)
        return sum(a.nbytes for a in arrays) + 200 * values + 4096



def search_key(req: SearchRequest) -> tuple:
    """What decides a search's matches, counts and timeline (not its page, nor the chart's scale)."""
    return (req.q, req.match, req.typing, req.effective_sort, req.date_from, req.date_to,
            req.interval, req.literal, req.span, req.count, req.story, req.like, req.full,
            req.hint, req.conflict,  # (what the notice says of the request's own dates)
            tuple(sorted((f, tuple(v)) for f, v in req.filters.items())),
            # what was marked, as it stood: a tag written since counts anew
            req.marks.marks().version if req.marks is not None else None)


def prepare(snap: Snapshot, req: SearchRequest, limits: SearchLimits, clock: Clock,
            turn: Turn | None = None) -> Prepared:
    """Everything of a search but its page of hits and its distinctive words.

    A heavy query (`looks_heavy` before it is read; after, one standing for more than
    HEAVY_TERMS index terms or for every record with a word in a field) takes its `turn` in
    the heavy lane (lane.py), which lets few run at once, and keeps it to the end of the
    search: light searches beside it keep a core to answer on. Its time budget starts when
    it gets its turn. `full` counts every match, whatever it takes: in the lane, no budget.
    """
    turn = turn or Turn()
    if req.full:
        limits = replace(limits, budget_ms=0)
    if req.full or looks_heavy(req.q):
        turn.take()  # its expansion is heavy too: all of it takes the lane
    snap.gen.ready()
    deadline, given = limits.deadline(), turn.waited
    parsed = parse(snap, req, limits, deadline)
    clock.lap("open")
    if parsed.query is not None and _heavy(parsed.query) and turn.take():
        deadline, given = limits.deadline(), turn.waited
    turn.give_way()
    # The time a heavy search gave way to light ones beside it is not taken from its budget.
    deadline, given = _moved(deadline, turn, given)
    found = matching(snap, parsed, req, deadline=deadline)
    parsed, found = like_passage(snap, req, limits, parsed, found, deadline)
    if len(found.final) < SUGGEST_BELOW and not found.cut_short and req.typing:
        # Few records for the globally commonest completions (`climate ch`: china,
        # chief): complete the word among what the words before it find, if that finds more.
        among = _completed_among(snap, req, limits, deadline)
        if among is not None and len(among[1].final) > len(found.final):
            parsed, found = among
    if found.cut_short:
        parsed.notice = " ".join(filter(None, (parsed.notice, (
            f"This search was stopped after {limits.budget_ms:g} ms: the results are what "
            "it found by then. Fewer or plainer words will find everything."))))
    clock.lap("match")
    turn.give_way()
    deadline, given = _moved(deadline, turn, given)
    facets, top = facet_counts(snap.columns, req, found, limits.facet_max)
    if req.count == "stories":  # the bars count the stories each source and topic ran
        top = {f: snap.columns.count(f, snap.columns.per_story(f, found.final), TOP_BARS)
               [:TOP_BARS] for f in top}
    clock.lap("facets")
    suggestion, better = correction(snap, req, limits, found, deadline)
    clock.lap("suggest")
    if off := unavailable(snap.spelling_lost, req.q, len(found.final)):
        parsed.notice = " ".join(filter(None, (parsed.notice, off)))
    if suggestion is not None and not req.literal:
        # Far more records under the correction: show those ("Showing results for ..."),
        # with the way back to the words as typed (`literal`). The count stays the words'
        # as written; the correction's is a second, labelled count.
        done = prepare(snap, replace(req, q=suggestion, literal=True, shortened=0, written=""),
                       limits, clock, turn)
        done.showing, done.written = suggestion, (int(len(found.final)),
                                                  snap.columns.story_count(found.final))
        return done
    counted = snap.columns.firsts(found.final) if req.count == "stories" else found.final
    line = timeline_of(snap.columns, counted, req.interval or None,
                       focus=req.span != "all" and not (req.date_from or req.date_to),
                       stories=req.count == "stories")
    clock.lap("timeline")
    spelled = [] if parsed.like or is_pasted_text(req.q) else spellings(
        snap.speller, snap.searcher.reader(), req.q,
        _counter(snap, replace(req, typing=False), limits, deadline),  # as its links count
        _named(snap, limits, deadline))
    clock.lap("spellings")
    return Prepared(parsed, found, facets, top, suggestion, line, highlight_terms(snap, parsed),
                    suggestion_total=better, stories=snap.columns.story_count(found.final),
                    spellings=spelled, partial=snap.absent > 0)


def _counter(snap: Snapshot, req: SearchRequest, limits: SearchLimits, deadline: float | None):
    """Records another query finds with the search's filters: what its page would count."""
    return lambda text: len(matching(
        snap, parse(snap, replace(req, q=text, shortened=0, written=""),
                    limits, deadline),
        req, rank=False, deadline=deadline).final)


def correction(snap: Snapshot, req: SearchRequest, limits: SearchLimits, found: Matches,
               deadline: float | None) -> tuple[str | None, int]:
    """(the correction of a query that finds few records, the records it finds) when it
    finds MORE_COMMON times more, else (None, 0). The page shows its results instead ("Showing
    results for"); every other view reports the same pair beside the count as written."""
    if not req.q or len(found.final) >= SUGGEST_BELOW or is_pasted_text(req.q) or found.cut_short:
        return None, 0
    suggestion = suggest(snap.speller, snap.searcher.reader(), req.q, req.typing,
                         count=_counter(snap, req, limits, deadline))
    if suggestion is None:
        return None, 0
    fixed = parse(snap, replace(req, q=suggestion, shortened=0, written=""), limits, deadline)
    better = len(matching(snap, fixed, req, rank=False, deadline=deadline).final)
    if better == 0 or better < MORE_COMMON * len(found.final):
        return None, 0
    return suggestion, better


NAME_RECORDS = 10  # records of a word read to see how it is written


def _named(snap: Snapshot, limits: SearchLimits, deadline: float | None):
    """How the records write a word when they write it as a name (with a capital in
    mid-sentence, in the excerpts and in titles not all in capitals, and hardly ever
    without, in at most NAME_RECORDS of its records): `Gaddafi`; None when they do not."""
    known = snap.gen.names

    def named(word: str) -> str | None:
        if word in known:
            return known[word]
        req = SearchRequest(q=f"={word}")
        found = matching(snap, parse(snap, req, limits, deadline), req, rank=False,
                         deadline=deadline)
        name = _as_named(snap, word, found.final)
        if not found.cut_short:
            if len(known) >= KNOWN_NAMES:
                known.clear()
            known[word] = name
        return name
    return named


KNOWN_NAMES = 16_384  # words whose written form a generation remembers (then forgets all)


def _as_named(snap: Snapshot, word: str, docs) -> str | None:
    """The capitalised form of `word` its records write (see `_named`), or None."""
    forms: Counter[str] = Counter()
    for record in snap.records(snap.columns.sample(docs, NAME_RECORDS)):
        for text in (record or {}).get("title") or "", (record or {}).get("excerpt") or "":
            if text.isupper():
                continue
            for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE):
                if re.search(r"\w[^.!?:\"“]*\Z", text[:m.start()]):
                    forms[m.group(0)] += 1  # (the first word of a sentence: a capital anyway)
    upper = sum(n for f, n in forms.items() if f[0].isupper())
    if not upper or upper < 4 * (sum(forms.values()) - upper):
        return None
    return max((f for f in forms if f[0].isupper()), key=lambda f: (forms[f], f))


# Records of the words before a half-typed one whose words are read to complete it.
COMPLETE_AMONG = 500
COMPLETIONS_AMONG = 20


def _completed_among(snap: Snapshot, req: SearchRequest, limits: SearchLimits, deadline: float | None
                     ) -> tuple[ParsedQuery, Matches] | None:
    """`facial rec` with nothing found: the index's most frequent words beginning `rec`
    (record, recent, ...) are not in any record about `facial`. Complete the word from the
    words of the records the other words find instead (their term vectors, at most
    COMPLETE_AMONG of them, picked by id), so that every prefix of a word that has
    results finds results."""
    split = typed_last_word(req.q)
    if split is None:
        return None
    rest, word = split
    prefix = analysis.fold_pattern(word)
    if not snap.words("written").completions(prefix, 1):
        return None  # no word of the index begins so
    before = parse(snap, replace(req, q=rest, typing=False), limits, deadline)
    docs = matching(snap, before, req, rank=False, deadline=deadline).final
    if not len(docs):
        return None
    docs = snap.columns.sample(docs, COMPLETE_AMONG)
    start = prefix.encode("utf-8")
    counts: dict[bytes, int] = {}
    for terms in snap.scorer.vectors(docs, "written", deadline):
        for term in terms[np.char.startswith(terms, start)].tolist() if len(terms) else ():
            counts[term] = counts.get(term, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))[:COMPLETIONS_AMONG]
    if not words:
        return None
    completed = f"{rest} ({' OR '.join(w.decode('utf-8') for w in words)})"
    parsed = parse(snap, replace(req, q=completed, typing=False), limits, deadline)
    parsed.notice, parsed.completing = before.notice, word
    found = matching(snap, parsed, req, deadline=deadline)
    return (parsed, found) if len(found.final) else None


def terms_of(snap: Snapshot, done: Prepared, req: SearchRequest) -> Terms:
    """The distinctive words of a prepared search, computed once and kept with it."""
    if done.terms is None:
        terms = distinctive.of_query(snap.scorer.vectors, snap.doc_frequency, done.found.final,
                                     len(snap.columns.all_docs), done.showing or req.q,
                                     snap.columns.sample, outlet_words(snap))
        if snap.absent:  # read without some shard's records: not kept
            return terms
        done.terms = terms
    return done.terms


_PATTERN = re.compile(r"[*?]")
_FUZZY = re.compile(r"[^\W_]~")  # `word~`, `word~2` (not a phrase's `"..."~3`)


def looks_heavy(q: str) -> bool:
    """Many patterns, a fuzzy word (matched against every word of the index) or a pasted
    text: heavy to expand, before anything is parsed."""
    return len(_PATTERN.findall(q)) >= 4 or bool(_FUZZY.search(q)) or is_pasted_text(q)


def _moved(deadline: Deadline, turn: Turn, given: float) -> tuple[Deadline, float]:
    """(`deadline` moved on by the seconds the search gave way to light ones since it had
    given `given`, what it has given now)."""
    waited = turn.waited - given
    return (deadline if deadline is None or not waited else deadline + waited), turn.waited


def _heavy(q: wq.Query) -> bool:
    """A query standing for more than HEAVY_TERMS index terms, or for every record with a
    word in a field (`title:*`: cheap to match, but its counts, timeline and words are
    those of the whole collection, which no browse of it keeps)."""
    leaves = 0
    for leaf in q.leaves():
        leaves += 1
        if isinstance(leaf, wq.Every) or leaves > HEAVY_TERMS:
            return True
    return False
