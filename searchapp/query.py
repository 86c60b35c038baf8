"""What a search asks for: the request's parameters, and the user's text as a Whoosh query.

User text is parsed leniently: words (all must match, or any with match=any), "phrases",
OR, NOT and -word, field:value, prefix*, fuzzy~. Text that is not valid syntax is still
searched, for its words, with a notice saying so; nothing a user types raises.
"""

from __future__ import annotations

import heapq
import itertools
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping

from whoosh import fields, qparser, query as wq
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.support.charset import accent_map

from .schema import FACETS, STOP_WORDS
from .timeline import INTERVALS

SORTS = ("relevance", "newest", "oldest")
SCALES = ("count", "share")
MATCHES = ("all", "any")
# URL parameter of each facet filter; `source` is accepted as another name for provider.
FACET_PARAMS = {"topic": "topic", "provider": "provider", "category": "category",
                "type": "type", "kind": "kind", "year": "year"}
PARAM_ALIASES = {"source": "provider", "topics": "topic", "providers": "provider"}
# Weights of a word's count in each field (scoring.py adds them up before saturating): a word
# in the title counts three times; 3 ranked best of 1-3 on Cranfield and CISI
# (bench/relevance.py) and is the weight SQLite FTS5 is given in the same benchmark.
FIELD_BOOSTS = {"title": 3.0, "excerpt": 1.0, "source": 1.0, "topic": 1.5}
# The word being typed is also matched as a prefix: in titles and excerpts, by its most
# frequent completions. `**` marks it for the parser (to a user it means the same as `*`).
TYPED_PREFIX_FIELDS = ("title", "excerpt")
TYPED_PREFIX_TERMS = 10
TYPED_PREFIX_MIN = 3  # characters: `fo` would expand to half the vocabulary
TYPED_MARK = "**"


