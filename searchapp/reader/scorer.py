"""How a snapshot scores and reads, whoever does it: the `Scorer` protocol that the engine's
`ArrayScorer` meets in one process and the cluster's scorer meets on Ray, and what a
snapshot tells a cluster about its generation (`Layout`) so that the cluster never has to
reach into the snapshot.

The cluster package implements these (cluster/pool.py) and is handed to the reader by
whoever builds it; the reader asks it for a scorer of each snapshot it opens, and keeps the
answer in its own object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import numpy as np

from ..engine.scoring import Scored


class Scorer(Protocol):
    """Scores and matches query trees over one generation's document numbers."""

    cut_short: bool  # the last call stopped at its deadline: what it found by then

    def run(self, q, deadline: float | None = None) -> Scored: ...

    def matching(self, q, deadline: float | None = None) -> np.ndarray: ...

    def vectors(self, docs, fieldname: str, deadline: float | None = None
                ) -> list[np.ndarray]: ...


class RemoteScorer(Scorer, Protocol):
    """A scorer that also reads the records, from shards that may not answer."""

    shards: int
    absent: set[int]  # shards that did not answer since `begin`

    def begin(self) -> None: ...

    def warm(self) -> None: ...

    def records(self, docs) -> list[dict[str, Any] | None]: ...


@dataclass(frozen=True)
class Shard:
    """One shard of a generation: its folder, its Whoosh generation, its documents."""

    folder: Path
    generation: int
    size: int


@dataclass(frozen=True)
class Layout:
    """A generation as a snapshot sees it, shard after shard: what a cluster needs to score
    it as one index (each shard's first document number is the sum of the sizes before)."""

    build: str
    shards: Sequence[Shard]
    live: int  # live records of the whole generation
    schema: Any  # the Whoosh schema (which fields are scorable, how a word is written)
    average_lengths: Mapping[str, float]  # per scorable field, over the whole generation


class Cluster(Protocol):
    """What scores and reads a generation's shards elsewhere (cluster/pool.py on Ray)."""

    def scorer(self, layout: Layout) -> RemoteScorer: ...

    def health(self, count: int) -> tuple[int, int, int]: ...
