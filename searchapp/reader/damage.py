"""Telling a damaged index from a failing search: the quick check of each generation when it
is first opened, every file against its checksum in the background, and again whenever a
read fails (index/integrity.py does the checking).

A file found sound once may be damaged later, while it is served: so a failure reads again
every file written since it was found sound, and any found sound more than RECHECK_S ago
(a disk can rot a file without a write); the failures of one bad file, or of one bug, read
each file at most once a minute between them. A segment file that shrank under a read
(engine/zerocopy.py's `Shrunk`) is damage whatever the checksums say.

Damage, once found, is remembered for its generation: every later search of it says so at
once, until a reindex or a repair moves CURRENT on. A lost spelling index is remembered
apart (`spelling`): it costs corrections, not searches (reader/generation.py).
"""

from __future__ import annotations

import threading

from ..engine.zerocopy import Shrunk
from ..index import integrity, spelling
from ..index.store import IndexDamaged, Live

RECHECK_S = 60.0


class Damage:
    """What is known about the damage of the generations one process opened."""

    def __init__(self) -> None:
        self._checked: Live | None = None  # the generation whose files were checked on opening
        self._verified = integrity.Verified()  # files found sound, as they were then
        self._found: tuple[Live, str] | None = None  # (live, message) once damage is found
        self._spelling: tuple[Live, str] | None = None  # (live, what is wrong) of its speller
        self._diagnosing = threading.Lock()  # failures at once wait for one check

    def refuse(self, live: Live) -> None:
        """The quick check of a generation's files, once per generation; and the damage the
        background check found."""
        if self._found is not None and self._found[0] == live:
            raise IndexDamaged(self._found[1])
        if live != self._checked:
            found = integrity.damage(live)
            if found:
                self._found = (live, found)
                raise IndexDamaged(found)
            self._checked = live
            threading.Thread(target=self._verify, args=(live,), daemon=True,
                             name="searchapp-verify").start()

    def diagnose(self, live: Live, exc: BaseException) -> None:
        """Raise IndexDamaged if a failure came from a damaged file of `live`; otherwise
        return, and the failure is what it was."""
        with self._diagnosing:
            if self._found is not None and self._found[0] == live:
                raise IndexDamaged(self._found[1]) from exc
            found = integrity.damage(live, checksums=True, verified=self._verified,
                                     fresh_s=RECHECK_S)
            if not found and _shrunk(exc) is not None:  # a file of no recorded size
                found = f"the index is damaged: {_shrunk(exc)}; {integrity.REPAIR}"
            if found:
                self._found = (live, found)
                raise IndexDamaged(found) from exc

    def spelling(self, live: Live) -> str | None:
        """What the background check found wrong with the spelling index of `live`."""
        found = self._spelling
        return found[1] if found is not None and found[0] == live else None

    def _verify(self, live: Live) -> None:
        """Every file of a newly opened generation against its checksum, in the background
        (flipped bytes would otherwise give wrong answers, not errors). Files found sound
        are not read again for later generations unless written since."""
        try:
            found = integrity.damage(live, checksums=True, verified=self._verified)
            lost = spelling.lost(live.build, checksums=True, verified=self._verified)
        except Exception:  # the build went away meanwhile: the next open checks again
            return
        if found:
            self._found = (live, found)
        if lost:
            self._spelling = (live, lost)


def _shrunk(exc: BaseException | None) -> Shrunk | None:
    """The `Shrunk` a failure comes from, if it does (Whoosh may wrap it in its own)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, Shrunk):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