class BadRequest(ValueError):
    """A parameter a request cannot be answered with; the message says which and why."""


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    match: str = "all"
    page: int = 1
    per_page: int = 20
    typing: bool = True  # the last word is still being typed: also match it as a prefix
    interval: str = ""  # timeline periods: day, week, month, year; empty chooses from the span
    scale: str = "count"  # timeline shows counts, or share of all records in each period

    @classmethod
    def from_params(cls, params: Mapping[str, Iterable[str]], per_page: int = 20,
                    max_per_page: int = 100, max_page: int = 500,
                    max_query_length: int = 500) -> "SearchRequest":
        """Read a request from URL parameters (each a list of values), refusing bad ones clearly."""
        def one(name: str, default: str = "") -> str:
            values = [v for v in params.get(name, ()) if v is not None]
            return values[-1].strip() if values else default

        values = [v for v in params.get("q", ()) if v is not None]
        q = values[-1] if values and values[-1].strip() else ""  # a trailing space ends a word
        if len(q) > max_query_length:
            raise BadRequest(f"q is {len(q)} characters long; the limit is {max_query_length}")
        filters: dict[str, list[str]] = {}
        for name, values in params.items():
            facet = FACET_PARAMS.get(PARAM_ALIASES.get(name, name))
            if facet:
                for v in values:
                    if v and v.strip() and v.strip() not in filters.setdefault(facet, []):
                        filters[facet].append(v.strip())
        sort = one("sort", "relevance") or "relevance"
        if sort not in SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        match = one("match", "all") or "all"
        if match not in MATCHES:
            raise BadRequest(f"match must be all or any, not {match!r}")
        page = _int(one("page", "1") or "1", "page", 1, max_page)
        size = _int(one("per_page", str(per_page)) or str(per_page), "per_page", 1, max_per_page)
        interval = one("interval")
        if interval and interval not in INTERVALS:
            raise BadRequest(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
        scale = one("scale", "count") or "count"
        if scale not in SCALES:
            raise BadRequest(f"scale must be count or share, not {scale!r}")
        date_from = _date(one("from"), "from", end=False)
        date_to = _date(one("to"), "to", end=True)
        if date_from and date_to and date_from > date_to:
            raise BadRequest(f"from ({date_from}) is after to ({date_to})")
        return cls(q=q, filters={k: tuple(v) for k, v in filters.items() if v},
                   date_from=date_from, date_to=date_to, sort=sort, match=match, page=page,
                   per_page=size, typing=one("typing", "1") != "0", interval=interval,
                   scale=scale)

    def params(self, **changes) -> list[tuple[str, str]]:
        """This request as URL parameters (defaults left out), with `changes` applied."""
        req = replace(self, **changes) if changes else self
        out: list[tuple[str, str]] = []
        if req.q:
            out.append(("q", req.q))
        for facet in FACETS:
            out.extend((facet, v) for v in req.filters.get(facet, ()))
        if req.date_from:
            out.append(("from", req.date_from.isoformat()))
        if req.date_to:
            out.append(("to", req.date_to.isoformat()))
        if req.sort != "relevance":
            out.append(("sort", req.sort))
        if req.match != "all":
            out.append(("match", req.match))
        if req.interval:
            out.append(("interval", req.interval))
        if req.scale != "count":
            out.append(("scale", req.scale))
        if req.page != 1:
            out.append(("page", str(req.page)))
        return out

    def toggled(self, facet: str, value: str) -> "SearchRequest":
        """The same search with `value` of `facet` selected if it was not, unselected if it was."""
        current = self.filters.get(facet, ())
        values = tuple(v for v in current if v != value) if value in current else current + (value,)
        filters = {k: v for k, v in self.filters.items() if k != facet}
        if values:
            filters[facet] = values
        return replace(self, filters=filters, page=1)

    @property
    def has_filters(self) -> bool:
        return bool(self.filters or self.date_from or self.date_to)

    @property
    def effective_sort(self) -> str:
        """An empty query has no relevance: it browses newest first unless told otherwise."""
        return "newest" if not self.q.strip() and self.sort == "relevance" else self.sort

    def range_seconds(self) -> tuple[int | None, int | None]:
        low = _epoch(self.date_from) if self.date_from else None
        high = _epoch(self.date_to + timedelta(days=1)) - 1 if self.date_to else None
        return low, high


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {text!r}") from None
    if value < low:
        raise BadRequest(f"{name} must be at least {low}")
    if value > high:
        raise BadRequest(f"{name} must be at most {high}")
    return value


def _date(text: str, name: str, end: bool) -> date | None:
    """YYYY-MM-DD, or YYYY-MM / YYYY meaning the whole month or year."""
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}", text, re.ASCII):
            year = int(text)
            if not 1 <= year <= 9998:
                raise ValueError
            return date(year, 12, 31) if end else date(year, 1, 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", text, re.ASCII):
            year, month = map(int, text.split("-"))
            if not 1 <= year <= 9998:
                raise ValueError
            first = date(year, month, 1)
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        day = date.fromisoformat(text)
        if not 1 <= day.year <= 9998:
            raise ValueError
        return day
    except (ValueError, OverflowError):
        raise BadRequest(f"{name} must be a date like 2021-08-23 (or 2021-08, 2021), "
                         f"not {text!r}") from None


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=timezone.utc).timestamp())


# -- user text -> Whoosh query ---------------------------------------------------------------

class _StemUnlessWildcard(StemFilter):
    """Stems words but leaves prefix and wildcard patterns alone (`fles*` must not become `fle*`)."""

    def __call__(self, tokens):
        for t in tokens:
            if "*" in t.text or "?" in t.text:
                yield t
            else:
                t.text = self._stem(t.text)
                yield t


def _query_schema() -> fields.Schema:
    """The fields a user may name, analysed as the index analyses them, minus stemming of patterns."""
    stemmed = (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
               | StopFilter(stoplist=STOP_WORDS, minsize=1) | _StemUnlessWildcard(lang="en"))
    # Stop words go from every field a bare word is looked for in: a word no field keeps
    # drops out of the query, where one kept by some field would be required.
    folded = (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
              | StopFilter(stoplist=STOP_WORDS, minsize=1))
    return fields.Schema(
        title=fields.TEXT(analyzer=stemmed, phrase=True),
        excerpt=fields.TEXT(analyzer=stemmed, phrase=True),
        source=fields.TEXT(analyzer=folded, phrase=True),
        topic=fields.TEXT(analyzer=folded, phrase=True),
        category=fields.KEYWORD(lowercase=True, commas=True),
        type=fields.KEYWORD(lowercase=True, commas=True),
        kind=fields.ID(),
    )


