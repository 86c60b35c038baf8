"""New seeds appear by themselves: `searchapp serve` watches its seeds folder, and `/status`
says what the index holds, what the last run did and every file it refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from searchapp import create_app

from conftest import OUTPUT, build, copy_seeds, index_contents, wait_for

BIN = Path(sys.executable).parent
BAD = '---\ntitle: "Refused on purpose"\nrelated: [unclosed\n---\n'


def article(title: str) -> str:
    return f'---\ntitle: "{title}"\nexcerpt: "Dropped into the folder by the status test."\n---\n'


def test_status_lists_refused_files_with_their_line_and_the_footer_counts_them(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    (seeds / "broken seed.txt").write_text(BAD, encoding="utf-8")
    (seeds / "evil\nname.txt").write_text(BAD, encoding="utf-8")
    index = tmp_path / "index"
    build(seeds, index)
    client = create_app({"index": str(index), "seeds": str(seeds)}).test_client()
    status = client.get("/api/status").get_json()
    assert status["records"] > 0 and status["watching"] is False
    assert status["last_run"]["summary"].startswith("full rebuild:")
    refused = {r["file"]: r for r in status["refused"]}
    assert set(refused) == {"broken seed.txt", "evil\\nname.txt"}  # escaped, relative
    assert refused["broken seed.txt"]["line"] in (3, 4)  # where YAML noticed the unclosed list
    assert "invalid YAML" in refused["broken seed.txt"]["reason"]
    page = client.get("/status").get_data(as_text=True)
    assert "broken seed.txt" in page and "2 files refused" in page
    assert str(tmp_path) not in page  # nothing outside the seeds folder
    assert "2 files refused" in client.get("/").get_data(as_text=True)

    # A restart reads the same list; fixing one file and running again clears it.
    (seeds / "broken seed.txt").write_text(article("Fixed at last"), encoding="utf-8")
    (seeds / "evil\nname.txt").unlink()
    build(seeds, index)
    client = create_app({"index": str(index), "seeds": str(seeds)}).test_client()
    assert client.get("/api/status").get_json()["refused"] == []
    assert "index status" in client.get("/").get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class Served:
    """`searchapp serve` as a user runs it: watching its seeds folder."""

    def __init__(self, tmp_path: Path, workers: int = 2):
        self.seeds = copy_seeds(tmp_path / "seeds")
        self.index = tmp_path / "index"
        build(self.seeds, self.index)
        port = _free_port()
        self.proc = subprocess.Popen(
            [str(BIN / "searchapp"), "serve", "--seeds", str(self.seeds), "--index",
             str(self.index), "--port", str(port), "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(self.proc, self.url + "/api/status")["watching"],
                 "the server to say it is watching", ignore=(OSError,))

    def found(self, q: str) -> int:
        return _get(self.url + "/api/search?" + urllib.parse.urlencode({"q": q}))["total"]

    def until(self, check, what: str = "the server to catch up") -> float:
        """Seconds until `check()` held (for the record: how long is the benches' to say)."""
        started = time.monotonic()
        wait_for(check, what)
        return time.monotonic() - started

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    yield server
    server.close()


def test_the_server_indexes_a_dropped_seed_by_itself_and_says_what_it_refused(served):
    started = time.monotonic()
    (served.seeds / "dropped.txt").write_text(article("Axolotls reach the newsroom"),
                                              encoding="utf-8")
    took = served.until(lambda: served.found("axolotls") == 1, "the dropped seed")
    (served.seeds / "bad drop.txt").write_text(BAD, encoding="utf-8")
    served.until(lambda: any(r["file"] == "bad drop.txt"
                             for r in _get(served.url + "/api/status")["refused"]))
    status = _get(served.url + "/api/status")
    assert status["watching"] and status["watching_since"]
    (served.seeds / "bad drop.txt").unlink()
    served.until(lambda: _get(served.url + "/api/status")["refused"] == [])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT / "hardening.txt", "a", encoding="utf-8") as f:
        f.write(f"serve watching: a dropped seed searchable after {took:.2f} s "
                f"({time.monotonic() - started:.1f} s for the whole test)\n")


