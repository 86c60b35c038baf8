"""Fixtures over real things: seed files copied to a temp dir, a real index built by the real
indexer, the Flask app over it, click's runner, and (for browser tests) a live waitress server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.index import store
from searchapp.index.indexer import Indexer
from searchapp.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
OUTPUT = Path(os.environ.get("SEARCHAPP_TEST_OUTPUT", ROOT / "test-output"))


def record(line: str) -> None:
    """A figure of the fault and load series, for the record (test-output/hardening.txt)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / "hardening.txt", "a", encoding="utf-8") as f:
        f.write(line + "\n")


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="run the hardening tests at full count (also: SEARCHAPP_SLOW=1)")


def pytest_configure(config):
    if config.getoption("--slow"):  # before collection, so hypothesis settings see it too
        os.environ["SEARCHAPP_SLOW"] = "1"


@pytest.fixture(scope="session")
def slow(request) -> bool:
    """Full counts for the fault, load and fuzz tests; the default run does a fast version."""
    return bool(request.config.getoption("--slow") or os.environ.get("SEARCHAPP_SLOW"))


def write_generated(folder: Path, count: int, start: int = 0, word: str = "") -> list[Path]:
    """`count` plausible seed files with overlapping related entries, repeatable by number."""
    folder.mkdir(parents=True, exist_ok=True)
    topics = ["Privacy", "AI", "Policing", "Elections", "Health"]
    words = ["police", "camera", "council", "privacy", "vote", "court", "data", "school",
             "budget", "drone", "hospital", "ban", "report", "market", "energy"]
    paths = []
    for n in range(start, start + count):
        title = " ".join(words[(n * k) % len(words)] for k in (1, 3, 7)) + f" {word} {n}".rstrip()
        related = "\n".join(
            f'  - title: "related {words[(n + r) % len(words)]} {(n + r) % 97}"\n'
            f'    webUrl: "https://related.example/{(n + r) % 97}"\n'
            f"    publishedDateTime: 2021-{1 + (n + r) % 12:02d}-15T08:00:00Z"
            for r in range(n % 3))
        text = (f'---\ntitle: "{title.title()}"\nexcerpt: "About {words[n % len(words)]} and '
                f'{words[(n + 5) % len(words)]} in town {n % 50}."\n'
                f"publishedDateTime: 20{18 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d}T12:00:00Z\n"
                f'webUrl: "https://news.example/{n}"\nprovider:\n  name: Source {n % 40}\n'
                f"  domain: source{n % 40}.example\ntopics: [{topics[n % 5]}]\n"
                + (f"related:\n{related}\n" if related else "") + "---\n")
        path = folder / f"gen_{n:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def whoosh_documents(*folders: Path) -> list[dict]:
    """The Whoosh documents a full build makes of these seed files, in id order, read with
    `searchapp index`'s default limits (for the writers' tests: both codecs are fed these)."""
    from collections import defaultdict

    from searchapp.index import writing
    from searchapp.ingest import records
    from searchapp.ingest.seeds import SeedLimits, SeedRejected, parse_file

    limits = SeedLimits.of(Settings())
    drafts: dict[str, list[dict]] = defaultdict(list)
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                parsed = parse_file(path, path.name, limits)
            except SeedRejected:
                continue
            for draft in records.file_drafts(parsed):
                drafts[draft["id"]].append(draft)
    docs = [writing.merge(rid, drafts[rid], 1)[0] for rid in sorted(drafts)]
    return [d for d in docs if d is not None]


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Bounds that only catch a hang (speed is measured by the bench scripts, never asserted).
HANG_S = 60.0


def wait_for(check, what: str, timeout: float = HANG_S, every: float = 0.02,
             ignore: tuple[type[BaseException], ...] = ()):
    """`check()`'s first true value, polled until `timeout` seconds have passed; then a failure
    naming `what` was waited for and what `check()` last gave. The timeout is a bound on a
    hang, not a speed: a test waits on the condition itself, never for a time. Exceptions of
    the `ignore` types (a server still starting, a file mid-change) count as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            last = check()
        except ignore as exc:
            last = exc
        if last and not isinstance(last, BaseException):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last: {last!r}")
        time.sleep(every)


def index_contents(index: Path) -> dict[str, dict]:
    """Every record the live index holds, with the drafts it was merged from."""
    with store.open_live(index).searcher() as s:
        return {f["id"]: {"record": json.loads(f["data"]), "drafts": json.loads(f["drafts"])}
                for f in s.all_stored_fields()}


def copy_seeds(target: Path, *extra: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for f in sorted(SEEDS.iterdir()):
        shutil.copy(f, target / f.name)
    for f in extra:
        shutil.copy(f, target / f.name)
    return target


def build(seeds: Path, index: Path, full: bool = False, shards: int = 0, **settings):
    """Index `seeds` into `index`; `shards` of a full build (0: the default, one per core);
    `settings`: any others (`max_seed_bytes=...`)."""
    return Indexer(Settings(seeds=seeds, index=index, lock_timeout=2, shards=shards,
                            **settings)).run(full)


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
    """The real seeds plus the hostile ones, indexed and served by waitress on a free port."""
    base = tmp_path_factory.mktemp("live")
    seeds = copy_seeds(base / "seeds", *sorted((FIXTURES / "hostile").iterdir()))
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


# -- a Ray cluster of two nodes on this machine (tests of `--cluster`) -----------------------

# The shared corpora sit beside the checkout (../shared), in CI as here.
CORPORA = next((p for p in (ROOT.parent / "shared" / "corpora" / "news",
                            Path("/work/shared/corpora/news")) if p.is_dir()),
               ROOT.parent / "shared" / "corpora" / "news")


def require_ray() -> None:
    """Ray is the `cluster` extra: `make test` installs it; a run without it (a bare
    `pip install -e .[test]`) skips the tests that need it, CI does not."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Ray is missing in CI: `make test` installs the cluster extra")
        pytest.skip("Ray is not installed (pip install -e '.[cluster]')")


