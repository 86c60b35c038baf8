"""What a search answers with: one result object that the page, the API, the exports and the
command line all render."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .distinctive import Terms
from .request import SearchRequest
from .timeline import Timeline


@dataclass
class Hit:
    id: str
    record: dict[str, Any]
    score: float | None
    title_html: str
    excerpt_html: str
    story_id: str = ""
    copies: list[dict[str, Any]] = field(default_factory=list)  # other matches of its story
    more_copies: int = 0  # matches of its story past those listed
    # The best passages of the record's body with the query's words marked (none when no
    # word of the query is in its body), safe HTML like the two above.
    body_html: list[str] = field(default_factory=list)

    @property
    def outlets(self) -> int:
        """How many outlets other than this hit's ran the copies listed and not."""
        mine = self.record["provider"]["name"]
        return len({c["provider"]["name"] for c in self.copies} - {mine}) if self.copies else 0


@dataclass
class FacetValue:
    value: str
    count: int
    selected: bool


@dataclass(kw_only=True)
class SearchResult:
    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    took_ms: float
    suggestion: str | None = None
    suggestion_total: int = 0  # records the suggestion finds
    # The results listed are for this correction of the query; `total` and `stories` stay
    # the query's as written, the correction's are `showing_total` and `showing_stories`.
    showing: str | None = None
    showing_total: int = 0
    showing_stories: int = 0
    # Words of the query (the correction's, when showing one) that records also spell other
    # ways (spellings.py): "also spelled Gaddafi (3), Qaddafi (2)" and a search for them all.
    spellings: list = field(default_factory=list)
    completing: str | None = None  # a keystroke's answer: the last word's completions counted too
    like: bool = False  # searched as "records like this text" (a pasted passage)
    cut_short: bool = False  # the time budget stopped it: the counts are at least these
    capped: bool = False  # a pattern stood for more words than a search takes: at least these
    notice: str | None = None
    generation: str = ""
    timeline: Timeline | None = None
    terms: Terms | None = None
    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # of the results themselves
    timings: dict[str, float] = field(default_factory=dict)  # ms per phase, for benchmarks
    stories: int = 0  # how many stories the matches are copies of
    shards: tuple[int, int] | None = None  # on a cluster: (shards that answered, shards)

    @property
    def partial(self) -> bool:
        """Some shard of a cluster did not answer: the counts and hits leave its records out."""
        return self.shards is not None and self.shards[0] < self.shards[1]

    @property
    def exact(self) -> bool:
        """Whether the counts are every match, not what a budget, a cap or a shard left."""
        return not (self.cut_short or self.capped or self.partial)

    @property
    def listed(self) -> int:
        """How many records the results list (the correction's, when showing one)."""
        return self.showing_total if self.showing else self.total

    @property
    def pages(self) -> int:
        if self.showing:
            shown = self.showing_stories if self.request.grouped else self.showing_total
        else:
            shown = self.stories if self.request.grouped else self.total
        return max(1, math.ceil(shown / self.request.per_page))


@dataclass
class QuerySummary:
    """One query of a comparison: its total, its timeline on the shared axis, its top facets."""

    request: SearchRequest
    total: int
    timeline: Timeline
    top: dict[str, list[tuple[str, int]]]
    notice: str | None
    showing: str | None = None  # the correction the search page shows instead
    showing_total: int | None = None  # ... and its records


@dataclass
class IndexStats:
    records: int
    generation: str
    updated: datetime | None


@dataclass
class IndexStatus:
    """What `/status` says: the index (None where it cannot be read, and `problem` says
    why), what the last run did and refused, and whether the seeds folder is watched."""

    stats: IndexStats | None
    problem: str | None
    last_run: str | None
    last_run_at: datetime | None
    refused: list[tuple[str, int | None, str]]  # the first few thousand, by name
    refused_total: int
    watching: bool
    watching_since: datetime | None
    pending: int | None
    watch_problem: str | None = None  # a watched run failed (the watcher retries), or it died
    watch_problem_at: datetime | None = None
    cluster: tuple[int, int, int] | None = None  # shard actors answering, shards, their nodes
