"""The one deadline of a piece of work: a `time.perf_counter()` value, or None for none.

A search's budget, a batch's, a shard's and a cluster round's are all this one type, and the
arithmetic on it lives here only: a plain float crosses a Ray call and a thread unchanged,
and each process turns a budget into a deadline on its own clock (clocks of nodes differ).
"""

from __future__ import annotations

import time

Deadline = float | None  # when to stop (this process's perf_counter), or None: never


def after_ms(ms: float | None) -> Deadline:
    """The deadline `ms` milliseconds from now (a budget already spent, 0 or less, is past
    at once); None for None. A setting where 0 means "no limit" passes `ms or None`."""
    return None if ms is None else time.perf_counter() + max(ms, 0) / 1000


def passed(deadline: Deadline) -> bool:
    """Whether the work must stop now."""
    return deadline is not None and time.perf_counter() > deadline


def left_ms(deadline: Deadline) -> float | None:
    """Milliseconds until `deadline` (negative once past it), None without one: a budget to
    hand another process, which makes its own deadline of it."""
    return None if deadline is None else (deadline - time.perf_counter()) * 1000


def at_least(deadline: Deadline, ms: float) -> Deadline:
    """`deadline`, moved to at least `ms` from now (None stays None)."""
    return None if deadline is None else max(deadline, time.perf_counter() + ms / 1000)
