"""/fresh: what an open search page asks every few seconds to notice new records. The
index's generation is the ETag: while it holds, the answer is a 304 from memory (no search
is run, however many pages are open); when a reindex lands, the footer's figures and how
many records the page's search matches now, for its "N new records match" notice."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .handle import search_index
from .params import search_request
from .rendering import ago

bp = Blueprint("fresh", __name__)

# The page's search parameters that do not change what it counts.
_NOT_COUNTED = {"page", "typing", "interval", "scale", "span", "full"}


@bp.route("/fresh")
def fresh():
    """The index's generation and footer figures, and (given a search's parameters) how many
    records that search matches: a 304 while the generation is the one the page has."""
    stats = search_index().stats()
    etag = stats.generation
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        body = {"generation": stats.generation, "records": stats.records,
                "updated": stats.updated.isoformat() if stats.updated else None,
                "updated_ago": ago(stats.updated)}
        if set(request.args) - _NOT_COUNTED:
            result = search_index().search(search_request(), terms=False, hits=False)
            body["total"] = result.total
        response = jsonify(body)
    # Kept by no cache (`no-store`, as every response naming a search: web/headers.py); the
    # page sends the generation it has as If-None-Match itself, and a 304 reaches it all the same.
    response.set_etag(etag)
    return response
