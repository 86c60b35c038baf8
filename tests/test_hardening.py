"""Hardening: indexers killed mid-run, full and read-only disks, files changing under the
indexer, reindexing under load, and fuzzed requests. `--slow` (or SEARCHAPP_SLOW=1) runs
the full counts; the default run does a fast version of each. Figures go to
test-output/hardening.txt for the record."""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings, strategies as st

from searchapp import create_app
from searchapp.index import store
from searchapp.search import SearchIndex, SearchRequest
from conftest import (HANG_S, build, free_port, index_contents, record, wait_for,
                      write_generated)

BIN = Path(sys.executable).parent


def searchapp(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "searchapp"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def mutate(seeds: Path, rng: random.Random, start: int) -> int:
    """Add, change and delete seed files: a reindex with real work to do."""
    write_generated(seeds, 150, start=start)
    existing = sorted(seeds.glob("gen_*.txt"))
    for path in rng.sample(existing, 40):
        path.write_text(path.read_text(encoding="utf-8").replace("About", "Changed: about", 1),
                        encoding="utf-8")
    for path in rng.sample(existing, 20):
        path.unlink(missing_ok=True)
    return start + 150


# -- faults during indexing -------------------------------------------------------------------

def test_kill_9_at_random_moments_loses_nothing(tmp_path, slow):
    """Over 3 shards: a run killed between two shards' commits, or after them but before
    the index-wide pointer moved, must leave what readers see whole, and converge."""
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 1500)
    build(seeds, index, shards=3)
    server = SearchIndex(index)  # a running server's view of the index
    served = server.search(SearchRequest(q="police")).total
    rng = random.Random(9)
    kills = 50 if slow else 5
    compared = 0
    next_file = 100_000
    for round_no in range(kills):
        next_file = mutate(seeds, rng, next_file)
        proc = searchapp("index", "--seeds", str(seeds), "--index", str(index),
                         *(["--full", "--shards", "3"] if round_no % 3 == 0 else []))
        time.sleep(rng.uniform(0.05, 2.5))  # the scenario: a kill at a random moment of the run
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # The index still opens, and the server still answers (from the last good generation).
        with store.open_live(index).searcher() as opened:
            assert opened.doc_count() > 0
        # The server's snapshot answers as a fresh reader of the live index does.
        fresh = SearchIndex(index)
        expected = fresh.search(SearchRequest(q="police")).total
        fresh.close()
        assert server.search(SearchRequest(q="police")).total == expected > 0
        # The next run finishes (no stale lock) and equals a full rebuild.
        build(seeds, index)
        assert len(store.live(index).shards) == 3
        reference = tmp_path / f"reference-{round_no}"
        build(seeds, reference, full=True, shards=1)
        assert index_contents(index) == index_contents(reference)
        shutil.rmtree(reference)
        compared += 1
    server.close()
    leftover = subprocess.run(["pgrep", "-f", f"searchapp index --seeds {seeds}"],
                              capture_output=True, text=True).stdout.split()
    assert leftover == [], "a killed indexer left processes behind"
    record(f"kill -9 during indexing: {kills} kills survived, {compared} indexes compared "
           f"equal to a full rebuild (server answered throughout; first answer {served})")


def _limited_index(seeds: Path, index: Path, max_bytes: int, *extra: str):
    """Run `searchapp index` with files capped at `max_bytes`: writes past it fail (EFBIG)."""
    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return subprocess.run([str(BIN / "searchapp"), "index", "--seeds", str(seeds), "--index",
                           str(index), *extra], capture_output=True, text=True, preexec_fn=cap)


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_disk_full_is_a_clear_error_and_the_index_is_untouched(tmp_path, seeds_dir, full):
    index = tmp_path / "index"
    build(seeds_dir, index)
    before = index_contents(index)
    write_generated(seeds_dir, 600, start=5000)
    result = _limited_index(seeds_dir, index, 40_000, *(["--full"] if full else []))
    assert result.returncode == 1
    assert "cannot write the index" in result.stderr and "untouched" in result.stderr
    assert "Traceback" not in result.stderr
    assert index_contents(index) == before
    assert build(seeds_dir, index).ok  # with room again, the next run completes
    assert len(index_contents(index)) > len(before)


