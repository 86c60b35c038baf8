"""What travels between the site and a browser, over real HTTP to a real waitress server:
gzip when the client takes it (and streams that still stream), static files linked by
version and kept a year, the favicon, exports a spreadsheet opens without mangling ids, a
batch's pasted header and misspelt rows, and a feed's errors in plain words."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import socket
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from searchapp import create_app

from conftest import LiveServer, build, copy_seeds, write_generated

ROOT = Path(__file__).resolve().parents[1]
GENERATED = 1200  # more than one page of an export (500 records): it streams in pieces

# Two records whose ids (from their URLs) a spreadsheet would read as numbers: one of digits
# only, one of digits with an `e` among them (5e93... in the news records).
NUMBER_LIKE = {"https://plumbing.example/story-2009": "0632212600118580",
               "https://plumbing.example/story-254": "1e76994751205811"}


def seed(url: str, n: int) -> str:
    return (f'---\ntitle: "Zeppelin harbour report {n}"\nexcerpt: "The zeppelin harbour opened '
            f'its {n} gates."\npublishedDateTime: 2021-0{n}-10T09:00:00Z\nwebUrl: "{url}"\n'
            "provider:\n  name: Plumbing Post\n  domain: plumbing.example\n---\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("plumbing")
    seeds = copy_seeds(base / "seeds")
    for n, url in enumerate(NUMBER_LIKE, start=1):
        (seeds / f"plumbing_{n}.txt").write_text(seed(url, n), encoding="utf-8")
    write_generated(seeds / "generated", GENERATED)
    build(seeds, base / "index")
    app = create_app({"index": base / "index", "seeds": seeds})
    server = LiveServer(app)
    yield server
    server.close()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


def get(site, path: str, headers: dict | None = None):
    """(status, headers, body as sent) of a GET; urllib asks for no encoding of its own."""
    request = urllib.request.Request(site.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def raw_chunks(site, path: str, headers: dict) -> tuple[str, list[bytes]]:
    """The head of a response and its body's chunks as the server sent them (chunked
    transfer encoding read by hand: urllib would join them)."""
    host, port = urlsplit(site.url).hostname, urlsplit(site.url).port
    with socket.create_connection((host, port), timeout=60) as sock:
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{lines}\r\n".encode())
        stream = sock.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += stream.readline()
        chunks = []
        while True:
            size = int(stream.readline().split(b";")[0], 16)
            if size == 0:
                break
            chunks.append(stream.read(size))
            stream.readline()
        return head.decode("latin-1"), chunks


# -- compression ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/search?q=police", "/api/search?q=police",
                                  "/timeline.csv?q=police", "/compare?q=police&q=camera",
                                  "/static/app.js", "/static/htmx-2.0.11.min.js"])
def test_text_is_gzipped_for_a_client_that_takes_it_and_plain_for_one_that_does_not(site, path):
    status, plain_headers, plain = get(site, path)
    assert status == 200 and "Content-Encoding" not in plain_headers
    assert "Accept-Encoding" in plain_headers["Vary"]
    status, headers, packed = get(site, path, GZIP)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert len(packed) < len(plain) / 2, (len(packed), len(plain))
    unpacked = gzip.decompress(packed)
    if path.startswith("/api/"):  # the same answer, but for the time it took
        one, two = json.loads(plain), json.loads(unpacked)
        one.pop("took_ms"), two.pop("took_ms")
        assert one == two
    elif path.startswith(("/static/", "/timeline.csv")):
        assert unpacked == plain
    else:  # a page: the same, but for the time it took and the footer's "updated ... ago"
        assert unpacked.startswith(b"<!doctype html>") and abs(len(unpacked) - len(plain)) < 100


def test_gzip_refused_tiny_bodies_and_compressed_files_are_sent_as_they_are(site):
    assert get(site, "/search?q=police", {"Accept-Encoding": "br;q=1, gzip;q=0.5"}
               )[1]["Content-Encoding"] == "gzip"
    status, headers, body = get(site, "/search?q=police", {"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in headers and body.startswith(b"<!doctype html>")
    status, headers, body = get(site, "/healthz", GZIP)  # a few dozen bytes
    assert status == 200 and "Content-Encoding" not in headers and json.loads(body)["status"] == "ok"
    status, headers, body = get(site, "/favicon.ico", GZIP)  # PNGs inside: compressed already
    assert status == 200 and "Content-Encoding" not in headers


def test_a_gzipped_export_still_streams_a_page_of_records_at_a_time(site):
    head, chunks = raw_chunks(site, "/export.csv?bom=0", GZIP)
    assert head.startswith("HTTP/1.1 200") and "Content-Encoding: gzip" in head
    assert "Transfer-Encoding: chunked" in head and "Content-Length" not in head
    # The first piece sent is readable alone, rows whole: the client has the first page of
    # records while the rest are read and sent after it.
    first = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(chunks[0]).decode("utf-8")
    first_rows = list(csv.reader(io.StringIO(first)))
    assert first.endswith("\r\n") and len(first_rows) == 1 + 500
    whole = gzip.decompress(b"".join(chunks)).decode("utf-8")
    rows = list(csv.reader(io.StringIO(whole)))
    assert len(chunks) >= 3 and len(rows) - 1 > GENERATED and whole.startswith(first)
    total = json.loads(get(site, "/api/search")[2])["total"]
    assert len(rows) - 1 == total
    status, headers, jsonl = get(site, "/export.jsonl?q=police", GZIP)
    assert headers["Content-Encoding"] == "gzip"
    lines = gzip.decompress(jsonl).decode("utf-8").splitlines()
    assert len(lines) == json.loads(get(site, "/api/search?q=police")[2])["total"]


def test_a_gzipped_batch_page_streams_its_rows(site):
    body = urlencode({"queries": "police\ncamera\nzeppelin"})
    status, headers, packed = get(site, "/batch?" + body, GZIP)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    page = gzip.decompress(packed).decode("utf-8")
    assert page.rstrip().endswith("</html>") and "3 queries" in page


# -- static files and the favicon ----------------------------------------------------------

def test_pages_link_static_files_by_version_and_those_are_kept_a_year(site):
    page = get(site, "/")[2].decode("utf-8")
    assets = re.findall(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', page)
    assert {name for name, _ in assets} == {"/static/app.css", "/static/app.js",
                                            "/static/htmx-2.0.11.min.js"}
    for name, version in assets:
        content = (ROOT / name.lstrip("/")).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12]  # a new file, a new URL
        status, headers, body = get(site, f"{name}?v={version}", GZIP)
        assert status == 200 and gzip.decompress(body) == content
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable", name
        # Revalidating (after a year, or a forced reload) still earns a 304.
        again = urllib.request.Request(site.url + f"{name}?v={version}",
                                       headers={**GZIP, "If-None-Match": headers["ETag"]})
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(again, timeout=30)
        assert answer.value.code == 304
        # ... saying what the 200 said: the gzipped file's weak validator, and what it varies by.
        assert answer.value.headers["ETag"] == headers["ETag"] and headers["ETag"].startswith("W/")
        assert "Accept-Encoding" in answer.value.headers["Vary"]
        assert get(site, f"{name}?v={version}", GZIP)[2] == body  # the same bytes again
    # Without its version (an old bookmark, a hand-typed URL), or with an old one after an
    # upgrade: the file as it is now, kept five minutes.
    for path in ("/static/app.js", "/static/app.js?v=000000000000"):
        status, headers, body = get(site, path)
        assert status == 200 and body == (ROOT / "static/app.js").read_bytes()
        assert headers["Cache-Control"] == "public, max-age=300"
    batch = get(site, "/batch")[2].decode("utf-8")
    assert re.search(r'src="/static/batch\.js\?v=[0-9a-f]{12}"', batch)


def test_the_favicon_is_the_sites_own(site):
    status, headers, body = get(site, "/favicon.ico")
    assert status == 200 and headers["Content-Type"] == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00" and body == (ROOT / "static/favicon.ico").read_bytes()
    assert headers["Cache-Control"].startswith("public, max-age=")


# -- exports -------------------------------------------------------------------------------

BEFORE = ["id", "title", "excerpt", "url", "provider", "domain", "topics", "category", "type",
          "kind", "published", "published_date", "quality", "cited_by", "related", "story_id",
          "export_search", "export_note"]


def csv_rows(site, query: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(get(site, f"/export.csv?{query}")[2].decode("utf-8-sig"))))


def test_exports_end_with_rank_and_score_and_every_earlier_column_keeps_its_place(site):
    rows = csv_rows(site, "q=police+camera")
    assert rows[0] == BEFORE + ["rank", "score"]
    api = json.loads(get(site, "/api/search?q=police+camera&group=records&per_page=100")[2])
    ranked = [dict(zip(rows[0], row)) for row in rows[1:]]
    assert [r["rank"] for r in ranked] == [str(n) for n in range(1, len(ranked) + 1)]
    # The first page of the export is the page's first page, with the page's scores.
    assert [(r["id"], float(r["score"])) for r in ranked[:100]] == \
        [(h["id"], h["score"]) for h in api["results"]]
    lines = [json.loads(line) for line in
             get(site, "/export.jsonl?q=police+camera")[2].decode("utf-8").splitlines()]
    assert [(line["id"], line["rank"], line["score"]) for line in lines] == \
        [(r["id"], int(r["rank"]), float(r["score"])) for r in ranked]
    newest = [dict(zip(rows[0], row)) for row in csv_rows(site, "q=police&sort=newest")[1:]]
    assert newest[0]["rank"] == "1" and all(r["score"] == "" for r in newest)


def test_ids_a_spreadsheet_would_read_as_numbers_stay_text(site):
    rows = csv_rows(site, "q=zeppelin+harbour&sort=oldest")
    records = [dict(zip(rows[0], row)) for row in rows[1:]]
    expected = list(NUMBER_LIKE.values())
    # As a spreadsheet reads the cell: the text formula ="..." shows the id itself.
    assert [r["id"] for r in records] == [f'="{i}"' for i in expected]
    assert [r["story_id"] for r in records] == [f'="{i}"' for i in expected]
    raw = get(site, "/export.csv?q=zeppelin+harbour&sort=oldest&bom=0")[2].decode("utf-8")
    assert raw.splitlines()[1].startswith('"=""0632212600118580""",Zeppelin harbour report 1,')
    # Every other id as it is (those with a letter other than a lone `e` among digits).
    others = [dict(zip(rows[0], row))["id"] for row in csv_rows(site, "q=police")[1:]]
    plain = [json.loads(line)["id"] for line in
             get(site, "/export.jsonl?q=police")[2].decode("utf-8").splitlines()]
    assert len(others) == len(plain) > 100
    assert others == [f'="{i}"' if re.fullmatch(r"[0-9]+(e[0-9]+)?", i) else i for i in plain]
    assert sum(i != o for i, o in zip(plain, others)) < len(plain) / 100
    # JSON Lines is for programs: ids plain.
    lines = get(site, "/export.jsonl?q=zeppelin+harbour&sort=oldest")[2].decode("utf-8")
    assert [json.loads(line)["id"] for line in lines.splitlines()] == expected


