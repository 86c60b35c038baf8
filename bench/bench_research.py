"""What the research views add to a search: the timeline and the distinctive words.

Over the real news corpora (~41k records, converted by convert_news.py) by default. For each
query of a fixed mix, searchapp's own per-phase timings (SearchResult.timings, measured
inside SearchIndex.search with one shared searcher) give what the timeline and the terms
cost; beside them, in the same run, SQLite FTS5 does the same work over the same records:
a GROUP BY over the matches' dates for the timeline, and for the terms the words of (up to)
500 sampled matches counted in Python against document frequencies from an fts5vocab table.

    .venv/bin/python bench/bench_research.py [--seeds DIR] [--index DIR] [--runs 10]
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import machine  # noqa: E402
from convert_news import convert  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.index.analysis import NOISE  # noqa: E402
from searchapp.search.distinctive import SAMPLE  # noqa: E402

QUERIES = ["oil prices", "interest rates", "election", "football", "trump", "\"stock market\"",
           "government OR minister", "technology", "bank", "strike", "coffee", "dollar"]
WORD = re.compile(r"\w+")


def load_peer(seeds: Path, db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.executescript("""
        CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, excerpt TEXT, source TEXT,
                          topic TEXT, published TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(title, excerpt, source, topic, content='docs',
            content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
        CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');
        CREATE TABLE df(term TEXT PRIMARY KEY, n INTEGER);""")
    conn.execute("BEGIN")
    for path in sorted(seeds.rglob("*.txt")):
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text.split("\n---", 1)[0][3:], Loader=yaml.CSafeLoader) or {}
        provider = data.get("provider") or {}
        conn.execute("INSERT INTO docs(title, excerpt, source, topic, published) VALUES (?,?,?,?,?)",
                     (data.get("title", ""), data.get("excerpt", ""),
                      f"{provider.get('name', '')} {provider.get('domain', '')}",
                      " ; ".join(data.get("topics") or []), str(data.get("publishedDateTime") or "")))
    conn.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    conn.execute("COMMIT")
    return conn


def peer_timeline(conn, match: str) -> list:
    return conn.execute(
        "SELECT substr(d.published, 1, 7) AS m, count(*) FROM fts JOIN docs d ON d.id = fts.rowid "
        "WHERE fts MATCH ? AND d.published != '' GROUP BY m ORDER BY m", (match,)).fetchall()


def peer_terms(conn, match: str, total_docs: int) -> list:
    """Log-likelihood of unstemmed words in up to SAMPLE matches vs all documents."""
    ids = [r[0] for r in conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (match,))]
    if not ids:
        return []
    chosen = random.Random(0).sample(ids, min(SAMPLE, len(ids)))
    present: Counter = Counter()
    for title, excerpt in conn.execute(
            f"SELECT title, excerpt FROM docs WHERE id IN ({','.join('?' * len(chosen))})", chosen):
        present.update(set(WORD.findall(f"{title} {excerpt}".lower())))
    scale, rest, scored = len(ids) / len(chosen), total_docs - len(ids), []
    for word, seen in present.items():
        if seen < 2 or word in NOISE or len(word) < 3:
            continue
        row = conn.execute("SELECT doc FROM vocab WHERE term = ?", (word,)).fetchone()
        background = row[0] if row else seen
        inside = min(seen * scale, background)
        outside = background - inside
        if rest > 0 and inside / len(ids) > outside / rest:
            scored.append((_g2(inside, outside, len(ids), rest), word))
    return sorted(scored, reverse=True)[:20]


def _g2(a, b, size_a, size_b):
    total, with_word = size_a + size_b, a + b
    cells = ((a, size_a * with_word / total), (b, size_b * with_word / total),
             (size_a - a, size_a * (total - with_word) / total),
             (size_b - b, size_b * (total - with_word) / total))
    return 2 * sum(o * math.log(o / e) for o, e in cells if o > 0 and e > 0)


def fts_match(q: str) -> str:
    if " OR " in q or q.startswith('"'):
        return q
    return " AND ".join(q.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, help="seed folder (default: the news corpora, converted)")
    parser.add_argument("--index", type=Path, help="reuse this searchapp index of --seeds")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-research-"))
    seeds = args.seeds
    if seeds is None:
        seeds = work / "seeds"
        written, _, _ = convert(Path(__file__).resolve().parents[2] / "shared" / "corpora" / "news", seeds)
        print(f"converted {written:,} news records into {seeds}")
    index_root = args.index or work / "index"
    if args.index is None:
        print(Indexer(Settings(seeds=seeds, index=index_root)).run(full=True).line())
    conn = load_peer(seeds, work / "peer.db")
    total_docs = conn.execute("SELECT count(*) FROM docs").fetchone()[0]
    index = SearchIndex(index_root)
    print(f"{machine()}; {index.stats().records:,} records")
    ours = {"timeline": [], "terms": [], "search without them": [], "search with them": []}
    peer = {"timeline": [], "terms": []}
    for run in range(args.runs + 1):
        for q in QUERIES:
            result = index.search(SearchRequest(q=q, typing=False))
            started = time.perf_counter()
            peer_timeline(conn, fts_match(q))
            middle = time.perf_counter()
            peer_terms(conn, fts_match(q), total_docs)
            done = time.perf_counter()
            if run == 0:
                continue  # warm-up
            t = result.timings
            ours["timeline"].append(t["timeline"])
            ours["terms"].append(t["terms"])
            ours["search with them"].append(result.took_ms)
            ours["search without them"].append(result.took_ms - t["timeline"] - t["terms"])
            peer["timeline"].append((middle - started) * 1000)
            peer["terms"].append((done - middle) * 1000)
    print(f"\n{len(QUERIES)} queries x {args.runs} runs, ms      searchapp p50/p95     sqlite p50/p95    ratio p50/p95")
    for name, values in ours.items():
        mine = np.percentile(values, [50, 95])
        line = f"{name:<32} {mine[0]:9.1f} {mine[1]:8.1f}"
        if name in peer:
            theirs = np.percentile(peer[name], [50, 95])
            line += f"   {theirs[0]:9.1f} {theirs[1]:8.1f}   {mine[0] / theirs[0]:6.1f} {mine[1] / theirs[1]:6.1f}"
        print(line)
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
