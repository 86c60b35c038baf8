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

from ...engine.expand import BoundedPrefix, is_expanding, pattern_plugin
from ...engine.ranking import FIELD_WEIGHTS
from ...engine.syntax import fuzzy_plugin, word_plugin
from ...reader import WORDS_AS_WRITTEN, analysis
from ..request import MATCHES

# The word being typed is also matched as a prefix: in titles, excerpts and bodies, by its
# most frequent completions. `**` marks it for the parser (to a user it means the same as `*`).
TYPED_PREFIX_FIELDS = ("title", "excerpt", "body")
TYPED_PREFIX_TERMS = 10
SHORT_PREFIX_TERMS = 3
TYPED_PREFIX_MIN = 2  # characters: a single letter is too little to complete
TYPED_MARK = "**"
# Where `=word` looks for the word as written: the title and excerpt's unstemmed copy, and the
# fields that are never stemmed.
EXACT_FIELDS = ("written", "written_body", "source", "topic")


def query_schema() -> fields.Schema:
    """The fields a user may name, analysed as the index analyses them (see analysis.py)."""
    stemmed, folded = analysis.query_stemmed(), analysis.query_folded()
    return fields.Schema(
        written=fields.TEXT(analyzer=analysis.query_folded(), multitoken_query="phrase"),
        written_body=fields.TEXT(analyzer=analysis.query_folded(), multitoken_query="phrase"),
        title=fields.TEXT(analyzer=stemmed, phrase=True, multitoken_query="phrase"),
        excerpt=fields.TEXT(analyzer=stemmed, phrase=True, multitoken_query="phrase"),
        body=fields.TEXT(analyzer=stemmed, phrase=True, multitoken_query="phrase"),
        source=fields.TEXT(analyzer=folded, phrase=True, multitoken_query="phrase"),
        topic=fields.TEXT(analyzer=folded, phrase=True, multitoken_query="phrase"),
        category=fields.KEYWORD(lowercase=True, commas=True),
        type=fields.KEYWORD(lowercase=True, commas=True),
        kind=fields.ID(),
    )


def _prefix_query(fieldname: str, text: str, boost: float, typed: bool) -> wq.Query:
    """A prefix, folded and lower-cased but never stemmed; the typed word only where it is
    completed, and only by its most frequent completions."""
    if typed and fieldname not in TYPED_PREFIX_FIELDS:
        return wq.NullQuery
    # (`=bann*`: a prefix is matched as written anyway)
    q = BoundedPrefix(fieldname, analysis.fold_pattern(text.lstrip("=")), boost=boost)
    if typed:  # two letters stand for many words: the few most common will do until a third
        q.best = TYPED_PREFIX_TERMS if len(text) > TYPED_PREFIX_MIN else SHORT_PREFIX_TERMS
    return q


_FIELD_ALIASES = {"source": ["provider", "sources", "site", "domain"], "topic": ["topics"]}
_LAST_WORD = re.compile(r"(^|[\s(])([^\W_][\w'’.&-]*)$")
_JOINT = re.compile(r"[-'’]")  # what splits a word in two (`e-mail`, `o'brien`)
_WORD = re.compile(r"[^\W_]+(?:['’.&][^\W_]+)*")


@dataclass
class ParsedQuery:
    query: wq.Query | None  # None: match every record
    notice: str | None = None
    cut_short: bool = False  # the search's time budget ran out while expanding it
    like: bool = False  # searched as "records like this text" (its telling words, any of them)
    capped: bool = False  # a pattern stood for more index words than a search may take
    # The half-typed last word also searched for its completions (only while typing), so
    # the page can say what its count counts.
    completing: str | None = None


# `-word` excludes and `+word` requires, but only at the start of a word: `e-mail` and
# `well-known` are words (searched as the phrases they index as), not `e NOT mail`.
_AT_WORD_START = r"(?<![^\s(])"


def _exact_query(text: str, boost: float, parser) -> wq.Query:
    """`=banned`: records with the word exactly as written (not `ban` or `banning`), scored as
    the word itself is (BM25F over the stemmed fields), so it ranks like the rest of the query."""
    if _JOINT.search(text):  # `=e-mail`: the phrase its parts make is exact already
        return parser.parse(text)
    word, stem = analysis.fold_word(text), analysis.stem_word(text)
    if not word or not stem:  # a stop word
        return wq.NullQuery
    scored = [wq.Term(f, stem if f in analysis.STEMMED_FIELDS else word, boost=b)
              for f, b in FIELD_WEIGHTS.items() if stem or f not in analysis.STEMMED_FIELDS]
    exact = [wq.Term(f, word) for f in EXACT_FIELDS]
    return wq.Require(wq.Or(scored, boost=boost), wq.Or(exact))


