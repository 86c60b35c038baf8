"""The app's error pages: what a request that cannot be answered gets, said in the form its
route answers in (JSON under /api/, a page elsewhere). A page whose errors read better in
place (the search page, the comparison) handles its own first, on its blueprint."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from ..index import store
from ..search.request import BadRequest, SearchRequest
from ..search.status import unplaced
from .handle import settings

bp = Blueprint("errors", __name__)


def problem_text(exc: store.IndexProblem) -> str:
    """What is wrong with the index, said without where anything lives on disk."""
    cfg = settings()
    return unplaced(cfg.index, str(exc), cfg.seeds)


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
