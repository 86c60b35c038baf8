"""The peer both benchmarks run beside searchapp: SQLite FTS5 (stdlib sqlite3) over the same seeds.

Why a peer: a time alone says little about whether searchapp is slow; the same machine doing
comparable work with the obvious embedded alternative gives it a scale. The peer does what
searchapp does, in SQL: one row per article (a seed and each related entry, merged by URL
with the seed's data winning), words of title, excerpt, body, source and topics searched with
stemming, bm25 ranking weighted like searchapp's field boosts, highlighted snippets, a total,
and disjunctive provider and topic facet counts over the matches.
Not a script: bench_index.py and bench_search.py import it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import yaml

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs(id INTEGER PRIMARY KEY, url TEXT UNIQUE, kind TEXT, title TEXT,
    excerpt TEXT, source TEXT, topic TEXT, provider TEXT, published TEXT, body TEXT);
CREATE TABLE IF NOT EXISTS doc_topics(doc_id INTEGER, topic TEXT);
CREATE INDEX IF NOT EXISTS doc_topics_doc ON doc_topics(doc_id);
CREATE INDEX IF NOT EXISTS doc_topics_topic ON doc_topics(topic, doc_id);
CREATE INDEX IF NOT EXISTS docs_published ON docs(published);
CREATE INDEX IF NOT EXISTS docs_provider ON docs(provider);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, excerpt, source, topic, body,
    content='docs', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
"""
WEIGHTS = "3.0, 1.0, 1.0, 1.5, 1.0"  # searchapp's FIELD_WEIGHTS: title, excerpt, source, topic, body
FTS_COLUMNS = ("title", "excerpt", "source", "topic", "body")


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the schema in place."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.executescript(SCHEMA)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS m(doc INTEGER PRIMARY KEY)")
    return conn


def read_seed(path: Path) -> dict | None:
    """The front matter of one seed file, parsed with libyaml's safe loader, and its body
    (the text after it, as written: `body`); None if unusable."""
    text = Path(path).read_text(encoding="utf-8-sig")
    parts = text.split("\n---", 1)
    if not text.startswith("---") or len(parts) < 2:
        return None
    data = yaml.load(parts[0][3:], Loader=yaml.CSafeLoader)
    if not (isinstance(data, dict) and data.get("title")):
        return None
    data["body"] = parts[1].partition("\n")[2].strip()
    return data


def _row(entry: dict, kind: str, topics: list[str], fallback: str = "") -> dict | None:
    url = entry.get("webUrl") or entry.get("originalUrl") or fallback
    if not url or not entry.get("title"):
        return None
    provider = entry.get("provider") or {}
    name, domain = str(provider.get("name") or ""), str(provider.get("domain") or "")
    when = entry.get("publishedDateTime") or ""
    if isinstance(when, datetime):  # unquoted in the file: YAML reads a timestamp
        when = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"url": url, "kind": kind, "title": str(entry["title"]),
            "excerpt": str(entry.get("excerpt") or ""), "source": f"{name} {domain}".strip(),
            "topic": " ; ".join(topics), "provider": name,
            "published": str(when), "topics": topics,
            "body": str(entry.get("body") or "") if kind == "seed" else ""}


def rows(doc: dict, path: str = "") -> Iterable[dict]:
    """The seed's row, then one per related entry; a seed without a URL is keyed by its
    file's `path`, as searchapp keys it (a related entry without one is left out)."""
    topics = [str(t) for t in doc.get("topics") or []]
    for entry, kind, tops in [(doc, "seed", topics)] + [(r, "related", []) for r in
                                                         doc.get("related") or []
                                                         if isinstance(r, dict)]:
        row = _row(entry, kind, tops, f"path:{path}" if kind == "seed" and path else "")
        if row is not None:
            yield row


def load(conn: sqlite3.Connection, paths: Iterable[Path]) -> int:
    """Add the articles of these seed files in one transaction; return how many rows changed."""
    changed = 0
    conn.execute("BEGIN")
    try:
        for path in paths:
            doc = read_seed(path)
            for row in rows(doc, str(path)) if doc else ():
                changed += _upsert(conn, row)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return changed


