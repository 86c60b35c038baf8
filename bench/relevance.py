"""Ranking quality: searchapp's real search path against two peers on judged test collections.

Why: the speed benchmarks say how fast searchapp answers, not whether it puts the right
articles first. Cranfield (1,400 aeronautics abstracts, 225 queries) and CISI (1,460
library-science abstracts, 76 judged queries) come with human relevance judgements
(../shared/corpora/ir/, see its README), so ranking can be measured; two peers over the same
text in the same run say what the obvious alternatives score on them:

- SQLite FTS5, set up plainly: title and body columns, equal weights, the porter tokenizer,
  an OR of the query's words, ranked by bm25();
- bm25s (Lucene's BM25, k1 1.5, b 0.75, English stop words, Snowball's English stemmer) over
  title and body as one text.

How: each document is written as a seed file (title, a synthetic webUrl that carries the doc
id, provider = the collection, and the abstract as `--text` says: `body`, the default, the
article's text after the front matter; `lead`, its first sentence as the excerpt and the whole
as the body; `excerpt`, the whole as the excerpt, as before bodies) and indexed by Indexer; each query,
reduced to its words, is searched as a user's would be: SearchIndex.search(match="any",
typing=False, per_page=100, terms=False: distinctive terms do not change the ranking), so a
query of more than 25 words is searched as a pasted text. Every document with a grade >= 1
is relevant (Cranfield's grades run from 1, "complete answer", to 4, "minimum interest", so
graded gains would reward the wrong documents): MAP over the top 100 (divided by all relevant
documents) and nDCG@10 with binary gains, over the queries with a relevant judgement. Beside
each comparison, the two-sided p-value of a paired randomisation test over the queries
(each query's difference kept or negated at random, 20,000 rounds, a fixed seed).

    .venv/bin/python bench/relevance.py [--collection cranfield|cisi|all] [--half] [--keep DIR]
                                        [--stemmer NAME] [--corpora DIR]
                                        [--text body|lead|excerpt]

--half scores the first half of each collection's judged queries (in file order) only: the
ranking's tuned choices (engine/ranking.py, index/analysis.py) were chosen on Cranfield's.
--stemmer indexes and searches with another of analysis.STEMMERS (the stemmer comparison).
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

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fts_peer

from bench_index import machine  # noqa: E402
from fts_peer import read_seed  # noqa: E402
from searchapp.index import analysis  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "ir"
COLLECTIONS = ("cranfield", "cisi")
TOP = 100
ROUNDS = 20_000  # of the randomisation test
METRICS = ("MAP@100", "nDCG@10")

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")  # what searchapp's query language calls a word


def load(name: str, half: bool = False, corpora: Path = CORPORA):
    """Documents, (query id, text) in file order for the queries with a relevant judgement,
    and the relevant documents of each query."""
    folder = corpora / name
    docs = [json.loads(line) for line in (folder / "docs.jsonl").open(encoding="utf-8")]
    relevant: dict[str, set[str]] = {}
    for line in (folder / "qrels.tsv").open(encoding="utf-8"):
        if line.strip():
            qid, _, doc_id, grade = line.split()
            if int(grade) >= 1:
                relevant.setdefault(qid, set()).add(doc_id)
    queries = [(str(q["query_id"]), q["text"]) for q in
               map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))
               if str(q["query_id"]) in relevant]
    missing = set(relevant) - {qid for qid, _ in queries}
    if missing:
        raise SystemExit(f"{name}: judgements for unknown queries {sorted(missing)[:5]}")
    if half:
        queries = queries[:len(queries) // 2]
    return docs, queries, relevant


def url_of(name: str, doc_id: str) -> str:
    return f"https://{name}.example/doc/{doc_id}"


def title_of(doc: dict) -> str:
    return " ".join(doc["title"].split()) or " ".join(doc["text"].split()[:12]) or "untitled"


TEXTS = ("body", "lead", "excerpt")  # where the abstract goes (see the docstring)
_FIRST_SENTENCE = re.compile(r"^.+?[.!?](?=\s|$)")


def write_seeds(name: str, docs: list[dict], folder: Path, text: str = "body") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        whole = " ".join(doc["text"].split())
        front = {"title": title_of(doc), "webUrl": url_of(name, doc["doc_id"]),
                 "type": "article", "provider": {"name": name}}
        if text == "excerpt":
            front["excerpt"] = whole
        elif text == "lead":
            lead = _FIRST_SENTENCE.match(whole)
            front["excerpt"] = lead.group(0) if lead else whole
        matter = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=10**6)
        body = f"{whole}\n" if text != "excerpt" else ""
        (folder / f"{name}_{int(doc['doc_id']):05d}.txt").write_text(f"---\n{matter}---\n{body}",
                                                                     encoding="utf-8")


def words_of(text: str) -> list[str]:
    """The query's words, lower-cased: no quotes, brackets, field:, * ? ~ ^ + -, AND/OR/NOT."""
    return [w.lower() for w in WORD.findall(text)]


