"""One generation of the index as searches read it, and one thread's open view of it.

A `Generation` is what every thread shares: the column arrays, the posting cache, the
spelling index, built once when a reindex lands and never changed (but for the spelling
index found lost: then its searches go on without corrections, and can say so). A
`Snapshot` is one thread's own Whoosh index and searcher on that generation (Whoosh's file
objects and stemming caches are not safe to share), with the array scorer over its
segments, or the scorer a cluster gives it for them (scorer.py: the cluster is asked, and
never assigns into the snapshot). Opening one reads no segment into memory
(engine/zerocopy.py), so every thread can have its own and no search waits on another's
files (heavy searches do queue on one lane: see search/searcher.py).
"""

from __future__ import annotations

import json
import threading
from functools import cached_property
from typing import Any, Callable

from whoosh.searching import Searcher

from ..engine import segments
from ..engine.cache import PostingCache
from ..engine.codec import searched_fields
from ..engine.ranking import WEIGHTING
from ..engine.scoring import ArrayScorer
from ..index import store, stories
from ..index.schema import WORD_FIELDS
from ..index.stories import Stories
from ..index.store import Live
from ..index.spelling import Speller, SpellingLost
from ..settings import Settings
from .columns import Columns, SegmentCache
from .scorer import Cluster, Layout, RemoteScorer, Scorer, Shard
from .words import WordCache, Words


class Generation:
    """What every search of one index generation shares; immutable once made."""

    def __init__(self, live: Live, searcher: Searcher, cache: SegmentCache, postings: PostingCache,
                 word_cache: WordCache,
                 spelling_damage: Callable[[Live], str | None] = lambda live: None):
        self.live = live
        self.build = build = live.build
        self.toc_generation = live.generation
        self.name = f"{build.name}:{self.toc_generation}"
        self.columns = Columns(searcher, cache, _stories(live, searcher))
        in_use = {sid for _, _, sid in self.columns.leaves}
        postings.forget_segments(in_use)
        word_cache.forget(in_use)
        self.postings = postings
        self._word_cache = word_cache
        self.updated = segments.committed_at(live.folders)
        self._speller_lock = threading.Lock()
        self._spelling_damage = spelling_damage  # what the background check found (damage.py)
        self._unopened: str | None = None  # why the spelling index could not be opened
        self._frequencies: dict[tuple[str, bytes], int] = {}
        self._words: dict[str, Words] = {}
        # How the records write a word as a name, or None (search/answer.py's `_named`): it
        # reads records, and typing asks again for the same words.
        self.names: dict[str, str | None] = {}
        self._ready = False

    def doc_frequency(self, field: str, word: bytes, reader) -> int:
        """Records of this generation holding `word`, remembered: distinctive words look up
        hundreds per search, mostly the same common ones (one lookup costs a hash-table probe
        per segment)."""
        key = (field, word)
        found = self._frequencies.get(key)
        if found is None:
            found = self._frequencies[key] = reader.doc_frequency(field, word)
        return found

    def ready(self) -> None:
        """Read what searches of this generation share and read lazily (the words of each
        segment, the spelling index), so that no search's time budget pays for it: a fresh
        process's first keystroke listed a segment's words inside its budget and answered
        "stopped after 500 ms" with nothing found."""
        if not self._ready:
            for field in WORD_FIELDS:
                self.words(field)
            self._speller  # noqa: B018 (opened now, not inside a search's budget)
            self._ready = True

    def words(self, field: str) -> Words:
        """The words of `field` as written (completions, patterns), over this generation's
        segments."""
        found = self._words.get(field)
        if found is None:
            found = self._words[field] = Words(
                [self._word_cache.of(leaf, sid, field) for leaf, _, sid in self.columns.leaves])
        return found

    @property
    def speller(self) -> Speller | None:
        """The build's spelling index (memory-mapped: every process shares one copy); None
        while it is lost (`spelling_lost` says why)."""
        return None if self.spelling_lost else self._speller

    @property
    def spelling_lost(self) -> str | None:
        """Why this generation's searches go without corrections, or None: its spelling
        index could not be opened, a file of it shrank since, or the background check
        found it damaged."""
        speller = self._speller
        if speller is None:
            return self._unopened
        if not speller.intact():
            return speller.lost
        return self._spelling_damage(self.live)

    @cached_property
    def _speller(self) -> Speller | None:
        """Opened when first needed, its files' sizes checked first (index/spelling.py)."""
        with self._speller_lock:
            try:
                return Speller.load(self.build)
            except SpellingLost as exc:
                self._unopened = str(exc)
                return None


