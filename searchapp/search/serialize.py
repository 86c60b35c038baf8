"""The JSON shape of a search result: the stable contract of /api/search and `searchapp search --json`."""

from __future__ import annotations

from typing import Any

from .results import Hit, QuerySummary, SearchResult
from .distinctive import Terms
from .timeline import Timeline


def hit_to_json(hit: Hit) -> dict[str, Any]:
    r = hit.record
    return {
        "id": r["id"],
        "title": r["title"],
        "excerpt": r["excerpt"],
        "url": r["url"],
        "provider": {"name": r["provider"]["name"], "domain": r["provider"]["domain"]},
        "topics": r["topics"],
        "category": r["category"],
        "type": r["type"],
        "kind": r["kind"],
        "published": r["published"],
        "score": round(hit.score, 4) if hit.score is not None else None,
        "highlights": {"title": hit.title_html, "excerpt": hit.excerpt_html},
        "story_id": hit.story_id or None,
        # Grouped by story: the other matches of this hit's story (the first few of them).
        "copies": [{"id": c["id"], "title": c["title"], "url": c["url"],
                    "provider": {"name": c["provider"]["name"], "domain": c["provider"]["domain"]},
                    "published": c["published"]} for c in hit.copies],
        "more_copies": hit.more_copies,
    }


def result_to_json(result: SearchResult) -> dict[str, Any]:
    req = result.request
    return {
        "query": req.q,
        "params": dict_params(req.params()),
        "total": result.total,
        "stories": result.stories,
        "group": "story" if req.grouped else "records",
        "page": req.page,
        "per_page": req.per_page,
        "pages": result.pages,
        "took_ms": result.took_ms,
        "notice": result.notice,
        **({"shards": {"answered": result.shards[0], "total": result.shards[1],
                       "partial": result.partial}} if result.shards else {}),
        "results": [hit_to_json(h) for h in result.hits],
        "facets": {name: [{"value": v.value, "count": v.count, "selected": v.selected}
                          for v in values]
                   for name, values in result.facets.items()},
        "suggestion": result.suggestion,
        "suggestion_total": result.suggestion_total,
        # The results are this correction's ("Showing results for ..."); `literal=1` asks
        # for the words as typed.
        "showing_results_for": result.showing,
        "generation": result.generation,
        "interval": result.timeline.interval if result.timeline else None,
        "timeline": timeline_to_json(result.timeline) if result.timeline else [],
        # Dated matches the timeline leaves out (it spans where most are; span=all: all).
        "timeline_outside": result.timeline.outside if result.timeline else 0,
        "terms": terms_to_json(result.terms),
        "terms_sample": ({"sampled": result.terms.sampled, "size": result.terms.sample_size,
                          "of": result.terms.population} if result.terms else None),
    }


def timeline_to_json(timeline: Timeline) -> list[dict[str, Any]]:
    return [{"start": b.start.date().isoformat(), "end": b.last_day.date().isoformat(),
             "count": b.count, "share": round(b.share, 6)} for b in timeline.buckets]


def terms_to_json(terms: Terms | None) -> list[dict[str, Any]]:
    if terms is None:
        return []
    return [{"term": t.text, "count": t.count, "background": t.background,
             "score": round(t.score, 3)} for t in terms.terms]


def summary_to_json(summary: QuerySummary) -> dict[str, Any]:
    return {"query": summary.request.q, "params": dict_params(summary.request.params()),
            "total": summary.total, "notice": summary.notice,
            "interval": summary.timeline.interval,
            "timeline": timeline_to_json(summary.timeline),
            "top": {name: [{"value": v, "count": c} for v, c in values]
                    for name, values in summary.top.items()}}


def dict_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 and k in ("q", "from", "to", "sort", "match", "page") else v
            for k, v in out.items()}


EXPORT_COLUMNS = ("id", "title", "excerpt", "url", "provider", "domain", "topics", "category",
                  "type", "kind", "published", "published_date", "quality", "cited_by",
                  "related", "story_id")
# On every exported row: the search that made it (a URL that redoes it) and what it was.
EXPORT_SOURCE = ("export_search", "export_note")


def record_to_row(r: dict[str, Any]) -> list[str]:
    """One CSV row; list fields joined with '; '. `published_date` is the day alone, which a
    spreadsheet reads as a date and sorts; `published` keeps the exact ISO timestamp."""
    return [r["id"], r["title"], r["excerpt"], r["url"] or "", r["provider"]["name"],
            r["provider"]["domain"], "; ".join(r["topics"]), r["category"], r["type"], r["kind"],
            r["published"] or "", (r["published"] or "")[:10],
            "" if r["quality"] is None else str(r["quality"]),
            "; ".join(r["cited_by"]), "; ".join(r["related"]), r.get("story_id", "")]


def record_to_export(r: dict[str, Any]) -> dict[str, Any]:
    """One JSON Lines record: every field we index and show (never `secured`, never paths)."""
    return {k: v for k, v in r.items() if k != "sources"}


def status_to_json(status) -> dict[str, Any]:
    """`/api/status`: the index, its last run, the files refused, the watcher."""
    stats = status.stats
    return {
        "records": stats.records if stats else None,
        "generation": stats.generation if stats else None,
        "updated": stats.updated.isoformat() if stats and stats.updated else None,
        "problem": status.problem,
        "last_run": {"summary": status.last_run,
                     "ended": status.last_run_at.isoformat() if status.last_run_at else None},
        "refused": [{"file": path, "line": line, "reason": message}
                    for path, line, message in status.refused],
        "refused_total": status.refused_total,
        "watching": status.watching,
        "watching_since": status.watching_since.isoformat() if status.watching_since else None,
        "pending": status.pending,
        "watch_problem": status.watch_problem,
        "watch_problem_at": status.watch_problem_at.isoformat() if status.watch_problem_at
        else None,
        **({"cluster": {"answering": status.cluster[0], "shards": status.cluster[1],
                        "nodes": status.cluster[2]}} if status.cluster else {}),
    }
