"""What a batch search request asks for: its lines (pasted, uploaded, or in the URL), the
filters of every row, the sort and the format, and the URL that asks it again."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ..search import batch as batches
from ..search.request import BadRequest, SearchRequest
from .params import search_request

MAX_BODY = 8 * 2**20  # bytes of one batch request: 1,000 long queries fit
SHARE_URL_MAX = 2000  # a batch whose URL is longer is shared by its CSV or JSON instead
# The search parameters a batch takes: its filters and dates, for every row (`sort` sorts
# the table, `q` is not one: the rows are the queries).
BASE_PARAMS = ("topic", "topics", "provider", "providers", "source", "category", "type",
               "kind", "year", "from", "to", "match")


class Asked:
    """What a batch request asks for: its text, the filters of every row, the sort, the format."""

    def __init__(self, text: str, base: SearchRequest, sort: str, fmt: str):
        self.text, self.base, self.sort, self.fmt = text, base, sort, fmt

    def pairs(self, **changes) -> list[tuple[str, str]]:
        """The batch as URL parameters (what a GET link to it carries)."""
        sort = changes.get("sort", self.sort)
        return ([("queries", self.text)] + self.base.params(q="")
                + ([("sort", sort)] if sort else [])
                + ([("format", changes["format"])] if changes.get("format") else []))

    def url(self, endpoint: str = "batch.batch", **changes) -> str | None:
        """The GET URL of this batch, or None when it is too long to share as a link."""
        link = url_for(endpoint) + "?" + urlencode(self.pairs(**changes))
        return link if len(link) <= SHARE_URL_MAX else None


class TooLarge(BadRequest):
    """A batch request larger than MAX_BODY."""


def read_text() -> str:
    """The batch's lines from the query string, the form or an uploaded file (a file, when
    chosen, is run instead of the text box, and shown in it), line breaks made `\n`."""
    request.max_content_length = MAX_BODY
    request.max_form_memory_size = MAX_BODY
    try:
        text = request.values.get("queries", "")
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise TooLarge(f"a batch may be at most {MAX_BODY // 2**20} MB; split it into smaller "
                       "batches") from None
    if upload is not None and upload.filename:
        text = batches.decode(upload.stream.read())
    lines = batches.LINE_BREAK.split(text.lstrip("\ufeff"))
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def read_asked(text: str) -> Asked:
    """The batch's filters and dates (for every row, under the limits /search honours), its
    sort and its format."""
    values = request.values
    base = search_request({k: values.getlist(k) for k in BASE_PARAMS if k in values})
    # A heading's button (`resort`) wins over the sort the form carries.
    sort = (values.get("resort") or values.get("sort") or "").strip()
    batches.sort_key(sort)  # refused now, before anything runs
    fmt = values.get("format", "").strip()
    if fmt not in ("", "html", "csv", "json"):
        raise BadRequest(f"format must be html, csv or json, not {fmt!r}")
    return Asked(text, base, sort, fmt)