def test_read_only_index_folder_is_a_clear_error(tmp_path, seeds_dir):
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() == 0:  # root writes through permissions: use a read-only filesystem
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True).returncode:
            pytest.skip("needs a read-only filesystem, and mounting one is not permitted here")
    try:
        index = mount / "index"
        build(seeds_dir, index)
        before = index_contents(index)
        (seeds_dir / "more.txt").write_text('---\ntitle: "More"\n---\n', encoding="utf-8")
        if os.geteuid() == 0:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        else:
            for path in [index, *index.rglob("*")]:
                path.chmod(0o555 if path.is_dir() else 0o444)
        result = subprocess.run([str(BIN / "searchapp"), "index", "--seeds", str(seeds_dir),
                                 "--index", str(index)], capture_output=True, text=True)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "cannot write" in result.stderr and str(index) in result.stderr
        assert index_contents(index) == before
        reader = SearchIndex(index)
        try:
            assert reader.search(SearchRequest(q="facial")).total == 21
        finally:
            reader.close()  # its open files would keep the mount busy
    finally:
        if os.geteuid() == 0:
            # A mount left behind outlives the test (and breaks pytest's clean-up of old temp
            # folders): first what still maps its files from reference cycles is collected,
            # then the background checksum check is waited out.
            gc.collect()
            wait_for(lambda: subprocess.run(["umount", str(mount)],
                                            capture_output=True).returncode == 0,
                     f"{mount} to be unmounted", every=0.1)


def test_files_written_renamed_and_deleted_during_a_run(tmp_path, slow):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 800)
    build(seeds, index)
    stop = threading.Event()
    rng = random.Random(3)

    def meddle():
        n = 50_000
        while not stop.is_set():
            slow_file = seeds / f"slow_{n}.txt"
            with open(slow_file, "w", encoding="utf-8") as f:  # written a piece at a time
                f.write('---\ntitle: "Slowly written')
                f.flush()
                time.sleep(0.01)  # the scenario: a writer slow enough for a run to see half
                f.write(f' article {n}"\n---\n')
            tmp = seeds / f".incoming-{n}.tmp"
            write_generated(tmp.parent / "staging", 1, start=n)
            (tmp.parent / "staging" / f"gen_{n:05d}.txt").rename(seeds / f"renamed_{n}.txt")
            victims = sorted(seeds.glob("gen_*.txt"))
            if victims:
                rng.choice(victims).unlink(missing_ok=True)
            n += 1

    rounds = 10 if slow else 3
    for _ in range(rounds):
        stop.clear()
        meddler = threading.Thread(target=meddle)
        meddler.start()
        try:
            build(seeds, index)  # must not raise, whatever happens under it
        finally:
            stop.set()
            meddler.join()
    shutil.rmtree(seeds / "staging", ignore_errors=True)
    build(seeds, index)
    build(seeds, tmp_path / "reference", full=True)
    assert index_contents(index) == index_contents(tmp_path / "reference")
    record(f"files changing during a run: {rounds} runs converged to a full rebuild")


# -- reindex under load -------------------------------------------------------------------

