"""Attention over time: how many matching records fall in each day, week, month or year.

Counted from the date column over the whole result set (never a page of hits), with the
share of all records published in the same period beside each count, as Media Cloud shows
normalised attention. Periods with no matches are kept as zeros: a gap is information.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from ..reader import NO_DATE, Columns

INTERVALS = ("day", "week", "month", "year")
MAX_BUCKETS = 1500
# The automatic span: the shortest range holding this share of the dated matches, when it is
# at most FOCUS_WIDTH of their whole span (a few stray dates decades away would otherwise
# squeeze every bar against one edge).
FOCUS_SHARE = 0.9
FOCUS_WIDTH = 0.5


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime  # exclusive
    count: int
    baseline: int  # all records dated in the same period

    @property
    def share(self) -> float:
        return self.count / self.baseline if self.baseline else 0.0

    @property
    def last_day(self) -> datetime:
        return self.end - timedelta(days=1)

    def label(self, interval: str) -> str:
        if interval == "year":
            return f"{self.start:%Y}"
        if interval == "month":
            return f"{self.start:%Y-%m}"
        if interval == "week":
            return f"week of {self.start:%Y-%m-%d}"
        return f"{self.start:%Y-%m-%d}"


@dataclass(frozen=True)
class Timeline:
    interval: str
    buckets: tuple[Bucket, ...]
    undated: int
    outside: int = 0  # dated matches left out of a focused span
    strays: tuple[datetime, datetime] | None = None  # first and last of the matches left out

    @property
    def total(self) -> int:
        return sum(b.count for b in self.buckets)

    @property
    def peak(self) -> Bucket | None:
        return max(self.buckets, key=lambda b: (b.count, -b.start.timestamp()), default=None)


def choose_interval(low: int, high: int) -> str:
    """The finest period that keeps the chart readable for a span of `high - low` seconds."""
    days = (high - low) / 86400
    if days <= 120:
        return "day"
    if days <= 3 * 365:
        return "week"
    if days <= 40 * 365:
        return "month"
    return "year"


def period_start(moment: datetime, interval: str) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())  # weeks start on Monday
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def next_start(start: datetime, interval: str) -> datetime:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


def edges(low: int, high: int, interval: str) -> list[datetime]:
    """Period starts covering [low, high], plus the end of the last period."""
    while True:
        start = period_start(datetime.fromtimestamp(low, tz=timezone.utc), interval)
        last = datetime.fromtimestamp(high, tz=timezone.utc)
        out = [start]
        while out[-1] <= last and len(out) <= MAX_BUCKETS + 1:
            out.append(next_start(out[-1], interval))
        if len(out) <= MAX_BUCKETS + 1 or interval == "year":
            return out
        interval = INTERVALS[INTERVALS.index(interval) + 1]


def build(dates: np.ndarray, all_dates: np.ndarray, undated: int, interval: str | None = None,
          span: tuple[int, int] | None = None, focus: bool = False) -> Timeline:
    """Count `dates` (epoch seconds of the matches) per period; `all_dates` (sorted) gives
    the shares.

    `span` fixes the covered range (the compare view puts every query on the same axis);
    by default it is the span of the matches themselves, or with `focus` the densest range
    holding most of them (`dense_span`), the rest counted as `outside`.
    """
    focused = span is not None  # a span given may leave matches out too
    if span is None:
        if not len(dates):
            return Timeline(interval or "day", (), undated)
        span = (int(dates.min()), int(dates.max()))
        dense = dense_span(dates) if focus else None
        if dense is not None:
            span, focused = dense, True
    interval = interval or choose_interval(*span)
    starts = edges(*span, interval)
    interval = _interval_of(starts, interval)
    cuts = np.array([int(s.timestamp()) for s in starts], dtype=np.int64)
    # All records' dates are sorted once per index generation: the baseline is then a binary
    # search per period instead of a pass over every record.
    baseline = np.diff(np.searchsorted(all_dates, cuts, side="left"))
    counts = baseline if dates is all_dates else _histogram(dates, cuts)
    buckets = tuple(Bucket(starts[i], starts[i + 1], int(counts[i]), int(baseline[i]))
                    for i in range(len(starts) - 1))
    if not focused:
        return Timeline(interval, buckets, undated)
    left = dates[(dates < cuts[0]) | (dates >= cuts[-1])]  # outside the periods drawn
    strays = tuple(datetime.fromtimestamp(int(t), tz=timezone.utc)
                   for t in (left.min(), left.max())) if len(left) else None
    return Timeline(interval, buckets, undated, len(left), strays)


def dense_span(dates: np.ndarray) -> tuple[int, int] | None:
    """The shortest range of `dates` holding FOCUS_SHARE of them, if it is much shorter
    than their whole span; None when the whole span is the right one to draw."""
    # The whole collection's dates come sorted already: checking is a fiftieth of sorting
    # them again (50 ms of every browse at 1M records).
    ordered = dates if len(dates) < 2 or bool(np.all(dates[1:] >= dates[:-1])) else np.sort(dates)
    n = len(ordered)
    keep = int(np.ceil(FOCUS_SHARE * n))
    if n < 20 or keep >= n:
        return None
    widths = ordered[keep - 1:] - ordered[: n - keep + 1]
    i = int(np.argmin(widths))
    low, high = int(ordered[i]), int(ordered[i + keep - 1])
    if high - low > FOCUS_WIDTH * (int(ordered[-1]) - int(ordered[0])):
        return None
    # Widened by a quarter on each side, so the matches just past its edges are drawn too;
    # then cut to the dates there are.
    margin = (high - low) // 4
    inside = ordered[(ordered >= low - margin) & (ordered <= high + margin)]
    return int(inside[0]), int(inside[-1])


def _histogram(dates: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    slot = np.searchsorted(cuts, dates, side="right") - 1
    slot = slot[(slot >= 0) & (slot < len(cuts) - 1)]
    return np.bincount(slot, minlength=len(cuts) - 1)


def _interval_of(starts: list[datetime], asked: str) -> str:
    """The interval `edges` settled on (it widens one that would need too many bars)."""
    if len(starts) < 2:
        return asked
    days = (starts[1] - starts[0]).days
    return "day" if days == 1 else "week" if days == 7 else "month" if days < 32 else "year"


def timeline_of(cols: Columns, final: np.ndarray, interval: str | None,
                focus: bool = False, stories: bool = False) -> Timeline:
    """Matches per period; with `focus`, over the range where most of them are. With
    `stories`, `final` holds one record per story and the baseline is every story's first
    date, so a share is of stories over stories."""
    baseline = cols.all_story_dated if stories else cols.all_dated
    if not stories and len(final) == len(cols.all_docs):  # everything: the baseline is the answer
        return build(baseline, baseline, len(final) - len(baseline), interval, focus=focus)
    dates = cols.dates[final]
    dated = dates[dates != NO_DATE]
    return build(dated, baseline, len(final) - len(dated), interval, focus=focus)
