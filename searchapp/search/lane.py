"""The heavy lane of a process, and one search's turn in it.

A search that stands for much work (many patterns, a fuzzy word matched against the whole
vocabulary, every record with a word in a field, hundreds of index terms, a pasted text,
`full=1`) runs one at a time per process: the searching holds the interpreter's lock, so
eight heavy searches side by side leave a light one an eighth of a core, where one leaves
it half. A search's turn, once taken, is held until the search ends (its page of hits,
their highlights and its distinctive words are heavy work of the same search), and its
time budget starts when it gets the turn.
"""

from __future__ import annotations

import threading


class Turn:
    """One search's turn in `lane` (a semaphore; None: a search that never waits, such as
    an export's, which runs on a snapshot of its own): taken at most once, however many of
    its phases ask, and let go by `close` when the search ends."""

    def __init__(self, lane: threading.Semaphore | None = None):
        self.lane = lane
        self.held = False

    def take(self) -> bool:
        """Wait for the lane, if not holding it yet; whether this call waited for it (the
        search's budget then starts anew)."""
        if self.held or self.lane is None:
            return False
        self.lane.acquire()
        self.held = True
        return True

    def close(self) -> None:
        if self.held:
            self.held = False
            self.lane.release()

    def __enter__(self) -> "Turn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