@pytest.fixture(scope="session")
def ray_cluster():
    """A head and a second node on this machine (ray.cluster_utils.Cluster), joined as the
    web process and the indexer join one (see `require_ray`). Both nodes are of 127.0.0.1,
    so every process of theirs listens there alone: Ray's local-only switch is set for this
    process and the servers it starts, before Ray is imported (see cluster/connect.py)."""
    import sys
    from searchapp.cluster.connect import LOCAL_ONLY, quiet_environment
    if "ray" not in sys.modules:
        os.environ.update(LOCAL_ONLY)
    require_ray()
    from searchapp.cluster import connect, disconnect
    quiet_environment()
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": False, "resources": {"head": 1}})
    cluster.add_node(num_cpus=2, resources={"second": 1})
    cluster.wait_for_nodes()
    connect(cluster.address)
    yield cluster
    disconnect()
    cluster.shutdown()


def write_syndicated(folder: Path, count: int) -> int:
    """Copies of `count` of the seed files in `folder` as other outlets ran them (another
    source, published hours later, the excerpt cut short): stories across shards."""
    import yaml
    originals = sorted(folder.rglob("*.txt"))[: count * 7: 7]
    for n, path in enumerate(originals):
        text = path.read_text(encoding="utf-8")
        head = yaml.safe_load(text.split("---")[1])
        if not head.get("excerpt") or not head.get("title"):
            continue
        head["provider"] = {"name": f"Wire Copy {n % 9}", "domain": f"wire{n % 9}.example"}
        head["webUrl"] = f"https://wire{n % 9}.example/{n}"
        head.pop("related", None)
        published = str(head.get("publishedDateTime") or "")
        if published[:4].isdigit():
            head["publishedDateTime"] = published[:11] + "23:30:00Z"
        (folder / f"copy_{n:05d}.txt").write_text(
            "---\n" + yaml.safe_dump(head, allow_unicode=True) + "---\n", encoding="utf-8")
    return len(originals)


@pytest.fixture(scope="session")
def corpus_20k(tmp_path_factory) -> Path:
    """Over 20,000 real news records: AG News, HuffPost and BBC News from the shared corpora
    (bench/convert_news.py, read at run time; the tests' own generator where they are
    absent), with 300 syndicated copies."""
    seeds = tmp_path_factory.mktemp("corpus20k") / "seeds"
    if CORPORA.is_dir():
        import sys
        sys.path.insert(0, str(ROOT / "bench"))
        import convert_news
        convert_news.convert(CORPORA, seeds, {"ag_news/test.csv", "huffpost_head10k.jsonl",
                                              "bbc.jsonl"})
    else:
        write_generated(seeds, 20_000)
    write_syndicated(seeds, 300)
    return seeds


@pytest.fixture(scope="session")
def news_index(tmp_path_factory) -> tuple[Path, Path]:
    """(seeds, index) of every real news record of the shared corpora (Reuters, HuffPost,
    AG News, BBC: ~41k, bench/convert_news.py) and the seeds of seeds/. CI has the corpora;
    a run elsewhere without them skips what needs them."""
    if not CORPORA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the shared news corpora are missing ({CORPORA})")
        pytest.skip(f"the shared news corpora are not here ({CORPORA})")
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    import convert_news
    base = tmp_path_factory.mktemp("news")
    seeds = copy_seeds(base / "seeds")
    convert_news.convert(CORPORA, seeds)
    index = base / "index"
    build(seeds, index)
    return seeds, index


@pytest.fixture(scope="session")
def news_site(news_index):
    """The news records served over real HTTP (waitress on a free port)."""
    seeds, index = news_index
    app = create_app({"index": index, "seeds": seeds})
    server = LiveServer(app)
    server.seeds, server.index = seeds, index
    yield server
    server.close()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None
