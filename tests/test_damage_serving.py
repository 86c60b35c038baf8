"""Damage while serving (issue 29): index files spoilt after a server opened them. Bytes
flipped in a segment it already found sound, a segment truncated under a running server
(one process, and two), and a spelling index lost or cut short. Each time: no 500, no
process dies, the searches that meet the damage answer 503 with words that name the file
and how to repair it, and `searchapp check` names what is lost with what the loss costs.
`--slow` runs the whole series; the default run one case of each. Counts go to
test-output/hardening.txt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.cli import main
from searchapp.index import store

from conftest import build, copy_seeds, free_port, record, wait_for, write_generated

BIN = Path(sys.executable).parent
QUERIES = ("police", "camera council", "privacy", "vote", "school", "court data", "hospital")
TALLY = {"tried": 0, "answered 503 with words": 0, "answered 500": 0, "processes killed": 0,
         "losses named by check": 0}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """The seeds, generated records where `police` is common, and one record that misspells
    it `polcie` (which a search corrects to `police`)."""
    folder = copy_seeds(tmp_path_factory.mktemp("serving") / "seeds")
    write_generated(folder, 300)
    (folder / "typo.txt").write_text(
        '---\ntitle: "Polcie chief resigns"\nexcerpt: "The polcie chief of the town resigned."\n'
        'webUrl: "https://typo.example/1"\n---\n', encoding="utf-8")
    return folder


def built(tmp_path: Path, seeds: Path) -> Path:
    index = tmp_path / "index"
    build(seeds, index, shards=2)
    return index


def biggest_segment(index: Path) -> Path:
    return max(store.live(index).folders[0].glob("*.arr*"), key=lambda p: p.stat().st_size)


def spoil(path: Path, how: str) -> None:
    """Change a file in place, as a disk or a stray command would, keeping its size (`flip`:
    three bytes; `flip-third`: its middle third; `flip-all`: every byte) or not (`half`,
    `empty`: truncated)."""
    size = path.stat().st_size
    if how in ("half", "empty"):
        os.truncate(path, size // 2 if how == "half" else 0)
        return
    data = bytearray(path.read_bytes())
    spots = {"flip-all": range(size), "flip-third": range(size // 3, 2 * size // 3)}.get(
        how, (size // 3, size // 2, 2 * size // 3))
    for at in spots:
        data[at] ^= 0xFF
    with open(path, "r+b") as f:  # in place: the same file, as a server has it open
        f.write(bytes(data))


def reads(per_page: int = 100) -> list[str]:
    """Requests that together read every record and posting list a user can reach: the
    searches, and every page of browsing all records."""
    asked = [f"/api/search?{urlencode({'q': q, 'per_page': 50})}" for q in QUERIES]
    return asked + [f"/api/search?q=&per_page={per_page}&page={page}" for page in range(1, 10)]


def said_damaged(status: int, body: dict, named: str) -> bool:
    """A 503 whose words name the damaged file and how to repair it."""
    error = body.get("error", "") if isinstance(body, dict) else ""
    return status == 503 and named in error and "searchapp check --repair" in error


def _verifying() -> bool:
    """A background check of the files against their checksums runs in this process."""
    return any(t.name == "searchapp-verify" for t in threading.enumerate())


# -- 1. bytes flipped in a segment after the server found it sound ------------------------

FLIPS = ("flip-all", "flip-third", "flip")


@pytest.mark.parametrize("how", FLIPS)
def test_bytes_flipped_in_a_segment_found_sound_answer_503_with_words_never_500(
        tmp_path, seeds, how, slow):
    if not slow and how != "flip-all":
        pytest.skip("the full series runs with --slow")
    index = built(tmp_path, seeds)
    client = create_app({"index": str(index), "seeds": str(seeds)}).test_client()
    assert client.get("/api/search?q=police").status_code == 200  # opened, checked ...
    wait_for(lambda: not _verifying(), "the background check to find every file sound")
    segment = biggest_segment(index)
    spoil(segment, how)
    TALLY["tried"] += 1

    answered = [(r.status_code, r.get_json()) for r in map(client.get, reads())]
    statuses = [status for status, _ in answered]
    TALLY["answered 500"] += statuses.count(500)
    assert 500 not in statuses, statuses
    failed = [body for status, body in answered if status != 200]
    assert all(said_damaged(503, body, segment.name) and "checksum" in body["error"]
               for body in failed), failed
    if how == "flip-all":  # some read meets it, for sure (fewer bytes may only be wrong)
        assert failed, "no read met the flipped segment"
    if failed:  # and once found, every search of the generation says so at once
        assert statuses[statuses.index(503):] == [503] * (len(statuses) - statuses.index(503))
        page = client.get("/?q=police")
        assert page.status_code == 503 and b"check --repair" in page.data
        TALLY["answered 503 with words"] += 1


# -- 2. a segment truncated under a running server ------------------------------------------

class Served:
    """`searchapp serve` over `index` with `workers` processes, on a free port."""

    def __init__(self, index: Path, seeds: Path, workers: int):
        self.base = f"http://127.0.0.1:{free_port()}"
        self.proc = subprocess.Popen(
            [str(BIN / "searchapp"), "serve", "--index", str(index), "--seeds", str(seeds),
             "--port", self.base.rsplit(":", 1)[1], "--workers", str(workers),
             "--threads", "2", "--no-watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: self.proc.poll() is not None or self.get("/healthz")[0] == 200,
                 "the server to answer /healthz", ignore=(OSError,))
        assert self.proc.poll() is None, self.proc.stderr.read()

    def get(self, path: str) -> tuple[int, dict | str]:
        """(status, JSON or text) of one request; a connection that dies raises OSError."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data.decode("utf-8", "replace")

    def workers(self, tries: int = 60) -> set[int]:
        """The processes that answered /healthz (either of two may answer each time)."""
        return {self.get("/healthz")[1]["process"] for _ in range(tries)}

    def close(self) -> str:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=20)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


