"""The coordinator's side of a search on a cluster: one actor per shard, and, for each
snapshot the web process opens, a scorer that asks them.

The web process opens the index as it always does (from the shared folder): the lexicon
for expanding and correcting queries, the per-record columns for counting facets, dates
and stories, the spelling index. What is costly, and grows with the collection, is done by
the actors where the shards are: reading and scoring postings, reading records and term
vectors. A search with words is two rounds, as Elasticsearch's `dfs_query_then_fetch`:

1. every shard counts, for each word of the query, its live records that have it;
2. every shard scores its matches with the sums (and the collection's record count and
   average field lengths, which the coordinator reads once per generation), so that each
   score is the one a single index of every record gives, to the bit.

The matches come back as document numbers and scores, offset by each shard's first number
in the coordinator's view; everything after that (counts, order, pages, stories) is the
same code as on one machine. Each call names the shard's generation the snapshot is on, so
a search never mixes generations. A shard that fails or answers too late is left out, and
the search says how many shards answered (`absent`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path

import numpy as np

from ..engine.deadline import at_least, left_ms
from ..engine.scoring import Scored, Statistics
from ..engine.shapes import word_keys
from ..reader.scorer import Layout
from ..settings import Settings
from .shard import At, ShardSearcher

log = logging.getLogger(__name__)

# Each shard's actor asks for this share of a CPU: four shards run on two cores (an actor
# mostly waits; NumPy does the work in bursts).
SHARD_CPUS = 0.25
# Calls one actor serves at once: a heavy search on a shard never queues the light ones.
ACTOR_CONCURRENCY = 8
# Words whose counts the coordinator keeps per generation (forgotten all at once past it).
KNOWN_WORDS = 200_000
# How long the first snapshot of a generation waits for the actors to open it.
WARM_TIMEOUT_S = 30.0
# The least a round of a search with a time budget is given: a second round whose first
# took the whole budget still scores the words the first read (they are cached).
ROUND_FLOOR_MS = 100
# Generations whose word counts are kept (an export or a batch on the one before a reindex
# alternates with searches on the new one).
KNOWN_GENERATIONS = 3


class ShardPool:
    """One Ray actor per shard of the index in `root`, created on first use and shared by
    every thread of this process; Ray restarts an actor whose process dies."""

    def __init__(self, root: Path, settings: Settings | None = None):
        import ray
        settings = settings if settings is not None else Settings()
        self.ray = ray
        self.root = Path(root).resolve()
        # 0 would drop every page's hits.
        self.timeout_s = max(settings.cluster_timeout_ms, 100) / 1000
        self.unbudgeted_s = max(settings.cluster_unbudgeted_s, 0.1)
        self.posting_cache_mb = settings.posting_cache_mb
        self._actors: list = []
        self._warmed: list[tuple] = []
        self._known: dict[tuple, dict[tuple, int]] = {}
        self._lock = threading.Lock()
        self._prefix = "searchapp-" + hashlib.sha1(str(self.root).encode()).hexdigest()[:10]
        self._remote = ray.remote(ShardSearcher)
        self._errors = (ray.exceptions.RayError,)
        self._dead = ray.exceptions.ActorDiedError  # for good: not restarting

    def actors(self, count: int) -> list:
        """The actors of shards 0..count-1, made (or found by name) where missing."""
        with self._lock:
            while len(self._actors) < count:
                self._actors.append(None)
            for n in range(count):
                if self._actors[n] is None:
                    self._actors[n] = self._remote.options(
                        name=f"{self._prefix}-shard-{n:02d}", get_if_exists=True,
                        num_cpus=SHARD_CPUS, max_concurrency=ACTOR_CONCURRENCY,
                        max_restarts=-1, max_task_retries=0, scheduling_strategy="SPREAD",
                    ).remote(str(self.root), n, self.posting_cache_mb)
            return self._actors[:count]

    def forget(self, shard: int) -> None:
        """An actor that died for good (Ray restarts no actor whose owner, the process that
        made it, has ended): the next call makes it again."""
        with self._lock:
            if shard < len(self._actors):
                self._actors[shard] = None

    def scorer(self, layout: Layout) -> "ClusterScorer":
        """The scorer and record reader of one snapshot of the shared index, through the
        actors (reader/scorer.py's `Cluster`: the reader asks, and keeps the answer)."""
        return ClusterScorer(self, layout)

    def health(self, count: int, timeout: float = 2.0) -> tuple[int, int, int]:
        """(shard actors answering within `timeout`, shards, nodes they answer from)."""
        calls = {n: actor.hello.remote() for n, actor in enumerate(self.actors(count))}
        answers, _ = self.gather(calls, None, wait=timeout)
        return len(answers), count, len({a["node"] for a in answers.values()})

    def hello(self, count: int, timeout: float = 60) -> list[dict]:
        """Each actor's answer to hello (waiting for them to start): for tests and checks."""
        return self.ray.get([a.hello.remote() for a in self.actors(count)], timeout=timeout)

    def frequencies(self, generation: tuple) -> dict[tuple, int]:
        """The live records of each word counted so far in `generation` of every shard
        (whole counts only; the first round of a search adds to them)."""
        with self._lock:
            found = self._known.pop(generation, None)
            if found is None or len(found) > KNOWN_WORDS:
                found = {}
            self._known[generation] = found  # the newest last
            while len(self._known) > KNOWN_GENERATIONS:
                del self._known[next(iter(self._known))]
            return found

    def first_time(self, key: tuple) -> bool:
        """Whether `key` (a generation of every shard) is asked about for the first time."""
        with self._lock:
            if key in self._warmed:
                return False
            self._warmed = (self._warmed + [key])[-4:]
            return True

    def gather(self, calls: dict[int, object], deadline: float | None,
               wait: float | None = None) -> tuple[dict[int, object], set[int]]:
        """The answers of the calls (shard: object ref) that come by the deadline plus the
        pool's grace (or within `wait` seconds), and the shards that did not answer."""
        if not calls:
            return {}, set()
        if wait is None:
            wait = (max(left_ms(deadline), 0) / 1000 + self.timeout_s) \
                if deadline is not None else self.unbudgeted_s
        refs = list(calls.values())
        ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=max(wait, 0))
        ready = set(ready)
        out, missing = {}, set()
        for shard, ref in calls.items():
            if ref not in ready:
                missing.add(shard)
                log.warning("shard %d did not answer within %.1f s", shard, wait)
                try:  # not left to take one of the actor's threads for nothing
                    self.ray.cancel(ref)
                except Exception:
                    pass
                continue
            try:
                out[shard] = self.ray.get(ref)
            except self._errors as exc:
                missing.add(shard)
                if isinstance(exc, self._dead):
                    self.forget(shard)
                log.warning("shard %d failed: %s", shard, str(exc).splitlines()[0][:200])
        return out, missing


