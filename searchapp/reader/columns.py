"""The column store of one index generation: the values and dates of every document as
NumPy arrays over its global document numbers, with the orders (relevance ties, date,
first seen), the stories and the filters a search applies to them.

Column values are read once per index segment (segments never change once written), as
engine/columns.py enumerates them, and mapped to ordinals of vocabularies that only grow, so
a new generation reads only its new segments. Counting a facet over a result set is then
one `bincount` over the matched document numbers, never a walk over stored fields or
Whoosh's `groupedby`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from ..engine import columns, segments
from ..index.schema import NO_DATE, TOPIC_SEPARATOR, id_key, key_id
from ..index.stories import Stories

# The facet value of records that have none (no source, no topic, no date): counted and
# selectable like any other, so every record can be reached through the facets.
NONE = "(none)"

SINGLE = {"provider": "c_provider", "category": "c_category", "type": "c_type", "kind": "c_kind"}
TOPIC_COLUMN = "c_topic"
DATE_COLUMN = "c_date"
ID_COLUMN = "c_idkey"
SEEN_COLUMN = "c_seen"


class Vocab:
    """Values seen in a column, numbered in the order first seen; numbers never change."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.ordinals: dict[str, int] = {}

    def ordinal(self, value: str) -> int:
        found = self.ordinals.get(value)
        if found is None:
            found = self.ordinals[value] = len(self.values)
            self.values.append(value)
        return found

    def __len__(self) -> int:
        return len(self.values)


class SegmentCache:
    """Decoded per-segment arrays, shared by every snapshot of one index build (in `folder`,
    where the enumerated columns are kept beside their segments)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.vocabs = {name: Vocab() for name in (*SINGLE, "topic", "combo")}
        self.arrays: dict[tuple[str, str], np.ndarray] = {}
        self.pair_combo: list[int] = []  # which topics each combination holds, see Columns
        self.pair_topic: list[int] = []
        self.combos_paired = 0

    def column(self, leaf, segment_id: str, facet: str) -> np.ndarray:
        key = (segment_id, facet)
        found = self.arrays.get(key)
        if found is None:
            found = self.arrays[key] = self._decode(leaf, segment_id, facet)
        return found

    def _decode(self, leaf, segment_id: str, facet: str) -> np.ndarray:
        if facet == "date":
            return columns.numbers(leaf, DATE_COLUMN, NO_DATE)
        if facet == "idkey":
            return columns.numbers(leaf, ID_COLUMN, 0)
        if facet == "seen":
            return columns.numbers(leaf, SEEN_COLUMN, 0)
        vocab = self.vocabs["combo" if facet == "topic" else facet]
        column = TOPIC_COLUMN if facet == "topic" else SINGLE[facet]
        values, local = columns.enumerated(leaf, segment_id, column, self.folder)
        return np.array([vocab.ordinal(v) for v in values], dtype=np.intp)[local]

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(combination, topic) for each topic of each topic combination seen so far,
        extended only by the combinations new since the last call."""
        combos = self.vocabs["combo"].values
        topics = self.vocabs["topic"]
        for c in range(self.combos_paired, len(combos)):
            for t in combos[c].split(TOPIC_SEPARATOR):
                if t:
                    self.pair_combo.append(c)
                    self.pair_topic.append(topics.ordinal(t))
        self.combos_paired = len(combos)
        return np.array(self.pair_combo, dtype=np.int64), np.array(self.pair_topic, dtype=np.int64)

    def forget(self, live_segment_ids: set[str]) -> None:
        for key in [k for k in self.arrays if k[0] not in live_segment_ids]:
            del self.arrays[key]


