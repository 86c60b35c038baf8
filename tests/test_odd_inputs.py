"""Odd seed folders and forged requests, as a hostile or unlucky user makes them: each is
named with a clear reason, the rest of the work goes on, and nothing indexed is lost."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.cli import main
from searchapp.search import SearchIndex, SearchRequest

from conftest import build, index_contents, write_generated

BIN = Path(sys.executable).parent


def article(title: str, url: str | None = None, extra: str = "") -> str:
    link = f'webUrl: "{url}"\n' if url else ""
    return f'---\ntitle: "{title}"\nexcerpt: "Filed for the odd inputs test."\n{link}{extra}---\n'


def found(index: Path, q: str, **filters) -> int:
    ix = SearchIndex(index)
    try:
        return ix.search(SearchRequest(q=q, typing=False, **filters)).total
    finally:
        ix.close()


def index_cli(seeds: Path, index: Path, *args: str):
    return CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--index", str(index), *args])


# 1. a file name that is not UTF-8 ----------------------------------------------------------

@pytest.mark.parametrize("when", ["first run", "incremental", "full"])
def test_a_file_name_that_is_not_utf8_is_named_and_skipped(tmp_path, when):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 3)
    if when != "first run":
        build(seeds, index)
    with open(os.fsencode(seeds) + b"/caf\xe9.txt", "w", encoding="utf-8") as f:
        f.write(article("Latin one name", "https://odd.example/cafe"))
    (seeds / "plain.txt").write_text(article("Plainly named newcomer"), encoding="utf-8")
    result = index_cli(seeds, index, *(["--full"] if when == "full" else []))
    assert result.exit_code == 0, result.output
    assert "caf\\xe9.txt: the file name is not valid UTF-8" in result.output
    assert found(index, "newcomer") == 1  # the rest of the work went on
    assert found(index, "latin") == 0
    assert len(index_contents(index)) >= 3


# 4. symlinked folders ---------------------------------------------------------------------

def test_symlinked_folders_are_not_followed_so_a_loop_adds_nothing(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "alone.txt").write_text(article("Unlinked lonely seed"), encoding="utf-8")
    os.symlink(".", seeds / "self")
    os.symlink("..", seeds / "loop")
    summary = build(seeds, index)
    assert summary.seen == 1
    assert found(index, "lonely") == 1
    assert not any("index" in str(w) and "rejected" in str(w) for w in summary.warnings)
    said = [str(w) for w in summary.warnings]
    assert "self: a symbolic link to a folder; links to folders are not followed" in said, said


def test_a_symlinked_file_inside_the_seeds_is_one_record(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "real.txt").write_text(article("Doubly linked story"), encoding="utf-8")
    os.symlink("real.txt", seeds / "alias.txt")
    build(seeds, index)
    assert found(index, "doubly") == 1


# 5. forged report lines -------------------------------------------------------------------

def test_a_newline_in_a_file_name_cannot_forge_a_report_line(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 2)
    (seeds / "evil.txt\nevil.txt:1: all good").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    result = index_cli(seeds, index)
    assert result.exit_code == 1, result.output  # a file was rejected
    lines = result.output.splitlines()
    assert not any(line.startswith("evil.txt:1: all good") for line in lines), lines
    assert any("evil.txt\\nevil.txt:1: all good" in line for line in lines), lines


# 6. dates ---------------------------------------------------------------------------------

def test_the_date_range_is_checked_in_utc(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for n, when in enumerate(["2200-12-31T23:30:00-05:00", "1800-01-01T00:00:00+01:00",
                              "2200-12-31T12:00:00Z"]):
        (seeds / f"d{n}.txt").write_text(article(f"Edge dated {n}", f"https://d.example/{n}",
                                                 f"publishedDateTime: {when}\n"), encoding="utf-8")
    summary = build(seeds, index)
    said = "\n".join(str(w) for w in summary.warnings)
    assert "d0.txt:5: publishedDateTime" in said and "outside 1800-2200" in said
    assert "d1.txt:5:" in said
    years = {r["record"]["published"][:4] for r in index_contents(index).values()
             if r["record"]["published"]}
    assert years == {"2200"}


def test_an_impossible_date_is_rejected_with_its_line(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 2)
    (seeds / "month13.txt").write_text(article("Thirteenth month", "https://d.example/13",
                                               "publishedDateTime: 2021-13-01\n"),
                                       encoding="utf-8")
    result = index_cli(seeds, index)
    assert "month13.txt:5: publishedDateTime '2021-13-01' cannot be read: month must be in " \
           "1..12" in result.output, result.output


# 7. rejected files are not new on every run -----------------------------------------------

def test_a_rejected_file_is_counted_as_rejected_not_as_new_each_run(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 3)
    (seeds / "broken.txt").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    first = build(seeds, index)
    assert (first.new, first.rejected) == (3, 1)
    again = build(seeds, index)
    assert (again.new, again.changed, again.rejected) == (0, 0, 1), again.line()
    (seeds / "later.txt").write_text(article("Arrived later"), encoding="utf-8")
    third = build(seeds, index)
    assert (third.new, third.rejected) == (1, 1), third.line()


# 8. redirects and the server's own errors -------------------------------------------------

def test_redirects_never_name_the_host_a_request_claims(index_dir, seeds_dir):
    client = create_app({"index": str(index_dir), "seeds": str(seeds_dir)}).test_client()
    for path in ("/static//app.js", "/doc//x", "/static//htmx.min.js"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code in (301, 302, 307, 308, 404), path
        location = response.headers.get("Location", "")
        assert "evil.example" not in location and not location.startswith("//"), location
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw(port: int, data: bytes) -> bytes:
    """What the server answers to these bytes (it may answer, and hang up, before it has
    read them all)."""
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, BrokenPipeError):
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except OSError:
                pass
    return out


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-processes"])
def test_the_servers_own_errors_carry_the_security_headers(index_dir, workers):
    port = _free_port()
    proc = subprocess.Popen([str(BIN / "searchapp"), "serve", "--index", str(index_dir),
                             "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.05)
        bad = {
            "request line": b"GET / HTTP/1.1 extra words\r\nHost: x\r\n\r\n",
            "huge header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n",
            "bad chunk": b"POST /api/search HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                         b"\r\n\r\nzz\r\n",
        }
        for what, data in bad.items():
            response = _raw(port, data).decode("latin-1")
            status = response.split("\r\n", 1)[0]
            assert " 4" in status or " 5" in status, (what, status)
            head = response.split("\r\n\r\n", 1)[0].lower()
            assert "content-security-policy:" in head, (what, head)
            assert "x-content-type-options: nosniff" in head, (what, head)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
