"""The app's error pages: what a request that cannot be answered gets, said in the form its
route answers in (JSON under /api/, a page elsewhere). A page whose errors read better in
place (the search page, the comparison) handles its own first, on its blueprint."""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Blueprint, jsonify, render_template, request

from ..index import store
from ..search.request import BadRequest, SearchRequest
from .handle import settings

bp = Blueprint("errors", __name__)

# An absolute path left in a message (one the index named that is not its own folder):
# after a space, a quote, a bracket or the start, never inside a word or a URL.
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[^\s'\"`:;,()/]+/)*([^\s'\"`:;,()/]+)")


def problem_text(exc: store.IndexProblem) -> str:
    """What is wrong with the index, said without where anything lives on disk: a 503 is
    answered to anyone who asks, and the server's folders are nobody's business. The index
    and seeds folders are named in words ("the index folder"), what is inside them by its
    path from there (`CURRENT`), any other absolute path by its last part."""
    text = str(exc)
    cfg = settings()
    for folder, name in ((cfg.index, "the index folder"), (cfg.seeds, "the seeds folder")):
        for shown in _spellings(folder):
            text = text.replace(shown + os.sep, "").replace(shown, name)
    return _ABSOLUTE.sub(lambda m: m.group(1), text)


def _spellings(folder: Path | None) -> list[str]:
    """The absolute ways a message may spell `folder`, longest first (a relative one is no
    leak, and as a word it could be part of the message: `index`)."""
    if not folder:
        return []
    folder = Path(folder)
    found = {str(folder.resolve()), os.path.abspath(folder)}
    if folder.is_absolute():
        found.add(str(folder))
    return sorted((f for f in found if len(f) > 1), key=len, reverse=True)


def as_json(message: str, status: int):
    return jsonify(error=message, status=status), status


@bp.app_errorhandler(BadRequest)
def _bad_request(exc):
    """A parameter a request cannot be answered with, where no page says it better: JSON."""
    return as_json(str(exc), 400)


@bp.app_errorhandler(store.IndexProblem)
def _no_index(exc):
    """The index cannot answer: what to do about it, in words, without its path."""
    message = problem_text(exc)
    if request.path.startswith("/api/"):
        return as_json(message, 503)
    heading = "The index is damaged" if isinstance(exc, store.IndexDamaged) else None
    return render_template("error.html", code=503, message=message, heading=heading,
                           req=SearchRequest()), 503


@bp.app_errorhandler(404)
def _not_found(exc):
    if request.path.startswith("/api/"):
        return as_json(exc.description, 404)
    return render_template("error.html", code=404, message=exc.description,
                           req=SearchRequest()), 404


@bp.app_errorhandler(500)
def _server_error(exc):
    if request.path.startswith("/api/"):
        return as_json("internal error", 500)
    return render_template("error.html", code=500, message="Something went wrong on our side.",
                           req=SearchRequest()), 500