TRUNCATIONS = [(1, "half"), (2, "half"), (1, "empty")]


@pytest.mark.parametrize("workers,how", TRUNCATIONS,
                         ids=[f"{w}-workers-{h}" for w, h in TRUNCATIONS])
def test_a_segment_truncated_while_serving_answers_503_and_no_process_dies(
        tmp_path, seeds, workers, how, slow):
    if not slow and (workers, how) != (1, "half"):
        pytest.skip("the full series runs with --slow")
    index = built(tmp_path, seeds)
    server = Served(index, seeds, workers)
    try:
        # Every process opens the generation (/healthz counts its records) and one search
        # reads records: the rest is read for the first time after the damage.
        processes = server.workers() if workers > 1 else {server.proc.pid}
        assert server.get("/api/search?q=police")[0] == 200
        segments = sorted(store.live(index).folders[0].glob("*.arr*"))
        for segment in segments:
            spoil(segment, how)
        TALLY["tried"] += 1

        answered = [server.get(url) for url in reads()]  # OSError: a process died
        dead = [pid for pid in processes if not alive(pid)]
        TALLY["processes killed"] += len(dead)
        assert server.proc.poll() is None and not dead, (dead, server.proc.poll())
        statuses = [status for status, _ in answered]
        TALLY["answered 500"] += statuses.count(500)
        assert 503 in statuses and set(statuses) <= {200, 503}, statuses
        for status, body in answered:
            assert status == 200 or said_damaged(status, body, "shard-00/") and \
                "bytes; it was written as" in body["error"], body
        if workers == 1:  # once found, every search of the generation says so at once
            first = statuses.index(503)
            assert statuses[first:] == [503] * (len(statuses) - first), statuses
        health = server.get("/healthz")
        assert health[0] == 503 and "damaged" in health[1]["error"]
        assert server.get("/static/app.js")[0] == 200
        TALLY["answered 503 with words"] += 1
    finally:
        said = server.close()
    assert "Traceback" not in said, said


# -- 3. a lost spelling index ---------------------------------------------------------------

def spelling_file(index: Path, name: str) -> Path:
    build_dir = store.live(index).build
    if name == "spelling.json":
        return build_dir / name
    return next(build_dir.glob(f"spelling-*/{name}"))


LOSSES = [("spelling.json", "garbage"), ("spelling.json", "delete"), ("keys.npy", "delete"),
          ("words.txt", "flip"), ("owners.npy", "half"), ("keys.npy", "flip")]


