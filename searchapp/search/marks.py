"""What researchers marked, as filters and facets of a search: `collection:` and `tag:` in
the query (and `collection=`, `tag=` in the URL), counted beside the index's own facets.

The marks come from the workspace (workspace/store.py) as id keys per collection and tag;
here they become document numbers of one generation (ids are stable, document numbers are
not), cached per generation and workspace version, so a search pays only for a mask.
`-name` excludes, `*` is any, and `-*` none (`-tag:*`: what is not tagged yet).
"""

from __future__ import annotations

import re
import threading
import weakref
from typing import Protocol

import numpy as np

from ..reader import Columns
from ..workspace import MARK_KINDS, MarkState

__all__ = ["ANY", "MARK_KINDS", "NONE_OF", "Marks", "counted", "mask", "marks_in_query"]

ANY, NONE_OF = "*", "-*"
_WORD = re.compile(r'(?<!\S)(-?)(collection|tag):(?:"([^"]+)"|(\S+))', re.IGNORECASE)


class Marks(Protocol):
    """Where the marks come from (the workspace)."""

    def marks(self) -> MarkState: ...


def marks_in_query(q: str) -> tuple[str, dict[str, list[str]]]:
    """`collection:name`, `collection:"two words"`, `tag:name`, `-tag:name`, `tag:*` and
    `-tag:*` taken out of the query text, as filter values."""
    found: dict[str, list[str]] = {}
    for m in _WORD.finditer(q):
        value = (m.group(3) or m.group(4)).strip()
        kind = m.group(2).lower()
        if kind == "tag" and value != ANY:
            value = value.lower()
        value = m.group(1) + value
        if value not in found.setdefault(kind, []):
            found[kind].append(value)
    if not found:
        return q, found
    rest = re.sub(r"\s{2,}", " ", _WORD.sub(" ", q)).strip()
    return rest, found


class _Docs:
    """Each mark's documents in one generation's columns, at one workspace version."""

    def __init__(self, cols: Columns, state: MarkState):
        self.size, self.version = len(cols.idkeys), state.version
        keys = cols.idkeys[cols.all_docs]
        order = np.argsort(keys, kind="stable")
        self._keys, self._docs = keys[order], cols.all_docs[order]
        self.of = {kind: {name: self._find(k) for name, k in names.items()}
                   for kind, names in state.keys.items()}
        self.any = {kind: self._find(k) for kind, k in state.any.items()}

    def _find(self, keys: np.ndarray) -> np.ndarray:
        if not len(keys) or not len(self._keys):
            return np.zeros(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return np.sort(self._docs[at[self._keys[at] == keys]])

    def flags(self, docs: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, dtype=bool)
        out[docs] = True
        return out


# Per generation's columns (let go of with them: a weak key), at one workspace version.
_CACHE: "weakref.WeakKeyDictionary[Columns, _Docs]" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _docs(cols: Columns, state: MarkState) -> _Docs:
    with _CACHE_LOCK:
        found = _CACHE.get(cols)
    if found is not None and found.version == state.version and state.version >= 0:
        return found
    made = _Docs(cols, state)
    with _CACHE_LOCK:
        _CACHE[cols] = made
    return made


def _value_docs(docs: _Docs, kind: str, value: str) -> np.ndarray:
    name = value.lstrip("-") if value != NONE_OF else ANY
    if name == ANY:
        return docs.any.get(kind, np.zeros(0, dtype=np.int64))
    return docs.of.get(kind, {}).get(name, np.zeros(0, dtype=np.int64))


def mask(cols: Columns, state: MarkState, kind: str, base: np.ndarray,
         values: tuple[str, ...]) -> np.ndarray:
    """Which of `base` the selected `values` of `kind` keep: in any of the named ones, and
    in none of the excluded (`-name`, `-*`)."""
    docs = _docs(cols, state)
    wanted = [v for v in values if not v.startswith("-")]
    unwanted = [v for v in values if v.startswith("-")]
    keep = np.zeros(len(base), dtype=bool) if wanted else np.ones(len(base), dtype=bool)
    for v in wanted:
        keep |= docs.flags(_value_docs(docs, kind, v))[base]
    for v in unwanted:
        keep &= ~docs.flags(_value_docs(docs, kind, v))[base]
    return keep


def counted(cols: Columns, state: MarkState, kind: str, over: np.ndarray) -> dict[str, int]:
    """How many of `over` each collection (or tag) holds, those holding none left out; for
    tags, also how many are not tagged yet (`-*`)."""
    docs = _docs(cols, state)
    inside = docs.flags(over)
    found = {name: int(inside[d].sum()) for name, d in docs.of.get(kind, {}).items()}
    found = {n: c for n, c in found.items() if c}
    if kind == "tag" and docs.of.get(kind):
        found[NONE_OF] = int(len(over) - inside[docs.any[kind]].sum())
    return found
