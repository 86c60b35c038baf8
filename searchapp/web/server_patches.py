"""The fence around waitress's private parts: the only code that reaches into its internals,
so an upgrade that moves them breaks here, and the test that reads `PRIVATE` says which name
went.

Why at all: waitress's documented options bound a request's size and an idle connection, but
not what a hostile or vanished client can hold while it is busy, and its own error
responses go out without our headers. Each channel (one client connection) is ours:

- its errors (a malformed request line, headers too large, a bad chunked body) carry our
  security headers, and an address longer than the longest query we accept is a 414 that
  says so, refused once the limit is read, whatever the client goes on sending;
- a request must arrive whole within `slow_client_s` of its first byte (a client sending a
  header a byte at a time holds a connection, never a thread, and not for long);
- a response the client stops reading is given up after `slow_client_s` without progress:
  waitress's writer waits for the client without a limit, holding a thread (and an export's
  snapshot of the index) for as long as the client keeps its connection open.

The channel class is set on the listener `create_server` made (`channel_class`, a class
attribute of `BaseWSGIServer`); `MultiSocketServer.map` holds the listeners when there are
several.
"""

from __future__ import annotations

import logging
import time

from .headers import SECURITY_HEADERS

# Every private name used below, as `module.attribute[.attribute]`: tests/test_server_patches.py
# fails if the installed waitress no longer has one.
PRIVATE = (
    "waitress.channel.HTTPChannel",
    "waitress.channel.HTTPChannel.error_task_class",
    "waitress.channel.HTTPChannel.received",
    "waitress.channel.HTTPChannel._flush_outbufs_below_high_watermark",
    "waitress.channel.ClientDisconnected",
    "waitress.task.ErrorTask",
    "waitress.task.ErrorTask.execute",
    "waitress.task.Task.__init__",  # sets `response_headers`, which ErrorTask.execute extends
    "waitress.server.BaseWSGIServer.channel_class",
    "waitress.server.MultiSocketServer",
    "waitress.utilities.Error",
    "waitress.utilities.RequestHeaderFieldsTooLarge",
)

HEADERS_BYTES = 64 * 1024  # room for a request's headers beside its request line
OUTBUF_BYTES = 1024 * 1024  # what a response may hold for a client before the writer waits
CHECK_S = 0.5  # how often a waiting writer looks at whether the client took anything


def waitress_server(app, listener, threads: int, limits):
    """waitress serving `app` on the bound `listener`, with our channels (see above)."""
    from waitress.server import create_server

    # "Task queue depth is N": every request waiting for a thread, said as a warning.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(
        app, sockets=[listener], threads=threads, ident="searchapp",
        channel_timeout=limits.slow_client_s,  # an idle connection, kept alive or half sent
        cleanup_interval=max(1, int(limits.slow_client_s / 4)),
        connection_limit=limits.connections,
        max_request_header_size=limits.request_line_bytes + HEADERS_BYTES,
        outbuf_high_watermark=OUTBUF_BYTES, clear_untrusted_proxy_headers=True)
    channel = guarded_channel(limits.slow_client_s, limits.request_line_bytes)
    head_waitress_errors(server, channel)
    return server


def guarded_channel(slow_client_s: float, request_line_bytes: int):
    """waitress's HTTPChannel, held to the limits above."""
    from waitress.channel import ClientDisconnected, HTTPChannel
    from waitress.task import ErrorTask
    from waitress.utilities import Error, RequestHeaderFieldsTooLarge

    class UriTooLong(Error):
        code = 414
        reason = "URI Too Long"

    class HeadedErrorTask(ErrorTask):
        def execute(self):
            request = self.request
            if isinstance(request.error, RequestHeaderFieldsTooLarge) \
                    and b"\n" not in getattr(request, "header_plus", b"\n"):
                request.error = UriTooLong(_too_long(request_line_bytes))
            self.response_headers.extend(SECURITY_HEADERS)
            super().execute()

    class Channel(HTTPChannel):
        error_task_class = HeadedErrorTask
        _request_began = 0.0

        def received(self, data):
            if self.request is None:  # the first bytes of a request
                self._request_began = time.monotonic()
            elif time.monotonic() - self._request_began > slow_client_s:
                self.will_close = True  # a request trickling in for too long: let it go
                return False
            return super().received(data)

        def _flush_outbufs_below_high_watermark(self):
            """As waitress's, but a client that takes nothing for `slow_client_s` is let go
            (waitress would wait for it for as long as the connection stays open)."""
            if self.total_outbufs_len <= self.adj.outbuf_high_watermark:
                return
            with self.outbuf_lock:
                _, failed = self._flush_exception(self._flush_some, do_close=False)
                if failed:
                    self.server.pull_trigger()
                    self.outbuf_lock.wait(slow_client_s)
                    return
                held, since = self.total_outbufs_len, time.monotonic()
                while self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                    self.server.pull_trigger()
                    self.outbuf_lock.wait(CHECK_S)
                    if self.total_outbufs_len < held:
                        held, since = self.total_outbufs_len, time.monotonic()
                    elif time.monotonic() - since > slow_client_s:
                        self.will_close = True  # the main loop closes it
                        self.server.pull_trigger()
                        raise ClientDisconnected("the client stopped reading")

    return Channel


def _too_long(limit: int) -> str:
    return (f"The address (the request line) is over {limit:,} bytes, longer than the "
            "longest search this site accepts. Shorten the query, or send a long list of "
            "searches as a batch file.")


def head_waitress_errors(server, channel=None) -> None:
    """Every listener of `server` makes its connections with `channel` (by default waitress's
    own, whose error responses then carry our security headers too)."""
    from waitress.server import MultiSocketServer

    if channel is None:
        channel = guarded_channel(float("inf"), 2**62)
    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if hasattr(listener, "channel_class"):
            listener.channel_class = channel

