"""Several queries compared on one time axis: each counted (not ranked) within one shared
time budget, the span where most of their matches are, and each query's timeline, total
and top sources and topics over that span.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..reader import NO_DATE, Snapshot
from . import timeline
from .budget import SearchLimits
from .query import parse
from .answer import correction
from .matching import like_passage, matching
from .request import SearchRequest
from .results import QuerySummary
from .timeline import Timeline


def compare(snap: Snapshot, requests: list[SearchRequest], limits: SearchLimits,
            interval: str | None = None, top: int = 5) -> list[QuerySummary]:
    """Several queries on one time axis (the span of all their matches), with top facets."""
    cols = snap.columns
    matched = []
    snap.gen.ready()
    deadline = limits.deadline()
    for req in requests:
        parsed = parse(snap, replace(req, typing=False), limits, deadline)
        found = matching(snap, parsed, req, rank=False, deadline=deadline)
        parsed, found = like_passage(snap, req, limits, parsed, found, deadline, rank=False)
        if found.cut_short:
            parsed.notice = " ".join(filter(None, (parsed.notice, (
                f"Stopped after {limits.budget_ms:g} ms: the counts are what it found by then."))))
        matched.append((req, parsed, found.final,
                        correction(snap, req, limits, found, deadline)))
    dated = [d[d != NO_DATE] for d in (cols.dates[f] for _, _, f, _ in matched)]
    nonempty = [d for d in dated if len(d)]
    span = (int(min(d.min() for d in nonempty)), int(max(d.max() for d in nonempty))) \
        if nonempty else None
    first = requests[0]
    if span and first.span != "all" and not (first.date_from or first.date_to):
        span = timeline.dense_span(np.concatenate(nonempty)) or span  # where most are
    out = []
    for (req, parsed, final, (showing, better)), dates in zip(matched, dated):
        line = timeline.build(dates, cols.all_dated, len(final) - len(dates),
                              interval, span) if span else \
            Timeline(interval or "day", (), len(final))
        out.append(QuerySummary(req, int(len(final)), line,
                                {f: cols.count(f, final, top)[:top] for f in ("provider", "topic")},
                                parsed.notice, showing, better if showing else None))
    return out