def test_reindex_under_load(tmp_path, slow):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 1000)
    build(seeds, index)
    port = free_port()
    server = searchapp("serve", "--index", str(index), "--port", str(port), "--threads", "16")
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            assert server.poll() is None, server.stderr.read()
            return urllib.request.urlopen(base + "/healthz", timeout=2).read()
        wait_for(up, "the server to come up", ignore=(OSError,))
        queries = ["police", "zyzzyva", "council budget"]
        # (query, generation, total, milliseconds, when it was asked: perf_counter)
        answers: list[tuple[str, str, int, float, float]] = []
        errors: list[str] = []
        stop = threading.Event()
        lock = threading.Lock()
        limit = 80_000 if slow else 30_000  # requests, all clients together (a bound; `stop` ends it)

        def client(n: int):
            i = n
            while not stop.is_set() and len(answers) + len(errors) < limit:
                q = queries[i % len(queries)]
                i += 1
                started = time.perf_counter()
                try:
                    url = f"{base}/api/search?{urlencode({'q': q, 'typing': '0'})}"
                    with urllib.request.urlopen(url, timeout=HANG_S) as r:
                        data = json.loads(r.read())
                    with lock:
                        answers.append((q, data["generation"], data["total"],
                                        (time.perf_counter() - started) * 1000, started))
                except (urllib.error.HTTPError, OSError) as exc:
                    with lock:
                        errors.append(f"{q}: {exc}")

        clients = [threading.Thread(target=client, args=(n,)) for n in range(20)]
        for c in clients:
            c.start()
        wait_for(lambda: len(answers) + len(errors) >= len(clients), "the clients to be answered")
        during_from = len(answers)
        write_generated(seeds, 3000 if slow else 1500, start=20_000, word="zyzzyva")
        reindex = searchapp("index", "--seeds", str(seeds), "--index", str(index))
        assert reindex.wait(timeout=600) == 0, reindex.stderr.read()
        committed = time.perf_counter()

        def asked_since(q: str) -> list[tuple]:
            with lock:
                return [a for a in answers[during_from:] if a[0] == q and a[4] > committed]
        seen = wait_for(lambda: asked_since("zyzzyva"), "a search begun after the commit")
        visible = seen[0][4] + seen[0][3] / 1000 - committed  # for the record
        during_to = len(answers)
        # Every query answered from the new generation too, before the clients stop.
        new = seen[0][1]
        wait_for(lambda: all(any(a[1] == new for a in asked_since(q)) for q in queries),
                 "every query answered from the new generation")
        stop.set()
        for c in clients:
            c.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert errors == []
    by_generation: dict[tuple[str, str], set[int]] = {}
    for q, generation, total, *_ in answers:
        by_generation.setdefault((q, generation), set()).add(total)
    assert all(len(totals) == 1 for totals in by_generation.values()), by_generation
    assert len({g for _, g in by_generation}) >= 2  # the old generation, then the new one
    # The commit is seen by the very next search: none begun after it missed the new records.
    assert all(a[2] > 0 for a in answers if a[0] == "zyzzyva" and a[4] > committed)
    latencies = sorted(a[3] for a in answers[during_from:during_to])
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    record(f"reindex under load: {len(answers)} requests from 20 clients, {len(errors)} errors, "
           f"0 mixed answers; {during_to - during_from} during the reindex, p95 {p95:.0f} ms; "
           f"new records visible {visible * 1000:.0f} ms after the commit")


# -- hostile and fuzzed requests --------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from conftest import FIXTURES, copy_seeds
    base = tmp_path_factory.mktemp("fuzz")
    seeds = copy_seeds(base / "seeds", FIXTURES / "hostile" / "hostile.txt")
    write_generated(seeds, 300)
    build(seeds, base / "index")
    app = create_app({"index": base / "index"})

    class Buffered(FlaskClient):
        """Reads every response to its end and closes it, as a server does: an export or
        batch lets go of its place only then (a process streams a few at a time)."""

        def open(self, *args, **kwargs):
            kwargs.setdefault("buffered", True)
            return super().open(*args, **kwargs)

    app.test_client_class = Buffered
    return app.test_client()


PATHOLOGICAL = ["*a*", "?*?*", "*", "**", "?", "*?*?*?*?*?*", "a" * 500, "(" * 240 + "x" + ")" * 240,
                '"' * 300, "title:" * 80, "~" * 100, "^" * 100, "x~99999", "x^99999999999",
                "-" * 400, "NOT " * 120, "AND OR NOT", "\x00\x01\x02", "\u202e\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
                "<script>alert(1)</script>", "%00", "../../etc/passwd", "' OR 1=1 --",
                "field:value:other", "[a TO z]", "{a TO z}", "x" * 10_001]
BAD_PARAMS = [{"page": "999999999999"}, {"page": "-1"}, {"page": "1e3"}, {"per_page": "0"},
              {"per_page": "NaN"}, {"from": "2021-02-30"}, {"to": "yesterday"},
              {"from": "9999-99-99"}, {"sort": "random"}, {"match": "some"},
              {"interval": "fortnight"}, {"scale": "log"}, {"provider": "No such source"},
              {"topic": "\u0000"}, {"year": "abc"}, {"kind": "everything"}]


@pytest.mark.parametrize("q", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_queries_get_a_bounded_clear_answer(fuzz_client, q):
    for path in ("/search", "/api/search"):
        started = time.perf_counter()
        response = fuzz_client.get(f"{path}?q={quote(q)}")
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 400), (path, q, response.status_code)
        assert elapsed < HANG_S, f"{path} {q!r} took {elapsed:.1f} s"  # a hang guard, not a speed test
        if response.status_code == 400 and path == "/api/search":
            assert response.get_json()["error"]


