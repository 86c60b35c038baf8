"""`searchapp serve --cluster`: the shards searched by Ray actors on a cluster of two nodes
answer exactly as the plain server does; a shard that dies or answers late is left out and
the answer says so; the actor restarts and answers are whole again; nothing leaves the
machine; and `--cluster auto` listens on 127.0.0.1 alone and leaves no Ray process behind
when the server ends, kill -9 included.

The index is 20,123 real news records in 4 shards (conftest `corpus_20k`), built
by the plain indexer; the cluster server is the real command in its own process, a driver
of the test's cluster like any web process on a cluster.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import HANG_S, ROOT, LiveServer, build, free_port, require_ray, wait_for
from searchapp import create_app
from searchapp.index import store

pytestmark = pytest.mark.cluster

BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))


def fetch(url: str, timeout: float = HANG_S) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def api(base: str, params: dict) -> dict:
    status, body = fetch(f"{base}/api/search?{urlencode(params, doseq=True)}")
    assert status == 200, (params, status, body[:300])
    return json.loads(body)


class ClusterServer:
    """`searchapp serve --cluster ADDRESS` in a process of its own."""

    def __init__(self, index: Path, seeds: Path, address: str, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = index.parent / f"serve-{self.port}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "searchapp"), "serve", "--index", str(index), "--seeds", str(seeds),
                 "--port", str(self.port), "--no-watch", "--cluster", address],
                stdout=log, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "SEARCHAPP_RECENT_CACHE_MB": "0",
                     **{f"SEARCHAPP_{k.upper()}": str(v) for k, v in env.items()}})
        wait_for(self.healthy, "the cluster server to start", timeout=2 * HANG_S,
                 ignore=(OSError,))

    def healthy(self) -> bool:
        assert self.proc.poll() is None, self.log.read_text()
        return fetch(self.url + "/healthz", timeout=2)[0] == 200

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def sharded(corpus_20k, tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("cluster") / "index"
    build(corpus_20k, index, full=True, shards=4)
    assert len(store.live(index).shards) == 4
    return index


@pytest.fixture(scope="module")
def plain(sharded, corpus_20k):
    app = create_app({"index": sharded, "seeds": corpus_20k, "recent_cache_mb": 0,
                      "search_budget_ms": 0})
    server = LiveServer(app)
    yield server.url
    server.close()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


@pytest.fixture(scope="module")
def on_cluster(ray_cluster, sharded, corpus_20k):
    server = ClusterServer(sharded, corpus_20k, ray_cluster.address, search_budget_ms=0)
    yield server
    server.close()


def shard_actors(index: Path) -> list[dict]:
    """Each shard actor's process and node, asked as the server's pool asks them."""
    from searchapp.cluster.pool import ShardPool
    return ShardPool(index).hello(4)


def until_whole(base: str, q: str) -> dict:
    """The first answer to `q` that every shard gave (a restarted actor answers again)."""
    def whole():
        answer = api(base, {"q": q})
        return answer if not answer["shards"]["partial"] else None
    return wait_for(whole, f"an answer to {q!r} from every shard", every=0.3)


def comparable(answer: dict) -> dict:
    """An API answer without what differs by design: how long it took, which shards."""
    return {k: v for k, v in answer.items() if k not in ("took_ms", "shards")}


def bench_mix(plain_url: str) -> list[dict]:
    """The benchmark's query mix (bench/bench_search.py's, each alone and with the top source
    and topic; bench/user_mix.py's typing, typos, wildcards, ORs and pasted paragraphs where
    the news corpora are at hand), in the orders and groupings the page offers."""
    import bench_search
    top = api(plain_url, {"q": ""})["facets"]
    filters = {"source": top["provider"][0]["value"], "topic": top["topic"][0]["value"]}
    params = []
    for _, q, _, flt in bench_search.build_cases(filters, typing=True):
        params.append({"q": q, **flt, "terms": 1})
    try:
        import user_mix
        params += [{"q": q, "terms": 1} for _, q, _ in user_mix.cases()]
    except (ImportError, OSError):  # the corpora are not here: bench_search's mix alone
        pass
    for q in ("police", '"new york"', "polic", ""):
        params += [{"q": q, "sort": "newest"}, {"q": q, "group": "records"},
                   {"q": q, "count": "stories"}, {"q": q, "page": 3},
                   {"q": q, "interval": "month", "span": "all"}]
    return params


def test_the_bench_mix_answers_identically_through_the_cluster(plain, on_cluster, sharded):
    actors = shard_actors(sharded)
    assert sorted(a["shard"] for a in actors) == [0, 1, 2, 3]
    assert len({a["node"] for a in actors}) == 2, "the shards' actors are not spread over nodes"
    status = json.loads(fetch(on_cluster.url + "/api/status")[1])
    assert status["cluster"] == {"answering": 4, "shards": 4, "nodes": 2}
    mix = bench_mix(plain)
    assert len(mix) > 100
    grouped = 0
    for params in mix:
        one, many = api(plain, params), api(on_cluster.url, params)
        assert many["shards"] == {"answered": 4, "total": 4, "partial": False}, params
        assert comparable(many) == comparable(one), params
        grouped += sum(1 for hit in one["results"] if hit.get("copies"))
    assert grouped, "no story of several records was folded: the mix does not test stories"


def test_pages_exports_and_records_are_the_same_through_the_cluster(plain, on_cluster):
    for path in ("/search?q=police", "/export.csv?q=police+OR+market",
                 "/export.jsonl?q=%22new+york%22&sort=oldest"):
        one, many = fetch(plain + path), fetch(on_cluster.url + path)
        assert one[0] == many[0] == 200, path
        if path.startswith("/export"):  # each row says where it came from, and when
            def norm(body: bytes, base: str) -> bytes:
                return re.sub(rb"exported [0-9T:-]+Z", b"", body.replace(base.encode(), b""))
            assert norm(one[1], plain) == norm(many[1], on_cluster.url), path
        else:
            assert many[1].count(b'class="hit') == one[1].count(b'class="hit') > 0
    record = api(plain, {"q": "police"})["results"][0]["id"]
    one, many = fetch(f"{plain}/doc/{record}"), fetch(f"{on_cluster.url}/doc/{record}")
    assert one[0] == many[0] == 200 and record.encode() in many[1]


def test_nothing_leaves_the_machine(on_cluster, sharded):
    """Ray's usage statistics are off in the coordinator and in every actor, no dashboard
    listens, and nothing of the test's two nodes (nor the server on them) listens beyond
    127.0.0.1."""
    from ray._common.usage import usage_lib
    assert not usage_lib.usage_stats_enabled()
    assert {a["usage_stats"] for a in shard_actors(sharded)} == {"0"}
    assert all(on_loopback(address) for address, port in listeners().values()
               if port == DASHBOARD_PORT), "Ray's dashboard listens beyond this machine"
    procs = process_tree({os.getpid()})
    assert sum(p.comm == "raylet" for p in procs) == 2, sorted(p.comm for p in procs)
    assert wide_listeners(procs) == {}, "listening beyond this machine"


DASHBOARD_PORT = 8265


def listeners() -> dict[str, tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]]:
    """Every listening TCP socket of this machine's network namespace: its inode, and the
    address and port it listens on (from /proc/net/tcp and tcp6, as `ss -l` reads them)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            hexaddress, hexport = fields[1].split(":")
            raw = bytes.fromhex(hexaddress)  # each 32-bit word in the host's (little) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found[fields[9]] = (ipaddress.ip_address(raw), int(hexport, 16))
    return found