_EXACT_WORD = _AT_WORD_START + r"=(?P<text>[^\W_][\w'’.&-]*)(?=[\s()]|$)"


def _parser(match: str, schema: fields.Schema) -> qparser.QueryParser:
    # (OrGroup.factory(0.9)'s coordination bonus is lost anyway: PlusMinusPlugin rebuilds
    # the top group as a plain OrGroup.)
    group = qparser.OrGroup if match == "any" else qparser.AndGroup
    parser = qparser.MultifieldParser(list(FIELD_WEIGHTS), schema, fieldboosts=FIELD_WEIGHTS,
                                      group=group)
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    # Whoosh's own WildcardPlugin goes first: left in, it tags `*a*` before ours can bound it.
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.add_plugin(pattern_plugin(_prefix_query, TYPED_MARK))
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    parser.add_plugin(qparser.PlusMinusPlugin(plusexpr=_AT_WORD_START + r"\+",
                                              minusexpr=_AT_WORD_START + "-"))
    parser.add_plugin(fuzzy_plugin(analysis.fold_word))
    parser.add_plugin(qparser.FieldAliasPlugin(_FIELD_ALIASES))
    parser.add_plugin(word_plugin(_EXACT_WORD, _exact_query, mark="="))
    return parser


def _make_parsers() -> dict[str, qparser.QueryParser]:
    schema = query_schema()
    return {m: _parser(m, schema) for m in MATCHES}


_parsers = analysis.per_thread(_make_parsers)


def parse_user_query(text: str, match: str = "all", typing: bool = False) -> ParsedQuery:
    """The Whoosh query for what the user wrote; never raises on odd syntax.

    A search means its words as written. Only a keystroke's search (`typing`) also matches
    the unfinished last word as a prefix of its most frequent completions, and says so
    (`completing`); a space after it, like Enter, finishes the word."""
    typing = typing and bool(text) and not text[-1].isspace()  # a space ends the last word
    text = text.strip() if text else ""
    if not text or text in _EVERYTHING:
        return ParsedQuery(None)
    text, rewritten = _plain_reading(text)
    if match == "any":
        text, common = _without_common_words(text, typing)
        rewritten = " ".join(filter(None, (rewritten, common)))
    source = _with_prefix_for_last_word(text) if typing else text
    completing = _completed_word(text) if source != text else None
    notice = rewritten or _syntax_problem(text)
    try:
        q = _parsers()[match].parse(source)
    except Exception:  # the parser's own bugs on odd input: fall back to the words
        q, notice = None, "Your query could not be read as search syntax; searched for its words."
    if q is None or _has_error(q):
        q = _words_query(text, match)
        notice = notice or "Part of your query could not be read as search syntax; searched for its words."
        completing = None
    q, tamed = _tame(q.accept(_as_written).normalize())
    notice = " ".join(filter(None, (notice, tamed))) or None
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return ParsedQuery(wq.NullQuery, notice or "Only very common words: nothing to search for.")
    return ParsedQuery(q, notice, completing=completing)


_AS_WRITTEN = frozenset(WORDS_AS_WRITTEN.values())  # `written`: the words as written
_PLAIN_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def _without_common_words(text: str, typing: bool) -> tuple[str, str | None]:
    """An any-word search of plain words without its very common ones (`what is information
    science` searches information OR science), as bm25s and Lucene's English analyser do:
    otherwise every record saying "what" is a match, and ranks on it. Kept when every word
    is common, or the query has any syntax (a phrase, a field, an operator); the word being
    typed is kept too. The notice names the words left out."""
    words = text.split()
    if len(words) < 2 or not all(_PLAIN_WORD.fullmatch(w) for w in words) \
            or any(w in ("AND", "OR", "NOT") for w in words):
        return text, None
    last = len(words) - 1 if typing else -1
    common = [n for n, w in enumerate(words) if n != last and analysis.fold_word(w) in analysis.NOISE]
    if not common or len(common) == len(words):
        return text, None
    left = [w for n, w in enumerate(words) if n not in common]
    said = ", ".join(dict.fromkeys(words[n].lower() for n in common))
    return " ".join(left), f"Very common words are not searched for in an any-word search: {said}."


