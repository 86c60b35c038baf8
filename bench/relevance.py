"""Ranking quality: searchapp's real search path against SQLite FTS5 on judged test collections.

Why: the speed benchmarks say how fast searchapp answers, not whether it puts the right
articles first. Cranfield (1,400 aeronautics abstracts, 225 queries, graded judgements) and
CISI (1,460 library-science abstracts, 76 judged queries, binary) come with human relevance
judgements (../shared/corpora/ir/, see its README), so ranking can be measured, and SQLite
FTS5's bm25 over the same documents in the same run says what an obvious embedded
alternative scores on them.

How: each document is written as a seed file (title, excerpt = the full text, a synthetic
webUrl that carries the doc id, provider = the collection) and indexed by Indexer; each query,
reduced to a plain bag of words, is searched with SearchIndex.search(match="any",
typing=False, per_page=100, terms=False: distinctive terms do not change the ranking). The
peer reads the same seed files into FTS5 (title, text; porter unicode61) and ranks an OR of
the quoted words by bm25 with weights 3.0 (title) and 1.0 (text), as searchapp boosts them.
Metrics over queries with at least one relevant judgement: MAP over the top 100 (divided by
all relevant documents), nDCG@10 (linear gains: the grade for Cranfield, where grade >= 1 is
relevant; 1 for CISI) and P@10. Cranfield's original scale runs the other way (1 = complete
answer, 4 = minimum interest; BM25 puts grade-1 documents highest), so its table also shows
nDCG@10 with gain 5 - grade.

    .venv/bin/python bench/relevance.py [--collection cranfield|cisi|all] [--keep DIR]

--keep DIR leaves the seeds, the index and the SQLite file in DIR (else a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fts_peer

from bench_index import machine  # noqa: E402
from fts_peer import read_seed  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "ir"
COLLECTIONS = ("cranfield", "cisi")
TOP = 100
GAINS = {"grade": lambda g: g, "5-grade": lambda g: 5 - g, "binary": lambda g: 1}
# A common English stop list (Whoosh's, which is the usual Lucene/Snowball one).
from whoosh.analysis import STOP_WORDS as ENGLISH_STOP_WORDS  # noqa: E402

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")  # what searchapp's query.py calls a word


def load(name: str) -> tuple[list[dict], list[tuple[str, str]], dict[str, dict[str, int]]]:
    """Documents, (query id, text) in file order, and judgements {qid: {doc_id: grade}}."""
    folder = CORPORA / name
    docs = [json.loads(line) for line in (folder / "docs.jsonl").open(encoding="utf-8")]
    queries = [(str(q["query_id"]), q["text"]) for q in
               map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))]
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels.tsv").open(encoding="utf-8"):
        if line.strip():
            qid, _, doc_id, grade = line.split()
            qrels.setdefault(qid, {})[doc_id] = int(grade)
    return docs, queries, qrels


def url_of(name: str, doc_id: str) -> str:
    return f"https://{name}.example/doc/{doc_id}"


def write_seeds(name: str, docs: list[dict], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        text = " ".join(doc["text"].split())
        title = " ".join(doc["title"].split()) or " ".join(text.split()[:12]) or "untitled"
        front = {"title": title, "excerpt": text, "webUrl": url_of(name, doc["doc_id"]),
                 "type": "article", "provider": {"name": name}}
        body = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10**6)
        (folder / f"{name}_{int(doc['doc_id']):05d}.txt").write_text(f"---\n{body}---\n",
                                                                     encoding="utf-8")


def safe_words(text: str) -> list[str]:
    """The query's words, lower-cased: no quotes, brackets, field:, * ? ~ ^ + -, AND/OR/NOT."""
    return [w.lower() for w in WORD.findall(text)]


def run_searchapp(seeds: Path, root: Path, queries, doc_of_url) -> tuple[dict, float, float]:
    summary = Indexer(Settings(seeds=seeds, index=root)).run(full=True)
    if summary.rejected or summary.added != len(doc_of_url):
        raise SystemExit(f"searchapp indexed {summary.added} of {len(doc_of_url)} documents "
                         f"({summary.rejected} rejected: {summary.errors[:3]})")
    index = SearchIndex(root)
    ranked = {}
    started = time.perf_counter()
    for qid, text in queries:
        words = " ".join(safe_words(text))
        if not words:  # an empty query would browse everything, newest first
            ranked[qid] = []
            continue
        req = SearchRequest(q=words, match="any", typing=False, per_page=TOP)
        result = index.search(req, terms=False)
        ranked[qid] = [doc_of_url[h.record["url"]] for h in result.hits]
    took = time.perf_counter() - started
    index.close()
    return ranked, summary.seconds, took


# SQLite FTS5 set up the ways one reasonably would: title and text as two columns weighted
# 3:1 (as searchapp weighs them) or as one column, each with the query's stop words kept or
# left out (FTS5 has no stop list of its own). searchapp is compared with the best of them.
FTS5_SETUPS = {
    "fts5 title+text": (True, False),
    "fts5 title+text, no stop words": (True, True),
    "fts5 one column": (False, False),
    "fts5 one column, no stop words": (False, True),
}


