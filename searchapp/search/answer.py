"""What one search computes from one snapshot and one request: matches, ranking, counts,
timeline, suggestion and highlights. Nothing here keeps state between searches; the
searcher module decides what is cached and for how long.
"""

from __future__ import annotations

import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import ContextManager

import numpy as np
from whoosh import query as wq

from ..engine.expand import BoundedPrefix, BoundedWildcard, expansions, is_expanding
from ..index import analysis
from ..index.analysis import fold_word
from ..index.schema import NO_DATE, WORDS_AS_WRITTEN
from . import distinctive, timeline as timeline_mod
from .distinctive import Terms
from .facets import TOP_BARS, Columns, facet_counts
from .highlight import mark
from .parser import ParsedQuery, is_pasted_text, parse_user_query, query_words, typed_last_word
from .request import SearchRequest
from .results import FacetValue, Hit, QuerySummary
from .snapshot import Snapshot
from .suggest import MORE_COMMON, SUGGEST_BELOW, suggest
from .timeline import Timeline



@dataclass
class Limits:
    """What the settings bound a search by."""

    facet_max: int = 500
    max_wildcard_terms: int = 512
    budget_ms: float = 500  # matching stops here and answers with what it has


@dataclass
class Matches:
    base: np.ndarray  # matching the text and dates
    final: np.ndarray  # ... and every facet filter
    masks: dict[str, np.ndarray]  # per facet, over `base`
    scored: tuple[np.ndarray, np.ndarray] | None  # `final` with scores, by document number
    cut_short: bool = False  # the search's time budget ran out: what it found so far

    def best(self, ids: np.ndarray, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first `stop` of `final` by relevance (every one when None) with their scores,
        ties by record id (`ids`: each document's id key), so that the order is the same
        whichever shard or segment holds a record. A page needs only its first few: sorting
        tens of thousands of matches on every keystroke was a fifth of a broad query's time."""
        docs, scores = self.scored
        if stop is not None and stop < len(docs):
            if stop <= 0:
                return docs[:0], scores[:0]
            # Every match scoring at least the stop-th best, so that ties at the cut are
            # ordered by id like the rest.
            floor = np.partition(scores, len(scores) - stop)[len(scores) - stop]
            keep = scores >= floor
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((ids[docs], -scores))[:stop]
        return docs[order], scores[order]


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
    stories: int = 0  # how many stories the matches are copies of
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
            req.interval, req.literal, req.span, req.count, req.story,
            tuple(sorted((f, tuple(v)) for f, v in req.filters.items())))


class Clock:
    """Milliseconds spent in each phase of a search."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 3)
        self.last = now

    def total(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


def prepare(snap: Snapshot, req: SearchRequest, limits: Limits, clock: Clock,
            heavy_lane: ContextManager = nullcontext()) -> Prepared:
    """Everything of a search but its page of hits and its distinctive words.

    A heavy query (one that stands for many index terms) is matched in `heavy_lane`, which
    lets few run at once: light searches beside it keep a core to answer on. Its time budget
    starts when it gets its turn.
    """
    if heavy_lane is not _IN_LANE and looks_heavy(req.q):
        with heavy_lane:  # its expansion is heavy too: all of it takes the lane
            return prepare(snap, req, limits, clock, _IN_LANE)
    snap.gen.ready()
    deadline = time.perf_counter() + limits.budget_ms / 1000 if limits.budget_ms else None
    parsed = parse(snap, req, limits, deadline)
    clock.lap("open")
    heavy = heavy_lane is not _IN_LANE and parsed.query is not None \
        and _terms_in(parsed.query) > HEAVY_TERMS
    with heavy_lane if heavy else nullcontext():
        if heavy and limits.budget_ms:
            deadline = time.perf_counter() + limits.budget_ms / 1000
        found = matching(snap, parsed, req, deadline=deadline)
        if not len(found.final) and not found.cut_short and req.typing:
            parsed, found = _completed_among(snap, req, limits, deadline) or (parsed, found)
        if found.cut_short:
            parsed.notice = " ".join(filter(None, (parsed.notice, (
                f"This search was stopped after {limits.budget_ms:g} ms: the results are what "
                "it found by then. Fewer or plainer words will find everything."))))
        clock.lap("match")
        facets, top = facet_counts(snap.columns, req, found, limits.facet_max)
        if req.count == "stories":  # the bars count the stories each source and topic ran
            top = {f: snap.columns.count(f, snap.columns.per_story(f, found.final), TOP_BARS)
                   [:TOP_BARS] for f in top}
    clock.lap("facets")
    suggestion, better = None, 0
    if req.q and len(found.final) < SUGGEST_BELOW and not is_pasted_text(req.q):
        suggestion = suggest(snap.speller, snap.searcher.reader(), req.q, req.typing,
                             count=lambda text: len(matching(
                                 snap, parse(snap, replace(req, q=text, shortened=0), limits, deadline),
                                 req, rank=False, deadline=deadline).final))
        if suggestion is not None:
            fixed = parse(snap, replace(req, q=suggestion, shortened=0), limits, deadline)
            better = len(matching(snap, fixed, req, rank=False, deadline=deadline).final)
            if better == 0 or better < MORE_COMMON * len(found.final):
                suggestion, better = None, 0
    clock.lap("suggest")
    if suggestion is not None and not req.literal:
        # Far more records under the correction: show those ("Showing results for ..."),
        # with the way back to the words as typed (`literal`).
        done = prepare(snap, replace(req, q=suggestion, literal=True, shortened=0), limits,
                       clock, heavy_lane)
        done.showing = suggestion
        return done
    counted = snap.columns.firsts(found.final) if req.count == "stories" else found.final
    line = timeline_of(snap.columns, counted, req.interval or None,
                       focus=req.span != "all" and not (req.date_from or req.date_to))
    clock.lap("timeline")
    return Prepared(parsed, found, facets, top, suggestion, line, highlight_terms(snap, parsed),
                    suggestion_total=better, stories=snap.columns.story_count(found.final),
                    partial=snap.absent > 0)


# Records of the words before a half-typed one whose words are read to complete it.
COMPLETE_AMONG = 500
COMPLETIONS_AMONG = 20


def _completed_among(snap: Snapshot, req: SearchRequest, limits: Limits, deadline: float | None
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
    if not snap.words("body").completions(prefix, 1):
        return None  # no word of the index begins so
    before = parse(snap, replace(req, q=rest, typing=False), limits, deadline)
    docs = matching(snap, before, req, rank=False, deadline=deadline).final
    if not len(docs):
        return None
    docs = snap.columns.sample(docs, COMPLETE_AMONG)
    start = prefix.encode("utf-8")
    counts: dict[bytes, int] = {}
    for terms in snap.scorer.vectors(docs, "body", deadline):
        for term in terms[np.char.startswith(terms, start)].tolist() if len(terms) else ():
            counts[term] = counts.get(term, 0) + 1
    words = sorted(counts, key=lambda w: (-counts[w], w))[:COMPLETIONS_AMONG]
    if not words:
        return None
    completed = f"{rest} ({' OR '.join(w.decode('utf-8') for w in words)})"
    parsed = parse(snap, replace(req, q=completed, typing=False), limits, deadline)
    parsed.notice = before.notice
    found = matching(snap, parsed, req, deadline=deadline)
    return (parsed, found) if len(found.final) else None


def terms_of(snap: Snapshot, done: Prepared, req: SearchRequest) -> Terms:
    """The distinctive words of a prepared search, computed once and kept with it."""
    if done.terms is None:
        terms = distinctive.of_query(snap.scorer.vectors, snap.doc_frequency, done.found.final,
                                     len(snap.columns.all_docs), done.showing or req.q,
                                     snap.columns.sample)
        if snap.absent:  # read without some shard's records: not kept
            return terms
        done.terms = terms
    return done.terms


def parse(snap: Snapshot, req: SearchRequest, limits: Limits,
          deadline: float | None = None) -> ParsedQuery:
    """The user's query, with every prefix, wildcard and fuzzy term expanded once, over the
    whole index, into the index terms it stands for.

    Whoosh would otherwise expand them per segment, so the `max_wildcard_terms` cap and
    the typed word's "most frequent completions" would depend on how the index happens
    to be split (an incremental index could answer differently from a full rebuild), and
    highlighting would expand them again, maybe differently.
    """
    reader = snap.searcher.reader()
    if is_pasted_text(req.q):
        words = _telling_words(reader, req.q)
        if words:
            parsed = parse_user_query(" ".join(words), "any", typing=False)
            parsed.notice = (f"Searching for records like this text: any of its {len(words)} "
                             "most distinctive words, best matches first.")
        else:
            parsed = ParsedQuery(wq.NullQuery, "None of the words of this text is in any record.")
    else:
        parsed = parse_user_query(req.q, req.match, req.typing)
    if req.shortened:
        parsed.notice = " ".join(filter(None, (
            f"Your text was {req.shortened:,} characters long; its first {len(req.q):,} were "
            "searched.", parsed.notice)))
    if parsed.query is None or parsed.query is wq.NullQuery:
        return parsed

    done: dict[tuple, list[str]] = {}  # title and excerpt expand over the same words
    room = [MAX_QUERY_TERMS]  # index terms the whole query may still stand for

    def expand(node):
        if not is_expanding(node):
            return node
        field = node.field()
        if deadline is not None and time.perf_counter() > deadline:
            parsed.cut_short = True
            return wq.NullQuery
        shared = not isinstance(node, wq.FuzzyTerm)  # fuzzy terms expand over their own field
        key = (type(node), WORDS_AS_WRITTEN.get(field, field) if shared else field, node.text,
               getattr(node, "best", None), getattr(node, "maxdist", None),
               getattr(node, "prefixlength", None))
        if key not in done:
            if room[0] <= 0:
                parsed.notice = parsed.notice or (
                    f"This query stands for more than {MAX_QUERY_TERMS:,} words of the index; "
                    "the patterns past them match nothing. Fewer patterns will find more.")
            done[key] = _expanded(node, reader, min(limits.max_wildcard_terms, room[0]), snap) \
                if room[0] > 0 else []
            room[0] -= len(done[key])
        texts = done[key]
        if not texts:  # matches nothing (not left out: `a AND x*` must not find every `a`)
            return wq.Term(field, NOTHING)
        if isinstance(node, wq.FuzzyTerm):
            # A fuzzy term's matches keep its weight (the title's, and any `^n` typed).
            return wq.Or([wq.Term(field, t, boost=node.boost) for t in texts])
        # A prefix or wildcard scores as one constant match, as Whoosh scores it itself.
        constant = wq.ConstantScoreQuery(wq.Or([wq.Term(field, t) for t in texts]),
                                         score=node.boost)
        constant.boost = 1.0  # normalize() multiplies boosts of nested groups through it
        return constant

    return ParsedQuery(parsed.query.accept(expand).normalize(), parsed.notice, parsed.cut_short)


MAX_QUERY_TERMS = 1024  # index terms all of a query's patterns may stand for together
HEAVY_TERMS = 200  # a query standing for more index terms than this is matched in the heavy lane


_PATTERN = re.compile(r"[*?]")
_IN_LANE = nullcontext()  # the heavy lane is already held


def looks_heavy(q: str) -> bool:
    """Many patterns, or a pasted text: heavy to expand, before anything is parsed."""
    return len(_PATTERN.findall(q)) >= 4 or is_pasted_text(q)


def _terms_in(q: wq.Query) -> int:
    return sum(1 for _ in q.leaves())
_WRITTEN = WORDS_AS_WRITTEN["title"]
NOTHING = "\x00"  # a term no record has
PASTED_WORDS = 100  # words of a pasted text searched (the rarest in the collection, if more)


def _telling_words(reader, text: str) -> list[str]:
    """The words of a pasted text that say most about it: those fewest records contain
    (but some do), leaving out noise words."""
    found = {}
    for word in query_words(text):
        folded = fold_word(word)
        if len(folded) < 3 or folded in analysis.NOISE or folded.isdigit() or folded in found:
            continue
        df = reader.doc_frequency(_WRITTEN, folded)
        if df:
            found[folded] = df
    return sorted(found, key=lambda w: (found[w], w))[:PASTED_WORDS]


def _expanded(node, reader, limit: int, snap: Snapshot) -> list[str]:
    """The index terms a prefix, wildcard or fuzzy term stands for. In a stemmed field, a
    prefix or wildcard is matched against the words as written and searched as their stems,
    so every prefix of a word finds what the word finds; the typed word's completions keep
    the word itself when it is one."""
    field = node.field()
    written = WORDS_AS_WRITTEN.get(field)
    if isinstance(node, BoundedWildcard) and field in reader.schema:
        # Every word of the field is tried, at C speed, not the first few thousand in Python.
        words = snap.words(written or field).matching(node.text, limit)
        if written is None:
            return words
    elif written is None or isinstance(node, wq.FuzzyTerm):
        return expansions(node, reader, limit)
    elif isinstance(node, BoundedPrefix):  # the completions most records hold
        words = snap.words(written).completions(node.text, min(limit, node.best or limit))
    else:
        words = expansions(node, reader, limit, over=written)
    if isinstance(node, BoundedPrefix) and node.best and (written, node.text) in reader \
            and node.text not in words:
        words.append(node.text)
    stems = (analysis.stem_word(w) for w in words)
    return list(dict.fromkeys(s for s in stems if s))


def matching(snap: Snapshot, parsed: ParsedQuery, req: SearchRequest, rank: bool = True,
             deadline: float | None = None) -> Matches:
    """Documents matching the text and dates (`base`), per-facet masks, all filters (`final`).

    A relevance-sorted text query scores every match in one pass over arrays
    (engine/scoring.py), which the counts need anyway; other sorts only ask which documents
    match.
    """
    cols = snap.columns
    scored, cut_short = None, parsed.cut_short
    if parsed.query is None:
        base = cols.all_docs
    elif parsed.query is wq.NullQuery:
        base = np.zeros(0, dtype=np.int64)
    else:
        q = parsed.query
        if rank and req.effective_sort == "relevance":
            found = snap.scorer.run(q, deadline)
            scored, base = (found.docs, found.scores), found.docs
        else:
            base = snap.scorer.matching(q, deadline)
        cut_short = snap.scorer.cut_short or parsed.cut_short
    low, high = req.range_seconds()
    if low is not None or high is not None:
        base = cols.in_range(base, low, high)
    if req.story:
        base = cols.in_story(base, req.story)
    masks = {facet: cols.mask(facet, base, values) for facet, values in req.filters.items()}
    keep = np.ones(len(base), dtype=bool)
    for m in masks.values():
        keep &= m
    final = base[keep]
    if scored is not None and len(final) < len(scored[0]):
        inside = np.isin(scored[0], final, assume_unique=True)
        scored = (scored[0][inside], scored[1][inside])
    return Matches(base, final, masks, scored, cut_short)


def page_order(snap: Snapshot, req: SearchRequest, found: Matches) -> list[tuple[int, float | None]]:
    """(document number, score) of the request's page of hits."""
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    if found.scored is not None:
        docs, scores = found.best(snap.columns.idkeys, stop)
        return [(int(d), float(sc)) for d, sc in zip(docs[start:stop], scores[start:stop])]
    if start >= len(found.final):
        return []
    docs = snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"), stop=stop)
    return [(int(d), None) for d in docs[start:stop]]


def story_page(snap: Snapshot, req: SearchRequest, found: Matches
               ) -> list[tuple[int, float | None, np.ndarray]]:
    """The request's page of stories: for each, its best match (by the search's order) with
    its score, and the story's other matches (earliest first)."""
    cols = snap.columns
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    if start >= len(found.final):
        return []
    ahead = max(3 * stop, 60)  # matches read to find `stop` stories; more when copies crowd
    while True:
        if found.scored is not None:
            docs, scores = found.best(cols.idkeys, ahead)
        else:
            docs = cols.by_date(found.final, newest=(req.effective_sort != "oldest"), stop=ahead)
            scores = None
        stories = cols.story[docs]
        _, first = np.unique(stories, return_index=True)
        first.sort()
        if len(first) >= stop or ahead >= len(found.final):
            break
        ahead *= 4
    shown = first[start:stop]
    return [(int(docs[i]), None if scores is None else float(scores[i]),
             cols.copies_in(int(docs[i]), found.final)) for i in shown]


COPIES_SHOWN = 12  # under a story's hit; the rest are one link away (`story=`)


def story_hits(snap: Snapshot, terms: dict[str, frozenset[str]], page) -> list[Hit]:
    """The hits of a page of stories, each with its first copies; every record read at once
    (on a cluster, one call per shard); a record a shard did not give is left out."""
    shown = [[int(d) for d in copies[:COPIES_SHOWN]] for _, _, copies in page]
    records = snap.records([d for d, _, _ in page] + [d for few in shown for d in few])
    copies_of = iter(records[len(page):])
    out = []
    for (docnum, score, copies), record, few in zip(page, records, shown):
        found = [r for r in (next(copies_of) for _ in few) if r is not None]
        if record is not None:
            hit = _hit(snap, terms, docnum, score, record)
            hit.copies, hit.more_copies = found, max(0, len(copies) - COPIES_SHOWN)
            out.append(hit)
    return out


def full_order(snap: Snapshot, req: SearchRequest, found: Matches) -> np.ndarray:
    """Every match in result order (for exports)."""
    if found.scored is not None:
        return found.best(snap.columns.idkeys)[0]
    return snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"),
                                stop=len(found.final))