def lose(path: Path, how: str) -> None:
    if how == "garbage":
        path.write_bytes(b"\x00\xff not json")
    elif how == "delete":
        path.unlink()
    else:
        spoil(path, how)


def correction(client) -> dict:
    """What the API answers for a misspelt word: the correction it shows, its notice."""
    body = client.get("/api/search", query_string={"q": "polcie", "typing": "0"}).get_json()
    return {"total": body["total"], "showing": body["showing_results_for"],
            "notice": body["notice"]}


@pytest.mark.parametrize("name,how", LOSSES, ids=[f"{n}-{h}" for n, h in LOSSES])
def test_a_lost_spelling_index_is_named_with_its_cost_and_written_again(
        tmp_path, seeds, name, how, slow):
    if not slow and (name, how) != ("spelling.json", "garbage"):
        pytest.skip("the full series runs with --slow")
    index = built(tmp_path, seeds)
    cfg = {"index": str(index), "seeds": str(seeds)}
    assert correction(create_app(cfg).test_client())["showing"] == "police"
    path = spelling_file(index, name)
    lose(path, how)
    TALLY["tried"] += 1

    runner = CliRunner()
    checked = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert checked.exit_code == 1, checked.output
    named = [line for line in checked.output.splitlines() if path.name in line]
    assert named and 'spelling corrections ("did you mean") are off until `searchapp index`' \
        in named[0], checked.output
    TALLY["losses named by check"] += 1

    client = create_app(cfg).test_client()  # a server started after the loss
    first = correction(client)
    wait_for(lambda: not _verifying(), "the background check of the index's files")
    for answer in (first, correction(client)):  # searches go on, without the correction
        assert answer["total"] == 1 and answer["showing"] is None, answer
    statuses = {client.get(url).status_code for url in reads()}
    assert statuses == {200}, statuses  # a lost spelling index costs corrections only

    indexed = runner.invoke(main, ["index", "--index", str(index), "--seeds", str(seeds)])
    assert indexed.exit_code == 0, indexed.output  # a run with nothing new writes it again
    again = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert again.exit_code == 0 and "spelling index are whole" in again.output, again.output
    assert correction(create_app(cfg).test_client())["showing"] == "police"


def test_a_search_says_when_corrections_are_unavailable(tmp_path, seeds):
    index = built(tmp_path, seeds)
    cfg = {"index": str(index), "seeds": str(seeds)}
    lose(spelling_file(index, "spelling.json"), "garbage")
    client = create_app(cfg).test_client()
    assert "Spelling corrections are unavailable" in (correction(client)["notice"] or "")
    page = client.get("/", query_string={"q": "polcie"})
    assert page.status_code == 200 and b"Spelling corrections are unavailable" in page.data
    assert "Spelling corrections" not in (  # a search that finds plenty needs no correction
        client.get("/api/search", query_string={"q": "police"}).get_json()["notice"] or "")


@pytest.mark.parametrize("name", ["keys.npy", "owners.npy", "df.npy"])
def test_a_spelling_file_truncated_while_serving_kills_nothing(tmp_path, seeds, name, slow):
    if not slow and name != "keys.npy":
        pytest.skip("the full series runs with --slow")
    index = built(tmp_path, seeds)
    server = Served(index, seeds, 1)
    try:
        asked = "/api/search?q=pollice&typing=0"
        assert server.get(asked)[1]["showing_results_for"] == "police"  # it is mapped
        os.truncate(spelling_file(index, name), 128)  # its header, and nothing after
        TALLY["tried"] += 1
        for word in ("polcie", "hospitl", "polic", "cmaera"):  # lookups past the end (words
            # not asked before: a search asked again is answered from the recent searches)
            status, body = server.get(f"/api/search?q={word}&typing=0")
            assert status == 200 and body["showing_results_for"] is None, body
        TALLY["processes killed"] += server.proc.poll() is not None
        assert server.proc.poll() is None
        assert server.get("/api/search?q=police")[0] == 200
    finally:
        said = server.close()
    assert "Traceback" not in said, said


@pytest.fixture(scope="module", autouse=True)
def _serving_figures():
    yield
    if TALLY["tried"]:
        record("damage while serving: " + ", ".join(f"{v} {k}" for k, v in TALLY.items()))