# -- batch ---------------------------------------------------------------------------------

def batch_page(site, text: str) -> str:
    status, _, body = get(site, "/batch?" + urlencode({"queries": text}))
    assert status == 200
    return body.decode("utf-8")


def test_a_pasted_header_row_is_not_counted_as_a_query(site):
    text = "Label\tQuery\nCameras\tcamera\nPolice\tpolice"
    page = batch_page(site, text)
    assert "2 queries" in page and "Line 1 names the columns" in page
    assert "<td>Label</td>" not in page and ">Cameras</td>" in page
    got = json.loads(get(site, "/api/batch?" + urlencode({"queries": text}))[2])
    assert got["queries"] == 2 and [r["line"] for r in got["rows"]] == [2, 3]
    # Only the first line, and only with its tab: a query `query` alone is a query.
    again = json.loads(get(site, "/api/batch?" + urlencode({"queries": "query\ncamera"}))[2])
    assert [r["query"] for r in again["rows"]] == ["query", "camera"]


def test_a_misspelt_row_gets_the_correction_the_search_page_offers(site):
    api = json.loads(get(site, "/api/search?q=polce+camera")[2])
    assert api["showing_results_for"] == "police camera"  # what the search page offers
    page = batch_page(site, "polce camera\ncamera")
    hint = re.search(r'Did you mean <a href="([^"]+)">([^<]+)</a>\? ([\d,]+) records', page)
    assert hint and hint.group(2) == "police camera"
    assert int(hint.group(3).replace(",", "")) == api["showing_total"]
    assert page.count("Did you mean") == 1  # `camera` is fine as written
    linked = hint.group(1).replace("&amp;", "&")
    found = json.loads(get(site, linked.replace("/search", "/api/search", 1))[2])
    assert found["total"] == api["showing_total"]


# -- feeds ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query, says", [("sort=sideways", "sort must be one of"),
                                         ("from=2021-13-45", "date"),
                                         ("per_page=5000", "per_page")])
def test_a_feed_answers_bad_parameters_in_plain_words(site, query, says):
    status, headers, body = get(site, f"/search.atom?{query}")
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    text = body.decode("utf-8")
    assert text.startswith("This feed cannot be made: ") and says in text
    assert not text.lstrip().startswith("{")
