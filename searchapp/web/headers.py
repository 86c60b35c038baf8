"""What every response carries: the security headers (also on the errors the servers write
themselves, web/server.py) and redirects that name a path, never a host."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

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


def security_headers(response):
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)  # a route may set a stricter one
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
