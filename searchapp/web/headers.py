"""What every response carries: the security headers (also on the errors the servers write
themselves, web/server.py), how long it may be kept (Cache-Control) and redirects that name
a path, never a host."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from flask import request

from .assets import asked_current_version

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


# How long a response may be kept, and by whom. Researchers keep their work private, and
# nearly every response holds some of it: a page, its fragment, the JSON, an export, a feed,
# a batch, even an error page (its URL names the search): `no-store`, so no shared cache
# keeps it, and no browser writes it to a disk the next user of the machine can read. It
# costs little: each is made for its request, nothing marks it unchanged to revalidate
# against, and the back button still works (it asks again; htmx's history keeps its own).
# Static files hold nothing of anyone's. Every page links them by version (web/assets.py:
# `/static/app.js?v=` and a digest of the file; a file whose name carries its version,
# `htmx-2.0.11.min.js`, is the same): that URL's answer never changes, so it is kept a year,
# not even revalidated, and an upgrade is a new URL. Asked without its version (or with an
# old one), a file that changes in place when searchapp is upgraded (app.css, app.js) is
# kept five minutes, then revalidated with the ETag Flask gives it. The favicon, asked by
# browsers at a fixed address, is kept a day.
PRIVATE = "no-store"
STATIC = "public, max-age=300"
VERSIONED = "public, max-age=31536000, immutable"
ICON = "public, max-age=86400"
_VERSIONED_NAME = re.compile(r"-\d+(?:\.\d+)+(?:\.min)?\.(?:js|css)\Z")


def security_headers(response):
    """The security headers, and how long the response may be kept (`cache_control`)."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)  # a route may set a stricter one
    return cache_control(response)


def cache_control(response):
    """`Cache-Control` as the comment above PRIVATE says: a static file found is public (a
    year when its URL names its version, else five minutes), everything else is `no-store`."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        name = (request.view_args or {}).get("filename", "")
        versioned = _VERSIONED_NAME.search(name) or asked_current_version()
        response.headers["Cache-Control"] = VERSIONED if versioned else STATIC
    elif request.endpoint == "assets.favicon" and response.status_code in (200, 304):
        response.headers["Cache-Control"] = ICON
    else:
        response.headers["Cache-Control"] = PRIVATE
    return response


def relative_redirects(response):
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