def run_fts5(seeds: Path, db: Path, queries, doc_of_url, two_columns: bool = True,
             drop_stop_words: bool = False) -> tuple[dict, float, float]:
    if db.exists():
        db.unlink()
    started = time.perf_counter()
    conn = sqlite3.connect(str(db), isolation_level=None)
    columns = "title, text" if two_columns else "text"
    conn.execute(f"CREATE VIRTUAL TABLE fts USING fts5({columns}, url UNINDEXED, "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("BEGIN")
    for path in sorted(seeds.iterdir()):
        seed = read_seed(path)
        title, text = str(seed["title"]), str(seed.get("excerpt") or "")
        values = (title, text) if two_columns else (f"{title}\n{text}",)
        conn.execute(f"INSERT INTO fts({columns}, url) VALUES ({', '.join('?' * len(values))}, ?)",
                     (*values, seed["webUrl"]))
    conn.execute("COMMIT")
    indexed = time.perf_counter() - started
    ranked = {}
    started = time.perf_counter()
    rank = "bm25(fts, 3.0, 1.0)" if two_columns else "bm25(fts)"
    for qid, text in queries:
        # Each word once: FTS5 counts a repeated word again, Whoosh does not.
        words = [w for w in dict.fromkeys(safe_words(text))
                 if not (drop_stop_words and w.lower() in ENGLISH_STOP_WORDS)]
        match = " OR ".join(f'"{w}"' for w in words)
        rows = conn.execute(f"SELECT url FROM fts WHERE fts MATCH ? ORDER BY {rank} LIMIT ?",
                            (match, TOP)).fetchall() if match else []
        ranked[qid] = [doc_of_url[url] for (url,) in rows]
    took = time.perf_counter() - started
    conn.close()
    return ranked, indexed, took


def scores(ranked: list[str], gain: dict[str, float]) -> dict[str, float]:
    """Average precision over the ranking, nDCG@10 and P@10 for one query; gain: relevant docs."""
    hits, precisions = 0, []
    for rank, doc in enumerate(ranked[:TOP], start=1):
        if doc in gain:
            hits += 1
            precisions.append(hits / rank)
    dcg = sum(gain.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:10], 1))
    ideal = sum(g / math.log2(rank + 1)
                for rank, g in enumerate(sorted(gain.values(), reverse=True)[:10], 1))
    return {"MAP": sum(precisions) / len(gain), "nDCG@10": dcg / ideal,
            "P@10": sum(1 for doc in ranked[:10] if doc in gain) / 10}


def mean_scores(ranked: dict[str, list[str]], qrels, gains: str) -> dict[str, float]:
    gain_of = GAINS[gains]
    rows = [scores(ranked.get(qid, []), {d: gain_of(g) for d, g in judged.items() if g >= 1})
            for qid, judged in qrels.items()]
    return {m: sum(r[m] for r in rows) / len(rows) for m in ("MAP", "nDCG@10", "P@10")}


def evaluate(name: str, work: Path) -> None:
    docs, queries, qrels = load(name)
    qrels = {qid: j for qid, j in qrels.items() if any(g >= 1 for g in j.values())}
    queries = [(qid, text) for qid, text in queries if qid in qrels]
    missing = set(qrels) - {qid for qid, _ in queries}
    if missing:
        raise SystemExit(f"{name}: judgements for unknown queries {sorted(missing)[:5]}")
    doc_of_url = {url_of(name, d["doc_id"]): d["doc_id"] for d in docs}
    seeds = work / name / "seeds"
    write_seeds(name, docs, seeds)
    ours, ours_index, ours_query = run_searchapp(seeds, work / name / "index", queries,
                                                 doc_of_url)
    peers = {label: run_fts5(seeds, work / name / "fts5.sqlite", queries, doc_of_url, *setup)
             for label, setup in FTS5_SETUPS.items()}
    graded = name == "cranfield"
    gains = "grade" if graded else "binary"
    metrics = [(f"MAP (top {TOP})", "MAP", gains), ("nDCG@10", "nDCG@10", gains)]
    if graded:  # in Cranfield's own scale 1 is "complete answer", 4 "minimum interest"
        metrics.append(("nDCG@10, gain 5-grade", "nDCG@10", "5-grade"))
    metrics.append(("P@10", "P@10", gains))
    print(f"\n{name}: {len(docs)} documents, {len(queries)} queries with relevant judgements "
          f"({'gain = grade' if graded else 'binary gains'})")
    labels = ["searchapp", *peers]
    print(f"  {'metric':<22}" + "".join(f"{l:>32}" for l in labels) + f"{'vs best fts5':>14}")
    for label, metric, gain in metrics:
        values = [mean_scores(ours, qrels, gain)[metric]] + \
                 [mean_scores(peer[0], qrels, gain)[metric] for peer in peers.values()]
        print(f"  {label:<22}" + "".join(f"{v:>32.4f}" for v in values)
              + f"{values[0] - max(values[1:]):>+14.4f}")
    print(f"  {'index, s':<22}{ours_index:>32.2f}"
          + "".join(f"{peer[1]:>32.2f}" for peer in peers.values()))
    print(f"  {'all queries, s':<22}{ours_query:>32.2f}"
          + "".join(f"{peer[2]:>32.2f}" for peer in peers.values()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--collection", choices=COLLECTIONS + ("all",), default="all")
    ap.add_argument("--keep", type=Path, help="leave seeds, index and SQLite file in this folder")
    args = ap.parse_args(argv)
    if not CORPORA.is_dir():
        print(f"no test collections at {CORPORA}", file=sys.stderr)
        return 2
    names = COLLECTIONS if args.collection == "all" else (args.collection,)
    print(machine())
    print("vs best fts5 = searchapp - the best of the FTS5 setups on that metric; index time "
          "includes reading the seed files on both sides (searchapp also parses and cleans "
          "them); queries run one at a time")
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        work = args.keep or Path(tmp)
        for name in names:
            evaluate(name, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
