"""Prefixes, wildcards and fuzzy terms, expanded into index terms within a bound.

Whoosh expands these inside its private `_btexts` and tags them in its query parser's
`WildcardPlugin`; both are overridden here, so this is where an upgrade of Whoosh that
changes them breaks. Nothing here knows our schema: the search package says which fields
a typed word is completed in and how a prefix is folded.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import re
from typing import Callable

from whoosh import qparser, query as wq


class Expanding:
    """A query that expands to index terms, at most `limit` of them (a setting caps it per search).

    With `best`, only that many of the expansions are kept, the ones in the most records:
    what a half-typed word most likely becomes, and a query that stays fast to run.
    """

    # `expansions()` sets the configured cap (the `max_wildcard_terms` setting) before a
    # search runs; this bound only holds a query Whoosh would run unexpanded.
    limit = 4096
    best: int | None = None

    def _btexts(self, ixreader):
        found = itertools.islice(super()._btexts(ixreader), self.limit)
        if not self.best:
            return found
        found = list(found)
        if len(found) <= self.best:
            return found
        field = self.field()
        return heapq.nlargest(self.best, found, key=lambda t: ixreader.doc_frequency(field, t))


class BoundedPrefix(Expanding, wq.Prefix):
    pass


class BoundedWildcard(Expanding, wq.Wildcard):
    """A wildcard that reads at most `SCAN_PER_TERM * limit` index terms looking for matches:
    a pattern with no literal prefix (`*a*`) would otherwise read the whole vocabulary."""

    SCAN_PER_TERM = 50

    def _btexts(self, ixreader):
        if self.fieldname not in ixreader.schema:
            return iter(())
        pattern = re.compile(self._get_pattern())
        prefix = self._find_prefix(self.text)
        candidates = ixreader.expand_prefix(self.fieldname, prefix) if prefix \
            else ixreader.lexicon(self.fieldname)
        field = ixreader.schema[self.fieldname]
        scanned = itertools.islice(candidates, self.limit * self.SCAN_PER_TERM)
        return itertools.islice((b for b in scanned if pattern.match(field.from_bytes(b))),
                                self.limit)


def is_expanding(node: wq.Query) -> bool:
    """Whether `node` stands for several index terms (prefix, wildcard, fuzzy term)."""
    return isinstance(node, (Expanding, wq.FuzzyTerm))


def expansions(node: wq.Query, reader, limit: int, over: str | None = None) -> list[str]:
    """The index terms (as text) a prefix, wildcard or fuzzy term stands for, at most `limit`;
    with `over`, the terms of that other field it matches (a prefix or wildcard only)."""
    if over is not None and isinstance(node, Expanding):
        node = copy.copy(node)
        node.fieldname = over
    if isinstance(node, Expanding):
        node.limit = limit
    texts = itertools.islice(node._btexts(reader), limit)
    decode = reader.schema[node.field()].from_bytes if node.field() in reader.schema else None
    return [decode(t) if isinstance(t, bytes) and decode else t for t in texts]


# A function making the query of a prefix node: (field, text, boost, typed) -> query.
PrefixMaker = Callable[[str, str, float, bool], wq.Query]


class _PrefixNode(qparser.PrefixPlugin.PrefixNode):
    """A prefix the parser would otherwise stem (`fles*` to `fle*`)."""

    typed = False  # the word being typed, as opposed to a prefix* the user asked for
    make: PrefixMaker

    def query(self, parser):
        return self.make(self.fieldname or parser.fieldname, self.text, self.boost, self.typed)


class _WildcardNode(qparser.WildcardPlugin.WildcardNode):
    qclass = BoundedWildcard


def pattern_plugin(make_prefix: PrefixMaker, typed_mark: str) -> qparser.WildcardPlugin:
    """A WildcardPlugin whose wildcards are bounded and whose prefixes are made by
    `make_prefix`; a word ending in `typed_mark` is the word being typed."""

    class PrefixNode(_PrefixNode):
        make = staticmethod(make_prefix)

    class Plugin(qparser.WildcardPlugin):
        nodetype = _WildcardNode

        def do_wildcards(self, parser, group):
            group = super().do_wildcards(parser, group)
            cut = len(typed_mark)
            for i, node in enumerate(group):
                typed = isinstance(node, self.WildcardNode) and node.text.endswith(typed_mark) \
                    and not any(c in node.text[:-cut] for c in "*?")
                if type(node) is qparser.PrefixPlugin.PrefixNode or typed:
                    new = PrefixNode(node.text[:-cut] if typed else node.text)
                    new.typed = typed
                    new.startchar, new.endchar = node.startchar, node.endchar
                    group[i] = new
            return group

    return Plugin()
