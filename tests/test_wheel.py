"""A regular install works: the wheel of this checkout, installed into a fresh virtualenv
away from the checkout, indexes the seeds and serves every page with its templates and
static files (they ship inside the package)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS

PAGES = ["/", "/search?q=facial+recognition", "/search?q=ban&provider=Forbes",
         "/compare?q=facial&q=police", "/terms?q=facial", "/healthz", "/api/search?q=ban",
         "/export.csv?q=ban", "/export.jsonl?q=ban", "/timeline.csv?q=ban", "/timeline.svg?q=ban",
         "/batch?queries=facial%0Aban", "/api/batch?queries=facial", "/static/batch.js",
         "/static/app.css", "/static/app.js", "/static/htmx-2.0.11.min.js", "/favicon.ico"]


def run(*args, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The searchapp command of a fresh virtualenv holding only the wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work / "dist", ROOT)
    (wheel,) = (work / "dist").glob("searchapp-*.whl")
    run(sys.executable, "-m", "venv", work / "venv")
    run(work / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    return work / "venv" / "bin" / "searchapp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_installed_wheel_serves_every_page(installed, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    # Run from an empty folder: nothing of the checkout can be found from there.
    (tmp_path / "elsewhere").mkdir()
    cwd = tmp_path / "elsewhere"
    out = run(installed, "index", "--seeds", tmp_path / "seeds", "--index", tmp_path / "index",
              cwd=cwd)
    assert "records 23 added" in out.stdout
    port = free_port()
    server = subprocess.Popen([str(installed), "serve", "--index", str(tmp_path / "index"),
                               "--port", str(port)], cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        found = urllib.request.urlopen(base + "/api/search?q=facial", timeout=10).read().decode()
        record_id = re.search(r'"id":\s*"([0-9a-f]{16})"', found).group(1)
        for page in PAGES + [f"/doc/{record_id}", f"/api/doc/{record_id}"]:
            with urllib.request.urlopen(base + page, timeout=10) as response:
                body = response.read()
                assert response.status == 200, page
                assert body, page
        page = urllib.request.urlopen(base + "/search?q=facial", timeout=10).read().decode()
        assert "<mark>" in page and "/static/htmx-2.0.11.min.js" in page
    finally:
        server.terminate()
        server.wait(timeout=10)
