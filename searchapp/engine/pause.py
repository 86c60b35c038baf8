"""Letting other work run in the middle of a long piece of work: the one hook by which a
heavy search gives way to the light searches beside it, without the engine knowing of either.

The searching holds the interpreter's lock, which threads share by turns of a millisecond:
a light search beside a heavy one runs at half speed. The search package sets `give_way`
for a heavy search's thread; the engine calls `pause()` where it looks at the clock (between
two words scored, two patterns expanded), and moves its deadline on by the seconds paused.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

_HOOK = threading.local()


@contextmanager
def pausing(give_way: Callable[[], float]) -> Iterator[None]:
    """While in this block, this thread's `pause()` calls `give_way()`."""
    _HOOK.give_way = give_way
    try:
        yield
    finally:
        _HOOK.give_way = None


def pause() -> float:
    """Let other work run if this thread's work should (`pausing`): the seconds it waited."""
    give_way = getattr(_HOOK, "give_way", None)
    return give_way() if give_way is not None else 0.0
