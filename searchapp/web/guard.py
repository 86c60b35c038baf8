"""Who may change the workspace, and how: only by a POST to one of the workspace's routes,
from a page of this site (its `Origin`, or `Sec-Fetch-Site`, says so), carrying the CSRF
token the page was given; never on a read-only site.

The tokens are Flask-WTF's (`generate_csrf`, `validate_csrf`: signed with a secret, bound to
the session cookie). The secret is kept in the workspace folder, made once by whichever
process gets there first, so every worker signs alike and a restart keeps the pages already
open working. Pages are gzipped (compress.py): a token sent the same in every response
could be read back from compressed sizes (BREACH), so each response carries it masked with
fresh random bytes, and the guard unmasks it before validating.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from flask import Flask, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from markupsafe import escape
from wtforms import ValidationError

from ..workspace import folder_of
from .handle import settings

SECRET_FILE = "secret.key"
TOKEN_FIELD = "csrf_token"
TOKEN_HEADER = "X-CSRFToken"
SAFE_FETCH_SITES = ("same-origin", "none")


def init_app(app: Flask) -> None:
    """Sessions only for the token: SameSite=Lax, HttpOnly, the secret from the workspace."""
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_NAME="searchapp_session",
                      WTF_CSRF_TIME_LIMIT=None,  # valid as long as its session: pages stay open
                      WTF_CSRF_FIELD_NAME=TOKEN_FIELD)
    app.session_interface = WorkspaceSessions()
    app.before_request(refuse_unguarded_writes)


class WorkspaceSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the secret read (or made) when a session is
    first opened, not when the app is made; none on a read-only site (no session at all)."""

    def get_signing_serializer(self, app: Flask):
        cfg = app.config["SEARCHAPP"]
        if cfg.read_only:
            return None
        if not app.secret_key:
            app.secret_key = secret_in(folder_of(cfg))
        return super().get_signing_serializer(app)


def secret_in(folder: Path) -> str:
    """The workspace's secret: read, or made once (O_EXCL: of two processes making it at
    once, one wins and the other reads what it wrote)."""
    path = Path(folder) / SECRET_FILE
    for _ in range(50):
        try:
            text = path.read_text(encoding="ascii").strip()
            if len(text) >= 32:
                return text
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
        part.write_text(secrets.token_hex(32), encoding="ascii")
        os.chmod(part, 0o600)
        try:
            os.link(part, path)  # atomic, and fails if another process made it first
        except FileExistsError:
            pass
        finally:
            part.unlink(missing_ok=True)
    raise RuntimeError(f"cannot make the workspace secret in {folder}")


def masked_token() -> str:
    """This session's token, masked afresh for this response (never the same bytes twice)."""
    token = generate_csrf().encode("ascii")
    pad = secrets.token_bytes(len(token))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(token, pad))).decode()


def unmasked(text: str) -> str:
    """The token a masked one stands for (text that is not a masked token is returned as it
    is: an API client may send the token as `/api/token` gave it)."""
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return text
    if not raw or len(raw) % 2:
        return text
    half = len(raw) // 2
    try:
        return bytes(a ^ b for a, b in zip(raw[half:], raw[:half])).decode("ascii")
    except UnicodeDecodeError:
        return text


class Refused(Exception):
    """A change the guard does not let through; the message says why, the status how."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def refuse_unguarded_writes():
    """Before every request that may change something (any method but GET, HEAD, OPTIONS,
    to a workspace route): refused when the site is read-only, when the request comes from
    another site, or when it lacks this session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not (
            request.blueprint == "workspace"):
        return None
    try:
        check_write()
    except Refused as exc:
        return refusal(str(exc), exc.status)
    return None


def check_write() -> None:
    if settings().read_only:
        raise Refused("This site is read-only: it keeps no saved searches, collections, tags "
                      "or notes.", 403)
    # Browsers say where a request comes from in `Sec-Fetch-Site`; older ones only in
    # `Origin` (which is "null" from our own forms: the pages send no referrer). Either
    # naming another site refuses; the token is checked in any case.
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None:
        if site not in SAFE_FETCH_SITES:
            raise Refused("Refused: the request came from another site.", 403)
    elif origin not in (None, "null") and origin not in own_origins():
        raise Refused(f"Refused: the request came from another site ({origin[:100]}).", 403)
    token = request.form.get(TOKEN_FIELD) or request.headers.get(TOKEN_HEADER) or ""
    if not token:
        raise Refused("Refused: the form carries no CSRF token (reload the page and try "
                      "again).", 400)
    try:
        validate_csrf(unmasked(token))
    except (ValidationError, CSRFError) as exc:
        raise Refused(f"Refused: the CSRF token is not valid ({exc}); reload the page and "
                      "try again.", 400) from None


def own_origins() -> set[str]:
    """The origins this site is reached at: the request's own, and `base_url`'s."""
    found = {request.host_url.rstrip("/")}
    base = settings().base_url
    if base:
        found.add("/".join(base.split("/")[:3]))
    return found


def refusal(message: str, status: int):
    """A refusal, as JSON under /api/, else as a short page of plain words."""
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=status), status
    if request.headers.get("HX-Request") == "true":  # said in place, under the form
        return (f'<p class="error" role="status">{escape(message)}</p>', status,
                {"Content-Type": "text/html; charset=utf-8"})
    body = (f"<!doctype html><html lang=\"en\"><title>Refused</title><main><h1>Not changed"
            f"</h1><p>{escape(message)}</p><p><a href=\"/\">Back to search</a></p></main>"
            "</html>")
    return body, status, {"Content-Type": "text/html; charset=utf-8"}
