"""The benchmark table for one collection size, searchapp beside SQLite FTS5 in the same run.

    .venv/bin/python bench/run.py --size 100k      (also 10k, 1m; --work DIR keeps files)
    .venv/bin/python bench/run.py --size 1m --keep-index   (search figures on an earlier build)
    .venv/bin/python bench/run.py --size 10k --bodies 300  (each seed with a ~300-word body)
    .venv/bin/python bench/run.py --seeds DIR   (a folder of seed files, e.g. convert_news.py's)

With bodies (generated, or the converted news corpora's), the peer indexes the same bodies
(a body column, weighted as searchapp weighs the body), and a row times the body passages a
page of 20 hits shows (searchapp's `highlights.body`; FTS5's snippet() of its body column is
in its search-page time). --no-server leaves out the rows that need `searchapp serve`.

Generates the seed files once (kept in --work for the next run), then measures, each beside
the peer doing the same work (fts_peer.py): the full index (records/s, seconds, peak memory
of the indexer, size on disk); search-page data (hits + highlights + all facet counts +
timeline, through SearchIndex.search as the server calls it while a user types) over a
query mix with filters, a date range, the empty browse and as-you-type sequences, p50 /
p95 / p99; the same pages through HTTP from concurrent clients against `searchapp serve`
(loopback only, a fixed number of requests); 100 new seed files until the running server
finds them; and the server's peak memory.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_lanes  # noqa: E402
import fts_peer  # noqa: E402
import user_mix  # noqa: E402
from bench_index import machine, query_for  # noqa: E402
from bench_search import MIX  # noqa: E402
from generate import write_seeds  # noqa: E402
from searchapp.index import store  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.index import analysis  # noqa: E402
from searchapp.search.highlight import fragments  # noqa: E402
from searchapp.search.request import DEFAULT_LIMITS as LIMITS  # noqa: E402
from searchapp.search.suggest import suggest  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TYPED = ["police technology", "oil prices", "government"]  # typed a key at a time
BIN = Path(sys.executable).parent


def generate(folder: Path, count: int, body_words: int = 0) -> None:
    """Write the seed files in two processes (they are numbered, so chunks never collide)."""
    have = sum(1 for _ in folder.glob("gen_*.txt")) if folder.exists() else 0
    if have >= count:
        return
    chunks = [(have + 1 + i, min(50_000, count - have - i)) for i in range(0, count - have, 50_000)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_write_chunk, [(folder, start, n, body_words) for start, n in chunks]))


def _write_chunk(job):
    folder, start, n, body_words = job
    write_seeds(folder, n, seed=1, start_index=start, body_words=body_words)


def seed_files(folder: Path) -> list[Path]:
    """Every seed file of a folder, in its subfolders too (a converted corpus has them)."""
    return sorted(p for p in folder.rglob("*.txt") if not p.name.startswith("."))


def body_passages(index: SearchIndex, mix) -> tuple[list[float], int]:
    """Milliseconds to find and mark the body passages of each search's first page of 20
    hits (`highlights.body`, with the stems of the query's words), and how many hits had a
    body to look through."""
    times, bodies = [], 0
    for label, params, match, flt in mix:
        req = SearchRequest.from_params({k: [v] for k, v in params.items()}, LIMITS)
        hits = index.search(req, terms=False).hits
        terms = frozenset(filter(None, (analysis.stem_word(w) for w in
                                        re.findall(analysis.WORD_PATTERN, req.q or ""))))
        texts = [h.record.get("body") or "" for h in hits]
        bodies += sum(1 for t in texts if t)
        t = time.perf_counter()
        for text in texts:
            fragments(text, terms)
        times.append((time.perf_counter() - t) * 1000)
    return times, bodies


def cases(index: SearchIndex) -> list[tuple[str, dict, str, dict]]:
    """(label, searchapp params, FTS5 match, peer filters) for every search of the mix."""
    facets = index.search(SearchRequest(), terms=False).facets
    filters = {f: facets[f][0].value for f in ("provider", "topic") if facets[f]}
    out = []
    for label, q, match in MIX:
        for flt in [{}] + [{f: v} for f, v in filters.items()]:
            out.append((label, {"q": q, "typing": "1", **flt}, match, flt))
    out.append(("date range", {"q": "market", "from": "2021-01-01", "to": "2021-06-30",
                               "typing": "1"},
                "market*", {}))
    for text in TYPED:
        for end in range(1, len(text) + 1):
            typed = text[:end]
            words = typed.split()
            match = " ".join(words) if typed.endswith(" ") else " ".join(words[:-1] + [words[-1] + "*"])
            out.append(("as you type", {"q": typed, "typing": "1"}, match, {}))
    return out


def pct(values) -> np.ndarray:
    return np.percentile(np.array(values), [50, 95, 99])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def timed_index(seeds: Path, index: Path, full: bool, *extra: str) -> tuple[float, int, float, str]:
    """Run `searchapp index` as its own process: seconds, records added, peak MB, summary."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "searchapp"), "index", "--seeds", str(seeds), "--index",
                             str(index)] + (["--full"] if full else []) + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, _tree_rss_mb(proc.pid))
        except OSError:
            pass
        time.sleep(1.0)  # reading smaps of a 2 GB process costs; at 0.2 s it took a quarter core
    seconds = time.perf_counter() - started
    line = proc.stdout.read().strip().splitlines()[-1]
    added = int(re.search(r"records (\d+) added", line).group(1))
    return seconds, added, peak, line