@pytest.mark.parametrize("params", BAD_PARAMS, ids=[next(iter(p)) + "=" + next(iter(p.values()))[:12]
                                                    for p in BAD_PARAMS])
def test_bad_parameters_are_400_or_empty_never_500(fuzz_client, params):
    for path in ("/search", "/api/search", "/export.csv", "/export.jsonl", "/timeline.csv",
                 "/timeline.svg", "/terms"):
        response = fuzz_client.get(f"{path}?{urlencode({'q': 'police', **params})}")
        assert response.status_code in (200, 400), (path, params, response.status_code)


_ALPHABET = st.characters(blacklist_categories=("Cs",))
_QUERY = st.one_of(st.text(_ALPHABET, max_size=80),
                   st.text(st.sampled_from('ab *?"()~^-+:OR AND NOT title source topic \\/'),
                           max_size=60))
_PARAMS = st.fixed_dictionaries({}, optional={
    "page": st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=5)),
    "per_page": st.one_of(st.integers(-5, 10**6).map(str), st.text(max_size=5)),
    "from": st.one_of(st.dates().map(str), st.text(max_size=12)),
    "to": st.one_of(st.dates().map(str), st.text(max_size=12)),
    "sort": st.sampled_from(["relevance", "newest", "oldest", "", "x"]),
    "match": st.sampled_from(["all", "any", "", "x"]),
    "provider": st.text(_ALPHABET, max_size=20), "topic": st.text(_ALPHABET, max_size=20),
    "interval": st.sampled_from(["", "day", "week", "month", "year", "x"]),
    "group": st.sampled_from(["story", "records", "", "x"]),
    "count": st.sampled_from(["records", "stories", "", "x"]),
    "story": st.one_of(st.text(_ALPHABET, max_size=20),
                       st.sampled_from(["2151855e908e717b", "0000000000000000", "FFFFFFFFFFFFFFFF"])),
})
_FUZZED = {"count": 0, "slowest": 0.0}


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow],
          max_examples=1500 if os.environ.get("SEARCHAPP_SLOW") else 120)
@given(q=_QUERY, params=_PARAMS, path=st.sampled_from(["/search", "/api/search", "/export.csv",
                                                       "/export.jsonl", "/timeline.csv", "/terms",
                                                       "/search.atom", "/research"]))
def test_fuzzed_requests_never_fail(fuzz_client, q, params, path):
    query = urlencode({"q": q, **params}, safe="")
    started = time.perf_counter()
    response = fuzz_client.get(f"{path}?{query}")
    response.get_data()  # streamed exports run here
    elapsed = time.perf_counter() - started
    assert response.status_code in (200, 400), (path, q, params, response.status_code)
    assert elapsed < HANG_S  # a hang guard; the slowest answer is recorded below
    _FUZZED["count"] += 1
    _FUZZED["slowest"] = max(_FUZZED["slowest"], elapsed)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=300 if os.environ.get("SEARCHAPP_SLOW") else 40)
@given(q=_QUERY)
def test_a_record_opened_from_any_search_is_shown(fuzz_client, q):
    """The words of whatever search a record page was opened from are marked, or none are."""
    response = fuzz_client.get("/doc/2151855e908e717b?" + urlencode({"q": q}, safe=""))
    assert response.status_code == 200
    assert "Civil liberties groups demand" in response.get_data(as_text=True).replace(
        "<mark>", "").replace("</mark>", "")


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=300 if os.environ.get("SEARCHAPP_SLOW") else 60)
@given(record_id=st.text(_ALPHABET, min_size=1, max_size=40))
def test_fuzzed_record_ids_are_404_or_200(fuzz_client, record_id):
    response = fuzz_client.get("/doc/" + quote(record_id, safe=""))
    assert response.status_code in (200, 404, 308)
    _FUZZED["count"] += 1