def build_searchapp(seeds: Path, root: Path, count: int) -> float:
    summary = Indexer(Settings(seeds=seeds, index=root)).run(full=True)
    if summary.rejected or summary.added != count:
        raise SystemExit(f"searchapp indexed {summary.added} of {count} documents "
                         f"({summary.rejected} rejected: {summary.errors[:3]})")
    return summary.seconds


def run_searchapp(root: Path, queries, doc_of_url) -> dict[str, list[str]]:
    """Each query's top 100 through the real path: SearchIndex.search, match=any, with no
    time budget (a 200-word query on a busy machine could be cut short: this measures the
    ranking, not the speed)."""
    index = SearchIndex(root, recent_cache_mb=0, search_budget_ms=0)
    ranked = {}
    try:
        for qid, text in queries:
            words = " ".join(words_of(text))
            req = SearchRequest(q=words, match="any", typing=False, per_page=TOP)
            result = index.search(req, terms=False)
            ranked[qid] = [doc_of_url[h.record["url"]] for h in result.hits]
    finally:
        index.close()
    return ranked


def run_fts5(seeds: Path, db: Path, queries, doc_of_url) -> dict[str, list[str]]:
    """The plain FTS5 setup: title and body columns, equal weights, porter, OR of the words
    (the body column holds the seed's body, or its excerpt when it has none)."""
    if db.exists():
        db.unlink()
    conn = sqlite3.connect(str(db), isolation_level=None)
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, url UNINDEXED, "
                 "tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("BEGIN")
    for path in sorted(seeds.iterdir()):
        seed = read_seed(path)
        conn.execute("INSERT INTO fts(title, body, url) VALUES (?, ?, ?)",
                     (str(seed["title"]), seed["body"] or str(seed.get("excerpt") or ""),
                      seed["webUrl"]))
    conn.execute("COMMIT")
    ranked = {}
    for qid, text in queries:
        match = " OR ".join(f'"{w}"' for w in dict.fromkeys(words_of(text)))
        rows = conn.execute("SELECT url FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?",
                            (match, TOP)).fetchall() if match else []
        ranked[qid] = [doc_of_url[url] for (url,) in rows]
    conn.close()
    return ranked