def _answers(proc: subprocess.Popen, url: str) -> dict:
    """`url`'s answer; a server that died says why."""
    assert proc.poll() is None, proc.stderr.read()
    return _get(url)


def _serve(seeds: Path, index: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`searchapp serve` with one worker, once it answers."""
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "searchapp"), "serve", "--seeds", str(seeds), "--index",
                             str(index), "--port", str(port), "--workers", "1", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(proc, url + "/healthz"), "the server to come up", ignore=(OSError,))
    return proc, url


def _children(pid: int) -> list[str]:
    """The processes `pid` started and that still run (a watcher would be one: one waitress
    worker starts none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(stat.parent.name)
    return found


def test_no_watch_leaves_the_folder_alone(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    build(seeds, tmp_path / "index")
    proc, url = _serve(seeds, tmp_path / "index", "--no-watch")
    try:
        assert _get(url + "/api/status")["watching"] is False
        (seeds / "unseen.txt").write_text(article("Pangolins unseen"), encoding="utf-8")
        # Not a wait for a watcher to (not) act: there is none, and nothing said it started.
        assert _children(proc.pid) == []
        assert _get(url + "/api/search?q=pangolins")["total"] == 0
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "watching" not in err and "watch:" not in err, err


@pytest.mark.browser
def test_a_researcher_drops_seeds_and_the_open_page_finds_them(browser, tmp_path, screenshots):
    server = Served(tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(server.url + "/")
        (server.seeds / "dropped.txt").write_text(article("Quetzals in the council chamber"),
                                                  encoding="utf-8")
        server.until(lambda: server.found("quetzals") == 1, "the dropped seed")
        page.locator("#q").fill("quetzals")  # the page open since before the drop
        page.locator("#q").press("Enter")
        expect(page.locator(".hit-title", has_text="Quetzals")).to_be_visible()

        (server.seeds / "refused one.txt").write_text(BAD, encoding="utf-8")
        server.until(lambda: _get(server.url + "/api/status")["refused"] != [])
        page.goto(server.url + "/")
        expect(page.locator("footer")).to_contain_text("1 file refused")
        page.locator("footer a", has_text="1 file refused").click()
        expect(page.locator("table.refused")).to_contain_text("refused one.txt")
        expect(page.locator("table.refused")).to_contain_text("invalid YAML")
        page.screenshot(path=screenshots / "status-refused.png", full_page=True)

        (server.seeds / "refused one.txt").unlink()
        server.until(lambda: _get(server.url + "/api/status")["refused"] == [])
        page.reload()
        expect(page.locator("main")).to_contain_text("No files refused.")
        expect(page.locator("footer")).not_to_contain_text("refused")
    finally:
        context.close()
        server.close()


def test_the_server_watches_only_the_folder_its_index_was_built_from(tmp_path):
    """Watching another folder would index it over this one, deleting what it lacks."""
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    build(seeds, index)
    before = len(index_contents(index))
    other = tmp_path / "other"
    other.mkdir()
    (other / "lonely.txt").write_text(article("The only seed elsewhere"), encoding="utf-8")
    proc, url = _serve(other, index)
    try:
        # serve decides before it listens, so no wait: it started no watcher (and says why).
        assert _children(proc.pid) == []
        assert _get(url + "/api/status")["watching"] is False
        assert _get(url + "/api/search?q=")["total"] == before
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert f"not watching {other}: the index was built from {seeds.resolve()}" in err
    assert len(index_contents(index)) == before


def test_the_status_page_names_nothing_outside_the_seeds_folder(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    build(seeds, index)
    (index / "CURRENT").write_text('{"build": "../elsewhere"}', encoding="utf-8")
    client = create_app({"index": str(index), "seeds": str(seeds)}).test_client()
    for path in ("/status", "/api/status"):
        response = client.get(path)
        assert response.status_code == 200
        assert str(tmp_path) not in response.get_data(as_text=True)
    assert "damaged" in client.get("/api/status").get_json()["problem"]