def _as_written(node: wq.Query) -> wq.Query:
    """The title and excerpt's words as written (`written`) add the form typed to a bare word's
    score (ranking.FIELD_WEIGHTS); phrases and patterns are looked for in the title and
    excerpt alone, as before: `written` keeps no positions, and a pattern there is already
    matched against the words as written (expansion.py)."""
    if getattr(node, "fieldname", None) in _AS_WRITTEN and (
            isinstance(node, wq.Phrase) or is_expanding(node)):
        return wq.NullQuery
    return node


def _completed_word(text: str) -> str | None:
    """The last word `_with_prefix_for_last_word` completes (None for a single letter, which
    only ranks)."""
    m = _LAST_WORD.search(text)
    if not m:
        return None
    word = m.group(2)
    return word if len(word) >= TYPED_PREFIX_MIN or m.start(2) == 0 else None


FIELDS = ("title", "excerpt", "body", "source", "topic", "category", "type", "kind")
_KNOWN_FIELDS = set(FIELDS) | {a for names in _FIELD_ALIASES.values() for a in names}
_FIELD_PREFIX = re.compile(r"(?<![\w:/.])([^\W\d_]\w*):(?=[^\s:/])")
_NEGATIONS_ONLY = re.compile(r"\s*-[^\s\-\"()]\S*(?:\s+-[^\s\-\"()]\S*)*\s*")


def _plain_reading(text: str) -> tuple[str, str | None]:
    """What people type that the parser would misread, said as they meant it: a lone `-word`
    is everything without it (as `NOT word` is); a field that does not exist is searched as
    words, with a notice naming the fields there are; a field name in capitals is the field."""
    if _NEGATIONS_ONLY.fullmatch(text):
        return re.sub(r"(^|\s)-(?=\S)", r"\1NOT ", text), None
    unknown: list[str] = []

    def field(m: re.Match) -> str:
        name = m.group(1)
        if name.lower() in _KNOWN_FIELDS:
            return f"{name.lower()}:"
        unknown.append(name)
        return f"{name} "

    parts = text.split('"')
    parts[::2] = [_FIELD_PREFIX.sub(field, part) for part in parts[::2]]  # not inside phrases
    text = '"'.join(parts)
    if not unknown:
        return text, None
    if {n.lower() for n in unknown} <= {"year", "date"}:
        return text, ("year: takes a year (1987), date: a day, month or year, or two of them "
                      "(1987-03..1987-06); searched as words.")
    names = ", ".join(f"{n}:" for n in dict.fromkeys(unknown))
    return text, (f"There is no field {names} searched as words. Fields: "
                  f"{', '.join(f + ':' for f in FIELDS)}; year: and date: "
                  "(1987, 1987-03 or 1987-03..1987-06) narrow the dates.")


MAX_FUZZY_DISTANCE = 2  # `word~9` would match most of the vocabulary, and take seconds
MAX_BOOST = 100.0


def _tame(q: wq.Query) -> tuple[wq.Query, str | None]:
    """Bound what a user can ask of the engine through syntax: edit distances, prefix
    lengths of fuzzy terms (longer than the word crashes Whoosh), and boosts (`x^1e400`);
    with a notice naming the fuzzy words asked for more edits than a search takes."""
    stack = [q]
    farther: dict[str, int] = {}  # word as written -> the edits asked
    while stack:
        node = stack.pop()
        if hasattr(node, "boost") and not 0 <= node.boost <= MAX_BOOST:
            node.boost = MAX_BOOST if node.boost > MAX_BOOST else 1.0
        if isinstance(node, wq.FuzzyTerm):
            if node.maxdist > MAX_FUZZY_DISTANCE:
                word = getattr(node, "written", None) or node.text
                farther[word] = max(farther.get(word, 0), int(node.maxdist))
            node.maxdist = min(node.maxdist, MAX_FUZZY_DISTANCE)
            node.prefixlength = min(node.prefixlength, max(len(node.text) - 1, 0))
        stack.extend(reversed(list(node.children())))  # the words in the order written
    if not farther:
        return q, None
    asked = ", ".join(f"{word}~{edits}" for word, edits in farther.items())
    done = ", ".join(f"{word}~{MAX_FUZZY_DISTANCE}" for word in farther)
    return q, (f"{asked} {'was' if len(farther) == 1 else 'were'} searched as {done}: a fuzzy "
               f"word is matched within {MAX_FUZZY_DISTANCE} edits at most (more would match "
               "most words of the index).")