@pytest.fixture(scope="module", autouse=True)
def _fuzz_figures():
    """Write down what the fuzz tests tried, after they ran (not a test: it asserts nothing)."""
    yield
    if _FUZZED["count"]:
        record(f"fuzzed requests: {_FUZZED['count']} tried, none answered 5xx, slowest "
               f"{_FUZZED['slowest'] * 1000:.0f} ms; "
               f"{len(PATHOLOGICAL)} pathological queries and {len(BAD_PARAMS)} bad parameters "
               "on every route")


# -- paths and defaults -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/static/../searchapp/settings.py", "/static/%2e%2e/README.md",
                                  "/static/..%2fREADME.md", "/static//etc/passwd",
                                  "/doc/..%2f..%2fetc%2fpasswd", "/doc/%2e%2e"])
def test_paths_never_leave_their_folders(fuzz_client, path):
    response = fuzz_client.get(path, follow_redirects=True)  # `//` is merged by a redirect
    assert response.status_code in (400, 404), path
    assert b"Setting(" not in response.data and b"root:" not in response.data


# The routes that write: only these, and only the workspace (issue 34). Each is also under /api/.
WRITING = {"/saved", "/saved/<int:sid>/open", "/saved/<int:sid>/rename",
           "/saved/<int:sid>/delete", "/history/clear", "/collect", "/collection/remove",
           "/collection/rename", "/collection/delete", "/record/tag", "/record/untag",
           "/record/note"}


def test_only_the_workspace_routes_write(fuzz_client):
    """Every route is GET (HEAD, OPTIONS) but batch search, which also takes POST because a
    list of a thousand queries does not fit in a URL, and writes nothing; and the
    workspace's routes, which write the workspace alone, each a POST that guard.py checks."""
    app = fuzz_client.application
    posting = set()
    for rule in app.url_map.iter_rules():
        assert rule.methods <= {"GET", "HEAD", "OPTIONS", "POST"}, rule
        if "POST" in rule.methods:
            posting.add(rule.rule)
            assert rule.rule in ("/batch", "/api/batch") or \
                rule.endpoint.startswith("workspace."), rule
    assert posting == {"/batch", "/api/batch"} | WRITING | {"/api" + r for r in WRITING}
    assert fuzz_client.post("/search", data={"q": "x"}).status_code == 405
    for path in ("/api/search", "/export.csv", "/compare", "/doc/0000000000000000",
                 "/collection.csv", "/history"):
        assert fuzz_client.post(path, data={"q": "x"}).status_code == 405, path
    before = fuzz_client.get("/api/status").get_json()
    assert fuzz_client.post("/api/batch", data={"queries": "police\nx"}).status_code == 200
    after = fuzz_client.get("/api/status").get_json()
    assert (after["records"], after["generation"]) == (before["records"], before["generation"])
    # Without the token, every writing route refuses, says why, and writes nothing.
    for rule in sorted(WRITING):
        path = rule.replace("<int:sid>", "1")
        for where in (path, "/api" + path):
            response = fuzz_client.post(where, data={"collection": "x", "record": "0" * 16,
                                                     "name": "x", "tags": "x"})
            assert response.status_code == 400, where
            assert b"CSRF token" in response.data, where
    assert fuzz_client.get("/api/collections").get_json() == {"collections": [], "tags": []}
    assert fuzz_client.get("/api/saved").get_json() == {"saved": []}


def test_security_headers_on_errors_and_assets_too(fuzz_client):
    for path in ["/nope", "/doc/0000000000000000", "/static/app.js", "/api/search?page=0",
                 "/export.csv?q=police", "/batch", "/batch?queries=police%0Aban",
                 "/batch?queries=police&sort=nope", "/api/batch?queries=police&format=csv"]:
        headers = fuzz_client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_serve_binds_loopback_unless_told_and_says_so(tmp_path, index_dir):
    port = free_port()
    proc = searchapp("serve", "--index", str(index_dir), "--port", str(port))
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    port = free_port()
    proc = searchapp("serve", "--index", str(index_dir), "--port", str(port), "--host", "0.0.0.0",
                     "--no-watch")  # (whether it watches would be said first)
    try:
        assert "reachable from other machines" in proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_query_string_that_is_not_utf8_is_a_400(fuzz_client):
    for path in ("/search", "/api/search", "/compare", "/export.csv"):
        response = fuzz_client.get(path, environ_overrides={"QUERY_STRING": "q=\xff\xfe&x=1"})
        assert response.status_code == 400, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