def on_loopback(address) -> bool:
    """127.0.0.0/8 or ::1, or 127.x as an IPv6 socket that takes IPv4 writes it (::ffff:127.x)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


# -- `--cluster auto`: Ray on this machine alone, for as long as the server runs ---------------

@dataclass(frozen=True)
class Proc:
    pid: int
    started: int  # clock ticks after boot: a pid used again later is another process
    name: str  # the command line
    comm: str  # the short name (`gcs_server`, `raylet`, `ray::ShardSear`)


def processes() -> dict[int, tuple[int, Proc, str]]:
    """Every process now, by pid: its parent, itself and its state (Z: a zombie, ended)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # ended while we looked
            continue
        comm, rest = stat[stat.index("(") + 1: stat.rindex(")")], stat[stat.rindex(")") + 2:]
        fields = rest.split()
        name = cmdline.replace(b"\0", b" ").decode(errors="replace").strip() or comm
        found[int(entry.name)] = (
            int(fields[1]), Proc(int(entry.name), int(fields[19]), name, comm), fields[0])
    return found


def process_tree(roots: set[int]) -> set[Proc]:
    """The living processes among `roots` and all their descendants, however deep (a
    process whose parent died belongs to whoever adopted it: a subreaper among them, or
    init, out of this tree, which is why the tests take the tree while everything runs)."""
    table = processes()
    pids = {pid for pid in roots if pid in table and table[pid][2] != "Z"}
    grew = True
    while grew:
        children = {pid for pid, (parent, _, state) in table.items()
                    if parent in pids and pid not in pids and state != "Z"}
        pids |= children
        grew = bool(children)
    return {table[pid][1] for pid in pids}