def _with_prefix_for_last_word(text: str) -> str:
    """`facial recog` searches `facial (recog OR recog*)`: results keep up as the user types."""
    if text.count('"') % 2:
        return text
    m = _LAST_WORD.search(text)
    if not m or m.group(2).upper() in _OPERATORS:
        return text
    word = m.group(2)
    joint = max(word.rfind(c) for c in "-'’")
    if joint > 0:  # `e-mai`, `o'bri`: the index holds the parts, so complete the last one
        cut = m.start(2) + joint
        return _with_prefix_for_last_word(f"{text[:cut]} {text[cut + 1:]}")
    if len(word) < TYPED_PREFIX_MIN:
        if m.start(2) == 0 and word.isalnum():  # `a` alone: its few commonest completions
            return f"({word} OR {word}{TYPED_MARK})"
        return _optional_last_word(text, m.start(2), word)
    if word.lower() in analysis.STOP_WORDS and m.start(2) > 0:
        return text  # `ban on` is two words, not `ban` and something starting with `on`
    return f"{text[:m.start(2)]}({word} OR {word}{TYPED_MARK})"


def typed_last_word(text: str) -> tuple[str, str] | None:
    """(the words before it, the word being typed) when the last word is completed as typed
    after others (`facial rec`); None otherwise."""
    if not text or text[-1].isspace() or text.count('"') % 2:
        return None
    m = _LAST_WORD.search(text)
    if not m or m.start(2) == 0 or not text[m.start(2) - 1].isspace():
        return None
    word, rest = m.group(2), text[:m.start(2)].rstrip()
    if word.upper() in _OPERATORS or len(word) < TYPED_PREFIX_MIN or not word.isalnum() \
            or word.lower() in analysis.STOP_WORDS or not rest or rest[-1] in "(:-+" \
            or rest.split()[-1].upper() in _OPERATORS or rest.count("(") != rest.count(")"):
        return None
    return rest, word


_OPERATORS = ("AND", "OR", "NOT", "ANDMAYBE", "ANDNOT")
_EVERYTHING = {"*", "**", "*:*", "?*", "*?"}  # browsing, not a wildcard over every word


def _optional_last_word(text: str, start: int, word: str) -> str:
    """`facial r`: a letter too short to complete ranks what `facial` finds and takes nothing
    away, even where it is a word of the index (`vitamin d` ranks the records with `d`
    first): `o` and `e` are words too (`O'Brien`, `e-mail`), and required they emptied
    `opec o` on its way to `opec oil`. Two letters (`uk`) are searched as typed."""
    rest = text[:start].rstrip()
    if not rest or not text[start - 1].isspace() or rest[-1] in "(:-+" \
            or rest.split()[-1].upper() in _OPERATORS or rest.count("(") != rest.count(")"):
        return text
    return f"({rest}) ANDMAYBE {word}"


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
    parser = qparser.MultifieldParser(list(FIELD_WEIGHTS), query_schema(),
                                      fieldboosts=FIELD_WEIGHTS, group=qparser.OrGroup if match == "any" else qparser.AndGroup)
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    for plugin in (qparser.FieldsPlugin, qparser.WildcardPlugin, qparser.PhrasePlugin,
                   qparser.GroupPlugin, qparser.OperatorsPlugin, qparser.BoostPlugin,
                   qparser.RangePlugin, qparser.EveryPlugin):
        parser.remove_plugin_class(plugin)
    return parser.parse(words) if words else wq.NullQuery


LONG_TEXT_WORDS = 25  # more words than this, without AND/OR/NOT: a pasted text
_OPERATOR_WORD = re.compile(r"(?<!\S)(?:AND|OR|NOT|ANDNOT|ANDMAYBE)(?!\S)")


def is_pasted_text(text: str) -> bool:
    """A paragraph pasted to find coverage like it, rather than a query written to match:
    always searched as "records like this text"."""
    return len(_WORD.findall(text or "")) > LONG_TEXT_WORDS and not _OPERATOR_WORD.search(text)


PASSAGE_WORDS = 12  # more words than this, or two sentences: maybe a pasted passage
_SENTENCE_END = re.compile(r"\w[.!?][\"'”’)]*\s+[\"'“‘(]*[A-Z0-9]")


def is_passage(text: str) -> bool:
    """Text that may be a pasted passage (two sentences or more, or more than PASSAGE_WORDS
    words, without AND/OR/NOT): when no record has every word of it, it is searched as
    "records like this text" instead."""
    words = len(_WORD.findall(text or ""))
    return words >= 4 and not _OPERATOR_WORD.search(text) and (
        words > PASSAGE_WORDS or bool(_SENTENCE_END.search(text.strip())))


def query_words(text: str) -> list[str]:
    """The plain words of a query string, for spelling suggestions."""
    return _WORD.findall(text or "")

