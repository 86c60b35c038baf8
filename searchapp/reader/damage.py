"""Telling a damaged index from a failing search: the quick check of each generation when it
is first opened, every file against its checksum in the background, and the full check when
a search fails inside Whoosh (index/integrity.py does the checking).

Damage, once found, is remembered for its generation: every later search of it says so at
once, until a reindex or a repair moves CURRENT on.
"""

from __future__ import annotations

import threading

from ..index import integrity
from ..index.store import IndexDamaged, Live


class Damage:
    """What is known about the damage of the generations one process opened."""

    def __init__(self) -> None:
        self._checked: Live | None = None  # the generation whose files were checked on opening
        self._verified: set = set()  # files whose checksums were found sound
        self._found: tuple[Live, str] | None = None  # (live, message) once damage is found

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
        """Raise IndexDamaged if a failure came from a damaged file of `live` (every file
        against its checksum); otherwise return, and the failure is what it was."""
        found = integrity.damage(live, checksums=True, verified=self._verified)
        if found:
            self._found = (live, found)
            raise IndexDamaged(found) from exc

    def _verify(self, live: Live) -> None:
        """Every file of a newly opened generation against its checksum, in the background
        (flipped bytes would otherwise give wrong answers, not errors). Files found sound
        are not read again for later generations."""
        try:
            found = integrity.damage(live, checksums=True, verified=self._verified)
        except Exception:  # the build went away meanwhile: the next open checks again
            return
        if found:
            self._found = (live, found)
