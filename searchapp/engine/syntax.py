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
