"""A light search's latency while other clients keep the server busy with heavy ones.

Why: a search that stands for much work (every record with a title, a fuzzy word matched
against the whole vocabulary, an OR of twenty wildcards) must not make the next user's
one-word search slow: heavy searches take turns in each serving process's heavy lane and
stop at the search budget, and this measures whether that holds. The light search asks for
the page's results fragment as a keystroke does, a new date each time so that no recent
search is reused; so do the heavy clients.

    bench_lanes.py --index DIR --seeds DIR [--clients 8] [--seconds 10] [--heavy Q ...] [--alone]

bench/run.py prints the same figure as a row of its HTTP phase (`light_beside`).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import user_mix  # noqa: E402

TARGET_P95_MS = 100


def heavy_shapes() -> list[str]:
    """Every record with a title, a fuzzy word asking for 9 edits, and an OR of 20 wildcards:
    the shapes issue 29 found escaping the budget or crowding out light searches."""
    ors = next(q for label, q, _ in user_mix.cases() if label == "OR of 20 wildcards")
    return ["title:*", "president~9", ors]


def light_beside(base: str, heavy: list[str], clients: int, seconds: float = 10,
                 keystroke: bool = True) -> tuple[np.ndarray, int, int]:
    """(p50/p95/p99 ms of a light search as a keystroke asks for it, or through /api/search,
    light searches made, heavy searches answered) while `clients` threads ask for `heavy`
    through /api/search."""
    words = user_mix.common_words(40)
    stop = threading.Event()
    answered = [0] * clients

    def load(n: int) -> None:
        i = n
        while not stop.is_set():  # a new date each time: no recent search to reuse
            params = urlencode({"q": heavy[i % len(heavy)], "from": f"2019-01-{1 + i % 28:02d}"})
            try:
                with urllib.request.urlopen(f"{base}/api/search?{params}", timeout=120) as r:
                    r.read()
                answered[n] += 1
            except OSError:
                pass
            i += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # every heavy client has a search under way
    latencies = []
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds:
        params = urlencode({"q": words[i % len(words)],
                            "from": f"2019-{1 + i % 12:02d}-{1 + i % 28:02d}", "typing": "0"})
        request = urllib.request.Request(f"{base}/search?{params}", headers={"HX-Request": "true"}) \
            if keystroke else f"{base}/api/search?{params}"
        t = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as r:
            r.read()
        latencies.append((time.perf_counter() - t) * 1000)
        i += 1
    stop.set()
    for t in threads:
        t.join()
    return np.percentile(np.array(latencies), [50, 95, 99]), len(latencies), sum(answered)


def row(base: str, clients: int = 8, seconds: float = 10) -> tuple[str, str, str, str]:
    """bench/run.py's row: the light search's p50/p95/p99 beside `clients` heavy clients."""
    p, light, heavy = light_beside(base, heavy_shapes(), clients, seconds)
    return (f"light query (keystroke) beside {clients} heavy clients (`title:*`, `president~9`, "
            f"20-wildcard ORs) p50/p95/p99, ms ({light}; {heavy} heavy answered; "
            f"target p95 <= {TARGET_P95_MS})",
            "/".join(f"{x:.1f}" for x in p), "", "FTS5 has no server")


def main(argv: list[str] | None = None) -> int:
    from run import serve  # noqa: E402  (run.py imports this module)

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--heavy", action="append", metavar="Q",
                    help="a heavy query of your own (repeat for several) instead of the three")
    ap.add_argument("--alone", action="store_true",
                    help="also time the light search with no heavy client, first")
    args = ap.parse_args(argv)
    server, base = serve(args.index, args.seeds)
    try:
        if args.alone:
            p, light, _ = light_beside(base, [], 0, args.seconds)
            print(f"light query alone p50/p95/p99, ms ({light}): "
                  + "/".join(f"{x:.1f}" for x in p))
        if args.heavy:
            p, light, heavy = light_beside(base, args.heavy, args.clients, args.seconds)
            print(f"light query beside {args.clients} clients of {args.heavy} p50/p95/p99, ms "
                  f"({light}; {heavy} heavy answered): " + "/".join(f"{x:.1f}" for x in p))
        else:
            name, mine, _, _ = row(base, args.clients, args.seconds)
            print(f"{name}: {mine}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
