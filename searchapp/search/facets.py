"""Facet counts a search shows: each facet counted as if its own selection were off
(disjunctive faceting), selected values pinned first, and the top sources and topics.

The counting itself is one `bincount` over the column store of the generation
(reader/columns.py); what this module owns is which set of matches each facet is counted
over, and how the values are listed.
"""

from __future__ import annotations

import numpy as np

from ..reader import FACETS, NONE, Columns
from . import marks
from .matching import Matches
from .request import SearchRequest
from .results import FacetValue

__all__ = ["NONE", "TOP_BARS", "facet_counts"]

TOP_BARS = 8  # sources and topics shown as bars above the results


def facet_counts(cols: Columns, req: SearchRequest, found: Matches, facet_max: int
                 ) -> tuple[dict[str, list[FacetValue]], dict[str, list[tuple[str, int]]]]:
    """Counts per facet, each as if its own selection were off (disjunctive faceting), and
    the top sources and topics of the results themselves.

    A facet with no selection of its own is counted over the final matches, so only
    selected facets need their own subset of the matches.
    """
    out: dict[str, list[FacetValue]] = {}
    of_final: dict[str, list[tuple[str, int]]] = {}
    for facet in FACETS:
        selected = req.filters.get(facet, ())
        if facet in found.masks:
            keep = np.ones(len(found.base), dtype=bool)
            for other, m in found.masks.items():
                if other != facet:
                    keep &= m
            counts = cols.count(facet, found.base[keep], facet_max, selected)
        else:
            counts = of_final[facet] = cols.count(facet, found.final, facet_max, selected)
        counted = dict(counts)
        # Selected values first (so a selection is never hidden under "more"), then by count.
        pinned = [FacetValue(v, counted.get(v, 0), True) for v in selected]
        rest = [FacetValue(v, c, False) for v, c in counts if v not in selected]
        out[facet] = pinned + rest[: max(0, facet_max - len(pinned))]
    if req.marks is not None:
        state = req.marks.marks()
        for kind in marks.MARK_KINDS:
            out[kind] = _mark_values(cols, state, kind, req, found, facet_max)
    top = {f: (of_final.get(f) or cols.count(f, found.final, TOP_BARS))[:TOP_BARS]
           for f in ("provider", "topic")}
    return out, top


def _mark_values(cols: Columns, state, kind: str, req: SearchRequest, found: Matches,
                 facet_max: int) -> list[FacetValue]:
    """A collection or tag facet, counted as the others are (its own selection off)."""
    selected = req.filters.get(kind, ())
    over = found.final
    if kind in found.masks:
        keep = np.ones(len(found.base), dtype=bool)
        for other, m in found.masks.items():
            if other != kind:
                keep &= m
        over = found.base[keep]
    counted = marks.counted(cols, state, kind, over)
    untagged = counted.pop(marks.NONE_OF, None)
    pinned = [FacetValue(v, counted.get(v, 0) if v != marks.NONE_OF else untagged or 0, True)
              for v in selected]
    rest = [FacetValue(v, c, False) for v, c in sorted(counted.items(), key=lambda p: (-p[1], p[0]))
            if v not in selected]
    rest = rest[: max(0, facet_max - len(pinned))]
    if untagged and marks.NONE_OF not in selected:
        rest.append(FacetValue(marks.NONE_OF, untagged, False))
    return pinned + rest
