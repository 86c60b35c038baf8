"""What every template may use (the URL makers, facet labels, the footer's figures, `ago`)
and the search's attention chart, whose bars are links."""

from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import urlencode

from markupsafe import Markup

from ..index.schema import FACETS
from ..search.marks import MARK_KINDS, NONE_OF
from ..search.request import SearchRequest
from ..workspace import WorkspaceProblem
from .charts import Chart, attention_chart
from .guard import masked_token
from .handle import search_index, settings, workspace
from .links import compare_url, facet_url, feed_url, linked, search_url, toggle_url

FACET_LABELS = {"topic": "Topics", "provider": "Sources", "category": "Categories",
                "type": "Types", "year": "Years", "kind": "Record kind",
                "collection": "Collections", "tag": "Tags"}


def template_helpers() -> dict:
    """The app's context processor: the same names on every page, whichever blueprint."""
    cfg = settings()
    return {"search_url": search_url, "toggle_url": toggle_url, "facet_url": facet_url,
            "compare_url": compare_url, "feed_url": feed_url, "linked": linked,
            "facet_labels": FACET_LABELS, "max_page": cfg.max_page,
            "facet_names": FACETS + (() if cfg.read_only else MARK_KINDS),
            "keeping": not cfg.read_only, "csrf_token": masked_token,
            "collect_max": cfg.collect_max, "collection_names": collection_names,
            "mark_label": mark_label, "workspace_problem": workspace_problem,
            "facet_size": cfg.facet_size,
            "facet_page_max": cfg.facet_page_max,
            "facet_max": cfg.facet_max,
            "max_wildcard_terms": cfg.max_wildcard_terms,
            "highlighted": lambda html: Markup(html),  # already sanitised by bleach
            "index_footer": footer, "ago": ago, "urlencode": urlencode}


def collection_names() -> list[str]:
    """The workspace's collections, for the forms that add to one (once per page)."""
    from flask import g
    if "collection_names" not in g:
        try:
            g.collection_names = [c["name"] for c in workspace().collections()]
        except (WorkspaceProblem, AttributeError):
            g.collection_names = []
    return g.collection_names


DAMAGED = ("The workspace cannot be read: saved searches, the history, collections, tags and "
           "notes are unavailable, and search goes on without them. `searchapp check` says "
           "what is wrong.")


def workspace_problem() -> str:
    """That the workspace cannot be read, said without where it lives on disk (empty: it
    can, or there is none)."""
    found = workspace()
    return DAMAGED if found is not None and found.problem else ""


def mark_label(facet: str, value: str) -> str:
    """A collection or tag filter value as the page says it (`-*`: not tagged yet)."""
    if facet not in MARK_KINDS:
        return value
    if value == NONE_OF:
        return "Not tagged yet" if facet == "tag" else "In no collection"
    if value == "*":
        return "Any"
    return f"not {value[1:]}" if value.startswith("-") else value


def footer():
    """The footer's figures (records, when updated, files refused), or none: an error page
    must render whatever state the index is in."""
    try:
        return search_index().status()
    except Exception:
        return None


def ago(moment: datetime | None) -> str:
    """`2 min ago`, as a reader scanning a footer wants it (the exact time goes in a title)."""
    if moment is None:
        return "at an unknown time"
    seconds = max(0, int((datetime.now(timezone.utc) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return "just now"


_FIRST, _LAST = date(1, 1, 1), date(1, 1, 2)  # stand-ins for a period's days in a URL


def attention(result, req: SearchRequest) -> Chart:
    """The timeline as a chart whose bars narrow the search to their period. A chart has up
    to hundreds of bars, so the URL is made once, with stand-ins where the days go."""
    url = search_url(linked(req), date_from=_FIRST, date_to=_LAST, page=1)
    head, rest = url.split(f"from={_FIRST.isoformat()}", 1)
    middle, tail = rest.split(f"to={_LAST.isoformat()}", 1)
    return attention_chart(
        result.timeline, req.scale,
        lambda b: f"{head}from={b.start.date().isoformat()}{middle}"
                  f"to={b.last_day.date().isoformat()}{tail}", counted=req.count)
