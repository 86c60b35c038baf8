"""What the Ray cluster path costs against the plain server: the same index served by
`searchapp serve` (searching in its own processes) and by `searchapp serve --cluster auto`
(one coordinating process, one Ray actor per shard scoring postings and reading records),
through real HTTP, with SQLite FTS5 answering the same queries in the same run.

    .venv/bin/python bench/bench_cluster.py --seeds /work/bench/seeds-100k \\
        --index /work/bench/index-100k-c --work /work/bench

Why: on one machine the cluster adds only costs (a Ray call per shard per round of a
search, matches and records pickled between processes); these are the figures to weigh
against what it is for, a collection larger than one machine. The index is built there
(`--shards`, default 4) when the folder holds none; the peer's database is
`--work/peer-SIZE.sqlite` (SIZE from the seeds folder's name, seeds-SIZE), loaded when empty.

Each server runs alone, as its own process (`--no-watch`; the cache of recent searches off,
SEARCHAPP_RECENT_CACHE_MB=0, so a repeated query is searched again; the posting caches stay
on, as served): `--workers 1`, the default (one process per core), then `--cluster auto`.
Once it answers /api/search?q= it is measured:
- one client on one kept-alive connection (as a browser): the query mix, one pass to warm
  up and `--runs` timed, p50 / p95 / p99, and the server's own `took_ms`; FTS5 answers each
  query right after the server does (in this process, no HTTP). The mix: bench_search.py's
  MIX with the most common provider and topic as filters, and user_mix.py's typing, typos,
  wildcards, ORs and pasted paragraphs;
- `--clients` threads, one kept-alive connection each, going round both mixes for
  `--seconds` (after a few seconds not counted): requests/s, p50 / p95, errors; beside it
  as many threads, each with its own SQLite connection, doing the same for as long;
- answers whose totals differ from the first server's, and answers marked partial (a shard
  of the cluster did not answer);
- resident memory of the server's processes (on the cluster: the coordinator, each shard's
  actor, and Ray's own processes), and what the server wrote to stderr (kept in --work).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fts_peer  # noqa: E402
import user_mix  # noqa: E402
from bench_index import machine  # noqa: E402
from bench_search import build_cases, top_values  # noqa: E402
from run import Rows, pct, serve, timed_index  # noqa: E402
from searchapp.index import store  # noqa: E402
from searchapp.search import SearchIndex  # noqa: E402

CORES = os.cpu_count() or 1
# (key, what the table calls it, `searchapp serve` arguments beyond the common ones)
SERVERS = [
    ("plain-1", "plain server, --workers 1", ["--workers", "1"]),
    ("plain", f"plain server, default workers (one per core: {CORES})", []),
    ("cluster", "cluster server, --cluster auto (1 coordinating process)",
     ["--workers", "1", "--cluster", "auto"]),
]
ENV = {"SEARCHAPP_RECENT_CACHE_MB": "0"}
WARM_SECONDS = 5  # of the concurrent load, not counted: every process of a server warms up
NUMBERS = re.compile(r"0x[0-9a-f]+|\d+")

Case = tuple[dict, str, dict]  # (searchapp's URL parameters, FTS5 MATCH, FTS5 filters)


def mixes(index_dir: Path) -> tuple[dict[str, list[Case]], int]:
    """Both query mixes, by name (the search box's, with filters, and what researchers
    type), and the records of the index."""
    index = SearchIndex(index_dir)
    try:
        filters, records = top_values(index), index.stats().records
    finally:
        index.close()
    box = [({"q": q, "typing": "1", **flt}, match, flt)
           for _, q, match, flt in build_cases(filters, typing=True)]
    typed = [({"q": q, "typing": "1"}, match, {}) for _, q, match in user_mix.cases()]
    return {"search box (bench_search MIX)": box, "researchers (user_mix)": typed}, records


# -- one server: start, ask, stop ------------------------------------------------------------

def start(key: str, args: list[str], index: Path, seeds: Path, work: Path
          ) -> tuple[subprocess.Popen, str, float]:
    """`searchapp serve` as its own process, answering /api/search?q=: (it, its base URL,
    seconds until it answered). Its output goes to --work, read back at the end."""
    out, err = (open(work / f"bench_cluster-{key}.{s}", "w") for s in ("out", "err"))
    started = time.perf_counter()
    try:
        server, base = serve(index, seeds, *args, env=ENV, stdout=out, stderr=err)
    except SystemExit as exc:
        raise SystemExit(f"{key}: {exc}: see {err.name}") from None
    while time.perf_counter() - started < 600:  # and its first search answered
        if server.poll() is not None:
            raise SystemExit(f"{key} exited with {server.returncode}: see {err.name}")
        conn = _connect(base, 60)
        try:
            if _get(conn, {"q": ""})[1] == 200:
                return server, base, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{key} did not answer within 600 s: see {err.name}")


def stop(server: subprocess.Popen) -> int:
    """Stop the server, then any process it started that outlived it (Ray's, by pid): how
    many there were."""
    family = []
    try:
        family = [(p, _started(p)) for p in descendants(server.pid)]
    finally:
        server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    time.sleep(2)
    outlived = [p for p, at in family if _started(p) == at]  # same start time: not a new pid
    left = outlived
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in left:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        time.sleep(3)
        left = [p for p in left if _started(p) is not None]
    return len(outlived)


def _connect(base: str, timeout: float = 120) -> http.client.HTTPConnection:
    host, port = base.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def _get(conn: http.client.HTTPConnection, params: dict) -> tuple[float, int, bytes]:
    """One GET /api/search: milliseconds to its last byte, status, body."""
    t = time.perf_counter()
    conn.request("GET", "/api/search?" + urlencode(params))
    with conn.getresponse() as response:
        body = response.read()
    return (time.perf_counter() - t) * 1000, response.status, body


# -- one client, beside the peer -------------------------------------------------------------

def one_client(base: str, peer: sqlite3.Connection, cases: list[Case], runs: int) -> dict:
    """The mix on one kept-alive connection, each query then asked of FTS5: latencies of
    both, the server's own times, the first pass, and the last pass's totals and partials."""
    conn = _connect(base)
    out = {"ours": [], "took": [], "peer": [], "first": [], "totals": [], "partial": 0,
           "errors": 0, "unreadable": 0}
    for n in range(runs + 1):
        totals = []
        for params, match, flt in cases:
            ms, status, body = _get(conn, params)
            t = time.perf_counter()
            try:
                fts_peer.search(peer, match, flt)
            except sqlite3.OperationalError:  # a shape FTS5 cannot read
                out["unreadable"] += n == 1
            peer_ms = (time.perf_counter() - t) * 1000
            answer = json.loads(body) if status == 200 else {}
            totals.append((answer.get("total"), answer.get("notice")))
            out["errors"] += status != 200
            out["partial"] += bool(answer.get("shards", {}).get("partial"))
            if n:
                out["ours"].append(ms)
                out["took"].append(answer.get("took_ms") or 0.0)
                out["peer"].append(peer_ms)
            else:
                out["first"].append(ms)
        out["totals"] = totals
    conn.close()
    return out


# -- many clients ----------------------------------------------------------------------------

def http_load(base: str, cases: list[Case], clients: int, seconds: float
              ) -> tuple[float, list[float], int]:
    """`clients` threads, one kept-alive connection each, round the mix (each from its own
    place in it) for `seconds`: requests/s, latencies, errors."""
    def client(n: int, until: float) -> tuple[list[float], int]:
        conn, mine, bad, i = _connect(base), [], 0, n * len(cases) // clients
        while time.perf_counter() < until:
            try:
                ms, status, _ = _get(conn, cases[i % len(cases)][0])
                mine.append(ms)
                bad += status != 200
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = _connect(base)
            i += 1
        conn.close()
        return mine, bad

    return _threads(client, clients, seconds)


def peer_load(db: Path, cases: list[Case], clients: int, seconds: float
              ) -> tuple[float, list[float], int]:
    """The same for FTS5: `clients` threads, each with its own connection (SQLite lets go of
    the interpreter while a statement runs), round the same mix."""
    def client(n: int, until: float) -> tuple[list[float], int]:
        conn, mine, bad, i = fts_peer.connect(db), [], 0, n * len(cases) // clients
        while time.perf_counter() < until:
            _, match, flt = cases[i % len(cases)]
            t = time.perf_counter()
            try:
                fts_peer.search(conn, match, flt)
            except sqlite3.OperationalError:
                bad += 1
            mine.append((time.perf_counter() - t) * 1000)
            i += 1
        conn.close()
        return mine, bad

    return _threads(client, clients, seconds)


def _threads(client, clients: int, seconds: float) -> tuple[float, list[float], int]:
    """Run `client(n, until)` in `clients` threads: the rate, the latencies, the errors."""
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(client, range(clients), [started + seconds] * clients))
    elapsed = time.perf_counter() - started
    latencies = [ms for mine, _ in done for ms in mine]
    return len(latencies) / elapsed, latencies, sum(bad for _, bad in done)


# -- processes and their memory --------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """Every process started by `pid`, or by those, by parent pid (Ray starts its own from
    threads, which /proc/PID/task/PID/children does not list)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        kids = [c for c, p in parents.items() if p == parent]
        found += kids
        todo += kids
    return found


def _started(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _rss_mb(pid: int) -> tuple[float, float]:
    """Resident MB now and at its peak."""
    now = peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            now = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return now, peak


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def memory_rows(server: subprocess.Popen) -> list[tuple[str, str, str, str]]:
    """Resident memory of the server's processes, now and at the peak (pages shared between
    processes, such as the memory-mapped index, are counted in each)."""
    groups: dict[str, list[tuple[float, float]]] = {"serving": [_rss_mb(server.pid)]}
    for pid in descendants(server.pid):
        try:
            cmd, rss = _cmdline(pid), _rss_mb(pid)
        except OSError:
            continue
        if "ShardSearcher" in cmd:
            groups.setdefault("actors", []).append(rss)
        elif "ray" in cmd.lower() or "gcs_server" in cmd or "raylet" in cmd:
            groups.setdefault("ray", []).append(rss)
        else:
            groups["serving"].append(rss)
    names = {"serving": "serving processes", "actors": "shard actors",
             "ray": "Ray's own processes"}
    rows = []
    for key in [k for k in names if k in groups]:
        values = groups[key]
        each = ", ".join(f"{now:,.0f}" for now, _ in values) if key == "actors" else ""
        rows.append((f"  {names[key]} ({len(values)}): RSS now; peak, MB (added up)",
                     f"{sum(v[0] for v in values):,.0f}; {sum(v[1] for v in values):,.0f}", "",
                     f"each {each}" if each else ""))
    return rows


def stderr_summary(key: str, work: Path) -> list[str]:
    """What the server printed, and its stderr as kinds of line (numbers and addresses made
    alike), the most frequent first."""
    said = (work / f"bench_cluster-{key}.out").read_text().strip().splitlines()
    err = (work / f"bench_cluster-{key}.err").read_text().splitlines()
    kinds = Counter(NUMBERS.sub("#", line)[:160] for line in err)
    lines = [f"{key}: said {' / '.join(said) or '(nothing)'}",
             f"{key}: stderr {len(err)} lines ({work / f'bench_cluster-{key}.err'})"]
    return lines + [f"  {n:5} x {line}" for line, n in kinds.most_common(6)]


# -- the table --------------------------------------------------------------------------------

def fmt(values) -> str:
    return "/".join(f"{x:.1f}" for x in pct(values))


def ratio(ours, theirs) -> str:
    return "/".join(f"{a / b:.2f}" for a, b in zip(pct(ours), pct(theirs))) + "x"


def measure(key: str, label: str, args: list[str], index: Path, seeds: Path, work: Path,
            db: Path, named: dict[str, list[Case]], runs: int, clients: int, seconds: float,
            peer_rate: tuple[float, list[float], int], reference: dict) -> tuple[list, list]:
    """Every row of one server, and what it printed."""
    rows = [(label, "", "", "")]
    load = os.getloadavg()[0]
    server, base, up = start(key, args, index, seeds, work)
    try:
        rows.append(("  start until /api/search?q= answers, s", f"{up:.1f}", "", ""))
        peer = fts_peer.connect(db)
        partial, differ = 0, []
        for name, cases in named.items():
            got = one_client(base, peer, cases, runs)
            rows.append((f"  {name}, one client p50/p95/p99, ms ({len(cases)} x {runs})",
                         fmt(got["ours"]), fmt(got["peer"]), ratio(got["ours"], got["peer"])))
            rows.append(("    the server's own time (took_ms)", fmt(got["took"]), "", ""))
            rows.append(("    first pass (after start; no posting cached yet)", fmt(got["first"]), "", ""))
            if got["errors"] or got["unreadable"]:
                rows.append(("    answers not 200; queries FTS5 cannot read", f"{got['errors']}",
                             f"{got['unreadable']}", ""))
            partial += got["partial"]
            reference.setdefault(name, got["totals"])
            differ += [f"{key}: total {b[0]} (first server: {a[0]}) for {case[0]}; notice "
                       f"{b[1]!r} (first server: {a[1]!r})"
                       for case, a, b in zip(cases, reference[name], got["totals"]) if a[0] != b[0]]
        peer.close()
        every = [case for cases in named.values() for case in cases]
        http_load(base, every, clients, WARM_SECONDS)
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        rps, lat, errors = http_load(base, every, clients, seconds)
        client_cpu = _cpu_seconds(cpu) / seconds
        prate, plat, _ = peer_rate
        rows.append((f"  {clients} clients, {seconds:.0f} s, both mixes: requests/s; p50/p95 ms; errors",
                     f"{rps:.1f}; {fmt(lat).rsplit('/', 1)[0]}; {errors}",
                     f"{prate:.0f}; {fmt(plat).rsplit('/', 1)[0]}", f"{prate / rps:.2f}x"))
        rows.append(("    the load client's own CPU use, cores", f"{client_cpu:.2f}", "", ""))
        rows.append(("  totals unlike the first server's; answers marked partial",
                     f"{len(differ)}; {partial}", "", ""))
        rows.append(("  machine load (1-minute average) at its start; at its end",
                     f"{load:.1f}; {os.getloadavg()[0]:.1f}", "", ""))
        rows += memory_rows(server)
    finally:
        left = stop(server)
    if left:
        rows.append(("  processes still running 2 s after the server stopped (stopped here)",
                     f"{left}", "", ""))
    return rows, [line[:300] for line in differ] + stderr_summary(key, work)


def _cpu_seconds(before) -> float:
    now = resource.getrusage(resource.RUSAGE_SELF)
    return (now.ru_utime - before.ru_utime) + (now.ru_stime - before.ru_stime)


def run(seeds: Path, index: Path, db: Path, work: Path, shards: int, servers: list[str],
        runs: int, clients: int, seconds: float) -> None:
    print(machine())
    if store.live(index) is None:
        took, added, _, line = timed_index(seeds, index, True, "--shards", str(shards))
        print(f"indexed {seeds} into {index} in {took:.0f} s: {line}")
    fresh = not db.exists()
    conn = fts_peer.connect(db)
    if fresh or fts_peer.count(conn) == 0:
        t = time.perf_counter()
        fts_peer.load(conn, sorted(seeds.glob("*.txt")))
        print(f"loaded the peer's database {db} in {time.perf_counter() - t:.0f} s")
    records = fts_peer.count(conn)
    conn.close()
    named, ours = mixes(index)
    live = store.live(index)
    print(f"index {index}: {ours:,} records, {len(live.shards)} shards, build {live.build.name}; "
          f"the peer {db}: {records:,} records")
    print(f"servers' cache of recent searches off ({' '.join(f'{k}={v}' for k, v in ENV.items())}): "
          "each query is searched again; posting caches on")
    every = [case for cases in named.values() for case in cases]
    peer_load(db, every, clients, WARM_SECONDS)
    load = os.getloadavg()[0]
    peer_rate = peer_load(db, every, clients, seconds)
    print(f"FTS5, {clients} threads for {seconds:.0f} s: machine load (1-minute average) "
          f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    rows, said, reference = Rows(), [], {}
    for key, label, args in SERVERS:
        if key in servers:
            more, lines = measure(key, label, args, index, seeds, work, db, named, runs,
                                  clients, seconds, peer_rate, reference)
            rows += more
            said += lines
    print("\n" + "\n".join(said))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'':{width}}  {'searchapp':>22}  {'sqlite fts5':>18}  {'ratio':>14}")
    for name, mine, peer, rate in rows:
        print(f"{name:{width}}  {mine:>22}  {peer:>18}  {rate:>14}")
    print("\nFTS5 runs in this process (no HTTP); its rows under each server were timed in that "
          "server's run, its many-clients figure once (threads, a connection each). ratio: "
          "searchapp's time / FTS5's; for requests/s, FTS5's / searchapp's.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--index", type=Path, required=True, help="built here when it holds no index")
    ap.add_argument("--work", type=Path, default=HERE / "out",
                    help="where the peer's database and the servers' output are kept")
    ap.add_argument("--peer", type=Path, help="the FTS5 database (default: WORK/peer-SIZE.sqlite)")
    ap.add_argument("--shards", type=int, default=4, help="shards of an index built here")
    ap.add_argument("--servers", default=",".join(k for k, _, _ in SERVERS),
                    help="which to run, in this order (default: all)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    peer = args.peer or args.work / f"peer-{args.seeds.name.removeprefix('seeds-')}.sqlite"
    run(args.seeds, args.index, peer, args.work, args.shards, args.servers.split(","),
        args.runs, args.clients, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
