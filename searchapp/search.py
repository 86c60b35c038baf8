"""Answering searches: one shared searcher per index generation, and one result object per search.

The web views, the JSON API, the exports and the `searchapp search` command all call
`SearchIndex.search`, so they agree on what matches, in what order, with which counts.
Whoosh's file objects are not safe to share between threads and pure-Python search gains
nothing from running two at once, so searches take turns on one lock.
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from . import store, whoosh_zerocopy
from .facets import Columns, SegmentCache
from .highlight import mark
from .lru import ByteLRU
from .postings import PostingCache
from .scoring import ArrayScorer
from .query import Expanding, ParsedQuery, SearchRequest, parse_user_query, query_words
from . import terms as terms_mod
from . import timeline as timeline_mod
from .schema import FACETS, NO_DATE, fold_analyzer, text_analyzer
from .terms import Terms
from .timeline import Timeline

# BM25F parameters of scoring.py: longer fields a little more normalised (B) and word counts
# saturating later (K1) than the usual 0.75 and 1.2 ranked better on Cranfield and CISI
# (bench/relevance.py).
B, K1 = 0.9, 2.0
WEIGHTING = scoring.BM25F(B=B, K1=K1)  # what Whoosh scores with where scoring.py hands over
SUGGEST_BELOW = 3  # offer "did you mean" when a query finds fewer records than this
TOP_BARS = 8  # sources and topics shown as bars above the results
_STEMMED = text_analyzer()
_FOLDED = fold_analyzer()


@dataclass
class Hit:
    id: str
    record: dict[str, Any]
    score: float | None
    title_html: str
    excerpt_html: str


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    took_ms: float
    suggestion: str | None = None
    notice: str | None = None
    generation: str = ""
    timeline: Timeline | None = None
    terms: Terms | None = None
    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # of the results themselves
    timings: dict[str, float] = field(default_factory=dict)  # ms per phase, for benchmarks

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.request.per_page))


@dataclass
class _Matches:
    base: np.ndarray  # matching the text and dates
    final: np.ndarray  # ... and every facet filter
    masks: dict[str, np.ndarray]  # per facet, over `base`
    ranked: tuple[np.ndarray, np.ndarray] | None  # `final` best first, with scores


@dataclass
class _Prepared:
    """A search but for its page of hits: what recent searches keep."""

    parsed: ParsedQuery
    found: _Matches
    facets: dict[str, list[FacetValue]]
    top: dict[str, list[tuple[str, int]]]
    suggestion: str | None
    timeline: Timeline
    highlight: dict[str, frozenset[str]]
    terms: Terms | None = None  # filled in when first asked for

    def nbytes(self) -> int:
        arrays = [self.found.base, self.found.final, *self.found.masks.values(),
                  *(self.found.ranked or ())]
        values = sum(len(v) for v in self.facets.values()) + len(self.timeline.buckets)
        return sum(a.nbytes for a in arrays) + 200 * values + 4096


def _search_key(req: SearchRequest) -> tuple:
    """What decides a search's matches, counts and timeline (not its page, nor the chart's scale)."""
    return (req.q, req.match, req.typing, req.effective_sort, req.date_from, req.date_to,
            req.interval, tuple(sorted((f, tuple(v)) for f, v in req.filters.items())))


@dataclass
class QuerySummary:
    """One query of a comparison: its total, its timeline on the shared axis, its top facets."""

    request: SearchRequest
    total: int
    timeline: Timeline
    top: dict[str, list[tuple[str, int]]]
    notice: str | None


@dataclass
class IndexStats:
    records: int
    generation: str
    updated: datetime | None


class Snapshot:
    """One open searcher on one generation of the index, with its column arrays."""

    def __init__(self, build: Path, ix, cache: SegmentCache, postings: PostingCache):
        self.build, self.ix = build, ix
        self.searcher: Searcher = ix.searcher(weighting=WEIGHTING)
        self.toc_generation = self.searcher.reader().generation()
        self.generation = f"{build.name}:{self.toc_generation}"
        self.columns = Columns(self.searcher, cache)
        postings.forget_segments({sid for _, _, sid in self.columns.leaves})
        self.scorer = ArrayScorer(self.searcher, self.columns.leaves, self.columns.alive,
                                  postings, B, K1)
        self.users = 0
        self.retired = False
        self.updated = _modified(build)

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


class SearchIndex:
    """The live index as searches see it: reopened when a reindex commits, never per request."""

    def __init__(self, root: Path, facet_max: int = 500, max_wildcard_terms: int = 512,
                 posting_cache_mb: int = 192, recent_cache_mb: int = 64, freeze_gc: bool = False):
        whoosh_zerocopy.install()
        self.root = Path(root)
        self.facet_max = facet_max
        self.max_wildcard_terms = max_wildcard_terms
        self.posting_cache_bytes = posting_cache_mb * 2**20
        self._recent: ByteLRU[_Prepared] = ByteLRU(recent_cache_mb * 2**20, _Prepared.nbytes)
        self.freeze_gc = freeze_gc
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._cache: tuple[str, SegmentCache, PostingCache] | None = None

    # -- the searcher's lifecycle -----------------------------------------------------------

    @contextmanager
    def using(self) -> Iterator[Snapshot]:
        """The current snapshot, reopened first if the index changed; held under the lock."""
        with self._lock:
            snap = self._hold()
            try:
                yield snap
            finally:
                self._release(snap)

    def _hold(self) -> Snapshot:
        with self._lock:
            snap = self._current()
            snap.users += 1
            return snap

    def _release(self, snap: Snapshot) -> None:
        """A replaced snapshot is closed when its last user lets go of it."""
        with self._lock:
            snap.users -= 1
            if snap.retired and snap.users == 0:
                snap.close()

    def _current(self) -> Snapshot:
        snap = self._snapshot
        if snap is not None and store.live_build(self.root) == snap.build \
                and snap.ix.latest_generation() == snap.toc_generation:
            return snap
        fresh = self._open()
        if snap is not None:
            snap.retired = True
            if snap.users == 0:
                snap.close()
        self._snapshot = fresh
        self._recent.forget(lambda key: key[0] != fresh.generation)
        if self.freeze_gc:
            # A process that only serves (`searchapp serve`): what the snapshot holds lives
            # until the next reindex, so take it out of the garbage collector's full passes,
            # which would otherwise scan it in the middle of searches. It freezes every
            # object of the process, which is why it is not the default.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return fresh

    def _open(self) -> Snapshot:
        for attempt in range(3):  # a full rebuild may swap builds between reading CURRENT and opening
            build = store.live_build(self.root)
            try:
                ix = store.open_live(self.root)
            except (FileNotFoundError, whoosh_index.EmptyIndexError):
                if attempt == 2:
                    raise
                time.sleep(0.05)
                continue
            if self._cache is None or self._cache[0] != build.name:
                self._cache = (build.name, SegmentCache(), PostingCache(self.posting_cache_bytes))
            return Snapshot(build, ix, self._cache[1], self._cache[2])
        raise store.NoIndex(f"no index in {self.root}")

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.retired = True
                if self._snapshot.users == 0:
                    self._snapshot.close()
                self._snapshot = None

    def forget_recent(self) -> None:
        """Drop the recent searches (benchmarks time searches, not the cache)."""
        self._recent.forget(lambda key: True)

    def stats(self) -> IndexStats:
        with self.using() as snap:
            return IndexStats(snap.searcher.doc_count(), snap.generation, snap.updated)

    # -- searching --------------------------------------------------------------------------

    def search(self, req: SearchRequest, terms: bool = True) -> SearchResult:
        """Hits for one page, with highlights, facet counts, the research views and a suggestion.

        Everything but the page of hits is kept for recent searches of this generation:
        typing repeats prefixes, paging and the distinctive-terms request repeat the search,
        and the front page is the same browse for everyone.

        Distinctive terms are the costliest part (they read term vectors); pass `terms=False`
        where they are fetched separately, as the page does while the user types.
        """
        clock = _Clock()
        with self.using() as snap:  # parsing too: Whoosh's stemming cache is not thread-safe
            done = self._prepared(snap, req, clock)
            hits = self._hits(snap, done.highlight, self._page_order(snap, req, done.found))
            clock.lap("hits")
            found = self._terms_of(snap, done, req) if terms else None
            clock.lap("terms")
        return SearchResult(req, int(len(done.found.final)), hits, done.facets, clock.total(),
                            done.suggestion, done.parsed.notice, snap.generation, done.timeline,
                            found, done.top, clock.laps)

    def distinctive_terms(self, req: SearchRequest) -> Terms:
        """Only the distinctive terms of a search (the page loads them after the results)."""
        with self.using() as snap:
            return self._terms_of(snap, self._prepared(snap, req, _Clock()), req)

    def _prepared(self, snap: Snapshot, req: SearchRequest, clock: "_Clock") -> "_Prepared":
        key = (snap.generation, _search_key(req))
        return self._recent.get(key, lambda: self._prepare(snap, req, clock))

    def _prepare(self, snap: Snapshot, req: SearchRequest, clock: "_Clock") -> "_Prepared":
        parsed = self._parse(snap, req)
        clock.lap("open")
        found = self._matching(snap, parsed, req)
        clock.lap("match")
        facets, top = self._facets(snap, req, found)
        clock.lap("facets")
        suggestion = None
        if req.q and len(found.final) < SUGGEST_BELOW:
            suggestion = self._suggest(snap, req.q)
        clock.lap("suggest")
        timeline = self._timeline(snap, found.final, req.interval or None)
        clock.lap("timeline")
        return _Prepared(parsed, found, facets, top, suggestion, timeline,
                         self._highlight_terms(snap, parsed))

    def _terms_of(self, snap: Snapshot, done: "_Prepared", req: SearchRequest) -> Terms:
        if done.terms is None:
            done.terms = self._distinctive(snap, done.found.final, req.q)
        return done.terms

    def compare(self, requests: list[SearchRequest], interval: str | None = None,
                top: int = 5) -> list[QuerySummary]:
        """Several queries on one time axis (the span of all their matches), with top facets."""
        with self.using() as snap:
            cols = snap.columns
            matched = []
            for req in requests:
                parsed = self._parse(snap, replace(req, typing=False))
                matched.append((req, parsed, self._matching(snap, parsed, req, rank=False).final))
            dated = [d[d != NO_DATE] for d in (cols.dates[f] for _, _, f in matched)]
            nonempty = [d for d in dated if len(d)]
            span = (int(min(d.min() for d in nonempty)), int(max(d.max() for d in nonempty))) \
                if nonempty else None
            out = []
            for (req, parsed, final), dates in zip(matched, dated):
                line = timeline_mod.build(dates, cols.all_dated, len(final) - len(dates),
                                          interval, span) if span else \
                    Timeline(interval or "day", (), len(final))
                out.append(QuerySummary(req, int(len(final)), line,
                                        {f: cols.count(f, final)[:top] for f in ("provider", "topic")},
                                        parsed.notice))
            return out

    def export(self, req: SearchRequest, batch: int = 500) -> "Export":
        """Every matching record in result order, in batches, so memory stays flat.

        The matching runs now (so a missing index fails before a response starts); the
        records are read batch by batch, letting other searches run in between, from the
        snapshot the export began with even if a reindex lands meanwhile. The caller must
        close() the export (a response that is never read, as for HEAD, still lets go).
        """
        snap = self._hold()
        try:
            with self._lock:
                order = self._full_order(snap, req, self._prepared(snap, req, _Clock()).found)
        except BaseException:
            self._release(snap)
            raise
        return Export(self, snap, order, batch)

    def _matching(self, snap: Snapshot, parsed: ParsedQuery, req: SearchRequest,
                  rank: bool = True) -> "_Matches":
        """Documents matching the text and dates (`base`), per-facet masks, all filters (`final`).

        A relevance-sorted text query scores every match in one pass over arrays
        (scoring.py), which the counts need anyway; other sorts only ask which documents match.
        """
        cols = snap.columns
        ranked = None
        if parsed.query is None:
            base = cols.all_docs
        elif parsed.query is wq.NullQuery:
            base = np.zeros(0, dtype=np.int64)
        else:
            q = parsed.query
            if rank and req.effective_sort == "relevance":
                scored = snap.scorer.run(q)
                order = np.lexsort((scored.docs, -scored.scores))  # best first, ties as Whoosh
                ranked = (scored.docs[order], scored.scores[order])
                base = scored.docs
            else:
                base = snap.scorer.docs(q)
        low, high = req.range_seconds()
        if low is not None or high is not None:
            base = cols.in_range(base, low, high)
        masks = {facet: cols.mask(facet, base, values) for facet, values in req.filters.items()}
        keep = np.ones(len(base), dtype=bool)
        for m in masks.values():
            keep &= m
        final = base[keep]
        if ranked is not None and len(final) < len(ranked[0]):
            inside = np.isin(ranked[0], final, assume_unique=True)
            ranked = (ranked[0][inside], ranked[1][inside])
        return _Matches(base, final, masks, ranked)

    def _parse(self, snap: Snapshot, req: SearchRequest) -> ParsedQuery:
        """The user's query, with every prefix, wildcard and fuzzy term expanded once, over the
        whole index, into the index terms it stands for.

        Whoosh would otherwise expand them per segment, so the `max_wildcard_terms` cap and
        the typed word's "most frequent completions" would depend on how the index happens
        to be split (an incremental index could answer differently from a full rebuild), and
        highlighting would expand them again, maybe differently.
        """
        parsed = parse_user_query(req.q, req.match, req.typing)
        if parsed.query is None or parsed.query is wq.NullQuery:
            return parsed
        reader = snap.searcher.reader()

        def expand(node):
            if isinstance(node, Expanding):
                node.limit = self.max_wildcard_terms
            if not isinstance(node, (Expanding, wq.FuzzyTerm)):
                return node
            field = node.field()
            texts = list(itertools.islice(node._btexts(reader), self.max_wildcard_terms))
            if not texts:
                return wq.NullQuery
            decode = reader.schema[field].from_bytes  # fuzzy terms come as text already
            terms = wq.Or([wq.Term(field, decode(t) if isinstance(t, bytes) else t) for t in texts])
            if not isinstance(node, Expanding):
                # A fuzzy term's matches keep its weight (the title's, and any `^n` typed).
                return wq.Or([wq.Term(t.fieldname, t.text, boost=node.boost)
                              for t in terms.subqueries])
            # A prefix or wildcard scores as one constant match, as Whoosh scores it itself.
            constant = wq.ConstantScoreQuery(terms, score=node.boost)
            constant.boost = 1.0  # normalize() multiplies boosts of nested groups through it
            return constant

        return ParsedQuery(parsed.query.accept(expand).normalize(), parsed.notice)

    def _page_order(self, snap: Snapshot, req: SearchRequest,
                    found: "_Matches") -> list[tuple[int, float | None]]:
        start = (req.page - 1) * req.per_page
        stop = start + req.per_page
        if found.ranked is not None:
            docs, scores = found.ranked
            return [(int(d), float(sc)) for d, sc in zip(docs[start:stop], scores[start:stop])]
        if start >= len(found.final):
            return []
        docs = snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"), stop=stop)
        return [(int(d), None) for d in docs[start:stop]]

    def _full_order(self, snap: Snapshot, req: SearchRequest, found: "_Matches") -> np.ndarray:
        if found.ranked is not None:
            return found.ranked[0]
        return snap.columns.by_date(found.final, newest=(req.effective_sort != "oldest"),
                                    stop=len(found.final))

    def _hits(self, snap: Snapshot, terms: dict[str, frozenset[str]], order) -> list[Hit]:
        hits = []
        for docnum, score in order:
            record = json.loads(snap.searcher.stored_fields(docnum)["data"])
            hits.append(Hit(record["id"], record, score,
                            mark(record["title"], terms["title"], _STEMMED),
                            mark(record["excerpt"], terms["excerpt"], _STEMMED)))
        return hits

    def _highlight_terms(self, snap: Snapshot, parsed: ParsedQuery) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {"title": set(), "excerpt": set()}
        if parsed.query is not None and parsed.query is not wq.NullQuery:
            # Not Query.existing_terms: its loop variable shadows its `fieldname` argument, so
            # after the first term it skips every leaf of another field (excerpts went unmarked).
            reader = snap.searcher.reader()
            for leaf in parsed.query.leaves():
                for fieldname, text in leaf.expanded_terms(reader, phrases=True):
                    if fieldname in found:
                        found[fieldname].add(text.decode("utf-8") if isinstance(text, bytes) else text)
        return {k: frozenset(v) for k, v in found.items()}

    def _facets(self, snap: Snapshot, req: SearchRequest, found: "_Matches"
                ) -> tuple[dict[str, list[FacetValue]], dict[str, list[tuple[str, int]]]]:
        """Counts per facet, each as if its own selection were off (disjunctive faceting), and
        the top sources and topics of the results themselves.

        A facet with no selection of its own is counted over the final matches, so only
        selected facets need their own subset of the matches.
        """
        cols = snap.columns
        out: dict[str, list[FacetValue]] = {}
        of_final: dict[str, list[tuple[str, int]]] = {}
        for facet in FACETS:
            selected = req.filters.get(facet, ())
            if facet in found.masks:
                keep = np.ones(len(found.base), dtype=bool)
                for other, m in found.masks.items():
                    if other != facet:
                        keep &= m
                counts = cols.count(facet, found.base[keep])
            else:
                counts = of_final[facet] = cols.count(facet, found.final)
            counted = dict(counts)
            # Selected values first (so a selection is never hidden under "more"), then by count.
            pinned = [FacetValue(v, counted.get(v, 0), True) for v in selected]
            rest = [FacetValue(v, c, False) for v, c in counts if v not in selected]
            out[facet] = pinned + rest[: max(0, self.facet_max - len(pinned))]
        top = {f: (of_final.get(f) or cols.count(f, found.final))[:TOP_BARS]
               for f in ("provider", "topic")}
        return out, top

    def _timeline(self, snap: Snapshot, final: np.ndarray, interval: str | None) -> Timeline:
        cols = snap.columns
        if len(final) == len(cols.all_docs):  # everything: the baseline is the answer
            return timeline_mod.build(cols.all_dated, cols.all_dated,
                                      len(final) - len(cols.all_dated), interval)
        dates = cols.dates[final]
        dated = dates[dates != NO_DATE]
        return timeline_mod.build(dated, cols.all_dated, len(final) - len(dated), interval)

    def _distinctive(self, snap: Snapshot, final: np.ndarray, q: str) -> Terms:
        exclude = {"".join(t.text for t in _FOLDED(w)) for w in query_words(q)}
        return terms_mod.distinctive(snap.searcher.reader(), final, len(snap.columns.all_docs),
                                     exclude)

    def _suggest(self, snap: Snapshot, q: str) -> str | None:
        """The query with each word the index does not know replaced by its nearest known word."""
        reader = snap.searcher.reader()
        corrector = snap.searcher.corrector("body")  # title and excerpt words, unstemmed
        changed, out = False, q
        for word in dict.fromkeys(query_words(q)):
            folded = "".join(t.text for t in _FOLDED(word))
            if len(folded) < 3 or word in ("AND", "OR", "NOT") or ("body", folded) in reader:
                continue
            options = corrector.suggest(folded, limit=3)
            if options:
                best = min(options, key=lambda s: (_distance(s, folded), s))
                out = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", best, out)
                changed = True
        return out if changed and out != q else None

    # -- single records ---------------------------------------------------------------------

    def record(self, record_id: str) -> dict[str, Any] | None:
        with self.using() as snap:
            docnum = snap.searcher.document_number(id=record_id)
            if docnum is None:
                return None
            return json.loads(snap.searcher.stored_fields(docnum)["data"])

    def records(self, ids: list[str]) -> list[dict[str, Any]]:
        """The records with these ids that exist, in the given order."""
        with self.using() as snap:
            out = []
            for rid in ids:
                docnum = snap.searcher.document_number(id=rid)
                if docnum is not None:
                    out.append(json.loads(snap.searcher.stored_fields(docnum)["data"]))
            return out

    def more_like(self, record_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Records sharing the most distinctive words of this one (Whoosh key terms)."""
        with self.using() as snap:
            docnum = snap.searcher.document_number(id=record_id)
            if docnum is None:
                return []
            record = json.loads(snap.searcher.stored_fields(docnum)["data"])
            text = f"{record['title']} {record['excerpt']}"
            results = snap.searcher.more_like(docnum, "excerpt", text=text, top=limit,
                                              numterms=12)
            return [json.loads(hit["data"]) for hit in results]


class Export:
    """The records of an export, read batch by batch from one snapshot, held until closed."""

    def __init__(self, index: "SearchIndex", snap: Snapshot, order: np.ndarray, batch: int):
        self.index, self.snap, self.order, self.batch = index, snap, order, batch
        self.closed = False

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            for start in range(0, len(self.order), self.batch):
                with self.index._lock:
                    yield [json.loads(self.snap.searcher.stored_fields(int(d))["data"])
                           for d in self.order[start:start + self.batch]]
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.index._release(self.snap)


class _Clock:
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


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _modified(build: Path) -> datetime | None:
    try:
        toc = max((build / n for n in os.listdir(build) if n.startswith("_MAIN_")),
                  key=lambda p: p.stat().st_mtime)
        return datetime.fromtimestamp(toc.stat().st_mtime, tz=timezone.utc)
    except (OSError, ValueError):
        return None
