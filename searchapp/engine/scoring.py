"""Every match of a query with its score, computed over whole arrays instead of per posting.

The ranking model itself (parameters, weights, idf) is `ranking.py`'s; this module applies
it. Matching is Whoosh's (a test checks the matches against Whoosh's answers, query by query and
for random queries); query shapes this module does not know are handed to Whoosh whole.
Scoring is BM25F proper: each word is scored once per record, its counts in the title, the
excerpt, the source and the topic each weighted by the field's boost and normalised by that
field's length, then saturated together, with Robertson-Sparck Jones idf over the records
that have the word anywhere. Whoosh's own BM25F saturates each field on its own and adds the
scores (a word in both title and excerpt counts twice) with a flatter idf; on Cranfield and
CISI the proper form ranks better, and better than SQLite FTS5's bm25 (bench/relevance.py).

For a query matching 12,000 records this is a handful of NumPy operations rather than
12,000 rounds of Python in Whoosh's matchers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq

from . import fallback, presence, ranking, shapes
from . import postings as post
from .cache import PostingCache
from .deadline import passed
from .pause import pause
from .scored import NO_DOCS, NO_SCORES, Scored, best_of, distinct, intersect, restrict, sum_by_doc, union
from .shapes import Kind, idf_key, index_bytes, indexed


@dataclass
class Statistics:
    """Figures of the whole collection to score one shard's matches with, so that they score
    exactly as in one index of every record (a cluster's second round, pool.py): the live
    records, each scored field's average length, and for each word (its `(field, term)`
    pairs, as `_word` scores it) how many live records have it. A word not given is counted
    over this shard alone."""

    live: int
    average_lengths: dict[str, float]
    frequencies: dict[tuple, int]
    missed: bool = False  # a word was scored that `frequencies` does not count

    def counts(self, key: tuple, matching: int, total: int) -> tuple[int, int]:
        found = self.frequencies.get(key)
        if found is None:
            self.missed = True
            return matching, self.live
        return found, self.live


class Counting:
    """The first round: scoring as usual while noting how many live records of this shard
    have each word, for the coordinator to add up over every shard."""

    def __init__(self) -> None:
        self.frequencies: dict[tuple, int] = {}
        self.average_lengths: dict[str, float] = {}

    def counts(self, key: tuple, matching: int, total: int) -> tuple[int, int]:
        self.frequencies[key] = matching
        return matching, total


class ArrayScorer:
    """Scores queries against one searcher (one index generation)."""

    def __init__(self, searcher, leaves, alive: np.ndarray, cache: PostingCache):
        self.searcher, self.leaves, self.alive, self.cache = searcher, leaves, alive, cache
        self.deadline: float | None = None
        self.cut_short = False
        self._all = np.flatnonzero(alive)
        self.stats: Statistics | Counting | None = None  # a shard of a cluster: see Statistics
        self.model = ranking.TYPED  # the saturation words are scored with (a Pasted node's)

    # -- the query tree ---------------------------------------------------------------------

    def run(self, q: wq.Query, deadline: float | None = None) -> Scored:
        """Every match of `q` with its score. Past `deadline` (a `time.perf_counter()`
        value) no more postings are read: the words not reached match nothing, and
        `cut_short` says so."""
        self._start(deadline)
        return self._node(q)

    def matching(self, q: wq.Query, deadline: float | None = None) -> np.ndarray:
        """Only which documents match (sorting by date, counting), within `deadline` as `run`."""
        self._start(deadline)
        return self.docs(q)

    def _start(self, deadline: float | None) -> None:
        self.deadline, self.cut_short = deadline, False  # one search at a time: see snapshot.py

    def _over(self) -> bool:
        waited = pause() if not self.cut_short else 0.0  # between two words: others' turn
        if waited and self.deadline is not None:
            self.deadline += waited
        if passed(self.deadline):
            self.cut_short = True
        return self.cut_short

    def docs(self, q) -> np.ndarray:
        """Only which documents match: no scores computed (shapes.matching)."""
        shape = shapes.matching(q)
        kind = shape.kind
        if kind is Kind.TERM:
            btext = self._btext(q.fieldname, q.text)
            if btext is None:
                return NO_DOCS
            return self._term_postings(q.fieldname, btext)[0]
        if kind is Kind.CONSTANT:
            return self.docs(shape.matched[0])
        if kind is Kind.EVERY:
            return self._every(q.fieldname)
        if kind is Kind.ANY:
            parts = [self.docs(s) for s in shape.matched]
            parts = [p for p in parts if len(p)]
            return distinct(np.concatenate(parts), len(self.alive)) if len(parts) > 1 else \
                (parts[0] if parts else NO_DOCS)
        if kind is Kind.AND_NOT:
            a = self.docs(shape.matched[0])
            b = self._taken_away(shape.matched[1])
            return NO_DOCS if b is None else a[~np.isin(a, b, assume_unique=True)]
        return self._node(q).docs

    def _node(self, q) -> Scored:
        shape = shapes.scoring(q)
        kind = shape.kind
        if kind is Kind.NULL:
            return Scored.empty()
        if kind is Kind.TERM:
            return self._word(shape.words[0])
        if kind is Kind.CONSTANT:
            docs = self.docs(shape.matched[0])
            return Scored(docs, np.full(len(docs), float(q.score)))
        if kind is Kind.WORDS:
            parts = self._words(shape.words)
            return self._boosted(union(parts + [self._node(s) for s in shape.scored],
                                        len(self.alive)), q.boost)
        if kind is Kind.AND:
            return self._boosted(self._and(shape.scored, shape.matched), q.boost)
        if kind is Kind.AND_NOT:
            a, b = self._node(shape.scored[0]), self._taken_away(shape.matched[0])
            return Scored.empty() if b is None else \
                self._boosted(restrict(a, b, inside=False), q.boost)
        if kind is Kind.REQUIRE:
            a, b = (self._node(s) for s in shape.scored)
            return self._boosted(restrict(a, b.docs), q.boost)
        if kind is Kind.AND_MAYBE:
            a, b = (self._node(s) for s in shape.scored)
            return self._boosted(union([a, restrict(b, a.docs)]), q.boost)
        if kind is Kind.PASTED:
            outer, self.model = self.model, q.model
            try:
                return self._node(shape.scored[0])
            finally:
                self.model = outer
        if kind is Kind.NOT:  # everything else, each scoring 1 (Whoosh's inverse matcher)
            away = self._taken_away(shape.matched[0])
            if away is None:
                return Scored.empty()
            docs = self._all[~np.isin(self._all, away, assume_unique=True)]
            return self._boosted(Scored(docs, np.ones(len(docs))), q.boost)
        if kind is Kind.NEAR:
            return self._boosted(self._phrase(q, shape.words), q.boost)
        if kind is Kind.EVERY:  # Whoosh's list matcher: each match weighs the boost (0: 1)
            docs = self._every(q.fieldname)
            return Scored(docs, np.full(len(docs), float(q.boost or 1.0)))
        return self._whoosh(q)

    def _and(self, scored, matched) -> Scored:
        """An And's positive parts (`scored`), without the matches of its Not parts' queries
        (`matched`)."""
        positive = [self._node(s) for s in scored]
        negative = [self._taken_away(s) for s in matched]
        if any(docs is None for docs in negative):
            return Scored.empty()
        if not positive:  # Whoosh matches the complement, each match scoring 1 per Not
            positive = [Scored(self._all, np.zeros(len(self._all)))]
        out = positive[0]
        for other in positive[1:]:
            out = intersect(out, other)
        for docs in negative:
            out = restrict(out, docs, inside=False)
        # An inverse matcher scores 1.0 wherever it matches.
        return Scored(out.docs, out.scores + len(negative)) if negative else out

    def _taken_away(self, q) -> np.ndarray | None:
        """The matches of a part whose matches are taken away (`-word`, NOT), or None once
        the deadline has cut the search short: a part read in part takes away too little,
        and what is left would be more than the query matches, where a search cut short
        must answer with at most its matches ("at least" this many)."""
        docs = self.docs(q)
        return None if self.cut_short else docs

    @staticmethod
    def _boosted(found: Scored, boost: float) -> Scored:
        return found if boost == 1.0 else Scored(found.docs, found.scores * boost)

    # -- terms ------------------------------------------------------------------------------

    def _btext(self, fieldname: str, text) -> bytes | None:
        return index_bytes(self.searcher.schema, fieldname, text)

    def _term_postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Global (docs, weights) of a term over live documents."""
        if self._over():
            return NO_DOCS, NO_SCORES
        docs, weights = [], []
        for leaf, offset, sid in self.leaves:
            try:
                ids, w = post.through(self.cache, leaf, (sid, "p", fieldname, btext),
                                      lambda leaf=leaf: post.postings(leaf, fieldname, btext,
                                                                      self.deadline))
            except post.TimeUp:  # a long list, first read, past the deadline: not cached
                self.cut_short = True
                return NO_DOCS, NO_SCORES
            if len(ids):
                docs.append(ids.astype(np.int64) + offset)
                weights.append(w)
        if not docs:
            return NO_DOCS, NO_SCORES
        d, w = (np.concatenate(docs), np.concatenate(weights)) if len(docs) > 1 else (docs[0], weights[0])
        live = self.alive[d]
        return (d, w) if live.all() else (d[live], w[live])

    def _segments(self, docs: np.ndarray):
        """(segment reader, first docnum, segment id, lo, hi) for each segment holding some
        of `docs` (sorted global numbers): docs[lo:hi] are that segment's."""
        for leaf, offset, sid in self.leaves:
            lo, hi = np.searchsorted(docs, [offset, offset + leaf.doc_count_all()])
            if lo < hi:
                yield leaf, offset, sid, lo, hi

    def _lengths(self, fieldname: str, docs: np.ndarray) -> np.ndarray:
        """Field lengths of `docs` as Whoosh decodes them from their length bytes."""
        out = np.empty(len(docs), dtype=np.float64)
        for leaf, offset, sid, lo, hi in self._segments(docs):
            (lengths,) = post.through(self.cache, leaf, (sid, "l", fieldname),
                                      lambda leaf=leaf: (post.length_bytes(leaf, fieldname),))
            out[lo:hi] = post.LENGTH_OF_BYTE[lengths[docs[lo:hi] - offset]]
        return out

    def _word(self, terms, matching: int | None = None) -> Scored:
        """One word in one or more fields: BM25F, each field's count weighted by its boost
        and normalised by its length, saturated once, times the idf over all those fields
        (of `matching` records, where the word's idf is blended with others': `_words`)."""
        return self._word_counts(terms).scored(self.model, matching)

    def _words(self, words) -> list[Scored]:
        """Each word of an Or scored (`_word`). The matches of one fuzzy word (its terms
        marked with a `blend` key by the query's expansion) are one word of the query: they
        share one idf, the commonest's, as Lucene's fuzzy query blends them, and a record
        scores as its best-scoring match. `opek~` stands for opec, and for Ope and Oper
        (Reuters' abbreviations), whose rarity, and a record holding both, would otherwise
        outrank the word meant."""
        counted = [self._word_counts(terms) for terms in words]
        keys = [getattr(terms[0], "blend", None) for terms in words]
        most: dict[object, int] = {}
        for key, word in zip(keys, counted):
            if key is not None:
                most[key] = max(most.get(key, 0), word.matching)
        out: list[Scored] = []
        blended: dict[object, list[Scored]] = {}
        for key, word in zip(keys, counted):
            scored = word.scored(self.model, most.get(key))
            (out if key is None else blended.setdefault(key, [])).append(scored)
        return out + [best_of(parts) for parts in blended.values()]

    def _word_counts(self, terms) -> "_Counted":
        docs, counts, plain = [], [], []
        found_terms = indexed(self.searcher.schema, terms)
        for term, btext, scorable in found_terms:
            found, weights = self._term_postings(term.fieldname, btext)
            if not len(found):
                continue
            tf = weights.astype(np.float64) * term.boost
            if not scorable:  # keyword fields keep no lengths
                plain.append(Scored(found, tf))
                continue
            if isinstance(self.stats, Counting):  # only how many match: no lengths read
                docs.append(found)
                counts.append(tf)
                continue
            avgfl = (self.stats.average_lengths.get(term.fieldname) if self.stats else None) \
                or self.searcher.avg_field_length(term.fieldname) or 1
            fl = self._lengths(term.fieldname, found)
            docs.append(found)
            counts.append(ranking.normalised(tf, fl, avgfl, self.model))
        if not docs:
            return _Counted(None, None, 0, 0, plain)
        if len(docs) == 1:
            matched, tf = docs[0], counts[0]
        else:
            matched, tf = sum_by_doc(np.concatenate(docs), np.concatenate(counts), len(self.alive))
        matching, total = len(matched), len(self._all)
        if self.stats is not None:
            matching, total = self.stats.counts(idf_key(found_terms), matching, total)
        return _Counted(matched, tf, matching, total, plain)

    # -- phrases ----------------------------------------------------------------------------

    def _phrase(self, q: wq.Phrase, words) -> Scored:
        """Documents where the words follow each other in order, each at most `slop`
        positions after the one before (1: next to it; `"facial ban"~5`: within 5), scored
        by the sum of the words' own scores in the field.

        As Whoosh's SpanNear2 matches: a chain of positions p0 < p1 < ..., each step
        1..slop. A position continues a chain exactly when the nearest chain end before
        it is close enough, so each step is one binary search over sorted (doc, position)
        keys. `words`: each word's term, as the phrase's words are scored (shapes.scoring)."""
        fieldname = q.fieldname
        if self._over():
            return Scored.empty()
        if isinstance(self.stats, Counting):  # the first round needs the words' counts only
            for word in words:
                self._word(word)
            return Scored.empty()
        field = self.searcher.schema[fieldname] if fieldname in self.searcher.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            return Scored.empty()
        btexts = [self._btext(fieldname, w) for w in q.words]
        if any(b is None for b in btexts):
            return Scored.empty()
        terms = [self._term_postings(fieldname, b) for b in btexts]
        candidates = terms[0][0]
        for docs, _ in terms[1:]:
            candidates = np.intersect1d(candidates, docs, assume_unique=True)
        if not len(candidates):
            return Scored.empty()
        found = []
        for leaf, offset, sid, lo, hi in self._segments(candidates):
            local = candidates[lo:hi] - offset
            chain = None
            for b in btexts:
                pdocs, pos = post.through(self.cache, leaf, (sid, "x", fieldname, b),
                                          lambda leaf=leaf, b=b: post.positions(leaf, fieldname, b))
                keep = np.isin(pdocs, local)
                keys = (pdocs[keep].astype(np.int64) << 32) + pos[keep].astype(np.int64)
                if chain is not None and not len(chain):
                    break
                if chain is not None:
                    before = np.searchsorted(chain, keys) - 1
                    gap = keys - chain[np.maximum(before, 0)]
                    keys = keys[(before >= 0) & (gap >= 1) & (gap <= q.slop)]
                chain = keys
            found.append(np.unique(chain >> 32) + offset)
        docs = np.concatenate(found) if found else NO_DOCS
        total = np.zeros(len(docs))
        for word in words:
            part = restrict(self._word(word), docs)
            # Past the deadline a word's postings are no longer read: it adds nothing.
            total[np.searchsorted(docs, part.docs)] += part.scores
        return Scored(docs, total)

    # -- term vectors -----------------------------------------------------------------------

    def vector_terms(self, docnum: int, fieldname: str) -> np.ndarray:
        """The terms (bytes) of one document's vector in `fieldname`, cached with the
        postings: a document's vector never changes within its segment."""
        for leaf, offset, sid in self.leaves:
            if offset <= docnum < offset + leaf.doc_count_all():
                local = docnum - offset
                return post.through(self.cache, leaf, (sid, "v", fieldname, local),
                                    lambda: (post.vector_terms(leaf, local, fieldname),))[0]
        raise IndexError(f"no document {docnum}")

    def vectors(self, docs, fieldname: str, deadline: float | None = None) -> list[np.ndarray]:
        """The vector terms of several documents (a cluster reads them from their shards at
        once); past `deadline`, only those read by then."""
        out = []
        for d in docs:
            out.append(self.vector_terms(int(d), fieldname))
            if passed(deadline):
                break
            if len(out) % 32 == 0:
                pause()  # a heavy search's words: light searches beside it first
        return out

    # -- anything else ----------------------------------------------------------------------

    def _whoosh(self, q) -> Scored:
        """Whoosh's own matches and scores, for query shapes this module does not compute;
        past the deadline, those it collected by then (`cut_short` says so)."""
        if self._over():
            return Scored.empty()
        found, stopped = fallback.scored(self.searcher, q, self.deadline)
        self.cut_short = self.cut_short or stopped
        return found

    def _every(self, fieldname: str | None) -> np.ndarray:
        """The live records with any word in `fieldname` (every live record for None):
        presence.py, instead of Whoosh reading every posting of every word of the field."""
        if fieldname is None:
            return self._all
        docs, stopped = presence.with_words(self.searcher.schema, self.leaves, self.cache,
                                            fieldname, self.deadline)
        self.cut_short = self.cut_short or stopped
        return docs[self.alive[docs]]


@dataclass
class _Counted:
    """One word's normalised counts over the records holding it, before saturation and idf."""

    matched: np.ndarray | None  # the records holding it in a scored field (None: none)
    tf: np.ndarray | None
    matching: int  # records its idf counts (the whole collection's, on a cluster)
    total: int
    plain: list  # its matches in keyword fields, which keep no lengths

    def scored(self, model, matching: int | None = None) -> Scored:
        if self.matched is None:
            return union(self.plain)
        idf = ranking.idf(self.matching if matching is None else matching, self.total)
        return union([Scored(self.matched, idf * ranking.saturated(self.tf, model))] + self.plain)
