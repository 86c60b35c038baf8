"""The fence around the servers' private parts: the only code that reaches into gunicorn's
and waitress's internals, so an upgrade that moves them breaks here, and the test that
reads `PRIVATE` says which name went.

Why at all: the errors a server writes itself (a request line it cannot parse, headers too
large, a bad chunked body) never reach the app, so they would go out without our security
headers (web/headers.py). Neither server offers a public way to add headers to them:
gunicorn's settings and server hooks (`post_worker_init`, `pre_request`, ...) see only
requests it could parse, and waitress's documented options (`ident`, `expose_tracebacks`,
...) say nothing of its error responses. So:

- gunicorn: `gunicorn.util.write_error`, the function its workers write those errors with
  (`Worker.handle_error`), is replaced process-wide by one that adds our headers; it writes
  through `gunicorn.util.write_nonblock`, as the original does.
- waitress: each listener's `channel_class` (a class attribute of `BaseWSGIServer`, set on
  the instances `create_server` made) becomes an `HTTPChannel` whose `error_task_class` is
  an `ErrorTask` that extends its `response_headers` before `execute` writes them;
  `MultiSocketServer.map` holds the listeners when it listens on several addresses.
"""

from __future__ import annotations

import html

from .headers import SECURITY_HEADERS

# Every private name used below, as `module.attribute[.attribute]`: tests/test_server_patches.py
# fails if the installed servers no longer have one.
PRIVATE = (
    "gunicorn.util.write_error",
    "gunicorn.util.write_nonblock",
    "gunicorn.workers.base.Worker.handle_error",
    "waitress.channel.HTTPChannel",
    "waitress.channel.HTTPChannel.error_task_class",
    "waitress.task.ErrorTask",
    "waitress.task.ErrorTask.execute",
    "waitress.task.Task.__init__",  # sets `response_headers`, which ErrorTask.execute extends
    "waitress.server.BaseWSGIServer.channel_class",
    "waitress.server.MultiSocketServer",
)


def head_waitress_errors(server) -> None:
    """waitress's own error responses (a malformed request line, headers too large, a bad
    chunked body, an app that failed) carry our security headers too."""
    from waitress.channel import HTTPChannel
    from waitress.server import MultiSocketServer
    from waitress.task import ErrorTask

    class HeadedErrorTask(ErrorTask):
        def execute(self):
            self.response_headers.extend(SECURITY_HEADERS)
            super().execute()

    class Channel(HTTPChannel):
        error_task_class = HeadedErrorTask

    listeners = server.map.values() if isinstance(server, MultiSocketServer) else [server]
    for listener in listeners:
        if hasattr(listener, "channel_class"):
            listener.channel_class = Channel


def head_gunicorn_errors() -> None:
    """gunicorn's workers write the errors of requests they could not parse with our
    headers (in this process and the workers it forks)."""
    from gunicorn import util

    util.write_error = _gunicorn_error


def _gunicorn_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error` (a request it could not parse), with our headers."""
    from gunicorn import util

    body = (f"<!doctype html><title>{status_int} {html.escape(reason)}</title>"
            f"<h1>{html.escape(reason)}</h1><p>{html.escape(mesg)}</p>").encode("utf-8")
    head = [f"HTTP/1.1 {status_int} {reason}", "Connection: close",
            "Content-Type: text/html; charset=utf-8", f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in SECURITY_HEADERS)]
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
