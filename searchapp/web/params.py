"""What a request asks: its parameters read into a SearchRequest under the configured
limits (the same for every page that searches), whether htmx wants a fragment, and when it
arrived."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterable, Mapping
from urllib.parse import unquote_to_bytes

from flask import Response, g, request

from ..search.request import RequestLimits, SearchRequest, compare_requests
from .handle import settings, workspace


def limits() -> RequestLimits:
    """The limits a request's parameters are read under, from the settings: /search,
    /compare, the batch and the downloads refuse or cut alike."""
    return replace(RequestLimits.of(settings()), marks=workspace())


def search_request(params: Mapping[str, Iterable[str]] | None = None) -> SearchRequest:
    """The search a request asks for (its query string, unless `params` are given)."""
    if params is None:
        params = {k: request.args.getlist(k) for k in request.args}
    return SearchRequest.from_params(params, limits())


def compared_requests() -> list[SearchRequest]:
    """The 2 to 4 searches a /compare request asks for, under the same limits as /search."""
    params = {k: request.args.getlist(k) for k in request.args}
    return compare_requests(params, limits())


def wants_partial() -> bool:
    """htmx asks for the results fragment; a history restore or a plain load gets the page."""
    return (request.headers.get("HX-Request") == "true"
            and not request.headers.get("HX-History-Restore-Request"))


def start_clock() -> None:
    g.started = time.perf_counter()


def elapsed_ms() -> float:
    """Milliseconds since this request reached the app: what a page says a search took."""
    return round((time.perf_counter() - g.started) * 1000, 1)


def readable_query_string():
    """A query string that is not UTF-8 (only hand-made requests send one) is a 400, not a 500
    and not a search for something else: its bytes as sent, and as its %-escapes stand for
    them (`q=%FF%FE`, which Werkzeug would read as two U+FFFD and search for those). Checked
    whole: '&' and '=' are ASCII, so the whole is UTF-8 exactly when every part is."""
    try:
        request.query_string.decode("utf-8")
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        return Response("The query string is not valid UTF-8.", status=400, mimetype="text/plain")
    return None
