"""Words of the user's text that the query parser tags for us, and we make the queries of.

Whoosh's query parser turns what a plugin tags into a node of its syntax tree (the
internals of `whoosh.qparser.syntax`) and asks the node for its query. The node here asks
a function instead, so the search package says what a tagged word means without
subclassing Whoosh's nodes, and an upgrade of Whoosh that changes them breaks here.
"""

from __future__ import annotations

from typing import Callable

from whoosh import qparser, query as wq

# A function making the query of a tagged word: (text, boost, parser) -> query.
WordMaker = Callable[[str, float, qparser.QueryParser], wq.Query]


class _WordNode(qparser.syntax.SyntaxNode):
    """A tagged word: the parser reads its `text` (as of any word) and asks its query."""

    has_text = True
    mark = ""  # what it is written with, for the tree's repr (`=`)
    make: WordMaker

    def __init__(self, text: str):
        self.text = text
        self.boost = 1.0

    def r(self):
        return f"{self.mark}{self.text!r}"

    def query(self, parser):
        return self.make(self.text, self.boost, parser)


def word_plugin(expr: str, make: WordMaker, mark: str = "",
                priority: int = 0) -> qparser.TaggingPlugin:
    """A plugin tagging what `expr` matches (its group `text`: the word) at `priority`, each
    tagged word's query made by `make`."""

    class Node(_WordNode):
        pass

    Node.mark, Node.make = mark, staticmethod(make)

    class Plugin(qparser.TaggingPlugin):
        nodetype = Node

    Plugin.expr, Plugin.priority = expr, priority
    return Plugin()


def fuzzy_plugin(fold: Callable[[str], str]) -> qparser.FuzzyTermPlugin:
    """Whoosh's `word~`, `word~2`, `word~2/3`, whose fuzzy terms also keep the word as the
    user wrote it (`written`, put through `fold`): in a stemmed field the parser hands the
    term the stem (`recesion` -> `reces`), and edits of a stem find other words' stems
    (`gover~2`: cover, over, power), so the search package matches the word as written
    against the words as written instead."""

    class Node(qparser.FuzzyTermPlugin.FuzzyTermNode):
        def query(self, parser):
            q = super().query(parser)
            for leaf in (q.leaves() if q is not None and not q.is_leaf() else [q]):
                if isinstance(leaf, wq.FuzzyTerm):
                    leaf.written = fold(self.text)
            return q

    class Plugin(qparser.FuzzyTermPlugin):
        FuzzyTermNode = Node

    return Plugin()