def _upsert(conn: sqlite3.Connection, row: dict) -> int:
    """Insert a new article; replace a related-entry row by the seed's row; else keep the first."""
    old = conn.execute("SELECT id, kind, title, excerpt, source, topic, body FROM docs WHERE url = ?",
                       (row["url"],)).fetchone()
    if old is not None and not (row["kind"] == "seed" and old[1] == "related"):
        return 0
    values = (row["kind"], row["title"], row["excerpt"], row["source"], row["topic"],
              row["provider"], row["published"], row["body"])
    if old is None:
        doc_id = conn.execute("INSERT INTO docs(kind, title, excerpt, source, topic, provider, "
                              "published, body, url) VALUES (?,?,?,?,?,?,?,?,?)",
                              values + (row["url"],)).lastrowid
    else:
        doc_id = old[0]
        conn.execute("INSERT INTO fts(fts, rowid, title, excerpt, source, topic, body) "
                     "VALUES ('delete', ?, ?, ?, ?, ?, ?)", old[:1] + old[2:])
        conn.execute("UPDATE docs SET kind=?, title=?, excerpt=?, source=?, topic=?, provider=?, "
                     "published=?, body=? WHERE id=?", values + (doc_id,))
    conn.execute("INSERT INTO fts(rowid, title, excerpt, source, topic, body) VALUES (?,?,?,?,?,?)",
                 (doc_id, row["title"], row["excerpt"], row["source"], row["topic"], row["body"]))
    conn.executemany("INSERT INTO doc_topics(doc_id, topic) VALUES (?, ?)",
                     [(doc_id, t) for t in dict.fromkeys(row["topics"])])
    return 1


def _conditions(filters: dict[str, str], skip: str | None = None) -> tuple[str, list[str]]:
    sql, args = [], []
    for facet, value in filters.items():
        if facet == skip:
            continue
        if facet == "provider":
            sql.append("d.provider = ?")
        elif facet == "topic":
            sql.append("d.id IN (SELECT doc_id FROM doc_topics WHERE topic = ?)")
        else:
            raise ValueError(f"no {facet} filter in the peer")
        args.append(value)
    return (" AND " + " AND ".join(sql) if sql else ""), args


def search(conn: sqlite3.Connection, match: str, filters: dict[str, str],
           limit: int = 20) -> dict:
    """One page of hits, the total, and provider and topic counts, as searchapp answers a search.

    `match` is an FTS5 query ("" browses everything, newest first). Matches are collected
    once into a temp table; each facet is counted with the other facets' filters only.
    """
    if match:
        conn.execute("DELETE FROM temp.m")
        conn.execute("INSERT INTO temp.m SELECT rowid FROM fts WHERE fts MATCH ?", (match,))
        # CROSS JOIN keeps the matches as the outer loop: the planner has no statistics
        # for temp.m and would otherwise scan every document and probe the matches.
        base = "temp.m CROSS JOIN docs d ON d.id = temp.m.doc"
    else:
        base = "docs d"
    where, args = _conditions(filters)
    total = conn.execute(f"SELECT count(*) FROM {base} WHERE 1{where}", args).fetchone()[0]
    facets = {}
    for facet, column, join in (("provider", "d.provider", ""),
                                ("topic", "t.topic", " CROSS JOIN doc_topics t ON t.doc_id = d.id")):
        cond, cargs = _conditions(filters, skip=facet)
        facets[facet] = conn.execute(
            f"SELECT {column}, count(*) AS n FROM {base}{join} WHERE {column} != ''{cond} "
            f"GROUP BY {column} ORDER BY n DESC, {column} LIMIT 500", cargs).fetchall()
    if match:
        hits = conn.execute(
            "SELECT d.id, d.url, d.provider, d.published, "
            "snippet(fts, 0, '<mark>', '</mark>', '…', 64), "
            "snippet(fts, 1, '<mark>', '</mark>', '…', 64), "
            "snippet(fts, 4, '<mark>', '</mark>', '…', 24), "
            f"bm25(fts, {WEIGHTS}) AS score FROM fts JOIN docs d ON d.id = fts.rowid "
            f"WHERE fts MATCH ?{where} ORDER BY score LIMIT ?", [match, *args, limit]).fetchall()
    else:
        hits = conn.execute(f"SELECT d.id, d.url, d.provider, d.published, d.title, d.excerpt "
                            f"FROM docs d WHERE 1{where} ORDER BY d.published DESC LIMIT ?",
                            [*args, limit]).fetchall()
    return {"total": total, "hits": hits, "facets": facets}


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM docs").fetchone()[0]
