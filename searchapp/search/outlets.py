"""The outlets' names as words, so that lists of telling words leave them out: a wire's name
("reuters" in "WASHINGTON (Reuters) -") is over-represented wherever its stories are, and
says nothing of what they are about.

They are the words of the `source` field (each record's provider name and domain, as the
index holds them, so only outlets present in the index), a domain also by its labels
without the top-level ones (`bbc.co.uk` is `bbc`).
"""

from __future__ import annotations

from ..reader import Snapshot

FIELD = "source"
NOT_NAMES = frozenset({"com", "org", "net", "co", "uk", "gov", "edu", "www", "io", "news"})


_KEPT: dict[tuple[str, int], frozenset[str]] = {}  # (build, generation) -> its outlets' words


def outlet_words(snap: Snapshot) -> frozenset[str]:
    """Every word naming an outlet of the index (`news`, in many names, is kept a word)."""
    key = (str(snap.build), snap.generation)
    found = _KEPT.get(key)
    if found is None:
        words = set()
        for word in snap.words(FIELD).sorted:
            words.update(word.split("."))
        found = frozenset(w for w in words if len(w) > 1 and w not in NOT_NAMES)
        if len(_KEPT) >= 8:  # generations long gone
            _KEPT.clear()
        _KEPT[key] = found
    return found
