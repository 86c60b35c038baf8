"""Merging the drafts every seed file gives of one article into the one record the index holds.

An article can be a seed in one file and a related entry in others: it is one record (the
seed's data wins, the citing seeds are kept as `cited_by`). The merge depends only on the
set of drafts, never on the order files were read, so an incremental run and a full
rebuild give the same record.
"""

from __future__ import annotations

from typing import Any, Iterable

from .problems import Problem
from .seeds import ParsedSeed

TEXT_FIELDS = ("title", "excerpt", "category", "type", "published", "quality", "heat",
               "published_flag")


def draft_order(draft: dict[str, Any]) -> tuple:
    """Seeds before related entries, then by file and position: the same order on every run."""
    return (draft["kind"] != "seed", draft["source"], draft["position"], draft["id"])


def file_drafts(parsed: ParsedSeed) -> list[dict[str, Any]]:
    """Drafts as plain dicts (what the index stores), each knowing which seed cites it."""
    seed_id = parsed.drafts[0].id
    # Not dataclasses.asdict: its deep copy was a sixth of reading a seed file, and a
    # parsed file's values are not shared with anything.
    return [{"id": d.id, "kind": d.kind, "source": d.source, "position": d.position,
             "fields": d.fields, "related": list(d.related),
             "cited_by": seed_id if d.kind == "related" else None}
            for d in parsed.drafts]


def build(record_id: str, drafts: Iterable[dict[str, Any]]) -> tuple[dict[str, Any] | None,
                                                                     list[Problem]]:
    """The record for `record_id` from all drafts of it, and any duplicate-seed warnings."""
    ordered = sorted((d for d in drafts if d["id"] == record_id), key=draft_order)
    if not ordered:
        return None, []
    lead = ordered[0]
    record: dict[str, Any] = {"id": record_id, "kind": lead["kind"]}
    for name in TEXT_FIELDS:
        record[name] = next((d["fields"][name] for d in ordered
                             if d["fields"][name] not in (None, "")), lead["fields"][name])
    body = next((d["fields"]["body"] for d in ordered if d["fields"].get("body")), None)
    if body:  # the article's own text (a seed's); a record without one has no key for it
        record["body"] = body
    record["provider"] = next((d["fields"]["provider"] for d in ordered
                               if d["fields"]["provider"]["name"]), lead["fields"]["provider"])
    record["topics"] = _union(t for d in ordered for t in d["fields"]["topics"])
    urls: dict[str, str] = {}
    for d in reversed(ordered):
        urls.update(d["fields"]["urls"])
    record["urls"] = urls
    record["url"] = urls.get("web") or urls.get("original") or urls.get("amp")
    record["images"] = next((d["fields"]["images"] for d in ordered if d["fields"]["images"]), [])
    record["related"] = _union(r for d in ordered if d["kind"] == "seed" for r in d["related"])
    record["cited_by"] = sorted({d["cited_by"] for d in ordered if d["cited_by"]})
    record["sources"] = sorted({d["source"] for d in ordered})
    seeds = [d for d in ordered if d["kind"] == "seed"]
    problems = [Problem(d["source"], None,
                        f"same URL as {lead['source']}: indexed as one record "
                        f"with the data of {lead['source']}")
                for d in seeds[1:] if d["source"] != lead["source"]]
    return record, problems


def _union(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
