"""The outlets' names as words, so that lists of telling words leave them out: a wire's name
("reuters" in "WASHINGTON (Reuters) -") is over-represented wherever its stories are, and
says nothing of what they are about.

They are the names an outlet goes by in one word: each domain of the `source` field by its
labels without the top-level ones (`bbc.co.uk` is `bbc`), and each provider's name when it
is one word (`Reuters`, `AP`). The words of a longer name are words of the language too
(Left Foot Forward, New York Times, Science): they stay.
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
        words = {name.lower() for name in snap.columns.cache.vocabs["provider"].values
                 if name.isalnum()}
        for word in snap.words(FIELD).sorted:
            if "." in word:  # a domain (a name of several words is several words here)
                words.update(word.split("."))
        found = frozenset(w for w in words if len(w) > 1 and w not in NOT_NAMES)
        if len(_KEPT) >= 8:  # generations long gone
            _KEPT.clear()
        _KEPT[key] = found
    return found