def _tree_rss_mb(pid: int) -> float:
    """Memory of a process and its children (the indexer forks parsers and writers), as
    proportional set size: pages a fork shares with its parent are counted once, not twice."""
    total = 0.0
    for child in [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]:
        for line in Path(f"/proc/{child}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
    return total


def http_load(base: str, urls: list[str], clients: int, rounds: int) -> tuple[float, np.ndarray, int]:
    """Each client fetches every URL `rounds` times (as htmx does); throughput, latencies, errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(offset: int):
        nonlocal errors
        mine, bad = [], 0
        for r in range(rounds):
            for i in range(len(urls)):
                url = urls[(i + offset) % len(urls)]
                request = urllib.request.Request(base + url, headers={"HX-Request": "true"})
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        response.read()
                        bad += response.status >= 500
                except OSError:
                    bad += 1
                mine.append((time.perf_counter() - t) * 1000)
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, pct(latencies), errors


def writer_scaling(seeds: Path, work: Path, size: str, added: int, mix, runs: int
                   ) -> list[tuple[str, str, str, str]]:
    """Full builds with 1, 2, ... shards (a writer process each), up to the cores there are,
    and the search-page mix over the one-shard index against the default one."""
    rows = []
    one = None
    for n in range(1, (os.cpu_count() or 1) + 1):
        target = work / f"index-{size}-shards{n}"
        shutil.rmtree(target, ignore_errors=True)
        seconds, count, peak, _ = timed_index(seeds, target, True, "--shards", str(n))
        rows.append((f"  {n} writer process{'es' if n > 1 else ''}: records/s; peak MB",
                     f"{count / seconds:,.0f}; {peak:,.0f}", "", ""))
        if n == 1:
            one = target
        else:
            shutil.rmtree(target, ignore_errors=True)
    if one is not None and mix:
        index = SearchIndex(one, freeze_gc=True)
        rows.append(("search-page data p50/p95/p99 over 1 shard, ms",
                      "/".join(f"{x:.1f}" for x in pct(page_mix(index, mix, runs))), "", ""))
        index.close()
        shutil.rmtree(one, ignore_errors=True)
    return rows


def page_mix(index: SearchIndex, mix, runs: int) -> list[float]:
    """Milliseconds of each search of the mix, `runs` times, after one run to warm up."""
    out = []
    for r in range(runs + 1):
        for _, params, _, _ in mix:
            req = SearchRequest.from_params({k: [v] for k, v in params.items()}, LIMITS)
            index.forget_recent()
            t = time.perf_counter()
            index.search(req, terms=False)
            if r:
                out.append((time.perf_counter() - t) * 1000)
    return out


def workspace_cost(index: SearchIndex, work: Path, mix, runs: int, size: int = 10_000,
                   collections: int = 20) -> list[tuple[str, str, str, str]]:
    """The search-page mix with and without a workspace of `size` records tagged in
    `collections` collections (each search asks the workspace's version, and counts the
    collection and tag facets), run alternately, search by search, so both see the same
    machine; and the mix narrowed to one collection (`collection=`)."""
    from searchapp.workspace import Workspace

    folder = work / "workspace-bench"
    shutil.rmtree(folder, ignore_errors=True)
    kept = Workspace(folder)
    every = max(1, index.stats().records // size)
    picked, seen = [], 0
    export = index.export(SearchRequest())
    try:
        for page in export:
            for r in page:
                seen += 1
                if seen % every == 0:
                    picked.append({"id": r["id"], "title": r["title"], "url": r["url"] or "",
                                   "date": (r.get("published") or "")[:10]})
                if len(picked) >= size:
                    break
            if len(picked) >= size:
                break
    finally:
        export.close()
    share = len(picked) // collections
    t = time.perf_counter()
    for c in range(collections):
        kept.add(f"collection {c:02d}", picked[c * share:(c + 1) * share],
                 tags=[f"tag{c % 10}", "kept"])
    made = time.perf_counter() - t
    marked = replace(LIMITS, marks=kept)
    without, within, narrowed = [], [], []
    for r in range(runs + 1):
        for _, params, _, _ in mix:
            asked = {k: [v] for k, v in params.items()}
            for limits, extra, out in ((LIMITS, {}, without), (marked, {}, within),
                                       (marked, {"collection": ["collection 07"]}, narrowed)):
                req = SearchRequest.from_params({**asked, **extra}, limits)
                index.forget_recent()
                t = time.perf_counter()
                index.search(req, terms=False)
                if r:
                    out.append((time.perf_counter() - t) * 1000)
    a, b, c = pct(without), pct(within), pct(narrowed)
    kept.close()
    return [(f"search-page data without a workspace p50/p95, ms ({len(without)} searches)",
             "/".join(f"{x:.1f}" for x in a[:2]), "", ""),
            (f"  with {len(picked):,} records tagged in {collections} collections p50/p95, ms "
             f"(made in {made:.1f} s)", "/".join(f"{x:.1f}" for x in b[:2]), "",
             "/".join(f"{y / x:.2f}" for x, y in zip(a[:2], b[:2])) + "x"),
            ("  the same mix within one collection (collection=) p50/p95, ms",
             "/".join(f"{x:.1f}" for x in c[:2]), "", "")]


class Rows(list):
    """The table's rows, each also printed as it comes: a run that fails late keeps what it
    measured before."""

    def append(self, row) -> None:
        super().append(row)
        print("row:", " | ".join(str(cell) for cell in row), flush=True)

    def extend(self, more) -> None:
        for row in more:
            self.append(row)

    def __iadd__(self, more):
        self.extend(more)
        return self


def run(size: str, work: Path, clients: int, runs: int, keep: bool = False,
        writers: bool = False, only_workspace: bool = False, body_words: int = 0,
        folder: Path | None = None, server_rows: bool = True) -> None:
    print(machine())
    t = time.perf_counter()
    if folder is None:
        count = SIZES[size]
        size = f"{size}-body{body_words}" if body_words else size
        seeds = work / f"seeds-{size}"
        generate(seeds, count, body_words)
        print(f"{count:,} generated seed files in {seeds} ({time.perf_counter() - t:.0f} s)"
              + (f", each with a body of about {body_words} words" if body_words else ""))
    else:
        seeds, size = folder, folder.name
        count = len(seed_files(seeds))
        print(f"{count:,} seed files in {seeds}")
    index_dir = work / f"index-{size}"
    rows: list[tuple[str, str, str, str]] = Rows()

    # Full index, in its own process, and the peer.
    db = work / f"peer-{size}.sqlite"
    if keep and index_dir.exists() and db.exists():
        print(f"kept {index_dir} and {db} from an earlier run: no full-index figures this time")
        # An earlier run's +100 files are deleted after it, but their records stay indexed
        # until the next run: bring the index in line with the folder first (not timed).
        print("searchapp", timed_index(seeds, index_dir, full=False)[3])
        conn = fts_peer.connect(db)
    else:
        shutil.rmtree(index_dir, ignore_errors=True)
        seconds, added, peak, line = timed_index(seeds, index_dir, full=True)
        print("searchapp", line)
        db.unlink(missing_ok=True)
        conn = fts_peer.connect(db)
        t = time.perf_counter()
        peer_records = fts_peer.load(conn, seed_files(seeds))
        peer_seconds = time.perf_counter() - t
        rows += [("full index, s", f"{seconds:.1f}", f"{peer_seconds:.1f}", _ratio(seconds, peer_seconds)),
                 ("  records/s", f"{added / seconds:,.0f}", f"{peer_records / peer_seconds:,.0f}",
                  _ratio(peer_records / peer_seconds, added / seconds)),
                 ("  indexer peak memory, MB", f"{peak:,.0f}", "", ""),
                 ("  size on disk, MB", f"{du_mb(store.live_build(index_dir)):,.0f}",
                  f"{db.stat().st_size / 2**20:,.0f}", "")]

    # Search-page data, in process, the server's code path.
    index = SearchIndex(index_dir, freeze_gc=True)  # as the server runs it
    mix = cases(index)
    ours, theirs, first = [], [], []
    for r in range(runs + 1):
        for label, params, match, flt in mix:
            req = SearchRequest.from_params({k: [v] for k, v in params.items()}, LIMITS)
            index.forget_recent()  # time the search, not the cache of recent searches
            t = time.perf_counter()
            index.search(req, terms=False)
            middle = time.perf_counter()
            fts_peer.search(conn, match, flt)
            end = time.perf_counter()
            (ours if r else first).append((middle - t) * 1000)
            if r:
                theirs.append((end - middle) * 1000)
    a, b = pct(ours), pct(theirs)
    rows.append((f"search-page data p50/p95/p99, ms ({len(mix)} searches x {runs})",
                  "/".join(f"{x:.1f}" for x in a), "/".join(f"{x:.1f}" for x in b),
                  "/".join(f"{x / y:.2f}" for x, y in zip(a, b)) + "x"))
    rows.append(("  first run after start (nothing cached)",
                 "/".join(f"{x:.1f}" for x in pct(first)), "", ""))
    repeat = []
    for label, params, match, flt in mix:
        req = SearchRequest.from_params({k: [v] for k, v in params.items()}, LIMITS)
        index.search(req, terms=False)
        t = time.perf_counter()
        index.search(replace(req, page=2), terms=False)
        repeat.append((time.perf_counter() - t) * 1000)
    rows.append(("  next page or repeated prefix (recent searches)",
                 "/".join(f"{x:.1f}" for x in pct(repeat)), "", ""))
    browse = []
    for _ in range(20):
        index.forget_recent()
        browse.append(index.search(SearchRequest(), terms=False).took_ms)
    rows.append(("empty browse with all facets p50/p95, ms", "/".join(f"{x:.1f}" for x in pct(browse)[:2]), "", ""))
    cached = [index.search(SearchRequest(), terms=False).took_ms for _ in range(20)]
    rows.append(("  same, kept for the generation", "/".join(f"{x:.1f}" for x in pct(cached)[:2]), "", ""))
    rows += workspace_cost(index, work, mix, runs)
    if only_workspace:
        index.close()
        return
    rows += typed_mix(index, conn, runs)
    passages, bodies = body_passages(index, mix)
    rows.append((f"  body passages of a page of 20 hits p50/p95, ms ({bodies:,} hits with a body)",
                 "/".join(f"{x:.2f}" for x in pct(passages)[:2]), "", ""))
    index.close()
    if writers:
        rows.append((f"full index by writer processes (default shards: {len(store.live(index_dir).shards)})",
                     "", "", ""))
        rows += writer_scaling(seeds, work, size, 0, mix, runs)

    if not server_rows:
        conn.close()
        _print(rows)
        return
    # The real server: HTTP under concurrent clients, then 100 new files until it finds them.
    # Not watching: the rows below time `searchapp index` and `--watch` runs of their own.
    server, base = serve(index_dir, seeds)
    try:
        urls = ["/search?" + urlencode(params) for _, params, _, _ in mix]
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        rps, lat, errors = http_load(base, urls, clients, rounds=1)
        client_cpu = _cpu_seconds(cpu) / (time.perf_counter() - t)
        rows.append((f"HTTP, {clients} clients: requests/s; p95 ms; errors", f"{rps:.1f}; {lat[1]:.0f}; {errors}", "", ""))
        rows.append(("  the load client's own CPU use, cores", f"{client_cpu:.2f}", "", ""))
        rows += http_typed(base, runs)
        rows += light_beside_heavy(base)
        rows.append(bench_lanes.row(base))  # 8 heavy clients: `title:*`, `president~9`, ORs
        rows.append(light_beside_stalled_exports(base))
        # By number, not by sorting names: gen_1000001 sorts before gen_999999.
        added = write_seeds(seeds, 100, seed=1, start_index=count + 1, body_words=body_words)
        q = query_for(fts_peer.read_seed(added[-1])["title"])
        before = _total(base, q)  # the words may match older records: wait for one more
        t = time.perf_counter()
        timed_index(seeds, index_dir, full=False)
        found = _wait_found(base, q, before, t)
        t = time.perf_counter()
        fts_peer.load(conn, added)
        rows.append(("100 new seed files until searchable: one-shot `searchapp index`, s",
                     f"{found:.2f}", f"{time.perf_counter() - t:.2f}", ""))
        seconds = timed_index(seeds, index_dir, full=False)[0]
        rows.append(("  `searchapp index` with nothing new, s", f"{seconds:.2f}", "", ""))
        watcher = subprocess.Popen([str(BIN / "searchapp"), "index", "--watch", "--seeds", str(seeds),
                                    "--index", str(index_dir)], stdout=subprocess.PIPE,
                                   stderr=open(work / "watcher.log", "w"), text=True)
        try:
            watcher.stdout.readline()  # its first run is done: it is watching
            staging = work / "staging"
            shutil.rmtree(staging, ignore_errors=True)
            more = write_seeds(staging, 100, seed=2, start_index=count + 101,
                               body_words=body_words)
            q = query_for(fts_peer.read_seed(more[-1])["title"])
            before = _total(base, q)
            t = time.perf_counter()
            for path in more:  # as a batch lands: each moved into place
                os.replace(path, seeds / path.name)
            found = _wait_found(base, q, before, t)
            shutil.rmtree(staging, ignore_errors=True)
            rows.append(("  with `searchapp index --watch` running, s", f"{found:.2f}", "", ""))
        finally:
            watcher.send_signal(signal.SIGINT)
            try:
                watcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                watcher.send_signal(signal.SIGUSR1)  # its threads' stacks, to its log
                time.sleep(1)
                watcher.kill()
                rows.append(("  the watcher did not stop within 60 s of SIGINT (stacks in "
                             f"{work / 'watcher.log'})", "", "", ""))
        pss, peaks = _server_mb(server.pid)
        rows.append(("server memory, all processes: PSS now; peak RSS added up, MB",
                     f"{pss:,.0f}; {peaks:,.0f}", "", ""))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        for n in range(count + 1, count + 201):
            (seeds / f"gen_{n:06d}.txt").unlink(missing_ok=True)  # the next run starts from the same files
    conn.close()
    _print(rows)


def _print(rows) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{'':{width}}  {'searchapp':>22}  {'sqlite fts5':>18}  {'ratio':>14}")
    for name, mine, peer, ratio in rows:
        print(f"{name:{width}}  {mine:>22}  {peer:>18}  {ratio:>14}")


def typed_mix(index: SearchIndex, conn, runs: int) -> list[tuple[str, str, str, str]]:
    """What researchers type (bench/user_mix.py), in process, each beside the peer."""
    mix = user_mix.cases()
    ours, theirs, fuzzy, slowest = [], [], [], (0.0, "")
    for _ in range(runs):
        for label, q, match in mix:
            req = SearchRequest.from_params({"q": [q], "typing": ["1"]}, LIMITS)
            index.forget_recent()
            t = time.perf_counter()
            index.search(req, terms=False)
            middle = time.perf_counter()
            try:
                fts_peer.search(conn, match, {})
            except Exception:  # a shape FTS5 cannot read: nothing to time
                pass
            end = time.perf_counter()
            ours.append((middle - t) * 1000)
            theirs.append((end - middle) * 1000)
            if label == "fuzzy":
                fuzzy.append((middle - t) * 1000)
            slowest = max(slowest, ((middle - t) * 1000, f"{label}: {q[:40]}"))
    a, b = pct(ours), pct(theirs)
    spelled = []
    with index.using() as snap:
        for label, q, _ in mix:
            if label == "typo":
                t = time.perf_counter()
                suggest(snap.speller, snap.searcher.reader(), q)
                spelled.append((time.perf_counter() - t) * 1000)
    return [(f"typing, typos, wildcards, ORs, pastes p50/p95/p99, ms ({len(mix)} x {runs})",
             "/".join(f"{x:.1f}" for x in a), "/".join(f"{x:.1f}" for x in b),
             "/".join(f"{x / y:.2f}" for x, y in zip(a, b)) + "x"),
            ("  slowest single query, ms", f"{slowest[0]:.0f}", "", slowest[1]),
            (f"  fuzzy word~ and word~2 on a slip p50/p95, ms ({len(fuzzy)}; target p95 <= 300 at 1M)",
             "/".join(f"{x:.1f}" for x in pct(fuzzy)[:2]), "", "FTS5 has none"),
            ("  did-you-mean lookup p50/p95, ms", "/".join(f"{x:.2f}" for x in pct(spelled)[:2]),
             "", "")]


def http_typed(base: str, runs: int) -> list[tuple[str, str, str, str]]:
    """The same mix through HTTP (/api/search), one client, timed as the mix is in process
    (`runs` passes, the first on caches that have not seen it). As a browser sends it: one
    kept-alive connection, so one serving process and its caches. Beside it, every request
    on a new connection (as a script without a session does): any process answers, and each
    has its own caches to fill."""
    kept = _typed_passes(base, runs, keep_alive=True)
    fresh = _typed_passes(base, runs, keep_alive=False, first_interval=runs)
    fmt = lambda values: "/".join(f"{x:.1f}" for x in pct(values))  # noqa: E731
    return [(f"  the same through HTTP /api/search p50/p95/p99, ms (x {runs}, one connection)",
             fmt([x for p in kept for x in p]), "", ""),
            ("    its first pass alone (each query new to the server)", fmt(kept[0]), "", ""),
            ("    its last pass alone", fmt(kept[-1]), "", ""),
            (f"    a new connection for each request (x {runs})", fmt([x for p in fresh for x in p]), "", "")]


def _typed_passes(base: str, runs: int, keep_alive: bool, first_interval: int = 0) -> list[list[float]]:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    passes = []
    for n in range(first_interval, first_interval + runs):
        latencies = []
        # Each pass asks for other timeline periods: a search the server has not kept, as
        # the in-process mix forgets its recent searches (the postings read stay cached).
        variant = ({}, {"interval": "month"}, {"interval": "year"}, {"interval": "week"},
                   {"interval": "day"}, {"span": "all"})[n % 6]
        for _, q, _ in user_mix.cases():
            params = urlencode({"q": q, "typing": "1", **variant})
            t = time.perf_counter()
            if keep_alive:
                conn.request("GET", f"/api/search?{params}")
                with conn.getresponse() as r:
                    r.read()
            else:
                with urllib.request.urlopen(f"{base}/api/search?{params}", timeout=60) as r:
                    r.read()
            latencies.append((time.perf_counter() - t) * 1000)
        passes.append(latencies)
    conn.close()
    return passes


def light_beside_heavy(base: str, seconds: float = 10) -> list[tuple[str, str, str, str]]:
    """A light query, again and again, while 4 clients run the mix's heaviest queries: as a
    keystroke asks for it (the page's results fragment) and through /api/search (which
    also computes the distinctive words)."""
    return [_light_beside_heavy(base, seconds, keystroke=True),
            _light_beside_heavy(base, seconds, keystroke=False)]


def _light_beside_heavy(base: str, seconds: float, keystroke: bool) -> tuple[str, str, str, str]:
    a, light, _ = bench_lanes.light_beside(base, user_mix.heavy(user_mix.cases()), 4, seconds,
                                           keystroke=keystroke)
    what = "keystroke" if keystroke else "/api/search"
    return (f"light query ({what}) beside 4 heavy ones p50/p95/p99, ms ({light})",
            "/".join(f"{x:.1f}" for x in a), "", "")


def light_beside_stalled_exports(base: str, clients: int = 20,
                                 seconds: float = 10) -> tuple[str, str, str, str]:
    """A light query, again and again, while `clients` clients ask for an export of every
    record and never read it (the server lets each go after `slow_client_s`)."""
    host, port = base.rsplit("//", 1)[1].split(":")
    socks = []
    for _ in range(clients):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        sock.sendall(b"GET /export.csv HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sock)
    words = user_mix.common_words(40)
    latencies, failed = [], 0
    started = time.perf_counter()
    i = 0
    try:
        while time.perf_counter() - started < seconds:
            params = urlencode({"q": words[i % len(words)], "from": f"2019-01-{1 + i % 28:02d}"})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{base}/api/search?{params}", timeout=10) as r:
                    r.read()
                latencies.append((time.perf_counter() - t) * 1000)
            except OSError:
                failed += 1
            i += 1
    finally:
        for sock in socks:
            sock.close()
    a = pct(latencies) if latencies else np.array([float("nan")] * 3)
    return (f"light query beside {clients} clients never reading an export p50/p95/p99, ms "
            f"({len(latencies)}; {failed} failed; target p95 <= 100)",
            "/".join(f"{x:.1f}" for x in a), "", "FTS5 has no server")


def _server_mb(pid: int) -> tuple[float, float]:
    """Memory of the server and its worker processes: proportional set size now (pages the
    processes share, such as the memory-mapped index, counted once) and the peaks of their
    resident sizes added up (shared pages counted in each: an upper bound)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    pids = [pid, *map(int, children)]
    pss = 0.0
    for p in pids:
        for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
    return pss, sum(peak_rss_mb(p) for p in pids)


def _cpu_seconds(before) -> float:
    now = resource.getrusage(resource.RUSAGE_SELF)
    return (now.ru_utime - before.ru_utime) + (now.ru_stime - before.ru_stime)


def _ratio(mine: float, peer: float) -> str:
    return f"{mine / peer:.1f}x" if peer else ""


def serve(index: Path, seeds: Path, *args: str, env: dict | None = None,
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """`searchapp serve` on a free port, not watching (the benchmarks time their own index
    runs), with `args` and `env` added, up and answering: (the process, its base URL)."""
    port = free_port()
    server = subprocess.Popen([str(BIN / "searchapp"), "serve", "--index", str(index),
                               "--seeds", str(seeds), "--port", str(port), "--no-watch", *args],
                              stdout=stdout, stderr=stderr,
                              env={**os.environ, **env} if env else None)
    base = f"http://127.0.0.1:{port}"
    _wait_up(base, server)
    return server, base


def _wait_up(base: str, server: subprocess.Popen) -> None:
    for _ in range(6000):
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not come up")


def _total(base: str, q: str) -> int:
    with urllib.request.urlopen(base + "/api/search?" + urlencode({"q": q, "typing": "0"})) as r:
        return int(re.search(rb'"total":(\d+)', r.read()).group(1))


def _wait_found(base: str, q: str, before: int, started: float) -> float:
    while time.perf_counter() - started < 120:
        if _total(base, q) > before:
            return time.perf_counter() - started
        time.sleep(0.02)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=list(SIZES), default="100k")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "out",
                    help="where seeds, indexes and the peer's database are kept")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep-index", action="store_true",
                    help="reuse the index and the peer's database of an earlier run (no full-index figures)")
    ap.add_argument("--writers", action="store_true",
                    help="also build with 1, 2, ... shards up to the cores (records/s by writer "
                         "processes) and time the mix over one shard")
    ap.add_argument("--only-workspace", action="store_true",
                    help="stop after the search-page mix with and without a workspace of "
                         "10,000 tagged records in 20 collections")
    ap.add_argument("--bodies", type=int, default=0, metavar="WORDS",
                    help="generate each seed with a body of about this many words")
    ap.add_argument("--seeds", type=Path, help="time this folder of seed files instead of "
                    "generated ones (e.g. bench/convert_news.py's output)")
    ap.add_argument("--no-server", action="store_true",
                    help="leave out the rows that need `searchapp serve` (HTTP, new files)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    run(args.size, args.work, args.clients, args.runs, args.keep_index, args.writers,
        args.only_workspace, args.bodies, args.seeds, not args.no_server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
