"""One record's page (/doc/<id>) and its JSON: every field, the other copies of its story,
its related articles, the seeds citing it, more like it."""

from __future__ import annotations

import re

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from ..search.request import SearchRequest
from ..search.serialize import record_to_export
from ..workspace import WorkspaceProblem
from .handle import search_index, settings, workspace

bp = Blueprint("record", __name__)

RECORD_ID = re.compile(r"^[0-9a-f]{16}$")
# A record's page and JSON list this many of its story's other records: a wire story run by
# thousands of outlets would be a page of thousands of links. Both say how many there are
# and link to all of them as search results, page by page.
COPIES_LISTED = 200


def story_copies(record_id: str) -> tuple[str, list[dict], int]:
    """(the record's story id, the first COPIES_LISTED other records of its story, earliest
    first, how many other records it has in all). The count is the story's search (what its
    link lists) less this record, asked only when the list is cut."""
    index = search_index()
    story_id, copies = index.copies(record_id, limit=COPIES_LISTED + 1)
    if len(copies) <= COPIES_LISTED:
        return story_id, copies, len(copies)
    story = index.search(SearchRequest(story=story_id, group="records"), terms=False, hits=False)
    return story_id, copies[:COPIES_LISTED], story.total - 1


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
    story_id, copies, copies_total = story_copies(record_id)
    # Never a copy, a related article or a citing seed: those are listed apart.
    listed = {r["id"] for r in (*related, *cited_by) if r}
    similar = [r for r in index.more_like(record_id, limit=6 + len(listed))
               if r["id"] not in listed][:6]
    return render_template("doc.html", record=record, related=related, cited_by=cited_by,
                           similar=similar, req=SearchRequest(q=q), marked=marked,
                           story_id=story_id, copies=copies, copies_total=copies_total,
                           kept=kept_of(record_id))


def kept_of(record_id: str):
    """What the workspace holds of a record (its collections, tags, note), or None: none
    kept, a read-only site, or a workspace that cannot be read (the page says so)."""
    found = workspace()
    if found is None:
        return None
    try:
        return found.kept(record_id)
    except WorkspaceProblem as exc:
        found.problem = str(exc)
        return None


@bp.route("/api/doc/<record_id>")
def api_document(record_id: str):
    """One record as JSON, with its story's other records: the first COPIES_LISTED of them,
    how many there are, how many are not listed, and the search that lists them all."""
    record = search_index().record(record_id) if RECORD_ID.match(record_id) else None
    if record is None:
        return jsonify(error=f"no record with id {record_id!r}", status=404), 404
    story_id, copies, total = story_copies(record_id)
    every = url_for("search.api_search", story=story_id, group="records", sort="oldest")
    return jsonify({**record_to_export(record), "story_id": story_id,
                    "copies": [c["id"] for c in copies], "copies_total": total,
                    "more_copies": total - len(copies), "copies_url": every if total else None})
