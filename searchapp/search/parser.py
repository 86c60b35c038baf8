"""The user's text as a Whoosh query: a lenient query language that never raises.

Words (all must match, or any with match=any), "phrases", OR, NOT and -word, field:value,
prefix*, fuzzy~. Text that is not valid syntax is still searched, for its words, with a
notice saying so. The word being typed is also matched as a prefix of its most frequent
completions, so results keep up with every keystroke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import fields, qparser, query as wq

from ..engine.expand import BoundedPrefix, pattern_plugin
from ..engine.ranking import FIELD_WEIGHTS
from ..index import analysis
from .request import MATCHES

# The word being typed is also matched as a prefix: in titles and excerpts, by its most
# frequent completions. `**` marks it for the parser (to a user it means the same as `*`).
TYPED_PREFIX_FIELDS = ("title", "excerpt")
TYPED_PREFIX_TERMS = 10
TYPED_PREFIX_MIN = 3  # characters: `fo` would expand to half the vocabulary
TYPED_MARK = "**"


def _query_schema() -> fields.Schema:
    """The fields a user may name, analysed as the index analyses them (see analysis.py)."""
    stemmed, folded = analysis.query_stemmed(), analysis.query_folded()
    return fields.Schema(
        title=fields.TEXT(analyzer=stemmed, phrase=True),
        excerpt=fields.TEXT(analyzer=stemmed, phrase=True),
        source=fields.TEXT(analyzer=folded, phrase=True),
        topic=fields.TEXT(analyzer=folded, phrase=True),
        category=fields.KEYWORD(lowercase=True, commas=True),
        type=fields.KEYWORD(lowercase=True, commas=True),
        kind=fields.ID(),
    )


def _prefix_query(fieldname: str, text: str, boost: float, typed: bool) -> wq.Query:
    """A prefix, folded and lower-cased but never stemmed; the typed word only where it is
    completed, and only by its most frequent completions."""
    if typed and fieldname not in TYPED_PREFIX_FIELDS:
        return wq.NullQuery
    q = BoundedPrefix(fieldname, analysis.fold_pattern(text), boost=boost)
    if typed:
        q.best = TYPED_PREFIX_TERMS
    return q


_SCHEMA = _query_schema()
_FIELD_ALIASES = {"source": ["provider", "sources", "site", "domain"], "topic": ["topics"]}
_LAST_WORD = re.compile(r"(^|[\s(])([^\W_][\w'’.-]*)$")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass
class ParsedQuery:
    query: wq.Query | None  # None: match every record
    notice: str | None = None


def _parser(match: str) -> qparser.QueryParser:
    # (OrGroup.factory(0.9)'s coordination bonus is lost anyway: PlusMinusPlugin rebuilds
    # the top group as a plain OrGroup.)
    group = qparser.OrGroup if match == "any" else qparser.AndGroup
    parser = qparser.MultifieldParser(list(FIELD_WEIGHTS), _SCHEMA, fieldboosts=FIELD_WEIGHTS,
                                      group=group)
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    # Whoosh's own WildcardPlugin goes first: left in, it tags `*a*` before ours can bound it.
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.add_plugin(pattern_plugin(_prefix_query, TYPED_MARK))
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    parser.add_plugin(qparser.PlusMinusPlugin())
    parser.add_plugin(qparser.FuzzyTermPlugin())
    parser.add_plugin(qparser.FieldAliasPlugin(_FIELD_ALIASES))
    return parser


_PARSERS = {m: _parser(m) for m in MATCHES}


def parse_user_query(text: str, match: str = "all", typing: bool = True) -> ParsedQuery:
    """The Whoosh query for what the user typed; never raises on odd syntax."""
    typing = typing and bool(text) and not text[-1].isspace()  # a space ends the last word
    text = text.strip() if text else ""
    if not text:
        return ParsedQuery(None)
    source = _with_prefix_for_last_word(text) if typing else text
    notice = _syntax_problem(text)
    try:
        q = _PARSERS[match].parse(source)
    except Exception:  # the parser's own bugs on odd input: fall back to the words
        q, notice = None, "Your query could not be read as search syntax; searched for its words."
    if q is None or _has_error(q):
        q = _words_query(text, match)
        notice = notice or "Part of your query could not be read as search syntax; searched for its words."
    q = _tame(q.normalize())
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return ParsedQuery(wq.NullQuery, notice or "Only very common words: nothing to search for.")
    return ParsedQuery(q, notice)


MAX_FUZZY_DISTANCE = 2  # `word~9` would take seconds per segment, for nothing useful
MAX_BOOST = 100.0


def _tame(q: wq.Query) -> wq.Query:
    """Bound what a user can ask of the engine through syntax: edit distances, prefix
    lengths of fuzzy terms (longer than the word crashes Whoosh), and boosts (`x^1e400`)."""
    stack = [q]
    while stack:
        node = stack.pop()
        if hasattr(node, "boost") and not 0 <= node.boost <= MAX_BOOST:
            node.boost = MAX_BOOST if node.boost > MAX_BOOST else 1.0
        if isinstance(node, wq.FuzzyTerm):
            node.maxdist = min(node.maxdist, MAX_FUZZY_DISTANCE)
            node.prefixlength = min(node.prefixlength, max(len(node.text) - 1, 0))
        stack.extend(node.children())
    return q


def _with_prefix_for_last_word(text: str) -> str:
    """`facial recog` searches `facial (recog OR recog*)`: results keep up as the user types."""
    if text.count('"') % 2:
        return text
    m = _LAST_WORD.search(text)
    if not m or len(m.group(2)) < TYPED_PREFIX_MIN or m.group(2).upper() in ("AND", "OR", "NOT"):
        return text
    word = m.group(2)
    if word.lower() in analysis.STOP_WORDS:
        return text  # `ban on` is two words, not `ban` and something starting with `on`
    return f"{text[:m.start(2)]}({word} OR {word}{TYPED_MARK})"


def _syntax_problem(text: str) -> str | None:
    if text.count('"') % 2:
        return 'A quotation mark is not closed: the phrase runs to the end of the query.'
    if text.count("(") != text.count(")"):
        return "Brackets do not pair up; searched as if they did."
    return None


def _has_error(q: wq.Query) -> bool:
    return any(getattr(node, "error", None) for node in q.all_tokens()) if hasattr(q, "all_tokens") \
        else False


def _words_query(text: str, match: str) -> wq.Query:
    """Just the words of `text`, as plain terms (the fallback for unreadable syntax)."""
    words = " ".join(_WORD.findall(text))
    parser = qparser.MultifieldParser(list(FIELD_WEIGHTS), _SCHEMA, fieldboosts=FIELD_WEIGHTS,
                                      group=qparser.OrGroup if match == "any" else qparser.AndGroup)
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    for plugin in (qparser.FieldsPlugin, qparser.WildcardPlugin, qparser.PhrasePlugin,
                   qparser.GroupPlugin, qparser.OperatorsPlugin, qparser.BoostPlugin,
                   qparser.RangePlugin, qparser.EveryPlugin):
        parser.remove_plugin_class(plugin)
    return parser.parse(words) if words else wq.NullQuery


def query_words(text: str) -> list[str]:
    """The plain words of a query string, for spelling suggestions."""
    return _WORD.findall(text or "")

