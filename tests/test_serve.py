"""`searchapp serve --workers 2`: two processes answer, share the index, and both see a
reindex without a restart; a light search answers while the heaviest query runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import build, copy_seeds, free_port, wait_for

BIN = Path(sys.executable).parent


def get(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture
def server(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    build(seeds, tmp_path / "index")
    port = free_port()
    proc = subprocess.Popen([str(BIN / "searchapp"), "serve", "--index", str(tmp_path / "index"),
                             "--port", str(port), "--workers", "2", "--threads", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: proc.poll() is not None or get(base + "/healthz", timeout=2),
             "the server to answer /healthz", ignore=(OSError,))
    assert proc.poll() is None, proc.stderr.read()
    yield base, seeds, tmp_path / "index"
    proc.terminate()
    proc.wait(timeout=20)


def thread_cpu(pid: int) -> dict[int, int]:
    """Clock ticks of CPU time each thread of process `pid` has used (Linux's /proc)."""
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def answering_processes(base: str, path: str, tries: int = 400) -> dict[int, dict]:
    """The answers of each process to `path` (gunicorn hands connections to either)."""
    seen: dict[int, dict] = {}
    for _ in range(tries):
        health = get(base + "/healthz")
        seen[health["process"]] = {**get(base + path), **health}
        if len(seen) == 2:
            break
    return seen


def test_two_processes_answer_and_both_see_a_reindex(server):
    base, seeds, index = server
    before = answering_processes(base, "/api/search?q=zeppelin&typing=0")
    assert len(before) == 2, "only one process answered"
    assert all(answer["total"] == 0 for answer in before.values())
    (seeds / "late.txt").write_text('---\ntitle: "Late breaking zeppelin story"\n---\n',
                                    encoding="utf-8")
    build(seeds, index)
    after = answering_processes(base, "/api/search?q=zeppelin&typing=0")
    assert len(after) == 2
    assert all(answer["total"] == 1 and answer["records"] == 24 for answer in after.values())


def test_a_light_search_answers_while_a_heavy_one_runs(tmp_path):
    """One process, no time budget, and a query that takes about a second (slop phrases,
    which Whoosh matches a posting at a time): a light search sent after it answers first.
    Behind a lock it would answer after it."""
    from conftest import write_generated
    write_generated(tmp_path / "seeds", 3000)
    build(tmp_path / "seeds", tmp_path / "index")
    port = free_port()
    proc = subprocess.Popen([str(BIN / "searchapp"), "serve", "--index", str(tmp_path / "index"),
                             "--port", str(port), "--workers", "1", "--threads", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SEARCHAPP_SEARCH_BUDGET_MS": "0",
                                 "SEARCHAPP_MAX_QUERY_LENGTH": "40000"})
    base = f"http://127.0.0.1:{port}"
    words = ("police camera council privacy vote court data school budget drone hospital ban "
             "report market energy").split()
    # 1,680 slop phrases: over a second of CPU (210 of them, once about a second, take a
    # quarter of one now, too short to be sure of sending the light one while it runs).
    heavy = " OR ".join(f'"{a} {b}"~{slop}' for slop in range(3, 11)
                        for a in words for b in words if a != b)
    order: list[str] = []
    try:
        wait_for(lambda: proc.poll() is not None or get(base + "/healthz", timeout=2),
                 "the server to answer /healthz", ignore=(OSError,))
        assert proc.poll() is None, proc.stderr.read()
        idle = thread_cpu(proc.pid)

        def run_heavy():
            get(f"{base}/api/search?{urlencode({'q': heavy, 'typing': '0'})}", timeout=120)
            order.append("heavy")

        thread = threading.Thread(target=run_heavy)
        thread.start()
        # The heavy search is under way: one of the server's threads has spent a fifth of a
        # second of CPU on it (an idle server spends none), and it has not answered.
        wait_for(lambda: order or any(t - idle.get(tid, 0) >= 20
                                      for tid, t in thread_cpu(proc.pid).items()),
                 "a server thread to be busy with the heavy search")
        assert order == [], "the heavy search answered before the light one was sent"
        assert get(f"{base}/api/search?q=ban&typing=0")["total"] > 0
        order.append("light")
        thread.join()
        assert order == ["light", "heavy"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