class Expanding:
    """A query that expands to index terms, at most `limit` of them (a setting caps it per search).

    With `best`, only that many of the expansions are kept, the ones in the most records:
    what a half-typed word most likely becomes, and a query that stays fast to run.
    """

    limit = 512
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


class _PrefixNode(qparser.PrefixPlugin.PrefixNode):
    """A prefix the parser would otherwise stem (`fles*` to `fle*`); folded and lower-cased only."""

    typed = False  # the word being typed, as opposed to a prefix* the user asked for

    def query(self, parser):
        fieldname = self.fieldname or parser.fieldname
        if self.typed and fieldname not in TYPED_PREFIX_FIELDS:
            return wq.NullQuery
        text = "".join(t.text for t in _FOLD(self.text, tokenize=False, mode="query"))
        q = BoundedPrefix(fieldname, text, boost=self.boost)
        if self.typed:
            q.best = TYPED_PREFIX_TERMS
        return q


class _WildcardNode(qparser.WildcardPlugin.WildcardNode):
    qclass = BoundedWildcard


class _WildcardPlugin(qparser.WildcardPlugin):
    nodetype = _WildcardNode

    def do_wildcards(self, parser, group):
        group = super().do_wildcards(parser, group)
        for i, node in enumerate(group):
            typed = isinstance(node, self.WildcardNode) and node.text.endswith(TYPED_MARK) \
                and not any(c in node.text[:-2] for c in "*?")
            if type(node) is qparser.PrefixPlugin.PrefixNode or typed:
                new = _PrefixNode(node.text[:-2] if typed else node.text)
                new.typed = typed
                new.startchar, new.endchar = node.startchar, node.endchar
                group[i] = new
        return group


_FOLD = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
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
    parser = qparser.MultifieldParser(list(FIELD_BOOSTS), _SCHEMA, fieldboosts=FIELD_BOOSTS,
                                      group=group)
    parser.remove_plugin_class(qparser.SingleQuotePlugin)
    parser.replace_plugin(_WildcardPlugin())
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
    if word.lower() in STOP_WORDS:
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
    parser = qparser.MultifieldParser(list(FIELD_BOOSTS), _SCHEMA, fieldboosts=FIELD_BOOSTS,
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


# -- comparing queries ---------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)([1-4])$")
MAX_COMPARED = 4


def compare_requests(params: Mapping[str, Iterable[str]], **limits) -> list[SearchRequest]:
    """2 to 4 searches from `q=a&q=b` (or `q1=a&q2=b`); unnumbered filters apply to every
    query, numbered ones (`provider2=Sky`, `from1=2021-01`) to that query alone."""
    params = {k: [v for v in vs if v is not None] for k, vs in params.items()}
    numbered = sorted(int(k[1:]) for k in params if re.fullmatch(r"q[1-4]", k))
    if numbered:
        queries = [(n, (params[f"q{n}"] or [""])[-1]) for n in numbered]
    else:
        queries = list(enumerate(params.get("q", []), start=1))
    queries = [(n, q) for n, q in queries if q.strip()]
    if not 2 <= len(queries) <= MAX_COMPARED:
        raise BadRequest(f"compare needs 2 to {MAX_COMPARED} queries (q=...&q=...), "
                         f"got {len(queries)}")
    shared = {k: v for k, v in params.items() if not _NUMBERED.match(k) and k != "q"}
    out = []
    for n, q in queries:
        own: dict[str, list[str]] = {name: list(values) for name, values in shared.items()}
        for key, values in params.items():
            m = _NUMBERED.match(key)
            if m and m.group(2) == str(n) and m.group(1) not in ("q", ""):
                own[m.group(1)] = own.get(m.group(1), []) + list(values)
        own.update(q=[q], typing=["0"])
        out.append(SearchRequest.from_params(own, **limits))
    return out
