"""What a search asks for: URL parameters read into a `SearchRequest`, refused clearly when bad.

The same object comes from the web page, the API, the exports and `searchapp search`, and
turns back into the canonical URL parameters that pages link to and htmx pushes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Iterable, Mapping

from ..reader import FACETS
from ..settings import Settings
from .marks import MARK_KINDS, marks_in_query
from .dates import (BadRequest, conflict_of, dates_in_query, epoch, narrowed, parse_date,
                    unfinished_date_word)
from .timeline import INTERVALS

__all__ = ["BadRequest", "DEFAULT_LIMITS", "RequestLimits", "SearchRequest", "compare_requests"]

SORTS = ("relevance", "newest", "oldest")
SCALES = ("count", "share")
MATCHES = ("all", "any")
GROUPS = ("story", "records")  # one hit per story (copies folded under it), or every record
COUNTS = ("records", "stories")  # what the timeline and the top bars count
STORY_ID = re.compile(r"[0-9a-f]{16}\Z")
# URL parameter of each facet filter; `source` is accepted as another name for provider.
FACET_PARAMS = {"topic": "topic", "provider": "provider", "category": "category",
                "type": "type", "kind": "kind", "year": "year"}
PARAM_ALIASES = {"source": "provider", "topics": "topic", "providers": "provider"}
TRUE = ("1", "true", "yes", "on")  # a flag parameter that is set


@dataclass(frozen=True)
class RequestLimits:
    """What the settings bound a request's parameters by. Every reader of parameters (the
    page, the API, /compare, the batch, the downloads, the CLI) is handed these by whoever
    holds the settings, so they refuse and cut alike."""

    per_page: int  # results per page when the request does not say
    max_per_page: int
    max_page: int
    max_query_length: int  # longer text is cut, and the request says so
    max_facet_values: int  # most values of one facet a request may select
    # Where `collection:` and `tag:` are looked up (the workspace: search/marks.py's Marks),
    # or None where there is none (a read-only site): then they are refused, clearly.
    marks: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> "RequestLimits":
        """The limits `settings` configure."""
        return cls(per_page=settings.per_page, max_per_page=settings.max_per_page,
                   max_page=settings.max_page, max_query_length=settings.max_query_length,
                   max_facet_values=settings.max_facet_values)


DEFAULT_LIMITS = RequestLimits.of(Settings())  # a request made in code, not read from a URL


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    match: str = "all"
    page: int = 1
    per_page: int = DEFAULT_LIMITS.per_page
    # A keystroke's search (`typing=1`, which only the page's keystrokes send): the last word
    # may be unfinished, so it also matches its completions. Without it a search is finished
    # and means its words as written.
    typing: bool = False
    interval: str = ""  # timeline periods: day, week, month, year; empty chooses from the span
    scale: str = "count"  # timeline shows counts, or share of all records in each period
    shortened: int = 0  # the length of a query cut to `max_query_length`, or 0
    literal: bool = False  # search the words as typed, even if a correction finds far more
    span: str = ""  # "all": the timeline spans every match, not only where most of them are
    group: str = "story"  # the list shows one hit per story ("records": every record)
    count: str = "records"  # the timeline and top bars count records, or stories
    story: str = ""  # only the records of this story (its id)
    # `year:`/`date:` in the query narrow the dates (date_from and date_to are the span they
    # and From/To leave); the URL keeps the query as written and From/To as asked, so a
    # link opened fresh, or the box edited, reads them the same way again.
    written: str = ""  # the query as written, date words and all ("" when it has none)
    asked_from: date | None = None  # From and To as asked, before the query's dates narrowed them
    asked_to: date | None = None
    conflict: str = ""  # which filters contradict each other (then nothing can match)
    hint: str = ""  # a quiet word about the unfinished date word left out while typing
    # A pasted text may be searched as "records like this text" (`like=0`: every word, always).
    like: bool = True
    full: bool = False  # count everything: no time budget of a keystroke (in the heavy lane)
    marks: Any = field(default=None, compare=False, repr=False)  # RequestLimits.marks

    @classmethod
    def from_params(cls, params: Mapping[str, Iterable[str]],
                    limits: RequestLimits) -> "SearchRequest":
        """Read a request from URL parameters (each a list of values) under `limits`, refusing
        bad ones clearly."""
        per_page, max_per_page, max_page = limits.per_page, limits.max_per_page, limits.max_page
        max_query_length, max_facet_values = limits.max_query_length, limits.max_facet_values
        def one(name: str, default: str = "") -> str:
            values = [v for v in params.get(name, ()) if v is not None]
            return values[-1].strip() if values else default

        values = [v for v in params.get("q", ()) if v is not None]
        q = values[-1] if values and values[-1].strip() else ""  # a trailing space ends a word
        asked = len(q)
        if asked > max_query_length:  # a pasted article: its beginning is searched, and said so
            cut = q[:max_query_length]
            q = cut[:cut.rstrip().rfind(" ")] if " " in cut.strip() else cut
        shortened = asked if asked > max_query_length else 0
        filters: dict[str, list[str]] = {}
        for name, values in params.items():
            facet = FACET_PARAMS.get(PARAM_ALIASES.get(name, name))
            if facet:
                for v in values:
                    if v and v.strip() and v.strip() not in filters.setdefault(facet, []):
                        filters[facet].append(v.strip())
        for kind in MARK_KINDS:
            for v in params.get(kind, ()):
                v = " ".join((v or "").split())
                v = v.lower() if kind == "tag" and v != "*" else v
                if v and v not in filters.setdefault(kind, []):
                    filters[kind].append(v)
        q, marked = marks_in_query(q)
        for kind, values in marked.items():
            filters.setdefault(kind, []).extend(v for v in values if v not in filters[kind])
        if any(filters.get(kind) for kind in MARK_KINDS) and limits.marks is None:
            raise BadRequest("collection: and tag: search the workspace, which this site does "
                             "not keep (it is read-only)")
        for facet, values in filters.items():
            if len(values) > max_facet_values:
                raise BadRequest(f"at most {max_facet_values} values of {facet} can be selected "
                                 f"at once, not {len(values):,}")
        sort = _choice(one("sort"), "sort", SORTS)
        match = _choice(one("match"), "match", MATCHES)
        page = _int(one("page", "1") or "1", "page", 1, max_page)
        size = _int(one("per_page", str(per_page)) or str(per_page), "per_page", 1, max_per_page)
        interval = one("interval") and _choice(one("interval"), "interval", INTERVALS)
        scale = _choice(one("scale"), "scale", SCALES)
        group = _choice(one("group"), "group", GROUPS)
        count = _choice(one("count"), "count", COUNTS)
        story = one("story").lower()
        if story and not STORY_ID.match(story):
            raise BadRequest(f"story must be a story id (16 hex digits), not {story[:40]!r}")
        asked_from = parse_date(one("from"), "from", end=False)
        asked_to = parse_date(one("to"), "to", end=True)
        if asked_from and asked_to and asked_from > asked_to:
            raise BadRequest(f"from ({asked_from}) is after to ({asked_to})")
        typing = one("typing").lower() in TRUE
        written = q
        q, hint = unfinished_date_word(q) if typing else (q, "")
        q, span = dates_in_query(q)
        date_from, date_to = narrowed(asked_from, asked_to, span)
        conflict = conflict_of(asked_from, asked_to, span, filters.get("year", ()))
        return cls(q=q, filters={k: tuple(v) for k, v in filters.items() if v},
                   date_from=date_from, date_to=date_to, sort=sort, match=match, page=page,
                   per_page=size, typing=typing, interval=interval,
                   scale=scale, shortened=shortened, literal=one("literal", "0") not in ("", "0"),
                   span="all" if one("span") == "all" else "", group=group, count=count,
                   story=story, written=written if span or hint else "", asked_from=asked_from,
                   asked_to=asked_to, conflict=conflict, hint=hint,
                   like=one("like").lower() not in ("0", "false", "no", "off"),
                   full=one("full").lower() in TRUE, marks=limits.marks)

    def params(self, **changes) -> list[tuple[str, str]]:
        """This request as URL parameters (defaults left out), with `changes` applied.

        The query keeps its `year:`/`date:` words as written and From/To stay as asked, unless
        a change sets the query or the dates: then the span they leave is written out."""
        req = replace(self, **changes) if changes else self
        as_written = req.written_query() is not None and not \
            {"q", "date_from", "date_to"} & set(changes)
        q = req.written if as_written else req.q
        low, high = (req.asked_from, req.asked_to) if as_written else (req.date_from, req.date_to)
        out: list[tuple[str, str]] = []
        if q:
            out.append(("q", q))
        for facet in FACETS + MARK_KINDS:
            out.extend((facet, v) for v in req.filters.get(facet, ()))
        if low:
            out.append(("from", low.isoformat()))
        if high:
            out.append(("to", high.isoformat()))
        if req.sort != "relevance":
            out.append(("sort", req.sort))
        if req.match != "all":
            out.append(("match", req.match))
        if req.interval:
            out.append(("interval", req.interval))
        if req.scale != "count":
            out.append(("scale", req.scale))
        if req.literal:
            out.append(("literal", "1"))
        if req.typing:  # a keystroke's answer: its links and its URL reproduce what it shows
            out.append(("typing", "1"))
        if not req.like:
            out.append(("like", "0"))
        if req.full:
            out.append(("full", "1"))
        if req.span:
            out.append(("span", req.span))
        if req.story:
            out.append(("story", req.story))
        if req.group != "story":
            out.append(("group", req.group))
        if req.count != "records":
            out.append(("count", req.count))
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

    def written_query(self) -> str | None:
        """The query as written, date words and all, while it is still what `q` was read from
        (a request changed in code since keeps none)."""
        if not self.written:
            return None
        rest = dates_in_query(unfinished_date_word(self.written)[0] if self.typing
                              else self.written)[0]
        return self.written if rest == self.q else None

    @property
    def shown_q(self) -> str:
        """The query as the user wrote it, for the page to say what it searched and to put
        back in the box."""
        return self.written_query() or self.q

    @property
    def shown_dates(self) -> tuple[date | None, date | None]:
        """From and To as the form shows them: as asked, beside a query that keeps its dates."""
        if self.written_query() is not None:
            return self.asked_from, self.asked_to
        return self.date_from, self.date_to

    def without_query_dates(self) -> list[tuple[str, str]]:
        """URL parameters of this search with the query's date words dropped."""
        return replace(self, written="", date_from=self.asked_from, date_to=self.asked_to,
                       page=1).params()

    def without_asked_dates(self) -> list[tuple[str, str]]:
        """URL parameters of this search with From and To dropped (the query's date words kept)."""
        return [(k, v) for k, v in replace(self, page=1).params() if k not in ("from", "to")]

    def corrected(self, q: str) -> "SearchRequest":
        """The same search for the correction `q` of its words, taken as written."""
        return replace(self, q=q, literal=True, written="", typing=False, page=1)

    def without_year_filter(self) -> list[tuple[str, str]]:
        """URL parameters of this search with the year facet's values dropped."""
        return [(k, v) for k, v in replace(self, page=1).params() if k != "year"]

    @property
    def has_filters(self) -> bool:
        return bool(self.filters or self.date_from or self.date_to or self.story)

    @property
    def grouped(self) -> bool:
        """One hit per story: asked for, and not when the search is one story's records."""
        return self.group == "story" and not self.story

    @property
    def effective_sort(self) -> str:
        """An empty query has no relevance: it browses newest first unless told otherwise."""
        return "newest" if not self.q.strip() and self.sort == "relevance" else self.sort

    def range_seconds(self) -> tuple[int | None, int | None]:
        low = epoch(self.date_from) if self.date_from else None
        high = epoch(self.date_to + timedelta(days=1)) - 1 if self.date_to else None
        return low, high


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (the first when empty), or a BadRequest that lists them."""
    if not value:
        return allowed[0]
    if value not in allowed:
        either = " or ".join(allowed) if len(allowed) == 2 else f"one of {', '.join(allowed)}"
        raise BadRequest(f"{name} must be {either}, not {value!r}")
    return value


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


# -- comparing queries ---------------------------------------------------------------------

_NUMBERED = re.compile(r"^(.*?)([1-4])$")
MAX_COMPARED = 4


def compare_requests(params: Mapping[str, Iterable[str]],
                     limits: RequestLimits) -> list[SearchRequest]:
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
        out.append(SearchRequest.from_params(own, limits))
    return out
