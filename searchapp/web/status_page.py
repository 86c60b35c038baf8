"""What the index holds and how it is kept: /status (a page and JSON) and /healthz, the
probe a load balancer asks."""

from __future__ import annotations

import os

from flask import Blueprint, jsonify, render_template

from ..index import store
from ..search.request import SearchRequest
from ..search.serialize import status_to_json
from .errors import problem_text
from .handle import search_index

bp = Blueprint("status", __name__)


@bp.route("/status")
def status():
    """What the index holds, what its last run did, every file refused (`file:line: reason`),
    and whether the seeds folder is watched. Read-only; it names files only as the seeds
    folder does."""
    return render_template("status.html", status=search_index().status(), req=SearchRequest())


@bp.route("/api/status")
def api_status():
    return jsonify(status_to_json(search_index().status()))


@bp.route("/healthz")
def healthz():
    try:
        stats = search_index().stats()
    except store.IndexProblem as exc:
        return jsonify(status="unavailable", error=problem_text(exc)), 503
    return jsonify(status="ok", records=stats.records, generation=stats.generation,
                   updated=stats.updated.isoformat() if stats.updated else None,
                   process=os.getpid())
