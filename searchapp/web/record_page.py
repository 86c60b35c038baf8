"""One record's page (/doc/<id>) and its JSON: every field, the other copies of its story,
its related articles, the seeds citing it, more like it."""

from __future__ import annotations

import re

from flask import Blueprint, abort, jsonify, render_template, request

from ..search.request import SearchRequest
from ..search.serialize import record_to_export
from .handle import search_index, settings

bp = Blueprint("record", __name__)

RECORD_ID = re.compile(r"^[0-9a-f]{16}$")


@bp.route("/doc/<record_id>")
def document(record_id: str):
    """Every field of one record (the words of the search it was opened from marked), the
    other copies of its story, its related articles, the seeds citing it, more like it."""
    record = search_index().record(record_id) if RECORD_ID.match(record_id) else None
    if record is None:
        abort(404, description=f"No record with id {record_id!r}.")
    index = search_index()
    q = request.args.get("q", "")[:settings().max_query_length]
    marked = index.marked(record, q) if q.strip() else None
    related = index.records(record["related"])
    cited_by = index.records(record["cited_by"])
    story_id, copies = index.copies(record_id)
    known = {c["id"] for c in copies}
    similar = [r for r in index.more_like(record_id, limit=6 + min(len(known), 30))
               if r["id"] not in known][:6]  # the copies are listed already
    return render_template("doc.html", record=record, related=related, cited_by=cited_by,
                           similar=similar, req=SearchRequest(q=q), marked=marked,
                           story_id=story_id, copies=copies)


@bp.route("/api/doc/<record_id>")
def api_document(record_id: str):
    record = search_index().record(record_id) if RECORD_ID.match(record_id) else None
    if record is None:
        return jsonify(error=f"no record with id {record_id!r}", status=404), 404
    story_id, copies = search_index().copies(record_id)
    return jsonify({**record_to_export(record), "story_id": story_id,
                    "copies": [c["id"] for c in copies]})
