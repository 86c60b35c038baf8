"""The Flask app: the factory, security headers, and the shared search index's lifecycle."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, current_app, g, request

from .. import settings as settings_mod
from ..search import SearchIndex

# Inside the package (links to the repository's top-level folders in a checkout, copies in
# a wheel), so an installed searchapp serves its pages from wherever it is installed.
PACKAGE = Path(__file__).resolve().parents[1]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def create_app(config: settings_mod.Settings | Mapping[str, Any] | None = None) -> Flask:
    """Make the app from settings (defaults < config file < environment < `config`, or the
    resolved `Settings` the command line passes); opens nothing."""
    app = Flask("searchapp", template_folder=str(PACKAGE / "templates"),
                static_folder=str(PACKAGE / "static"), static_url_path="/static")
    cfg = config if isinstance(config, settings_mod.Settings) else settings_mod.load(config)
    app.config["SEARCHAPP"] = cfg
    app.debug = cfg.debug
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    from . import views
    app.register_blueprint(views.bp)
    app.before_request(_start_clock)
    app.before_request(_readable_query_string)
    app.after_request(_relative_redirects)
    app.after_request(_security_headers)
    return app


def _relative_redirects(response):
    """A redirect names a path on this site, never a host: Werkzeug builds its own redirects
    (`/static//app.js` to `/static/app.js`) from the request's Host header, which anyone
    can forge to send a shared link elsewhere."""
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        parts = urlsplit(location)
        if parts.scheme or parts.netloc:
            path = "/" + (parts.path or "/").lstrip("/")  # `//evil` would name a host again
            response.headers["Location"] = urlunsplit(("", "", path, parts.query, parts.fragment))
    return response


def _start_clock():
    g.started = time.perf_counter()


def elapsed_ms() -> float:
    """Milliseconds since this request reached the app: what a page says a search took."""
    return round((time.perf_counter() - g.started) * 1000, 1)


def _readable_query_string():
    """A query string that is not UTF-8 (only hand-made requests send one) is a 400, not a 500."""
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        return Response("The query string is not valid UTF-8.", status=400, mimetype="text/plain")
    return None


_MAKING = threading.Lock()


def search_index() -> SearchIndex:
    """The app's one SearchIndex, made on first use and shared by every request and thread."""
    ext = current_app.extensions
    index = ext.get("searchapp.index")
    if index is None:
        with _MAKING:
            index = ext.get("searchapp.index")
            if index is None:
                index = ext["searchapp.index"] = SearchIndex.from_settings(
                    current_app.config["SEARCHAPP"],
                    freeze_gc=current_app.config.get("SEARCHAPP_FREEZE_GC", False)).close_at_exit()
    return index


# On every response: the app's own (below), and the errors the servers write themselves
# (web/server.py).
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def _security_headers(response):
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)  # a route may set a stricter one
    return response
