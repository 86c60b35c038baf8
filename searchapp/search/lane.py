"""The heavy lane of a process, and one search's turn in it.

A search that stands for much work (many patterns, a fuzzy word matched against the whole
vocabulary, every record with a word in a field, hundreds of index terms, a pasted text,
`full=1`) runs one at a time per process: the searching holds the interpreter's lock, so
eight heavy searches side by side leave a light one an eighth of a core, where one leaves
it half. A search's turn, once taken, is held until the search ends (its page of hits,
their highlights and its distinctive words are heavy work of the same search), and its
time budget starts when it gets the turn.

Half a core is still twice as slow: between its phases, its patterns and the words it
scores (engine/pause.py), the heavy search in the lane gives way to the light searches under
way in its process, GIVE_WAY_S at most each time and MOST_GIVEN_S in all, so a stream of
light searches cannot hold it back for long; its deadline is moved on by the time it gave.
"""

from __future__ import annotations

import threading
import time

GIVE_WAY_S = 0.05  # longest a heavy search waits, at one point, for light ones to end
MOST_GIVEN_S = 0.25  # ... and in all


class Lane:
    """One process's heavy lane: one heavy search at a time, and how many light searches are
    under way beside it. As a context manager (a batch row), a plain turn of its own."""

    def __init__(self) -> None:
        self._turns = threading.Semaphore(1)
        self._light = 0
        self._changed = threading.Condition()

    def acquire(self, blocking: bool = True) -> bool:
        return self._turns.acquire(blocking)

    def release(self) -> None:
        self._turns.release()

    def __enter__(self) -> "Lane":
        self.acquire()
        self.give_way()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def light(self, change: int) -> None:
        """A light search began (+1) or ended (-1)."""
        with self._changed:
            self._light += change
            if not self._light:
                self._changed.notify_all()

    def give_way(self, most_s: float = GIVE_WAY_S) -> float:
        """Wait while light searches are under way, `most_s` at most; the seconds waited."""
        if not self._light:
            return 0.0
        started = time.perf_counter()
        with self._changed:
            self._changed.wait_for(lambda: not self._light, timeout=most_s)
        return time.perf_counter() - started


class Turn:
    """One search's turn in `lane` (None: a search that never waits, such as an export's,
    which runs on a snapshot of its own). Light until it takes its turn, at most once however
    many of its phases ask; `close` when the search ends lets go of the turn."""

    def __init__(self, lane: Lane | None = None):
        self.lane = lane
        self.held = False
        self.waited = 0.0  # seconds it gave way to light searches
        if lane is not None:
            lane.light(+1)

    def take(self) -> bool:
        """Wait for the lane, if not holding it yet; whether this call took it (the
        search's budget then starts anew)."""
        if self.held or self.lane is None:
            return False
        self.lane.light(-1)  # heavy from now on: it gives way, no one gives way to it
        self.lane.acquire()
        self.held = True
        self.give_way()
        return True

    def give_way(self) -> float:
        """Between two steps of a heavy search: the seconds it waited for the light searches
        beside it to end (0 for a light one, which never waits)."""
        if not self.held or self.waited >= MOST_GIVEN_S:
            return 0.0
        waited = self.lane.give_way(min(GIVE_WAY_S, MOST_GIVEN_S - self.waited))
        self.waited += waited
        return waited

    def close(self) -> None:
        if self.lane is None:
            return
        if self.held:
            self.held = False
            self.lane.release()
        else:
            self.lane.light(-1)
        self.lane = None

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