def run_bm25s(docs: list[dict], queries) -> dict[str, list[str]]:
    """bm25s as its README sets it up: Lucene's BM25, English stop words, Snowball English."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = [f"{title_of(d)} {' '.join(d['text'].split())}" for d in docs]
    retriever = bm25s.BM25(method="lucene")
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    ranked = {}
    for qid, text in queries:
        tokens = bm25s.tokenize([text], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            ranked[qid] = []
            continue
        found, scores = retriever.retrieve(tokens, k=min(TOP, len(docs)), show_progress=False)
        ranked[qid] = [docs[i]["doc_id"] for i, s in zip(found[0], scores[0]) if s > 0]
    return ranked


def per_query(ranked: dict[str, list[str]], relevant: dict[str, set[str]],
              queries) -> dict[str, np.ndarray]:
    """Average precision over the top 100 and binary nDCG@10 of each query, in query order."""
    out = {m: np.zeros(len(queries)) for m in METRICS}
    for n, (qid, _) in enumerate(queries):
        gain, docs = relevant[qid], ranked.get(qid, [])[:TOP]
        hits, precision = 0, 0.0
        for rank, doc in enumerate(docs, start=1):
            if doc in gain:
                hits += 1
                precision += hits / rank
        dcg = sum(1 / math.log2(rank + 1) for rank, doc in enumerate(docs[:10], 1) if doc in gain)
        ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(gain), 10) + 1))
        out["MAP@100"][n], out["nDCG@10"][n] = precision / len(gain), dcg / ideal
    return out


def paired_p(a: np.ndarray, b: np.ndarray, rounds: int = ROUNDS, seed: int = 30) -> float:
    """Two-sided p-value of a paired randomisation test: how often a random choice of signs
    for the per-query differences gives a mean difference at least as large as observed."""
    diff = a - b
    observed = abs(diff.mean())
    signs = np.random.default_rng(seed).choice((-1.0, 1.0), size=(rounds, len(diff)))
    means = np.abs((signs * diff).mean(axis=1))
    return float((np.count_nonzero(means >= observed - 1e-12) + 1) / (rounds + 1))


def evaluate(name: str, work: Path, half: bool = False, corpora: Path = CORPORA,
             text: str = "body") -> dict[str, dict[str, np.ndarray]]:
    docs, queries, relevant = load(name, half, corpora)
    doc_of_url = {url_of(name, d["doc_id"]): d["doc_id"] for d in docs}
    seeds = work / name / "seeds"
    write_seeds(name, docs, seeds, text)
    seconds = build_searchapp(seeds, work / name / "index", len(docs))
    started = time.perf_counter()
    systems = {"searchapp": run_searchapp(work / name / "index", queries, doc_of_url)}
    took = time.perf_counter() - started
    systems["fts5"] = run_fts5(seeds, work / name / "fts5.sqlite", queries, doc_of_url)
    systems["bm25s"] = run_bm25s(docs, queries)
    scored = {label: per_query(r, relevant, queries) for label, r in systems.items()}
    print(f"\n{name}: {len(docs)} documents, {len(queries)} queries with relevant judgements"
          f"{' (the first half)' if half else ''}, the text as {text}; searchapp indexed them "
          f"in {seconds:.1f} s "
          f"and answered them in {took:.1f} s")
    print(f"  {'metric':<10}{'searchapp':>11}{'fts5':>9}{'bm25s':>9}"
          f"{'vs fts5':>10}{'p':>9}{'vs bm25s':>10}{'p':>9}")
    for metric in METRICS:
        ours = scored["searchapp"][metric]
        row = f"  {metric:<10}{ours.mean():>11.4f}"
        row += "".join(f"{scored[peer][metric].mean():>9.4f}" for peer in ("fts5", "bm25s"))
        for peer in ("fts5", "bm25s"):
            theirs = scored[peer][metric]
            row += f"{ours.mean() - theirs.mean():>+10.4f}{paired_p(ours, theirs):>9.4f}"
        print(row)
    return scored


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--collection", choices=COLLECTIONS + ("all",), default="all")
    ap.add_argument("--half", action="store_true",
                    help="only the first half of the judged queries (where choices are tuned)")
    ap.add_argument("--keep", type=Path, help="leave seeds, index and SQLite file in this folder")
    ap.add_argument("--stemmer", choices=sorted(analysis.STEMMERS), default=analysis.STEMMER,
                    help=f"index and search with this stemmer (default {analysis.STEMMER}; "
                    "krovetz needs `pip install krovetzstemmer`)")
    ap.add_argument("--corpora", type=Path, default=CORPORA,
                    help=f"where the collections are (default {CORPORA})")
    ap.add_argument("--text", choices=TEXTS, default="body",
                    help="where a seed holds the abstract: body (after the front matter), lead "
                    "(first sentence as the excerpt, all of it as the body) or excerpt")
    args = ap.parse_args(argv)
    if not args.corpora.is_dir():
        print(f"no test collections at {args.corpora}", file=sys.stderr)
        return 2
    names = COLLECTIONS if args.collection == "all" else (args.collection,)
    analysis.STEMMER = args.stemmer  # before any analyser is made
    print(machine())
    print(f"searchapp's stemmer: {args.stemmer}")
    print("MAP@100 and nDCG@10 with binary gains; vs = searchapp - the peer; p = two-sided "
          f"paired randomisation test over the queries ({ROUNDS:,} rounds)")
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmp:
        work = args.keep or Path(tmp)
        for name in names:
            evaluate(name, work, args.half, args.corpora, args.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
