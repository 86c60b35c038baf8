"""What bounds a search, and how long each of its phases took: the configured limits
(`SearchLimits`, made from the settings by whoever builds the searcher) with the one deadline
computation every search, comparison and batch row uses, and the `Clock` of its phases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..engine.deadline import Deadline, after_ms


@dataclass(frozen=True)
class SearchLimits:
    """What the settings bound a search by."""

    facet_max: int
    max_wildcard_terms: int
    budget_ms: float  # matching stops here and answers with what it has (0: never)

    @classmethod
    def of(cls, settings) -> "SearchLimits":
        """The limits `settings` (a `Settings`) configure."""
        return cls(facet_max=settings.facet_max, max_wildcard_terms=settings.max_wildcard_terms,
                   budget_ms=settings.search_budget_ms)

    def deadline(self) -> Deadline:
        """When a search starting now must stop matching, or None without a budget."""
        return after_ms(self.budget_ms or None)


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
