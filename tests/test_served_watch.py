"""The watcher inside `searchapp serve`, used as researchers use it: folders of seeds copied in
at once, files deleted and renamed while runs go on, odd names, links out of the folder, a
full disk, and the watcher itself killed. Each time the served index converges to what a
fresh full build of the same folder makes (the same records, the same answers) within a
stated bound, and `/status` tells the truth meanwhile."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from searchapp.index.indexer import Indexer
from searchapp.search import SearchIndex, SearchRequest
from searchapp.settings import Settings

from conftest import build, copy_seeds, free_port, index_contents, write_generated

BIN = Path(sys.executable).parent
# Seconds by which the served index must equal a fresh build, after the last file operation:
# a run over 3,000 new files takes a few seconds on two cores; the rest is headroom.
CONVERGE_S = 60.0
QUERIES = ("police", "court budget", "privacy", "camera -drone", "quokka*", "")


def article(title: str) -> str:
    return f'---\ntitle: "{title}"\nexcerpt: "Copied into the served folder."\n---\n'


def _get(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_until(check, timeout: float, what: str, every: float = 0.1):
    """`check()`'s first true value, polling until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = check()
        except (OSError, ValueError) as exc:  # the server or the index mid-change
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
        time.sleep(every)


class Served:
    """`searchapp serve` as `make run` starts it (gunicorn, a worker per core, watching),
    over an index of two shards, its output in a file a failing test prints."""

    def __init__(self, tmp_path: Path, seeds: Path | None = None, index: Path | None = None,
                 files: int = 40):
        self.tmp = tmp_path
        self.seeds = seeds or copy_seeds(tmp_path / "seeds")
        write_generated(self.seeds, files)
        self.index = index or tmp_path / "index"
        build(self.seeds, self.index, full=True, shards=2)
        self.log_path = tmp_path / "server.log"
        self.log = open(self.log_path, "w")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(BIN / "searchapp"), "serve", "--seeds", str(self.seeds), "--index",
             str(self.index), "--port", str(port), "--workers", "2"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.status()["watching"], 30, "the server says it watches")

    def status(self) -> dict:
        assert self.proc.poll() is None, self.output()
        return _get(self.url + "/api/status")

    def total(self, q: str) -> int:
        return _get(self.url + "/api/search?" + urllib.parse.urlencode({"q": q}))["total"]

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def converges(self, timeout: float = CONVERGE_S) -> float:
        """Seconds until the served index holds what a fresh full build of its folder holds
        and answers the same; a fresh build made now, after the last change to the folder."""
        started = time.monotonic()
        fresh = self.tmp / f"fresh-{time.monotonic_ns()}"
        Indexer(Settings(seeds=self.seeds, index=fresh, shards=2)).run(full=True)
        want = _comparable(index_contents(fresh))
        fresh_index = SearchIndex(fresh)
        try:
            answers = {q: fresh_index.search(SearchRequest(q=q, typing=False)).total
                       for q in QUERIES}
        finally:
            fresh_index.close()
        try:
            wait_until(lambda: _comparable(index_contents(self.index)) == want, timeout,
                       f"the served index equals a fresh build of {len(want)} records")
        except AssertionError:
            have = _comparable(index_contents(self.index))
            raise AssertionError(
                f"served {len(have)} records, a fresh build {len(want)}: "
                f"{len(set(want) - set(have))} missing, {len(set(have) - set(want))} extra, "
                f"{sum(1 for k in want if k in have and have[k] != want[k])} different\n"
                f"server log:\n{self.output()}") from None
        took = time.monotonic() - started
        for q, total in answers.items():
            assert self.total(q) == total, (q, self.total(q), total)
        return took

    def watcher_pid(self) -> int:
        return json.loads((self.index / "WATCHER.json").read_text())["pid"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _comparable(contents: dict) -> dict:
    """Records as a fresh build would make them: first-seen times aside (a fresh build sees
    every record now)."""
    out = {}
    for rid, item in contents.items():
        record = {k: v for k, v in item["record"].items() if k not in ("seen", "first_seen")}
        out[rid] = (json.dumps(record, sort_keys=True),
                    json.dumps(sorted(item["drafts"], key=lambda d: json.dumps(d, sort_keys=True)),
                               sort_keys=True))
    return out


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path)
    yield server
    server.close()


def _copy_in(staging: Path, seeds: Path) -> None:
    """As `cp staging/* seeds/` does: one file after another, as fast as they go."""
    for path in sorted(staging.iterdir()):
        shutil.copy(path, seeds / path.name)


@pytest.mark.parametrize("count", [10, 500, 3000])
def test_a_folder_of_seeds_copied_in_at_once_is_all_indexed(served, tmp_path, count):
    staging = tmp_path / "staging"
    write_generated(staging, count, start=10_000, word="quokka")
    _copy_in(staging, served.seeds)
    took = served.converges()
    assert served.total("quokka") == count
    assert served.status()["watching"] and served.status()["watch_problem"] is None
    print(f"{count} files copied at once: converged after {took:.1f} s")


