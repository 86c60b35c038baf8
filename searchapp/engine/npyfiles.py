"""NumPy's array files (.npy, .npz) opened one at a time per process.

NumPy reads each array's header with `ast.literal_eval`, and CPython 3.11 keeps the AST
builder's recursion depth per interpreter, not per thread (CPython gh-106905): two threads
reading headers at once fail with "SystemError: AST constructor recursion depth mismatch".
A search reading the stories file while the watcher's indexer read one failed so in CI. A
header is read in microseconds, so one lock around every open costs nothing measurable. A
child forked while another thread held it starts with a new one (that thread is not there
to let go).
"""

from __future__ import annotations

import os
import threading


class _Lock:
    """A lock made anew in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc) -> None:
        self._lock.release()


READING = _Lock()  # held while NumPy opens an array file and reads its headers