def hits(snap: Snapshot, terms: dict[str, frozenset[str]], order) -> list[Hit]:
    """The hits at (document number, score), their records read at once; a record a shard
    of a cluster did not give is left out."""
    records = snap.records([d for d, _ in order])
    return [_hit(snap, terms, docnum, score, record)
            for (docnum, score), record in zip(order, records) if record is not None]


def _hit(snap: Snapshot, terms: dict[str, frozenset[str]], docnum: int, score: float | None,
         record: dict) -> Hit:
    return Hit(record["id"], record, score,
               mark(record["title"], terms["title"], terms["exact"]),
               mark(record["excerpt"], terms["excerpt"], terms["exact"]),
               story_id=snap.columns.story_id(docnum))


def highlight_terms(snap: Snapshot, parsed: ParsedQuery) -> dict[str, frozenset[str]]:
    """The index terms of the query in titles and excerpts: what `mark` looks for; under
    "exact", the stems that only `=word` asked for, each as `stem=word` with the words as
    written it may mark (`=banned` marks banned, not ban)."""
    found: dict[str, set[str]] = {"title": set(), "excerpt": set()}
    exact: dict[str, set[str]] = {}
    plain: set[str] = set()
    if parsed.query is not None and parsed.query is not wq.NullQuery:
        reader = snap.searcher.reader()

        def walk(q, within_exact: set[str] | None) -> None:
            if isinstance(q, wq.Require) and _exact_words(q.b):
                walk(q.a, _exact_words(q.b))
                return
            if q.is_leaf():
                # Not Query.existing_terms: its loop variable shadows its `fieldname`
                # argument, so after the first term it skips every leaf of another field.
                for fieldname, text in q.expanded_terms(reader, phrases=True):
                    if fieldname in found:
                        term = text.decode("utf-8") if isinstance(text, bytes) else text
                        found[fieldname].add(term)
                        if within_exact is None:
                            plain.add(term)
                        else:
                            exact.setdefault(term, set()).update(within_exact)
                return
            for child in q.children():
                walk(child, within_exact)

        walk(parsed.query, None)
    out = {k: frozenset(v) for k, v in found.items()}
    out["exact"] = frozenset(f"{stem}={word}" for stem, words in exact.items() if stem not in plain
                             for word in words)
    return out


