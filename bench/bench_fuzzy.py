"""Fuzzy `word~` over the real news records: how long it takes and whether it finds the word
meant, through SearchIndex.search as the server calls it (the time budget of a search on).

    .venv/bin/python bench/bench_fuzzy.py [--work DIR] [--runs 5]

Converts the shared news corpora (bench/convert_news.py, ~41k records) once into --work,
indexes them once, then runs each misspelling with `~` (one edit) and `~2` and prints p50 /
p95 of the search, with how many of the first ten hits hold the word meant. SQLite FTS5 has
no fuzzy matching to set beside it: its row is the exact word, what a peer user would have
to type instead.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import convert_news  # noqa: E402
import fts_peer  # noqa: E402
from bench_index import machine  # noqa: E402
from searchapp.index import store  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.search.request import DEFAULT_LIMITS  # noqa: E402
from searchapp.settings import Settings  # noqa: E402

# (what a user types, the word meant)
SLIPS = [("presidnet", "president"), ("recesion", "recession"), ("goverment", "government"),
         ("tarif", "tariff"), ("opek", "opec"), ("inflaton", "inflation"),
         ("elecion", "election"), ("parliment", "parliament"), ("econmy", "economy"),
         ("comapny", "company"), ("minster", "minister"), ("footbal", "football"),
         ("intrest", "interest"), ("exchage", "exchange"), ("polcy", "policy"),
         ("secuirty", "security"), ("techology", "technology"), ("budjet", "budget"),
         ("agreemnt", "agreement"), ("shareholdrs", "shareholders")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=HERE / "out" / "news")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    seeds, index_dir, db = args.work / "seeds", args.work / "index", args.work / "peer.sqlite"
    print(machine())
    if not seeds.exists():
        written, _, notes = convert_news.convert(convert_news.DEFAULT_CORPORA, seeds)
        print(f"{written:,} seed files converted into {seeds}", *notes, sep="\n  ")
    if store.live_build(index_dir) is None:
        print("searchapp", Indexer(Settings(seeds=seeds, index=index_dir)).run(full=True).line())
    if not db.exists():
        conn = fts_peer.connect(db)
        fts_peer.load(conn, sorted(seeds.rglob("*.txt")))
    conn = fts_peer.connect(db)
    index = SearchIndex(index_dir, freeze_gc=True)
    print(f"records: {index.stats().records:,}; {len(SLIPS)} misspellings x 2 (~ and ~2) x {args.runs}\n")
    ours, peer, held, exact, cut = [], [], [], 0, 0
    for r in range(args.runs + 1):
        for slip, meant in SLIPS:
            for mark in ("~", "~2"):
                req = SearchRequest.from_params({"q": [slip + mark]}, DEFAULT_LIMITS)
                index.forget_recent()
                t = time.perf_counter()
                result = index.search(req, terms=False)
                took = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                fts_peer.search(conn, f'"{meant}"', {})
                theirs = (time.perf_counter() - t) * 1000
                if r:  # after one run to warm up
                    ours.append(took)
                    peer.append(theirs)
                    if r == 1:
                        top = result.hits[:10]
                        held.append(sum(meant in (h.record["title"] + " " + h.record["excerpt"]).lower()
                                        for h in top) / max(1, len(top)))
                        exact += result.exact and result.total > 0
                        cut += result.cut_short
    a, b = np.percentile(ours, [50, 95]), np.percentile(peer, [50, 95])
    print(f"{'':58}{'searchapp':>14}{'sqlite fts5':>16}")
    print(f"{'fuzzy word~ / word~2 p50/p95, ms (target p95 <= 100)':58}"
          f"{a[0]:>8.1f}/{a[1]:.1f}{b[0]:>10.1f}/{b[1]:.1f}  (FTS5: the right word typed)")
    print(f"{'  first ten hits holding the word meant, mean':58}{np.mean(held):>14.0%}")
    print(f"{'  searches with an exact count > 0; cut by the budget':58}"
          f"{exact:>10} of {len(SLIPS) * 2}; {cut}")
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
