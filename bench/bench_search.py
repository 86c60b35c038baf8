"""Time searches: a fixed query mix, through the domain call and through the HTTP API.

Why: what a user feels is the latency of one search, and its tail. The mix covers what the
search box accepts (words, a phrase, OR, -word, a prefix being typed, the empty browse),
each alone and with a provider or a topic filter, and each is timed (a) as
SearchIndex.search(SearchRequest.from_params(...)) with one SearchIndex for the whole run,
and (b) as GET /api/search through Flask's test client of one app (so JSON and Flask costs
show). In the same run, SQLite FTS5 answers the same searches over the same records
(fts_peer.py: bm25 page of 20 with snippets, total, provider and topic counts), for scale.

    bench_search.py [--seeds DIR | --count N] [--runs R] [--index DIR] [--typing 0]
    bench_search.py --index DIR --shapes [--runs R]

--shapes times, in process over an index already built, the query shapes that escaped the
search budget before (issue 29: `title:*`, `president~9`, an OR of 20 wildcards, ...), each
with its phases and what its answer says (exact, or "at least" and why).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # generate, fts_peer

import fts_peer  # noqa: E402
from bench_index import machine  # noqa: E402
from generate import write_seeds  # noqa: E402
from searchapp.index import store  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.search.request import DEFAULT_LIMITS  # noqa: E402
from searchapp.web import create_app  # noqa: E402

PROJECT_SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# (label, what a user types, the FTS5 query doing the same). Sent as the page's keystrokes
# send them (typing=1), searchapp treats the last word as still being typed and also
# matches it as a prefix; the FTS5 queries do the same with `word*`. FTS5 stems the prefix
# (`police*` is `polic*`, so it also matches "policy"), which widens its matches; --typing 0
# drops the prefixes on both sides but the explicit prefix search.
MIX = [
    ("one word", "police", "police*"),
    ("one word", "government", "government*"),
    ("one word", "market", "market*"),
    ("two words", "police technology", "police technology*"),
    ("two words", "oil prices", "oil prices*"),
    ("phrase", '"facial recognition"', '"facial recognition"'),
    ("phrase", '"new york"', '"new york"'),
    ("OR", "police OR privacy", "police OR privacy*"),
    ("-word", "recognition -police", "recognition NOT police"),
    ("prefix", "polic", "polic*"),
    ("browse", "", ""),
]


def shapes() -> list[str]:
    """The heavy shapes bench_lanes.py runs beside a light search, and others like them."""
    from bench_lanes import heavy_shapes
    return heavy_shapes() + ["title:* president", "category:*", "NOT police", "*e", "title:?*",
                             "p* s* c* m*"]


def time_shapes(index_root: Path, runs: int) -> None:
    """Each shape `runs` times, its recent searches forgotten: median ms, its slowest phase,
    its count and whether that count is exact."""
    index = SearchIndex(index_root)
    index.search(SearchRequest(q="police", typing=False), terms=False)  # opened and warm
    print(f"{'shape':36} {'p50 ms':>8} {'max ms':>8}  {'total':>8}  answer; slowest phase")
    for q in shapes():
        took, result = [], None
        for _ in range(runs):
            index.forget_recent()
            req = SearchRequest.from_params({"q": [q], "typing": ["0"]}, DEFAULT_LIMITS)
            t = time.perf_counter()
            result = index.search(req)
            took.append((time.perf_counter() - t) * 1000)
        why = [w for w, on in (("cut short", result.cut_short), ("capped", result.capped)) if on]
        said = "exact" if result.exact else f"at least ({', '.join(why)})"
        phase = max(result.timings, key=result.timings.get)
        print(f"{q[:36]:36} {np.median(took):8.1f} {max(took):8.1f}  {result.total:8,}  {said}; "
              f"{phase} {result.timings[phase]:.0f} ms"
              + (f"; notice: {result.notice[:70]}" if result.notice else ""))
    index.close()


def percentiles(ms: list[float]) -> np.ndarray:
    return np.percentile(np.array(ms), [50, 95, 99])


def top_values(index: SearchIndex) -> dict[str, str]:
    """The most common provider and topic: filters that select a real share of the records."""
    facets = index.search(SearchRequest()).facets
    return {f: facets[f][0].value for f in ("provider", "topic") if facets[f]}


def build_cases(filters: dict[str, str], typing: bool) -> list[tuple[str, str, str, dict]]:
    cases = []
    for label, q, match in MIX:
        if not typing and label != "prefix":
            match = match.removesuffix("*")
        elif not typing:
            q += "*"
        for flt in [{}] + [{f: v} for f, v in filters.items()]:
            cases.append((label, q, match, flt))
    return cases


def run(seeds: Path, index_root: Path, work: Path, runs: int, typing: bool) -> None:
    print(machine())
    if store.live_build(index_root) is None:
        summary = Indexer(Settings(seeds=seeds, index=index_root)).run(full=True)
        print(f"searchapp {summary.line()}")
    else:
        print(f"searchapp: reusing the index in {index_root}")
    conn = fts_peer.connect(work / "peer.sqlite")
    if fts_peer.count(conn) == 0:
        fts_peer.load(conn, sorted(p for p in seeds.rglob("*")
                                   if p.is_file() and not p.name.startswith(".")))

    index = SearchIndex(index_root)
    app = create_app({"index": str(index_root)})
    client = app.test_client()
    filters = top_values(index)
    cases = build_cases(filters, typing)
    extra = {"typing": "1"} if typing else {}
    print(f"records: searchapp {index.stats().records:,}, sqlite {fts_peer.count(conn):,}; "
          f"filters: {filters}")
    print(f"{len(cases)} searches x {runs} runs, after one warm-up run; typing={int(typing)}\n")

    def domain(q, match, flt):
        params = {"q": [q], **{k: [v] for k, v in (flt | extra).items()}}
        return index.search(SearchRequest.from_params(params, DEFAULT_LIMITS)).total

    def api(q, match, flt):
        resp = client.get("/api/search?" + urlencode({"q": q, **flt, **extra}))
        if resp.status_code != 200:
            raise SystemExit(f"GET /api/search {q!r} {flt}: {resp.status_code} {resp.text[:200]}")
        return resp.get_json()["total"]

    def sqlite(q, match, flt):
        return fts_peer.search(conn, match, flt)["total"]

    engines = {"searchapp search()": domain, "searchapp GET /api/search": api,
               "sqlite fts5": sqlite}
    times: dict[str, list[list[float]]] = {e: [[] for _ in cases] for e in engines}
    totals: dict[str, list[int]] = {e: [0] * len(cases) for e in engines}
    for run_no in range(runs + 1):  # run 0 warms caches and is not counted
        for i, (label, q, match, flt) in enumerate(cases):
            for name, call in engines.items():  # interleaved, so drift hits all alike
                t = time.perf_counter()
                totals[name][i] = call(q, match, flt)
                if run_no:
                    times[name][i].append((time.perf_counter() - t) * 1000)
    index.close()
    conn.close()
    report(cases, times, totals)


def report(cases, times, totals) -> None:
    names = list(times)
    peer = percentiles([t for per_case in times["sqlite fts5"] for t in per_case])
    print(f"{'all searches, ms':28} {'p50':>8} {'p95':>8} {'p99':>8}   ratio vs sqlite p50/p95/p99")
    for name in names:
        p = percentiles([t for per_case in times[name] for t in per_case])
        ratio = "/".join(f"{r:.1f}" for r in p / peer)
        print(f"{name:28} {p[0]:8.2f} {p[1]:8.2f} {p[2]:8.2f}   {ratio}")

    print(f"\n{'per search (p50 ms)':40} {'hits sa/sql':>14} {'search()':>9} {'api':>8} "
          f"{'sqlite':>8} {'ratio':>7}")
    for i, (label, q, match, flt) in enumerate(cases):
        what = f"{label}: {q or '(empty)'}" + (f" +{next(iter(flt))}" if flt else "")
        p50 = [float(np.median(times[n][i])) for n in names]
        hits = f"{totals[names[0]][i]}/{totals['sqlite fts5'][i]}"
        print(f"{what[:40]:40} {hits:>14} {p50[0]:9.2f} {p50[1]:8.2f} {p50[2]:8.2f} "
              f"{p50[0] / p50[2]:6.1f}x")
    print("\nratio = searchapp search() / sqlite. hits = total matches searchapp/sqlite "
          "(they differ where stemming, stop words and prefix rules differ).")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--seeds", type=Path, metavar="DIR",
                     help=f"seed folder to index (default: {PROJECT_SEEDS})")
    src.add_argument("--count", type=int, metavar="N", help="generate N seeds and use them")
    ap.add_argument("--runs", type=int, default=10, help="timed runs of the mix (default 10)")
    ap.add_argument("--index", type=Path, metavar="DIR",
                    help="index folder: reused if it holds an index, else built there "
                         "(default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=1, help="random seed for --count")
    ap.add_argument("--typing", type=int, choices=(0, 1), default=1,
                    help="1 (default, as the web page): the last word is also a prefix")
    ap.add_argument("--shapes", action="store_true",
                    help="time the shapes that once escaped the budget, over --index (built)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.shapes:
        if args.index is None or store.live_build(args.index) is None:
            ap.error("--shapes needs --index DIR holding an index")
        time_shapes(args.index, args.runs)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_search-") as tmp:
        work = Path(tmp)
        seeds = args.seeds or PROJECT_SEEDS
        if args.count is not None:
            seeds = work / "seeds"
            write_seeds(seeds, args.count, seed=args.seed)
        if not seeds.is_dir():
            ap.error(f"{seeds} is not a folder")
        run(seeds, args.index or work / "index", work, args.runs, bool(args.typing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
