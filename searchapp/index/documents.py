"""A record as the Whoosh document the schema describes: merged from its drafts, with its
story signature, its dates and ids as numbers, and the drafts kept to merge it again.

The one place a document is made, by an incremental run and a full build alike (so the two
give the same index).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ..ingest import records
from ..ingest.problems import Problem
from . import stories
from .schema import NO_DATE, TOPIC_SEPARATOR, id_key, source_token


def merge(record_id: str, drafts: list[dict | str], seen: int
          ) -> tuple[dict | None, list[Problem]]:
    """The Whoosh document of one record from its drafts (None when they make no record);
    `seen`: when it first entered the index."""
    drafts = [json.loads(d) if isinstance(d, str) else d for d in drafts]
    record, problems = records.build(record_id, drafts)
    if record is None:
        return None, problems
    return to_document(record, sorted(drafts, key=records.draft_order), seen), problems


def timestamp(iso: str | None) -> int:
    """A record's date as the `c_date` column holds it (seconds; NO_DATE for none)."""
    if not iso:
        return NO_DATE
    return int(datetime.fromisoformat(iso).timestamp())


def record_hash(record: dict[str, Any]) -> str:
    """What a run compares to tell a record that changed from one merged again the same."""
    return hashlib.sha1(json.dumps(record, sort_keys=True).encode("utf-8")).hexdigest()


LEAD_CHARS = 2000  # of a body, standing in for the excerpt a record lacks (an abstract)


def lead_of(record: dict[str, Any]) -> str:
    """The excerpt, or when there is none the start of the body: what a record's story
    signature is made of (two articles with one headline and no excerpt are not one story)."""
    body = record.get("body") or ""
    if record["excerpt"] or not body:
        return record["excerpt"]
    cut = body[:LEAD_CHARS]
    return cut.rsplit(" ", 1)[0] if len(body) > LEAD_CHARS and " " in cut else cut


def to_document(record: dict[str, Any], drafts: list[dict[str, Any]], seen: int) -> dict[str, Any]:
    """The Whoosh document for one merged record; `drafts` lets a later run rebuild it;
    `seen` is when the record first entered the index (kept across runs and rebuilds)."""
    provider = record["provider"]
    body = {"body": record["body"], "written_body": record["body"]} if record.get("body") else {}
    return {**body,
        "id": record["id"],
        "title": record["title"],
        "excerpt": record["excerpt"],
        "written": f"{record['title']}\n{record['excerpt']}",
        "source": " ".join(filter(None, (provider["name"], provider["domain"]))),
        "topic": " ; ".join(record["topics"]),
        "category": record["category"] or None,
        "type": record["type"] or None,
        "kind": record["kind"],
        "sources": " ".join(source_token(s) for s in record["sources"]),
        "c_topic": TOPIC_SEPARATOR.join(record["topics"]).encode("utf-8"),
        "c_provider": provider["name"].encode("utf-8"),
        "c_category": record["category"].encode("utf-8"),
        "c_type": record["type"].encode("utf-8"),
        "c_kind": record["kind"].encode("utf-8"),
        "c_date": timestamp(record["published"]),
        "c_quality": record["quality"] or 0,
        "c_idkey": id_key(record["id"]),
        "c_minhash": stories.signature(record["title"], lead_of(record)),
        "c_seen": seen,
        "seen": seen,
        "data": json.dumps(record, ensure_ascii=False, sort_keys=True),
        "drafts": json.dumps(drafts, ensure_ascii=False, sort_keys=True),
        "hash": record_hash(record),
    }
