"""Fixtures over real things: seed files copied to a temp dir, a real index built by the real
indexer, the Flask app over it, click's runner, and (for browser tests) a live waitress server."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.indexer import Indexer
from searchapp.seeds import Limits

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUTPUT = Path(os.environ.get("SEARCHAPP_TEST_OUTPUT", ROOT / "test-output"))


def copy_seeds(target: Path, *extra: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.iterdir()):
        shutil.copy(f, target / f.name)
    for f in extra:
        shutil.copy(f, target / f.name)
    return target


def build(seeds: Path, index: Path, full: bool = False, **limits):
    return Indexer(seeds, index, Limits(**limits) if limits else Limits(), lock_timeout=2).run(full)


@pytest.fixture
def seeds_dir(tmp_path) -> Path:
    return copy_seeds(tmp_path / "seeds")


@pytest.fixture
def index_dir(tmp_path, seeds_dir) -> Path:
    index = tmp_path / "index"
    build(seeds_dir, index)
    return index


@pytest.fixture
def app(index_dir, seeds_dir):
    app = create_app({"index": index_dir, "seeds": seeds_dir})
    app.config["TESTING"] = True
    yield app
    index = app.extensions.get("searchapp.index")
    if index is not None:
        index.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    return CliRunner()


# -- a live server and a real browser ------------------------------------------------------

class LiveServer:
    def __init__(self, app):
        from waitress.server import create_server
        self.server = create_server(app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self):
        self.server.close()


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """The real seeds plus a hostile one, indexed and served by waitress on a free port."""
    base = tmp_path_factory.mktemp("live")
    seeds = copy_seeds(base / "seeds", FIXTURES / "hostile" / "hostile.txt")
    index = base / "index"
    build(seeds, index)
    app = create_app({"index": index, "seeds": seeds})
    server = LiveServer(app)
    yield server
    server.close()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


@pytest.fixture(scope="session")
def browser():
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: `make test` installs it (apt-get install chromium)")
        pytest.skip("chromium not installed here; `make test` installs it")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_site):
    """A fresh browser page that records every request and every dialog it sees."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests_seen = []
    page.dialogs_seen = []
    page.on("request", lambda r: page.requests_seen.append(r.url))
    page.on("dialog", lambda d: (page.dialogs_seen.append(d.message), d.dismiss()))
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
