"""Batch search through HTTP: a 1,000-query batch timed against `searchapp serve`, the
light searches of other users before and during it, and SQLite FTS5 counting the same 1,000
queries in the same run.

    .venv/bin/python bench/bench_batch.py --seeds /work/bench/seeds-100k --index /tmp/batch-index-100k

Builds the index (and the peer's database) when the folders hold none, then starts
`searchapp serve` (its default processes, one per core; not watching) and measures:
- a light search (a keystroke's results fragment, a common word with a new date each time,
  so no recent search is reused) from another client for `--light-seconds` alone, p50 / p95;
- the batch: `--batches` POSTs of the same 1,000 queries to /api/batch, back to back, each
  timed to its first byte and to its last, and once through the page (/batch, HTML), while
  the light client keeps searching: its p50 / p95 during the batches;
- the peer: the same 1,000 counts (`SELECT count(*) ... MATCH`), in process.
The queries are a fixed mix drawn from the words the generated seeds are made of (the news
corpora): words, phrases, ORs, NOTs, AND of an OR, prefixes, fields, labels, and a few that
cannot be read (an unclosed quote) or cannot run (a date that does not exist). Speed is never
asserted; it is printed beside the peer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import signal
import sqlite3
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fts_peer  # noqa: E402
import user_mix  # noqa: E402
from bench_index import machine  # noqa: E402
from run import Rows, pct, serve, timed_index  # noqa: E402
from searchapp.index import store  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.search import batch as batch_search  # noqa: E402
from searchapp.settings import Settings  # noqa: E402


def queries(n: int = 1000, seed: int = 11) -> list[tuple[str, str | None]]:
    """(the batch's line, the FTS5 MATCH the peer counts, None where FTS5 cannot read it)."""
    rng = random.Random(seed)
    words = user_mix.common_words(400, min_length=4)
    out: list[tuple[str, str | None]] = []
    for i in range(n):
        a, b, c = rng.sample(words, 3)
        shape = i % 20
        if shape < 6:
            out.append((a, f'"{a}"'))
        elif shape < 9:
            out.append((f'"{a} {b}"', f'"{a} {b}"'))
        elif shape < 12:
            out.append((f"{a} OR {b}", f'"{a}" OR "{b}"'))
        elif shape == 12:
            out.append((f"{a} -{b}", f'"{a}" NOT "{b}"'))
        elif shape == 13:
            out.append((f"{a} AND ({b} OR {c})", f'"{a}" AND ("{b}" OR "{c}")'))
        elif shape == 14:
            out.append((f"{a[:4]}*", f'"{a[:4]}"*'))
        elif shape == 15:
            out.append((f"title:{a}", f'title : "{a}"'))
        elif shape == 16:
            out.append((f"{a.title()} {b}\t{a} {b}", f'"{a}" AND "{b}"'))  # a label
        elif shape == 17:
            out.append((f"{a} {b} {c}", f'"{a}" AND "{b}" AND "{c}"'))
        elif shape == 18:
            out.append((f'"{a} {b}', None))  # an unclosed quote: searched for its words
        else:
            out.append((f"{a} date:2021-13", None))  # no such month: the row says so
    return out


def peer_counts(conn: sqlite3.Connection, matches: list[str | None]) -> tuple[float, int]:
    """Seconds to count every query FTS5 can read, and how many it could not."""
    failed = 0
    started = time.perf_counter()
    for match in matches:
        if match is None:
            failed += 1
            continue
        try:
            conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()
        except sqlite3.OperationalError:
            failed += 1
    return time.perf_counter() - started, failed


def in_process(index_dir: Path, text: str) -> float:
    """Seconds of the batch through SearchIndex.batch, as the server runs it (second run:
    the first opens the index and reads its postings)."""
    index = SearchIndex(index_dir, freeze_gc=True)
    try:
        rows = batch_search.read(text, SearchRequest(),
                                 max_query_length=Settings().max_query_length)
        list(index.batch(rows))
        started = time.perf_counter()
        list(index.batch(rows))
        return time.perf_counter() - started
    finally:
        index.close()


def post_batch(base: str, text: str, path: str = "/api/batch") -> tuple[float, float, bytes]:
    """Seconds to the first byte and to the last of one batch, and its body."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    body = urlencode({"queries": text})
    started = time.perf_counter()
    conn.request("POST", path, body=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    first = response.read(1)
    to_first = time.perf_counter() - started
    rest = response.read()
    total = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}: {(first + rest)[:300]!r}")
    return to_first, total, first + rest


class LightClient:
    """Another user: a light search after another, each on a new connection (any serving
    process answers it), timed from request to last byte."""

    def __init__(self, base: str):
        self.base = base
        self.words = user_mix.common_words(40)
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.i = 0

    def _run(self) -> None:
        while not self.stop.is_set():
            i = self.i = self.i + 1
            day = f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}"
            params = urlencode({"q": self.words[i % len(self.words)], "from": day, "typing": "0"})
            request = urllib.request.Request(f"{self.base}/search?{params}",
                                             headers={"HX-Request": "true"})
            t = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as r:
                r.read()
            self.latencies.append((time.perf_counter() - t) * 1000)

    def measure(self, seconds: float | None = None, during=None) -> list[float]:
        """Latencies for `seconds`, or while `during()` runs."""
        self.latencies = []
        self.stop.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if during is not None:
            during()
        else:
            time.sleep(seconds)
        self.stop.set()
        self.thread.join()
        return self.latencies


def fmt(values) -> str:
    a = pct(values)
    return f"{a[0]:.1f} / {a[1]:.1f}"


def run(seeds: Path, index: Path, peer: Path, batches: int, light_seconds: float) -> None:
    print(machine())
    rows = Rows()
    if store.live(index) is None:
        seconds, added, _, line = timed_index(seeds, index, full=True)
        print(f"indexed {seeds} into {index} in {seconds:.0f} s: {line}")
    else:
        print(f"using the index in {index} (`searchapp index` brings it up to date first)")
        print(timed_index(seeds, index, full=False)[3])
    fresh = not peer.exists()
    conn = fts_peer.connect(peer)
    if fresh:
        t = time.perf_counter()
        fts_peer.load(conn, sorted(seeds.glob("*.txt")))
        print(f"the peer's database in {peer}: {time.perf_counter() - t:.0f} s")
    records = fts_peer.count(conn)

    mix = queries()
    text = "\n".join(line for line, _ in mix)
    server, base = serve(index, seeds)
    try:
        light = LightClient(base)
        light.measure(3)  # each process opens the index and warms its caches
        alone = light.measure(light_seconds)
        rows.append((f"light search alone p50 / p95, ms ({len(alone)} searches)", fmt(alone), "", ""))
        timings: list[tuple[float, float]] = []
        got = {}

        def batches_back_to_back() -> None:
            for _ in range(batches):
                first, total, body = post_batch(base, text)
                timings.append((first, total))
                got["body"] = body

        during = light.measure(during=batches_back_to_back)
        totals = [t for _, t in timings]
        answer = json.loads(got["body"])
        rows.append((f"1,000-query batch through /api/batch, s: first; best; median of {batches}",
                     f"{totals[0]:.2f}; {min(totals):.2f}; {sorted(totals)[len(totals) // 2]:.2f}", "", ""))
        rows.append(("  to its first byte (streamed), s: median",
                     f"{sorted(f for f, _ in timings)[len(timings) // 2]:.3f}", "", ""))
        rows.append(("  rows counted; rows with an error (by design: a date that does not exist)",
                      f"{answer['counted']}; {answer['errors']}", "", ""))
        rows.append((f"light search during the batches p50 / p95, ms ({len(during)} searches)",
                     fmt(during), "", ""))
        page = light.measure(during=lambda: got.setdefault("page", post_batch(base, text, "/batch")))
        rows.append(("the same batch as the page (/batch, HTML), s",
                     f"{got['page'][1]:.2f}", "", ""))
        rows.append((f"  light search during it p50 / p95, ms ({len(page)} searches)", fmt(page), "", ""))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    seconds, unreadable = peer_counts(conn, [m for _, m in mix])
    ours = in_process(index, text)
    rows.append(("the same 1,000 counts in process (no HTTP), s: searchapp (SearchIndex.batch) "
                 "second run; FTS5", f"{ours:.2f}", f"{seconds:.2f}", f"{ours / seconds:.1f}x"))
    rows.append(("  queries FTS5 could not count (no such syntax)", "", f"{unreadable}", ""))
    conn.close()
    width = max(len(r[0]) for r in rows)
    print(f"\n{records:,} records (the peer's count)\n{'':{width}}  {'searchapp':>22}  "
          f"{'sqlite fts5':>12}  {'ratio':>8}")
    for name, mine, theirs, ratio in rows:
        print(f"{name:{width}}  {mine:>22}  {theirs:>12}  {ratio:>8}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--index", type=Path, required=True, help="built here when it holds no index")
    ap.add_argument("--peer", type=Path, help="the FTS5 database (default: beside the index)")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--light-seconds", type=float, default=10.0)
    args = ap.parse_args(argv)
    peer = args.peer or args.index.with_name(args.index.name + "-peer.sqlite")
    run(args.seeds, args.index, peer, args.batches, args.light_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
