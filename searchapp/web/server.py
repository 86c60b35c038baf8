"""Serving the app on every core: gunicorn worker processes where it runs, waitress otherwise.

Pure-Python search holds the interpreter's lock while it computes, so threads of one process
share one core. Several processes each search on their own core; they share the index files
through the operating system's page cache, since segments and the spelling index are read
memory-mapped, and each process opens the index once per generation, on its first request.
gunicorn's threaded workers (`gthread`) keep a slow client from tying up a process. gunicorn
needs a POSIX system; elsewhere, or with one worker, waitress serves from threads alone.
Both write some errors themselves; web/server_patches.py gives those our headers.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .server_patches import head_gunicorn_errors, head_waitress_errors


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


# Seconds a thread may hold the interpreter before another gets its turn (Python's default
# is 0.005): a light search beside heavy ones in the same process gets the core back sooner.
SWITCH_INTERVAL = 0.001


def serve(app, host: str, port: int, workers: int, threads: int) -> None:
    """Serve `app` until interrupted, in `workers` processes of `threads` threads each."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    gunicorn = _gunicorn() if workers > 1 else None
    if gunicorn is None:
        _waitress(app, host, port, threads).run()
        return
    gunicorn(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 120,  # an export of everything streams for a while
        "graceful_timeout": 10,
        "keepalive": 10,  # a browser typing keeps its connection, and so its process and caches
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "searchapp",
        "limit_request_line": 0,  # pasted text comes in the URL (up to max_query_length)
    }).run()


def _waitress(app, host: str, port: int, threads: int):
    """waitress's server, whose own error responses carry our security headers too."""
    from waitress.server import create_server

    server = create_server(app, host=host, port=port, threads=threads, ident="searchapp")
    head_waitress_errors(server)
    server.print_listen("Serving on http://{}:{}")
    return server


def _gunicorn():
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # not installed, or not a POSIX system
        return None
    head_gunicorn_errors()  # its workers write their own errors through it

    class Application(BaseApplication):
        def __init__(self, app, options: dict[str, Any]):
            self.application, self.options = app, options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self):
            return self.application

    return Application