def alive(procs: set[Proc]) -> set[Proc]:
    """Those of `procs` still running, with what they started since (pids reused by other
    processes are not theirs)."""
    table = processes()
    still = {p.pid for p in procs if p.pid in table and table[p.pid][1].started == p.started
             and table[p.pid][2] != "Z"}
    return process_tree(still)


def sockets_of(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        pass
    return inodes


def wide_listeners(procs: set[Proc]) -> dict[str, list[str]]:
    """The processes among `procs` with a socket listening beyond loopback, and where."""
    table = listeners()
    wide = {}
    for p in procs:
        found = [table[i] for i in sockets_of(p.pid) if i in table]
        if not all(on_loopback(address) for address, _ in found):
            wide[f"{p.comm} {p.pid}"] = sorted(
                f"[{a}]:{port}" if a.version == 6 else f"{a}:{port}" for a, port in found)
    return wide


def ray_processes(procs: set[Proc]) -> set[Proc]:
    """The Ray processes among `procs`: every one of the server's descendants, since the
    server starts nothing else with --no-watch."""
    return {p for p in procs if "searchapp serve" not in p.name}


@pytest.fixture
def small_sharded(tmp_path, seeds_dir) -> Path:
    """The real seed files in 2 shards."""
    index = tmp_path / "index"
    build(seeds_dir, index, full=True, shards=2)
    return index


@pytest.fixture
def auto_server(small_sharded, seeds_dir):
    """`searchapp serve --cluster auto`, its processes taken once its actors answer."""
    require_ray()
    server = ClusterServer(small_sharded, seeds_dir, "auto")
    procs = process_tree({server.proc.pid})
    names = " | ".join(sorted(f"{p.comm}: {p.name}" for p in procs))
    for part in ("gcs_server", "raylet", "ray::ShardSearcher"):
        assert part in names, f"no {part} among the server's processes: {names}"
    yield server, procs
    if server.proc.poll() is None:
        server.close()
    for p in alive(procs):  # what a failed test left: this test's processes alone
        os.kill(p.pid, signal.SIGKILL)


def test_auto_listens_on_loopback_alone(auto_server):
    """Every socket listening in the server and in every Ray process it started (GCS,
    raylet, object manager, agents, each shard's actor, the coordinator's own worker)
    is on 127.0.0.1: Ray has no authentication of its own to keep the network out."""
    server, procs = auto_server
    table = listeners()
    assert sum(1 for p in procs for i in sockets_of(p.pid) if i in table) >= 5  # not vacuous
    assert wide_listeners(procs) == {}, "listening beyond this machine"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_every_ray_process_of_auto_ends_with_the_server(auto_server, how):
    """However the server ends (kill -9 included, which no atexit sees), every process
    Ray started for it ends too, within a bounded wait: none is left holding a port."""
    server, procs = auto_server
    ray = ray_processes(procs)
    assert ray
    os.kill(server.proc.pid, how)
    server.proc.wait(timeout=30)
    try:
        wait_for(lambda: not alive(ray), "every Ray process of the server to end", every=0.2)
    except AssertionError:
        left = alive(ray)
        pytest.fail(f"left running after the server ended: {sorted(p.comm for p in left)}")


def test_a_shard_that_answers_late_is_left_out_and_said_so(ray_cluster, sharded, corpus_20k,
                                                           plain):
    """A shard's actor stopped (SIGSTOP) answers nothing: searches answer from the other
    three within the budget and say so on the page and in the API; once it runs again,
    answers are whole."""
    server = ClusterServer(sharded, corpus_20k, ray_cluster.address, cluster_timeout_ms=300)
    stopped = shard_actors(sharded)[2]
    try:
        whole = api(server.url, {"q": "police"})
        os.kill(stopped["pid"], signal.SIGSTOP)
        try:
            # It answers at all (the stopped shard never would): api's fetch has a hang guard.
            part = api(server.url, {"q": "police"})
            status, page = fetch(server.url + "/search?q=market")
            health = fetch(server.url + "/status")[1]
        finally:
            os.kill(stopped["pid"], signal.SIGCONT)
        assert part["shards"] == {"answered": 3, "total": 4, "partial": True}
        assert 0 < part["total"] < whole["total"]
        assert status == 200 and b"3 of 4 shards answered" in page
        assert b"3 of 4 shard actors answering" in health
        status, _ = fetch(server.url + "/export.csv?q=police")
        assert status in (200, 503)  # whole once the shard answers again, never partial
        again = until_whole(server.url, "police")
        assert comparable(again) == comparable(api(plain, {"q": "police"}))
    finally:
        server.close()


def test_an_export_or_a_batch_losing_a_shard_before_its_first_piece_is_a_503(
        ray_cluster, sharded, corpus_20k, monkeypatch):
    """A shard's actor stops answering after the search was matched (the export's order, a
    batch's first row) and before the first piece of the response is made: the answer is a
    503 that says to try again, not the 500 of a response cut off after its headers."""
    from searchapp.search import SearchIndex
    app = create_app({"index": sharded, "seeds": corpus_20k, "cluster": ray_cluster.address,
                      "cluster_timeout_ms": 300, "cluster_unbudgeted_s": 5,
                      "recent_cache_mb": 0})
    client = app.test_client()
    assert client.get("/api/search?q=police").get_json()["shards"]["partial"] is False
    stopped: list[int] = []

    def lose_the_shard():
        victim = shard_actors(sharded)[2]["pid"]
        os.kill(victim, signal.SIGSTOP)
        stopped.append(victim)

    export, batch = SearchIndex.export, SearchIndex.batch

    def matched_then_lost(self, *args, **kwargs):
        done = export(self, *args, **kwargs)
        lose_the_shard()
        return done

    def first_row_then_lost(self, *args, **kwargs):
        rows = batch(self, *args, **kwargs)
        yield next(rows)
        lose_the_shard()
        yield from rows

    try:
        monkeypatch.setattr(SearchIndex, "export", matched_then_lost)
        response = client.get("/export.csv?q=police", buffered=True)
        assert response.status_code == 503, response.status_code
        assert "Try again" in response.get_data(as_text=True)
        os.kill(stopped[-1], signal.SIGCONT)
        monkeypatch.setattr(SearchIndex, "batch", first_row_then_lost)
        wait_for(lambda: client.get("/api/search?q=police").get_json()["shards"]["partial"]
                 is False, "the shard to answer again", every=0.3)
        response = client.get("/api/batch?" + urlencode(
            {"queries": "police\nmarket\ncourt\nenergy", "format": "csv"}), buffered=True)
        assert response.status_code == 503, response.status_code
        assert "Try again" in response.get_data(as_text=True)
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        if "searchapp.index" in app.extensions:
            app.extensions["searchapp.index"].close()


def test_kill_9_of_a_shard_actor_during_200_searches(on_cluster, sharded, plain):
    """kill -9 of one shard's actor while 16 clients search: no answer is a 5xx, those the
    dead shard missed say "3 of 4", and after Ray restarts the actor answers are whole."""
    words = ["police", "market", "government", "court", "energy", "school", "health",
             "election", "climate", "water", "city", "report", "police OR privacy",
             '"new york"', "polic", "minister", "oil prices", "technology", "bank", "war"]
    requests = [(words[n % len(words)], n // len(words) % 3 + 1) for n in range(240)]
    victim = shard_actors(sharded)[1]
    statuses, partial, whole = [], 0, 0

    def search(item):
        q, page = item
        status, body = fetch(f"{on_cluster.url}/api/search?{urlencode({'q': q, 'page': page})}")
        return status, json.loads(body) if status == 200 else None

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(search, item) for item in requests]
        wait_for(lambda: any(f.done() for f in futures), "the searches to be under way",
                 every=0.01)
        os.kill(victim["pid"], signal.SIGKILL)
        for future in futures:
            status, answer = future.result()
            statuses.append(status)
            if answer is not None:
                if answer["shards"]["partial"]:
                    assert answer["shards"] == {"answered": 3, "total": 4, "partial": True}
                    partial += 1
                else:
                    assert answer["shards"] == {"answered": 4, "total": 4, "partial": False}
                    whole += 1
    assert len(statuses) == 240 and not [s for s in statuses if s >= 500]
    assert partial, "no answer missed the killed shard: the test did not test it"
    answer = until_whole(on_cluster.url, "court")  # the restarted actor answers
    assert answer["shards"] == {"answered": 4, "total": 4, "partial": False}
    assert comparable(answer) == comparable(api(plain, {"q": "court"}))
    restarted = shard_actors(sharded)[1]
    assert restarted["pid"] != victim["pid"]
    print(f"kill -9 during 240 searches: {whole} whole, {partial} partial, "
          f"{sum(s >= 500 for s in statuses)} 5xx")


def test_a_reindex_reaches_the_actors(on_cluster, sharded, corpus_20k):
    """New seed files indexed while the cluster serves: the next search finds them, on one
    generation of every shard."""
    assert api(on_cluster.url, {"q": "quokkaflavoured", "typing": 0})["total"] == 0
    for n in range(3):
        (corpus_20k / f"late_{n}.txt").write_text(
            f'---\ntitle: "Quokkaflavoured ice cream number {n}"\nexcerpt: "A new taste."\n'
            f"provider:\n  name: Late News\n---\n", encoding="utf-8")
    before = api(on_cluster.url, {"q": ""})["generation"]
    build(corpus_20k, sharded)
    after = api(on_cluster.url, {"q": "quokkaflavoured", "typing": 0})
    assert after["total"] == 3 and after["generation"] != before
    assert after["shards"]["partial"] is False


def test_an_actor_gone_for_good_is_made_again(on_cluster, sharded, plain):
    """An actor Ray will not restart (killed for good, or owned by a process that ended):
    the search that finds it gone says so, and the next ones make it again, whole."""
    import ray
    from searchapp.cluster.pool import ShardPool
    ray.kill(ShardPool(sharded).actors(4)[3], no_restart=True)
    first = api(on_cluster.url, {"q": "school"})
    assert first["shards"] in ({"answered": 3, "total": 4, "partial": True},
                               {"answered": 4, "total": 4, "partial": False})
    again = until_whole(on_cluster.url, "school")
    assert comparable(again) == comparable(api(plain, {"q": "school"}))
    assert len(shard_actors(sharded)) == 4
