"""A pasted list of records: one a line, each a record id (16 hex digits) or the URL of an
article, which names its record as the indexer names it (the id is made from the canonical
URL: ingest/seeds.py)."""

from __future__ import annotations

import hashlib
import re

from ..ingest.clean import canonical_url

RECORD_ID = re.compile(r"[0-9a-f]{16}\Z")


def id_of_url(url: str) -> str:
    """The id the indexer gives the record of an article at `url`."""
    return hashlib.sha1(("url:" + canonical_url(url)).encode("utf-8")).hexdigest()[:16]


def read_list(text: str, most: int) -> tuple[list[str], list[str]]:
    """(the ids the lines name, in order and once each; the lines that name none), at most
    `most` lines read."""
    ids: list[str] = []
    unread: list[str] = []
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    for line in lines[:most]:
        if RECORD_ID.match(line.lower()):
            rid = line.lower()
        elif re.match(r"https?://\S+\Z", line, re.IGNORECASE):
            rid = id_of_url(line)
        else:
            unread.append(line[:200])
            continue
        if rid not in ids:
            ids.append(rid)
    return ids, unread
