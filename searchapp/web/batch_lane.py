"""A batch search under way: this process's batch lane (one batch at a time, so a batch
never takes more than one thread's share of the workers), its rows as they are counted, and
the streamed response that lets go of both when it ends, however it ends."""

from __future__ import annotations

import threading
import time
from typing import Iterable, Iterator

from flask import Response, current_app, stream_with_context

from ..search import batch as batches
from .files import attachment
from .handle import search_index
from .limits import begun, streams

LANE_WAIT_S = 10.0  # a second batch in the same process waits this long for the first
RETRY_AFTER_S = 10
BUSY = ("This server process is already running a batch, or sending as many batches and "
        "downloads as it sends at once; batches run one at a time so that searches stay "
        "quick. Try again in a few seconds.")


class Busy(Exception):
    """Another batch holds this process's batch lane."""


class Running:
    """A batch under way: its rows as they are counted (sorted at the end when asked),
    holding this process's batch lane and one snapshot until closed."""

    def __init__(self, queries: list[batches.Query], sort: str):
        self.queries, self.sort = queries, sort
        self.done = self.failed = 0
        self.generation = ""
        self.took_s = 0.0
        self.started = time.perf_counter()
        self._lane: threading.Semaphore | None = None
        self._place = streams().take()  # at once or not at all: waiting would hold a thread
        if self._place is None:
            raise Busy()
        lane = _lane()
        if not lane.acquire(timeout=LANE_WAIT_S):
            self._place.give_back()
            raise Busy()
        self._lane = lane
        try:
            self._rows = search_index().batch(queries)
            # The first row now: a missing or damaged index fails before a response starts.
            self._first = next(self._rows, None)
        except BaseException:
            self.close()
            raise
        if self._first is not None:
            self.generation = self._first.generation

    def __iter__(self) -> Iterator[batches.Counted]:
        rows = self._counted()
        if batches.sort_key(self.sort) != ("line", False):
            rows = iter(batches.sorted_rows(list(rows), self.sort))
        yield from rows

    def _counted(self) -> Iterator[batches.Counted]:
        pending = [self._first] if self._first is not None else []
        for row in _chain(pending, self._rows):
            self.done += 1
            self.failed += row.error is not None
            yield row
        self.took_s = time.perf_counter() - self.started
        self.close()  # every row counted: the rest of the response needs neither

    def close(self) -> None:
        """Let go of the snapshot and the lane (once; also when the body is never read)."""
        rows = getattr(self, "_rows", None)
        if rows is not None:
            rows.close()
        if self._lane is not None:
            lane, self._lane = self._lane, None
            lane.release()
        self._place.give_back()


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


_LANES = threading.Lock()


def _lane() -> threading.Semaphore:
    """This process's batch lane: one batch at a time (the app is made once per process)."""
    with _LANES:
        return current_app.extensions.setdefault("searchapp.batch_lane", threading.Semaphore(1))


def busy(response, status: int | None = None):
    """A refusal while another batch runs, saying when to try again."""
    if isinstance(response, tuple):
        response = current_app.make_response(response)
    if status is not None:
        response.status_code = status
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def streamed(body: Iterable[str], running: Running, mimetype: str,
             filename: str | None = None) -> Response:
    try:
        pieces = begun(chunks(body))
    except BaseException:
        running.close()
        raise
    response = Response(stream_with_context(pieces), mimetype=mimetype)
    response.call_on_close(running.close)  # also when the body is never read (HEAD)
    if filename is not None:
        response.headers["Content-Disposition"] = attachment(filename)
    return response


def chunks(pieces: Iterable[str], size: int = 16384, every_s: float = 0.25,
           first_s: float = 0.02) -> Iterator[str]:
    """Pieces gathered into chunks of about `size` characters, or whatever came within
    `every_s` seconds (`first_s` for the first, so the page's head shows at once): rows
    arrive as they are counted, without a write per table cell."""
    buffer: list[str] = []
    held, last, wait = 0, time.perf_counter(), first_s
    for piece in pieces:
        buffer.append(piece)
        held += len(piece)
        now = time.perf_counter()
        if held >= size or now - last >= wait:
            yield "".join(buffer)
            buffer, held, last, wait = [], 0, now, every_s
    if buffer:
        yield "".join(buffer)