def _exact_words(q) -> set[str]:
    """The words of an `=word`'s exact side (its terms in the unstemmed body)."""
    return {t.text for t in q.leaves() if isinstance(t, wq.Term) and t.fieldname == "body"}


def timeline_of(cols: Columns, final: np.ndarray, interval: str | None,
                focus: bool = False) -> Timeline:
    """Matches per period; with `focus`, over the range where most of them are."""
    if len(final) == len(cols.all_docs):  # everything: the baseline is the answer
        return timeline_mod.build(cols.all_dated, cols.all_dated,
                                  len(final) - len(cols.all_dated), interval, focus=focus)
    dates = cols.dates[final]
    dated = dates[dates != NO_DATE]
    return timeline_mod.build(dated, cols.all_dated, len(final) - len(dated), interval,
                              focus=focus)


def compare(snap: Snapshot, requests: list[SearchRequest], limits: Limits,
            interval: str | None = None, top: int = 5) -> list[QuerySummary]:
    """Several queries on one time axis (the span of all their matches), with top facets."""
    cols = snap.columns
    matched = []
    snap.gen.ready()
    deadline = time.perf_counter() + limits.budget_ms / 1000 if limits.budget_ms else None
    for req in requests:
        parsed = parse(snap, replace(req, typing=False), limits, deadline)
        found = matching(snap, parsed, req, rank=False, deadline=deadline)
        if found.cut_short:
            parsed.notice = " ".join(filter(None, (parsed.notice, (
                f"Stopped after {limits.budget_ms:g} ms: the counts are what it found by then."))))
        matched.append((req, parsed, found.final))
    dated = [d[d != NO_DATE] for d in (cols.dates[f] for _, _, f in matched)]
    nonempty = [d for d in dated if len(d)]
    span = (int(min(d.min() for d in nonempty)), int(max(d.max() for d in nonempty))) \
        if nonempty else None
    first = requests[0]
    if span and first.span != "all" and not (first.date_from or first.date_to):
        span = timeline_mod.dense_span(np.concatenate(nonempty)) or span  # where most are
    out = []
    for (req, parsed, final), dates in zip(matched, dated):
        line = timeline_mod.build(dates, cols.all_dated, len(final) - len(dates),
                                  interval, span) if span else \
            Timeline(interval or "day", (), len(final))
        out.append(QuerySummary(req, int(len(final)), line,
                                {f: cols.count(f, final, top)[:top] for f in ("provider", "topic")},
                                parsed.notice))
    return out
