"""The URL of every state of a search (the page, a facet value ticked, its facet's values,
its feed, a comparison, a batch search's row), made in one place: facets are URL state, so a page is mostly links."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote_plus, urlencode

from flask import g, request, url_for

from ..search.batch import Counted
from ..search.request import SearchRequest
from .handle import settings


# A query longer than this (a pasted paragraph) is carried once by the page, in its search
# box, not once by each of its hundreds of links: a keystroke's answer stays small.
LONG_QUERY = 200


def linked(req: SearchRequest) -> SearchRequest:
    """The search a page's links are made from: itself, or without its words when they are a
    long paste (those links say `data-q-kept`; app.js puts the box's words in when one is
    followed)."""
    if len(req.q) <= LONG_QUERY and len(req.written) <= LONG_QUERY:
        return req
    return replace(req, q="", written="")


def search_url(req: SearchRequest, endpoint: str = "search.search", **changes) -> str:
    pairs = req.params(**changes)
    return url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")


_MARKER = "\x00toggled\x00"
_MARKER_ENCODED = urlencode({"": _MARKER})[1:]


def toggle_url(req: SearchRequest, facet: str, value: str) -> str:
    """The URL that ticks (or unticks) one facet value. A results page lists up to six
    hundred of them, so a request's URL is made once per facet, with a marker where the
    value goes, and each value is put in its place."""
    if value in req.filters.get(facet, ()):
        return search_url(req.toggled(facet, value))  # unticking: few, made whole
    cache = g.setdefault("toggle_urls", {})
    key = (id(req), facet)
    if key not in cache:
        cache[key] = search_url(req.toggled(facet, _MARKER)).split(_MARKER_ENCODED)
    before, after = cache[key]
    return before + quote_plus(value) + after


def facet_url(req: SearchRequest, facet: str) -> str:
    pairs = req.params(page=1) + [("facet", facet)]
    return url_for("search.facet_values") + "?" + urlencode(pairs)


def feed_url(req: SearchRequest) -> str:
    """The feed of a search, as a path on this site (the page links to it)."""
    pairs = req.params(page=1)
    return url_for("feeds.feed") + ("?" + urlencode(pairs) if pairs else "")


def compare_url(queries: list[str], options: SearchRequest, **changes) -> str:
    pairs = [("q", q) for q in queries if q.strip()] + options.params(q="", **changes)
    return url_for("compare.compare") + "?" + urlencode(pairs)


def row_url(row: Counted, external: bool = False) -> str:
    """The search page of one row of a batch search, with the words as counted (as every
    search is, the words as written; no correction: `literal=1`). Absolute (for the
    CSV and JSON) from the `base_url` setting when there is one, else from the address the
    batch was asked at, as the export's links are."""
    url = search_url(row.query.request)
    if not external:
        return url
    site = settings().base_url or request.host_url
    return site.rstrip("/") + url