class Columns:
    """Arrays over the global document numbers of one searcher."""

    def __init__(self, searcher, cache: SegmentCache, stories: Stories | None = None):
        self.leaves = leaves = segments.leaves(searcher)
        cache.forget({sid for _, _, sid in leaves})
        self.cache = cache
        self.size = searcher.reader().doc_count_all()
        self.ordinals = {f: self._concat(leaves, f) for f in (*SINGLE, "topic")}
        self.dates = self._concat(leaves, "date")
        self.idkeys = self._concat(leaves, "idkey")  # ties go by id, whatever the shards
        self.seen = self._concat(leaves, "seen")  # when each record first entered the index
        years = self.dates.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
        self.years = np.where(self.dates == NO_DATE, -1, years)
        self.alive = segments.alive(leaves, self.size)
        self.all_docs = np.flatnonzero(self.alive)
        dates = self.dates[self.all_docs]
        self.all_dated = np.sort(dates[dates != NO_DATE])  # the baseline for shares of attention
        self._newest: np.ndarray | None = None
        self._story_dated: np.ndarray | None = None
        self._combo_pairs()
        self._stories(stories or Stories.none())

    # -- stories (index/stories.py) -------------------------------------------------------

    def _stories(self, found: Stories) -> None:
        """Each document's story: its key (the smallest id key in it), and a dense number
        (`story`) that counts and groups by bincount; `story_sizes`: live records per story."""
        self.story_keys = found.of(self.idkeys)
        keys, self.story = np.unique(self.story_keys, return_inverse=True)
        self.story = self.story.reshape(-1)
        self.story_sizes = np.bincount(self.story[self.all_docs], minlength=len(keys))
        # Most records are a story of their own: only the others are looked at when counting
        # or folding, each story's documents side by side (`_shared`, ordered by story).
        self.shares_story = self.story_sizes[self.story] > 1
        shared = np.flatnonzero(self.shares_story & self.alive)
        self._shared = shared[np.argsort(self.story[shared], kind="stable")]
        self._shared_story = self.story[self._shared]

    def story_count(self, docs: np.ndarray) -> int:
        """How many stories these documents (sorted, as every set of matches is) are copies
        of: each is one, less the copies beyond the first of a story."""
        if len(self._shared) < len(docs):  # look the few shared ones up among the many
            at = np.minimum(np.searchsorted(docs, self._shared), len(docs) - 1)
            grouped = self._shared[docs[at] == self._shared]
        else:
            grouped = docs[self.shares_story[docs]]
        return int(len(docs) - len(grouped) + len(np.unique(self.story[grouped])))

    def copies_in(self, docnum: int, docs: np.ndarray) -> np.ndarray:
        """The other documents of `docnum`'s story among `docs` (sorted document numbers, as
        every set of matches is), earliest first (undated last, ties by id)."""
        if not self.shares_story[docnum]:
            return docs[:0]
        story = self.story[docnum]
        lo, hi = np.searchsorted(self._shared_story, [story, story + 1])
        members = self._shared[lo:hi]
        members = members[members != docnum]
        at = np.minimum(np.searchsorted(docs, members), max(len(docs) - 1, 0))
        members = members[docs[at] == members] if len(docs) else members[:0]
        dates = np.where(self.dates[members] == NO_DATE, np.iinfo(np.int64).max,
                         self.dates[members])
        return members[np.lexsort((self.idkeys[members], dates))]

    def story_id(self, docnum: int) -> str:
        return key_id(int(self.story_keys[docnum]))

    def in_story(self, docs: np.ndarray, story_id: str) -> np.ndarray:
        """Those of `docs` that are copies of the story `story_id`."""
        return docs[self.story_keys[docs] == id_key(story_id)]

    @property
    def all_story_dated(self) -> np.ndarray:
        """Each story's first date, sorted: the baseline when the timeline counts stories
        (a share of stories over all records would mix two measures). Made on first use,
        once per searcher; two threads making it at once make the same array."""
        if self._story_dated is None:
            dates = self.dates[self.firsts(self.all_docs)]
            self._story_dated = np.sort(dates[dates != NO_DATE])
        return self._story_dated

    def firsts(self, docs: np.ndarray) -> np.ndarray:
        """One document per story among `docs`: its earliest (undated last, ties by id),
        where counting stories over time counts each."""
        shared = self.shares_story[docs]
        grouped = docs[shared]
        if not len(grouped):  # each its own story: every one is its story's first
            return docs
        dates = np.where(self.dates[grouped] == NO_DATE, np.iinfo(np.int64).max,
                         self.dates[grouped])
        ordered = grouped[np.lexsort((self.idkeys[grouped], dates, self.story[grouped]))]
        stories = self.story[ordered]
        firsts = ordered[np.r_[True, stories[1:] != stories[:-1]]]
        return np.sort(np.concatenate([docs[~shared], firsts]))

    def per_story(self, facet: str, docs: np.ndarray) -> np.ndarray:
        """One document per (story, value of `facet`) among `docs`: counting them counts
        the stories each value has (a source that ran a story three times counts once)."""
        shared = self.shares_story[docs]
        grouped = docs[shared]
        if not len(grouped):  # each its own story: nothing is counted twice
            return docs
        values = self.ordinals["topic" if facet == "topic" else facet][grouped]
        pairs = self.story[grouped].astype(np.int64) * (int(values.max()) + 1) + values
        _, first = np.unique(pairs, return_index=True)
        return np.sort(np.concatenate([docs[~shared], grouped[first]]))

    def _concat(self, leaves, facet: str) -> np.ndarray:
        parts = [self.cache.column(leaf, sid, facet) for leaf, _, sid in leaves]
        dtype = np.int64 if facet in ("date", "idkey", "seen") else np.intp
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    def _combo_pairs(self) -> None:
        """Which topics each topic combination holds, as parallel arrays (combo, topic)."""
        self.pair_combo, self.pair_topic = self.cache.pairs()
        self.combo_count = len(self.cache.vocabs["combo"])

    # -- filtering --------------------------------------------------------------------------

    def mask(self, facet: str, docs: np.ndarray, values: Sequence[str]) -> np.ndarray:
        """For each doc in `docs`, whether it has any of `values` in `facet` (OR within a facet)."""
        if facet == "year":
            wanted = [int(v) for v in values if re.fullmatch(r"\d{1,4}", v, re.ASCII)]
            return np.isin(self.years[docs], wanted + ([-1] if NONE in values else []))
        if facet == "topic":
            topics = self.cache.vocabs["topic"].ordinals
            wanted = [topics[v] for v in values if v in topics]
            allowed = np.zeros(self.combo_count + 1, dtype=bool)
            allowed[self.pair_combo[np.isin(self.pair_topic, wanted)]] = True
            empty = self.cache.vocabs["combo"].ordinals.get("")
            if NONE in values and empty is not None:
                allowed[empty] = True
            return allowed[self.ordinals["topic"][docs]]
        known = self.cache.vocabs[facet].ordinals
        wanted = [known[v] for v in values if v in known]
        if NONE in values and "" in known:
            wanted.append(known[""])
        return np.isin(self.ordinals[facet][docs], wanted)

    def in_range(self, docs: np.ndarray, low: int | None, high: int | None) -> np.ndarray:
        dates = self.dates[docs]
        keep = dates != NO_DATE
        if low is not None:
            keep &= dates >= low
        if high is not None:
            keep &= dates <= high
        return docs[keep]

    # -- counting ---------------------------------------------------------------------------

    def count(self, facet: str, docs: np.ndarray, limit: int | None = None,
              also: Sequence[str] = ()) -> list[tuple[str, int]]:
        """(value, count) for `facet` over `docs`, most frequent first (years newest first);
        records with no value count as `NONE`. With `limit`, only the first `limit` of them
        and the values in `also` (a facet can have tens of thousands of values; sorting all
        of them on every keystroke was a tenth of its time)."""
        every = len(docs) == self.size  # all of them: no need to gather
        if facet == "year":
            years = self.years if every else self.years[docs]
            undated = int((years < 0).sum())
            years = years[years >= 0]
            found = []
            if len(years):
                counts = np.bincount(years - years.min())
                base = int(years.min())
                found = sorted(((str(base + i), int(c)) for i, c in enumerate(counts) if c),
                               key=lambda vc: vc[0], reverse=True)
            return found + ([(NONE, undated)] if undated else [])
        none = None
        if facet == "topic":
            ords = self.ordinals["topic"]
            combos = np.bincount(ords if every else ords[docs], minlength=self.combo_count)
            counts = np.bincount(self.pair_topic, weights=combos[self.pair_combo],
                                 minlength=len(self.cache.vocabs["topic"])).astype(np.int64)
            vocab = self.cache.vocabs["topic"]
            empty = self.cache.vocabs["combo"].ordinals.get("")
            none = int(combos[empty]) if empty is not None and empty < len(combos) else 0
            if "" in vocab.ordinals:  # not a topic: records without one are counted apart
                counts[vocab.ordinals[""]] = 0
        else:
            ords = self.ordinals[facet]
            vocab = self.cache.vocabs[facet]
            counts = np.bincount(ords if every else ords[docs], minlength=len(vocab))
            if "" in vocab.ordinals:
                none = int(counts[vocab.ordinals[""]])
                counts[vocab.ordinals[""]] = 0
        present = np.flatnonzero(counts)
        if limit is not None and len(present) > limit:
            # Every value counted at least as often as the limit-th: ties are ordered by name
            # below, so the cut must not fall inside them.
            floor = np.partition(counts[present], len(present) - limit)[len(present) - limit]
            wanted = {vocab.ordinals[v] for v in also if v in vocab.ordinals}
            present = np.union1d(present[counts[present] >= floor],
                                 np.fromiter(wanted, dtype=np.int64, count=len(wanted)))
        values = vocab.values
        found = [(values[i], int(counts[i])) for i in present.tolist()]
        if none and facet != "topic":  # ranked like any value; a topic's comes last
            found.append((NONE, none))
        found.sort(key=lambda vc: (-vc[1], vc[0].casefold(), vc[0]))
        if none and facet == "topic":
            found.append((NONE, none))
        return found

    # -- ordering ---------------------------------------------------------------------------

    def sample(self, docs: np.ndarray, n: int) -> np.ndarray:
        """At most `n` of `docs` (in document order), picked by a hash of their ids: the same
        records whichever shard or segment holds them, and spread over the whole set."""
        if len(docs) <= n:
            return docs
        mixed = _mix(self.idkeys[docs])
        return np.sort(docs[np.argpartition(mixed, n - 1)[:n]])


    def by_date(self, docs: np.ndarray, newest: bool, stop: int) -> np.ndarray:
        """The first `stop` of `docs` by date (undated last), ties by id."""
        if newest and len(docs) == len(self.all_docs):
            return self.newest_order()[:stop]
        keys = self.dates[docs]
        keys = np.where(keys == NO_DATE, np.iinfo(np.int64).max if not newest else keys, keys)
        keys = -keys if newest else keys
        if stop < len(docs):
            # Every doc dated up to the stop-th: ties at the cut are ordered by id like the rest.
            floor = np.partition(keys, stop - 1)[stop - 1]
            part = np.flatnonzero(keys <= floor)
            order = part[np.lexsort((self.idkeys[docs[part]], keys[part]))][:stop]
        else:
            order = np.lexsort((self.idkeys[docs], keys))
        return docs[order]

    def first_seen(self, docs: np.ndarray, stop: int) -> np.ndarray:
        """The first `stop` of `docs` by when they entered the index, latest first (then
        newest published, then by id)."""
        if len(docs) > stop:
            floor = np.partition(-self.seen[docs], stop - 1)[stop - 1]
            docs = docs[-self.seen[docs] <= floor]
        order = np.lexsort((self.idkeys[docs], -self.dates[docs], -self.seen[docs]))
        return docs[order][:stop]

    def newest_order(self) -> np.ndarray:
        """Every live document, newest first: cached, since browsing everything is the front page."""
        if self._newest is None:
            docs = self.all_docs
            self._newest = docs[np.lexsort((self.idkeys[docs], -self.dates[docs]))]
        return self._newest


def _mix(keys: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: id keys (in id order) to well-spread 64-bit hashes."""
    z = keys.view(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