class ClusterScorer:
    """A snapshot's scorer and record reader on the cluster (reader/scorer.py's
    `RemoteScorer`): what ArrayScorer does for one process, asked of every shard's actor
    (the rounds in the module's docstring)."""

    def __init__(self, pool: ShardPool, layout: Layout):
        self.pool = pool
        sizes = [shard.size for shard in layout.shards]
        self.at = [At(layout.build, shard.generation, shard.size) for shard in layout.shards]
        self.bases = np.cumsum([0] + sizes, dtype=np.int64)[:-1]  # each shard's first number
        self.shards = len(self.at)
        self.schema = layout.schema
        self.generation = tuple(self.at)
        self.live = layout.live
        self.average_lengths = dict(layout.average_lengths)
        self.cut_short = False
        self.absent: set[int] = set()  # shards that did not answer since `begin`

    def begin(self) -> None:
        """A new request: every shard is asked again."""
        self.absent = set()

    def warm(self) -> None:
        """Have every actor open this generation before the first search of it starts its
        time budget (once per generation; later snapshots of it do not wait)."""
        calls = {n: actor.open.remote(at)
                 for n, (actor, at) in enumerate(zip(self.pool.actors(self.shards), self.at))}
        if self.pool.first_time(tuple(self.at)):
            self.pool.gather(calls, None, wait=WARM_TIMEOUT_S)

    # -- rounds ----------------------------------------------------------------------------

    def run(self, q, deadline: float | None = None) -> Scored:
        self.cut_short = False
        known = self.pool.frequencies(self.generation)
        keys = word_keys(q, self.schema)
        if keys is not None and not self.absent and all(k in known for k in keys):
            # Every word counted by an earlier search of this generation: one round, unless
            # a shard scored a word `word_keys` did not foresee.
            stats = Statistics(self.live, self.average_lengths, {k: known[k] for k in keys})
            scored = self._ask("score", deadline, lambda n: (q, stats, _budget(deadline)))
            if not any(answer[3] for answer in scored.values()):
                return self._joined(scored)
            self.cut_short = False
        counted = self._ask("frequencies", deadline, lambda n: (q, _budget(deadline)))
        frequencies: dict[tuple, int] = {}
        for found, cut in counted.values():
            self.cut_short |= cut
            for key, count in found.items():
                frequencies[key] = frequencies.get(key, 0) + count
        if not self.cut_short and not self.absent:  # whole counts: kept for the generation
            known.update(frequencies)
            # A word no shard has is never counted, nor ever scored: none of it, everywhere.
            known.update((k, 0) for k in keys or () if k not in frequencies)
        stats = Statistics(self.live, self.average_lengths, frequencies)
        # The words the first round read are in the actors' caches: the second is not cut
        # short for want of the time the first took.
        budget = None if deadline is None else max(_budget(deadline), ROUND_FLOOR_MS)
        scored = self._ask("score", deadline, lambda n: (q, stats, budget))
        return self._joined(scored)

    def matching(self, q, deadline: float | None = None) -> np.ndarray:
        self.cut_short = False
        return self._joined(self._ask("score", deadline, lambda n: (q, None, _budget(deadline)))).docs

    def _ask(self, method: str, deadline: float | None, args) -> dict[int, object]:
        actors = self.pool.actors(self.shards)
        calls = {n: getattr(actors[n], method).remote(self.at[n], *args(n))
                 for n in range(self.shards) if n not in self.absent}
        if method == "score" and deadline is not None:  # the floor of the round, waited for
            deadline = at_least(deadline, ROUND_FLOOR_MS)
        answers, missing = self.pool.gather(calls, deadline)
        self.absent |= missing
        return answers

    def _joined(self, answers: dict[int, tuple]) -> Scored:
        docs, scores = [], []
        for n in sorted(answers):
            found, values, cut, _ = answers[n]
            self.cut_short |= cut
            docs.append(np.asarray(found, dtype=np.int64) + self.bases[n])
            scores.append(values if values is not None else np.zeros(len(found)))
        if not docs:
            return Scored.empty()
        return Scored(np.concatenate(docs), np.concatenate(scores).astype(np.float64))

    # -- reading documents -------------------------------------------------------------------

    def _by_shard(self, docs) -> dict[int, tuple[np.ndarray, list[int]]]:
        """For each shard holding some of `docs`: their places in `docs`, their numbers there."""
        docs = np.asarray(docs, dtype=np.int64)
        owner = np.searchsorted(self.bases, docs, side="right") - 1
        out = {}
        for n in np.unique(owner).tolist():
            places = np.flatnonzero(owner == n)
            out[n] = (places, (docs[places] - self.bases[n]).tolist())
        return out

    def records(self, docs) -> list[dict | None]:
        """The records of `docs` (None where the shard holding one did not answer)."""
        parts = self._by_shard(docs)
        actors = self.pool.actors(self.shards)
        calls = {n: actors[n].records.remote(self.at[n], local)
                 for n, (_, local) in parts.items() if n not in self.absent}
        answers, missing = self.pool.gather(calls, time.perf_counter())
        self.absent |= missing
        out: list[dict | None] = [None] * len(docs)
        for n, texts in answers.items():
            for place, text in zip(parts[n][0].tolist(), texts):
                out[place] = json.loads(text)
        return out

    def vectors(self, docs, fieldname: str, deadline: float | None = None) -> list[np.ndarray]:
        """The term vectors of `docs`, read by their shards at once (empty where a shard did
        not answer, which `absent` says)."""
        parts = self._by_shard(docs)
        actors = self.pool.actors(self.shards)
        calls = {n: actors[n].vectors.remote(self.at[n], local, fieldname, _budget(deadline))
                 for n, (_, local) in parts.items() if n not in self.absent}
        # Without a budget (the distinctive words), as long as a record's reading may take.
        answers, missing = self.pool.gather(calls, deadline or time.perf_counter())
        self.absent |= missing
        out = [np.zeros(0, dtype="S1")] * len(docs)
        for n, (terms, counts) in answers.items():
            for place, part in zip(parts[n][0].tolist(), np.split(terms, np.cumsum(counts)[:-1])
                                   if len(counts) else ()):
                out[place] = part
        return out


def _budget(deadline: float | None) -> float | None:
    """What is left of a search's time budget, in milliseconds, for a shard to count from."""
    return left_ms(deadline)
