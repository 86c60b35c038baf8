"""The search side's facade: `SearchIndex.search` and its siblings, over the snapshots the
reader keeps (reader/snapshots.py), with the recent searches of each generation kept.

The web views, the JSON API, the exports and the `searchapp search` command all call
`SearchIndex`, so they agree on what matches, in what order, with which counts. What one
search computes is answer.py's; a page of it, pages.py's; /status, status.py's.
"""

from __future__ import annotations

import atexit
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from ..engine.cache import ByteLRU
from ..engine.pause import pausing
from ..reader import Cluster, IndexProblem, Reader, Snapshot, analysis
from ..settings import Settings
from . import answer, batch, pages, similar
from .budget import Clock, SearchLimits
from .comparison import compare
from .distinctive import Terms
from .exports import Export
from .highlight import highlight_terms, mark, marked_paragraphs
from .lane import Lane, Turn
from .partial import answered as _answered, every_shard as _every_shard, whole as _whole
from .request import BadRequest, SearchRequest
from .results import IndexStats, IndexStatus, QuerySummary, SearchResult
from .status import assemble, moment as _moment

# Names a few callers give settings of their own (the tests' `budget_ms`).
_ALSO_NAMED = {"budget_ms": "search_budget_ms"}


class SearchIndex:
    """Opens nothing until the first search; `close()` lets go of every open snapshot.

    `settings` (the defaults when None) bound the searches, with `changes` to single
    settings by name; `remote`, a cluster (cluster/pool.py) that scores and reads the
    records on its shards. The `freeze_gc` setting is for a process that only serves
    (reader/snapshots.py).
    """

    def __init__(self, root: Path, settings: Settings | None = None, *,
                 remote: Cluster | None = None, **changes):
        settings = (settings if settings is not None else Settings()).replace(
            **{_ALSO_NAMED.get(name, name): value for name, value in changes.items()})
        self.root = Path(root)
        self.remote = remote
        self.limits = SearchLimits.of(settings)
        analysis.ready()  # before the first search, not inside its time budget
        self._recent: ByteLRU[answer.Prepared] = ByteLRU(settings.recent_cache_mb * 2**20,
                                                         answer.Prepared.nbytes)
        self.reader = Reader(self.root, settings.posting_cache_mb, cluster=remote,
                             innocent=(BadRequest,), on_generation=self._new_generation,
                             freeze_gc=settings.freeze_gc)
        # Heavy queries run one at a time per process (lane.py, answer.prepare): with a
        # process per core, light searches always find a core free enough to answer on.
        self._heavy_lane = Lane()

    @classmethod
    def from_settings(cls, settings: Settings, recent: bool = True) -> "SearchIndex":
        """The index as the settings describe it: the one way the CLI and the web app make it.

        `recent=False` for a process that runs one search and exits (nothing to repeat).
        With the `cluster` setting, the shards
        are searched by actors on that Ray cluster.
        """
        remote = None
        if settings.cluster:  # Ray is imported only when a cluster is asked for
            from ..cluster import connect
            from ..cluster.pool import ShardPool
            connect(settings.cluster)
            remote = ShardPool(settings.index, settings)
        return cls(settings.index, settings if recent else settings.replace(recent_cache_mb=0),
                   remote=remote)

    def _new_generation(self, name: str) -> None:
        """A reindex landed: the recent searches of older generations are forgotten."""
        self._recent.forget(lambda key: key[0] != name)

    # -- snapshots: one per thread, on the latest generation (the reader's) ----------------

    @contextmanager
    def using(self) -> Iterator[Snapshot]:
        """This thread's snapshot, reopened first if the index changed. A search failing
        inside Whoosh on a damaged file raises IndexDamaged, which says so."""
        with self.reader.using() as snap:
            yield snap

    def hold(self) -> Snapshot:
        return self.reader.hold()

    def release(self, snap: Snapshot) -> None:
        self.reader.release(snap)

    def close(self) -> None:
        """Close every snapshot not in use; those in use close when let go of."""
        self.reader.close()

    def snapshots(self) -> list[tuple[str, int]]:
        """(generation, users) of every open snapshot: for health checks and tests."""
        return self.reader.snapshots()

    def close_at_exit(self) -> "SearchIndex":
        atexit.register(self.close)
        return self

    def forget_recent(self) -> None:
        """Drop the recent searches (benchmarks time searches, not the cache)."""
        self._recent.forget(lambda key: True)

    def stats(self) -> IndexStats:
        with self.using() as snap:
            return IndexStats(snap.searcher.doc_count(), snap.generation, snap.updated)

    def status(self) -> IndexStatus:
        """The index, its last run, what that refused, and its watcher, for `/status`,
        whatever state the index is in."""
        stats = problem = None
        try:
            stats = self.stats()
        except IndexProblem as exc:
            problem = str(exc)
        return assemble(self.root, stats, problem, self.remote)

    # -- searching --------------------------------------------------------------------------

    def search(self, req: SearchRequest, terms: bool = True, hits: bool = True) -> SearchResult:
        """Hits for one page, with highlights, facet counts, the research views and a suggestion.

        Everything but the page of hits is kept for recent searches of this generation:
        typing repeats prefixes, paging and the distinctive-terms request repeat the search,
        and the front page is the same browse for everyone.

        Distinctive terms are the costliest part (they read term vectors); pass `terms=False`
        where they are fetched separately, as the page does while the user types. The views
        that show no hits (the research views, a facet's values, the timeline's files) pass
        `hits=False`: the page of hits is read and highlighted anew each time.
        """
        clock = Clock()
        with self.using() as snap, Turn(self._heavy_lane) as turn, pausing(turn.give_way):
            # A heavy search computed now keeps its turn in the lane for its page of hits
            # and its words too; one kept from before reads them outside it.
            done = self._prepared(snap, req, clock, turn)
            turn.give_way()  # a heavy search's page: after the light searches beside it
            if not hits:
                page = []
            elif req.grouped:
                page = pages.story_hits(snap, done.highlight, pages.story_page(snap, req, done.found))
            else:
                page = pages.hits(snap, done.highlight, pages.page_order(snap, req, done.found))
            clock.lap("hits")
            found = answer.terms_of(snap, done, req) if terms else None
            clock.lap("terms")
            if not hits:  # the research views, facets, timeline files: all or nothing
                _every_shard(snap)
        total, stories = int(len(done.found.final)), done.stories
        listed = {}
        if done.showing:  # the count is the words' as written; the correction's beside it
            listed = {"showing_total": total, "showing_stories": stories}
            total, stories = done.written
        return SearchResult(request=req, total=total, hits=page, **listed,
                            facets=done.facets, took_ms=clock.total(), suggestion=done.suggestion,
                            suggestion_total=done.suggestion_total, showing=done.showing,
                            spellings=done.spellings,
                            notice=done.parsed.notice, completing=done.parsed.completing,
                            like=done.parsed.like, cut_short=done.found.cut_short,
                            capped=done.parsed.capped,
                            generation=snap.generation,
                            timeline=done.timeline, terms=found, top=done.top, timings=clock.laps,
                            stories=stories, shards=_answered(snap))

    def distinctive_terms(self, req: SearchRequest) -> Terms:
        """Only the distinctive terms of a search (the page loads them after the results)."""
        with self.using() as snap, Turn(self._heavy_lane) as turn:
            return _whole(snap, answer.terms_of(snap, self._prepared(snap, req, Clock(), turn),
                                                req))

    def _prepared(self, snap: Snapshot, req: SearchRequest, clock: Clock, turn: Turn
                  ) -> answer.Prepared:
        key = (snap.generation, answer.search_key(req))
        return self._recent.get(key, lambda: answer.prepare(snap, req, self.limits, clock, turn))

    def compare(self, requests: list[SearchRequest], interval: str | None = None,
                top: int = 5) -> list[QuerySummary]:
        """Several queries on one time axis (the span of all their matches), with top facets.
        One heavy query (patterns, a fuzzy word, a pasted text) takes the comparison into the
        heavy lane, as a search or a batch row would: four of them side by side would
        otherwise run beside every other heavy search at once."""
        heavy = any(answer.looks_heavy(r.q) for r in requests)
        with self.using() as snap, self._heavy_lane if heavy else nullcontext():
            return _whole(snap, compare(snap, requests, self.limits, interval, top))

    def batch(self, queries: list[batch.Query]) -> Iterator[batch.Counted]:
        """Many queries counted (records and stories, not ranked) through one snapshot, so
        every row sees the same index generation, even if a reindex lands meanwhile; each
        row is yielded as soon as it is counted, so a response can stream. Close the
        iterator to let go of the snapshot early."""
        with self.using() as snap:
            for row in batch.run(snap, queries, self.limits, self._heavy_lane):
                yield _whole(snap, row)

    def export(self, req: SearchRequest, page: int = 500) -> "Export":
        """Every matching record in result order, a page at a time, so memory stays flat.

        The matching runs now (so a missing index fails before a response starts); the
        records are then read a page at a time through a snapshot of the export's own, of the
        generation it began with, even if a reindex lands meanwhile. The caller must close()
        the export (a response that is never read, as for HEAD, still lets go).
        """
        snap = self.reader.open_snapshot(private=True)  # closed when the export lets go
        try:
            # Every match: an export is never cut short by the time budget of a search.
            # The words as written (a correction the page shows is its own search, linked
            # as such): the rows are the records the count counts. Matching and ordering
            # every record is heavy work: it takes its turn in the heavy lane (and gives way
            # to light searches), so twenty exports asked at once leave searches a core.
            with Turn(self._heavy_lane) as turn, pausing(turn.give_way):
                done = answer.prepare(snap, replace(req, literal=True, full=True),
                                      replace(self.limits, budget_ms=0), Clock(), turn)
                turn.give_way()
                order, scores = _whole(snap, pages.full_order(snap, req, done.found))
        except BaseException:
            self.release(snap)
            raise
        return Export(snap, order, page, self.release, scores)

    def first_seen(self, req: SearchRequest, limit: int
                   ) -> tuple[list[tuple[dict[str, Any], datetime | None]], str, int]:
        """The matches of a search that entered the index last (not the last published: a
        feed of a search shows what each reindex brought), each with when it entered, the
        generation they are of, and how many records match in all (the words as written,
        counted in full: a feed is not interactive)."""
        with self.using() as snap, Turn(self._heavy_lane) as turn:
            done = answer.prepare(snap, replace(req, literal=True),
                                  replace(self.limits, budget_ms=0), Clock(), turn)
            final = _whole(snap, done.found.final)
            docs = snap.columns.first_seen(final, limit)
            return [(snap.record(int(d)), _moment(int(snap.columns.seen[d]) or None))
                    for d in docs], snap.generation, int(len(final))

    def new_since(self, req: SearchRequest, since: int) -> tuple[int, int]:
        """How many records match a search in all, and how many of them entered the index
        after `since` (epoch seconds): a saved search's "N new since you looked" (the words
        as written, counted in full)."""
        with self.using() as snap, Turn(self._heavy_lane) as turn:
            done = answer.prepare(snap, replace(req, literal=True, typing=False),
                                  replace(self.limits, budget_ms=0), Clock(), turn)
            final = _whole(snap, done.found.final)
            return int(len(final)), int((snap.columns.seen[final] > since).sum())

    # -- single records ---------------------------------------------------------------------

    def record(self, record_id: str) -> dict[str, Any] | None:
        with self.using() as snap:
            return snap.record_by_id(record_id)

    def records(self, ids: list[str]) -> list[dict[str, Any]]:
        """The records with these ids that exist, in the given order."""
        with self.using() as snap:
            docs = [d for d in (snap.docnum(rid) for rid in ids) if d is not None]
            return [_whole(snap, r) for r in snap.records(docs)]

    def marked(self, record: dict[str, Any], q: str) -> tuple[str, str, list[str], int]:
        """A record's title and excerpt with the words of the query `q` marked, as a hit of
        that search would show them (a query that cannot be read marks nothing), and its body's
        paragraphs with every word of the query marked `match-1`, `match-2`, ..., and how many."""
        with self.using() as snap:
            try:
                parsed = answer.parse(snap, SearchRequest(q=q, typing=False), self.limits)
            except BadRequest:
                parsed = None
            terms = highlight_terms(snap, parsed) if parsed is not None else \
                {"title": frozenset(), "excerpt": frozenset(), "body": frozenset(),
                 "exact": frozenset()}
        paragraphs, matches = marked_paragraphs(record.get("body", ""), terms["body"],
                                                terms["exact"])
        return (mark(record["title"], terms["title"], terms["exact"], long_after=20_000),
                mark(record["excerpt"], terms["excerpt"], terms["exact"], long_after=20_000),
                paragraphs, matches)

    def copies(self, record_id: str, limit: int = 200) -> tuple[str, list[dict[str, Any]]]:
        """(the record's story id, the other records of its story, earliest first)."""
        with self.using() as snap:
            docnum = snap.docnum(record_id)
            if docnum is None:
                return "", []
            cols = snap.columns
            members = cols.copies_in(docnum, cols.all_docs)[:limit]
            return cols.story_id(docnum), [_whole(snap, r) for r in snap.records(members)]

    def more_like(self, record_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """Records sharing the most distinctive words of this one, not copies of its story
        (similar.py)."""
        with self.using() as snap:
            docnum = snap.docnum(record_id)
            if docnum is None:
                return []
            found = similar.more_like(snap, docnum, limit)
            return [_whole(snap, r) for r in snap.records(found)]