class Snapshot:
    """One thread's searcher on one generation; used by that thread only."""

    def __init__(self, gen: Generation, searcher: Searcher, cluster: Cluster | None = None):
        self.gen, self.searcher = gen, searcher
        self.generation = gen.name
        self.build = gen.build
        self.columns = gen.columns
        self.updated = gen.updated
        leaves = segments.leaves(searcher)
        if [sid for _, _, sid in leaves] != [sid for _, _, sid in gen.columns.leaves]:
            raise ValueError("the searcher is not on this generation")
        # On a cluster: the scorer that reads records from the shards too.
        self.remote: RemoteScorer | None = None
        if cluster is not None:
            try:
                self.remote = cluster.scorer(self.layout())
            except Exception as exc:
                raise store.ShardsMissing(f"the cluster's shards cannot be asked: {exc}") from exc
        self.scorer: Scorer = self.remote if self.remote is not None else \
            ArrayScorer(searcher, leaves, gen.columns.alive, gen.postings)
        self.users = 0
        self.retired = False

    def layout(self) -> Layout:
        """This generation shard after shard, as a cluster scores it: each shard's segments
        are its run of the document numbers."""
        live, cols = self.gen.live, self.columns
        sizes = []
        for folder in live.folders:
            sizes.append(sum(leaf.doc_count_all() for leaf, _, _ in cols.leaves
                             if str(getattr(leaf, "kept_folder", "")) == str(folder)))
        if sum(sizes) != cols.size:
            raise ValueError("the shards' segments do not add up to the index")
        schema = self.searcher.schema
        return Layout(
            build=live.build.name,
            shards=tuple(Shard(folder, gen, size)
                         for folder, gen, size in zip(live.folders, live.shards, sizes)),
            live=len(cols.all_docs), schema=schema,
            average_lengths={name: self.searcher.avg_field_length(name)
                             for name in schema.names() if schema[name].scorable})

    @property
    def speller(self) -> Speller | None:
        return self.gen.speller

    @property
    def spelling_lost(self) -> str | None:
        """Why this snapshot's searches go without corrections (None: they do not)."""
        return self.gen.spelling_lost

    def words(self, field: str) -> Words:
        return self.gen.words(field)

    def doc_frequency(self, field: str, word: bytes) -> int:
        return self.gen.doc_frequency(field, word, self.searcher.reader())

    def current(self, live: Live | None) -> bool:
        """Whether this is still the generation CURRENT names."""
        return live == self.gen.live

    def record(self, docnum: int) -> dict[str, Any]:
        """The record stored at one document number, as the indexer merged it."""
        found = self.records([docnum])[0]
        if found is None:
            raise store.ShardsMissing("a shard of the cluster holding this record did not answer; "
                                "try again in a moment")
        return found

    def records(self, docnums) -> list[dict[str, Any] | None]:
        """The records at several document numbers (on a cluster, read from their shards at
        once; None where a shard did not answer)."""
        if self.remote is not None:
            return self.remote.records(docnums)
        reader = self.searcher.reader()
        return [json.loads(searched_fields(reader, int(d))["data"]) for d in docnums]

    @property
    def absent(self) -> int:
        """Shards of a cluster that did not answer during this request (0 on one machine)."""
        return len(self.remote.absent) if self.remote is not None else 0

    @property
    def shard_count(self) -> int:
        return self.remote.shards if self.remote is not None else len(self.gen.live.shards)

    def docnum(self, record_id: str) -> int | None:
        return self.searcher.document_number(id=record_id)

    def record_by_id(self, record_id: str) -> dict[str, Any] | None:
        docnum = self.docnum(record_id)
        return None if docnum is None else self.record(docnum)

    def close(self) -> None:
        self.searcher.close()


def _stories(live: Live, searcher: Searcher) -> Stories:
    """The stories the indexer kept for this generation; when that file is lost or damaged,
    grouped again here by the rule the build records (seconds at a million records, once
    per process), so the results are the same either way. A build that recorded none was
    grouped by the settings' defaults."""
    found = Stories.load(stories.path(live.build, live.generation))
    if found is None:
        recorded = store.story_rule_of(live.build)
        rule = stories.Rule(*recorded) if recorded else stories.Rule.of(Settings())
        found = stories.group(*stories.of_reader(searcher.reader()), rule)
    return found


def open_searcher(live: Live) -> Searcher:
    """A searcher on the generation `live` names, scoring as the ranking model does
    (FileNotFoundError when a later run has already cleaned it away: the caller reads
    CURRENT again)."""
    return live.searcher(weighting=WEIGHTING)
