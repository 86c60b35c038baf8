"""The site's own files: every link to a static file names its version (`/static/app.js?v=`
and the first 12 hex digits of the file's SHA-256), so a browser keeps it a year without
asking again and an upgrade is a new URL; and the favicon, so a browser's own request for
`/favicon.ico` is answered, from this site, never another.

The version is added where Flask builds the URL (`url_for('static', filename=...)`, through
a URL-defaults hook): no template names it, and the plain `/static/app.js` keeps working.
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Blueprint, current_app, request, send_from_directory
from werkzeug.security import safe_join

bp = Blueprint("assets", __name__)

VERSION_ARG = "v"
_VERSIONS: dict[tuple[str, int, int], str] = {}  # (path, mtime, size) -> version
_LOCK = threading.Lock()


def version(filename: str) -> str | None:
    """The version of a static file: its content's digest, read again only when the file
    changes (its modification time or size); None when there is no such file."""
    folder = current_app.static_folder
    if folder is None:
        return None
    path = safe_join(folder, filename)  # never a file outside the static folder
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    with _LOCK:
        known = _VERSIONS.get(key)
    if known is None:
        with open(path, "rb") as f:
            known = hashlib.sha256(f.read()).hexdigest()[:12]
        with _LOCK:
            _VERSIONS[key] = known
    return known


@bp.app_url_defaults
def versioned_static(endpoint: str, values: dict) -> None:
    """`url_for('static', filename='app.js')` is `/static/app.js?v=<version>`."""
    if endpoint == "static" and "filename" in values and VERSION_ARG not in values:
        found = version(values["filename"])
        if found is not None:
            values[VERSION_ARG] = found


def asked_current_version() -> bool:
    """This static request names the version the file has now: its answer never changes,
    so it may be kept for good. An old page asking an old version after an upgrade gets
    the new file, kept as briefly as an unversioned one."""
    asked = request.args.get(VERSION_ARG)
    name = (request.view_args or {}).get("filename", "")
    return bool(asked) and asked == version(name)


@bp.route("/favicon.ico")
def favicon():
    """The site's icon, where every browser asks for it unprompted (without one, a 404 in
    every log and console)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/x-icon")
