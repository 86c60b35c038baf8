"""Every search as an Atom feed: its matches that entered the index last, so a feed reader
shows a researcher what each reindex brought that matches (an alert on a query).

Links are absolute, made from the `base_url` setting, never from the request's Host header
(anyone can send one, and a feed reader keeps what it was given).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, url_for

from ..index import store
from ..search.request import BadRequest, SearchRequest
from .errors import problem_text
from ..workspace import WorkspaceProblem
from .handle import search_index, settings, workspace
from .links import feed_url
from .params import search_request

bp = Blueprint("feeds", __name__)

FEED_ENTRIES = 50
# XML 1.0 has no place for most control characters (lxml refuses the whole feed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def base_url() -> str:
    """The site's address in a feed's links: `base_url`, else the address it is served on,
    an IPv6 literal in brackets as a URL writes one (`http://[::1]:5000`; unbracketed, a
    feed reader reads `::1:5000` as no host at all)."""
    cfg = settings()
    if cfg.base_url:
        return cfg.base_url.rstrip("/")
    host = f"[{cfg.host}]" if ":" in cfg.host else cfg.host
    return f"http://{host}:{cfg.port}"


@bp.route("/search.atom")
def feed():
    req = search_request()
    found, generation, total = search_index().first_seen(req, FEED_ENTRIES)
    site = base_url()
    pairs = req.params(page=1)
    page = site + url_for("search.search") + ("?" + urlencode(pairs) if pairs else "")
    fg = FeedGenerator()
    fg.id(site + feed_url(req))
    fg.title(_text(f"searchapp: {_describe(req)}"))
    fg.subtitle(_text(f"{total:,} record{'' if total == 1 else 's'} match this search; "
                      f"the {len(found):,} that entered the index last, newest first "
                      f"(index generation {generation})."))
    fg.link(href=site + feed_url(req), rel="self", type="application/atom+xml")
    fg.link(href=page, rel="alternate", type="text/html")
    fg.author({"name": "searchapp"})
    fg.generator("searchapp")
    notes = _notes([record["id"] for record, _ in found])
    moments = [seen for _, seen in found if seen is not None]
    fg.updated(max(moments) if moments else datetime.now(timezone.utc))
    for record, seen in found:
        entry = fg.add_entry(order="append")
        link = site + url_for("record.document", record_id=record["id"]) \
            + ("?" + urlencode({"q": req.q}) if req.q else "")
        entry.id(site + url_for("record.document", record_id=record["id"]))
        entry.title(_text(record["title"]) or "(untitled)")
        entry.link(href=link, rel="alternate", type="text/html")
        entry.updated(seen or datetime.now(timezone.utc))
        if record.get("published"):
            entry.published(datetime.fromisoformat(record["published"]))
        entry.author({"name": _text(record["provider"]["name"] or record["provider"]["domain"])
                      or "unknown source"})
        summary = "\n\n".join(filter(None, (record.get("excerpt"), notes.get(record["id"]) and
                                              "Note: " + notes[record["id"]])))
        if summary:
            entry.summary(_text(summary))  # text, escaped: a note's markup stays words
        for topic in record.get("topics") or ():
            entry.category(term=_text(topic))
    response = Response(fg.atom_str(pretty=True), mimetype="application/atom+xml")
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.errorhandler(BadRequest)
def _bad_request(exc):
    """A feed asked with a parameter it cannot be answered with: the reason in plain words
    (a feed reader shows the text of an error, and has no use for JSON or a page)."""
    return _plain(f"This feed cannot be made: {exc}", 400)


@bp.errorhandler(store.IndexProblem)
def _no_index(exc):
    return _plain(problem_text(exc), 503)


def _plain(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _describe(req: SearchRequest) -> str:
    parts = [f"“{req.q}”" if req.q else "all records"]
    parts += [f"{k}: {', '.join(v)}" for k, v in req.filters.items()]
    if req.date_from or req.date_to:
        parts.append(f"{req.date_from or '…'} to {req.date_to or '…'}")
    if req.story:
        parts.append(f"story {req.story}")
    return "; ".join(parts)


def _notes(ids: list[str]) -> dict[str, str]:
    """The workspace's notes on these records (none on a read-only site, or when the
    workspace cannot be read: the feed goes on without them)."""
    kept = workspace()
    try:
        return kept.notes_of(ids) if kept is not None else {}
    except WorkspaceProblem:
        return {}


def _text(value) -> str:
    return _NOT_XML.sub("", str(value or ""))[:2000]
