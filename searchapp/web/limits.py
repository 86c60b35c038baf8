"""What one client may hold of a serving process, where the app can see it: an address no
longer than the longest query we search (the server refuses longer ones before reading
them), and a few streamed answers at a time (exports and batches each hold a thread until
their client has taken everything), so searches always find a thread free.

The server (web/server_patches.py) lets go of a client that stops reading; this module
decides how many such streams may be under way at once.
"""

from __future__ import annotations

import threading
from typing import Iterable, Iterator

from flask import Response, current_app, jsonify, render_template, request

from ..search.request import SearchRequest
from .handle import settings

RETRY_AFTER_S = 5


def long_request_line():
    """A `before_request` hook: an address longer than the server's request-line limit is a
    414 that says so (the server itself refuses those too long to read at all)."""
    limit = settings().request_line_bytes
    uri = request.environ.get("REQUEST_URI") or request.full_path
    if len(uri) > limit:
        return refusal(414, f"The address is over {limit:,} bytes, longer than the longest "
                            "search this site accepts. Shorten the query, or send a long "
                            "list of searches as a batch file.")
    return None


class Streams:
    """This process's places for streamed answers: a stream takes one or is refused at once
    (waiting for one would itself hold a thread)."""

    def __init__(self, places: int):
        self.places = places
        self._free = threading.BoundedSemaphore(places)

    def take(self) -> "Place | None":
        return Place(self._free) if self._free.acquire(blocking=False) else None


class Place:
    """One stream's place, given back once (when the response closes, however it ends)."""

    def __init__(self, free: threading.BoundedSemaphore):
        self._free: threading.BoundedSemaphore | None = free

    def give_back(self) -> None:
        free, self._free = self._free, None
        if free is not None:
            free.release()


_MAKING = threading.Lock()


def streams() -> Streams:
    """The app's streams (one app per process)."""
    ext = current_app.extensions
    with _MAKING:
        return ext.setdefault("searchapp.streams", Streams(max(1, settings().streams)))


def stream_place(what: str) -> "Place | Response":
    """A place for a stream, or the 503 that says why there is none."""
    place = streams().take()
    if place is not None:
        return place
    return refusal(503, f"{streams().places} downloads and batches are being sent by this "
                        f"server process already; this {what} was not started so that "
                        f"searches stay quick. Try again in a few seconds.",
                   retry_after=RETRY_AFTER_S)


def refusal(status: int, message: str, retry_after: int | None = None) -> Response:
    """A refusal in the form the route answers in (JSON under /api/, a page elsewhere)."""
    if request.path.startswith("/api/"):
        response = jsonify(error=message, status=status)
    else:
        response = Response(render_template("error.html", code=status, message=message,
                                            req=SearchRequest()))
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def begun(body: Iterable[str]) -> Iterator[str]:
    """`body` with its first piece made now, in the view: a failure before anything is sent
    (the index gone, a shard of a cluster that did not answer) is answered as the error it
    is (503, with words), not as a response cut off after its headers (which the server
    can only make a 500 of)."""
    pieces = iter(body)
    first = next(pieces, None)

    def rest() -> Iterator[str]:
        if first is not None:
            yield first
        yield from pieces
    return rest()