def test_files_deleted_and_renamed_while_runs_go_on_converge(served, tmp_path):
    staging = tmp_path / "staging"
    write_generated(staging, 2500, start=20_000, word="wombat")
    _copy_in(staging, served.seeds)
    # While the run over those goes on: deletions, renames, rewrites, and more copies.
    arrived = sorted(served.seeds.glob("gen_2*.txt"))
    for path in arrived[:200]:
        path.unlink()
    for path in arrived[200:400]:
        os.rename(path, path.with_name("renamed-" + path.name))
    for path in arrived[400:450]:
        path.write_text(article(f"Rewritten numbat {path.stem}"), encoding="utf-8")
    for path in sorted(served.seeds.glob("gen_000*.txt")):  # some of the original ones too
        path.unlink()
    more = tmp_path / "more"
    write_generated(more, 300, start=30_000, word="wombat")
    _copy_in(more, served.seeds)
    served.converges()
    assert served.total("numbat") == 50
    assert served.total("wombat") == 2500 - 200 - 50 + 300  # renamed ones stay


def test_a_name_that_is_not_utf8_is_refused_by_name_and_the_watch_goes_on(served):
    bad = os.path.join(os.fsencode(served.seeds), b"caf\xe9 report.txt")
    with open(bad, "wb") as f:
        f.write(article("Latin-1 named axolotl").encode())
    for n in range(5):
        (served.seeds / f"beside-{n}.txt").write_text(article(f"Axolotl beside {n}"),
                                                      encoding="utf-8")
    served.converges()
    assert served.total("axolotl") == 5
    refused = wait_until(lambda: [r for r in served.status()["refused"]
                                  if "not valid UTF-8" in r["reason"]], 10, "refused by name")
    assert "caf" in refused[0]["file"] and "report.txt" in refused[0]["file"]
    # The watcher still watches: a file dropped later is indexed too.
    (served.seeds / "later.txt").write_text(article("Axolotl later"), encoding="utf-8")
    wait_until(lambda: served.total("axolotl") == 6, 20, "a later file indexed")
    assert served.status()["watching"]


def test_a_link_to_a_folder_outside_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text(article("Private kiwi notes"), encoding="utf-8")
    seeds = copy_seeds(tmp_path / "seeds")
    os.symlink(outside, seeds / "linked")  # there when the watch starts: inotify follows it
    served = Served(tmp_path, seeds=seeds)
    try:
        (served.seeds / "own.txt").write_text(article("Own kiwi"), encoding="utf-8")
        (outside / "written later.txt").write_text(article("Later kiwi notes"),
                                                   encoding="utf-8")
        (outside / "private.txt").write_text(article("Private kiwi notes, edited"),
                                             encoding="utf-8")
        served.converges()
        assert served.total("kiwi") == 1
    finally:
        served.close()


def test_a_watcher_killed_is_said_at_once_and_back_within_seconds(served):
    first = served.watcher_pid()
    os.kill(first, signal.SIGKILL)
    # The supervisor's reason may follow the process's end by a moment: wait for both.
    status = wait_until(lambda: (s := served.status()) and not s["watching"]
                        and s["watch_problem"] and s, 1.0,
                        "/status says the watcher is not running, and why")
    assert "stopped" in status["watch_problem"]
    back = wait_until(lambda: served.status()["watching"] and served.watcher_pid() != first,
                      10, "a new watcher")
    assert back
    (served.seeds / "after.txt").write_text(article("Tuatara after the kill"), encoding="utf-8")
    wait_until(lambda: served.total("tuatara") == 1, 20, "a file dropped after the restart")


def test_kill_9_of_the_server_leaves_no_watcher(tmp_path):
    server = Served(tmp_path)
    watcher = server.watcher_pid()
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)

    def gone() -> bool:
        try:
            os.kill(watcher, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{watcher}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "Z"

    wait_until(gone, 15, "the watcher ends with the server")
    server.close()


# -- a full disk ------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs for the index (mounting needs root, which CI has here)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def test_a_full_disk_is_said_and_once_space_is_freed_the_index_catches_up(tmp_path, small_disk):
    server = Served(tmp_path, index=small_disk / "index", files=200)
    try:
        used = shutil.disk_usage(small_disk).used
        _resize(small_disk, f"{used // 1024 + 256}k")  # room for the beats, not for a run
        staging = tmp_path / "staging"
        write_generated(staging, 3000, start=40_000, word="kakapo")
        _copy_in(staging, server.seeds)
        status = wait_until(lambda: (s := server.status())["watch_problem"] and s, 60,
                            "/status says the runs fail")
        assert "space" in status["watch_problem"].lower(), status["watch_problem"]
        assert status["watching"], "the watcher died of a full disk"
        assert str(small_disk) not in json.dumps(status)
        check = subprocess.run([str(BIN / "searchapp"), "check", "--index",
                                str(small_disk / "index"), "--seeds", str(server.seeds)],
                               capture_output=True, text=True, timeout=120)
        assert "damaged" not in check.stdout, check.stdout  # a full disk is not damage
        assert server.total("kakapo") == 0 and server.total("police") > 0  # still served

        _resize(small_disk, "200m")
        server.converges()
        assert server.total("kakapo") == 3000
        wait_until(lambda: server.status()["watch_problem"] is None, 10, "the error clears")
    finally:
        server.close()
