"""The workspace as a researcher and an attacker use it: records kept in a collection with
tags and a note, searched within (`collection:`, `tag:`, `-tag:*`) through every view that
counts, exported and read back; a rebuild and a repair keep all of it, first-seen times
too; a record that leaves the index stays listed; a damaged workspace is said and search goes
on; a POST without the token, from another site or to a read-only site changes nothing; a
note with markup stays text everywhere; kill -9 during 200 concurrent writes loses nothing
that was answered."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.cli import main
from searchapp.index import store
from searchapp.search import SearchIndex, SearchRequest
from searchapp.workspace import Workspace

from conftest import build, copy_seeds, free_port

HOSTILE_NOTE = '<script>alert("note")</script><b onmouseover=x>bold</b> & "quoted"'
BIN = Path(sys.executable).parent


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def hit_ids(html: str) -> list[str]:
    return re.findall(r'<li class="hit" id="hit-([0-9a-f]{16})"', html)


@pytest.fixture
def kept(client):
    """Five hits of `facial recognition` put in "Story A" with two tags and a hostile note,
    through the forms the page gives."""
    page = client.get("/search?q=facial+recognition&group=records").get_data(as_text=True)
    ids = hit_ids(page)[:5]
    response = client.post("/collect", data={
        "csrf_token": token_of(page), "collection": "Story A", "record": ids,
        "tags": "police, ban", "note": HOSTILE_NOTE})
    assert response.status_code == 303
    return ids


def test_a_collection_is_searched_within_and_every_view_counts_alike(client, kept):
    page = client.get("/search?" + urllib.parse.urlencode(
        {"q": 'collection:"Story A" tag:police', "group": "records"})).get_data(as_text=True)
    assert sorted(hit_ids(page)) == sorted(kept)
    assert 'data-total="5"' in page
    # The query words became filters, shown as removable chips and facets.
    assert "Collections: Story A" in page and "Tags: police" in page
    api = client.get("/api/search?collection=Story+A&tag=police&group=records").get_json()
    assert api["total"] == 5
    rows = list(csv.reader(io.StringIO(client.get(
        "/export.csv?collection=Story+A&tag=police").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) - 1 == 5
    # Within the search: what is not tagged yet, and what is not tagged police.
    every = client.get("/api/search?q=facial+recognition&group=records").get_json()["total"]
    untagged = client.get("/api/search?q=facial+recognition+-tag:*&group=records").get_json()
    assert untagged["total"] == every - 5
    assert client.get("/api/search?q=facial+recognition+-tag:police&group=records"
                      ).get_json()["total"] == every - 5
    # The facets count them, and the untagged as "Not tagged yet".
    facets = client.get("/api/search?q=facial+recognition&group=records").get_json()["facets"]
    assert {"value": "police", "count": 5, "selected": False} in facets["tag"]
    assert {"value": "Story A", "count": 5, "selected": False} in facets["collection"]


def test_a_collection_exports_as_csv_and_json_lines_with_tags_and_notes(client, kept):
    text = client.get("/collection.csv?name=Story+A").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == kept
    assert {r["tags"] for r in rows} == {"ban; police"}
    assert {r["note"] for r in rows} == {"'" + HOSTILE_NOTE} or \
        {r["note"] for r in rows} == {HOSTILE_NOTE}
    lines = [json.loads(line) for line in client.get("/collection.jsonl?name=Story+A")
             .get_data(as_text=True).splitlines()]
    assert [r["id"] for r in lines] == kept
    assert all(r["tags"] == ["ban", "police"] and r["note"] == HOSTILE_NOTE and r["in_index"]
               for r in lines)


def test_a_note_with_markup_stays_text_on_every_page_and_in_the_feed(client, kept):
    for path in ("/collection?name=Story+A", f"/doc/{kept[0]}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b onmouseover" not in html, path
        assert "&lt;script&gt;alert(&#34;note&#34;)&lt;/script&gt;" in html, path
    feed = client.get("/search.atom?collection=Story+A").get_data(as_text=True)
    assert "<script>" not in feed
    parsed = feedparser.parse(feed)
    assert len(parsed.entries) == 5
    assert all(HOSTILE_NOTE in e.summary for e in parsed.entries)


def test_records_come_from_a_pasted_list_of_ids_and_urls(client, app):
    page = client.get("/search?q=police&group=records").get_data(as_text=True)
    ids = hit_ids(page)[:2]
    url = client.get(f"/api/doc/{hit_ids(page)[2]}").get_json()["url"]
    listed = "\n".join([ids[0], ids[1].upper(), url, "not a record", "0" * 16])
    response = client.post("/api/collect", data={"csrf_token": token_of(page),
                                                 "collection": "Pasted", "list": listed})
    body = response.get_json()
    assert body["added"] == 3 and body["not_found"] == ["not a record", "0" * 16]
    members = client.get("/api/collection?name=Pasted").get_json()["records"]
    assert [m["id"] for m in members] == ids + [hit_ids(page)[2]]


def test_every_hit_of_a_search_goes_in_up_to_the_stated_limit(tmp_path, index_dir, seeds_dir):
    app = create_app({"index": index_dir, "seeds": seeds_dir, "collect_max": 7})
    client = app.test_client()
    page = client.get("/search?q=police").get_data(as_text=True)
    assert "every hit is at most the first 7" in page
    body = client.post("/api/collect", data={"csrf_token": token_of(page), "collection": "All",
                                             "search": "q=police", "every": "1"}).get_json()
    total = client.get("/api/search?q=police&group=records").get_json()["total"]
    assert body["added"] == 7 and body["left_out"] == total - 7
    assert body["message"].startswith("Added 7 records to “All”")


def test_saved_searches_are_renamed_opened_and_deleted(client):
    page = client.get("/search?q=police").get_data(as_text=True)
    token = token_of(page)
    sid = client.post("/api/saved", data={"csrf_token": token, "search": "q=police&sort=newest",
                                          "name": "Police"}).get_json()["id"]
    total = client.get("/api/search?q=police").get_json()["total"]
    [row] = client.get("/api/saved").get_json()["saved"]
    assert (row["name"], row["total"], row["opened_total"], row["new"]) == \
        ("Police", total, total, 0)
    assert row["feed"] == "/search.atom?q=police&sort=newest"
    assert client.post(f"/api/saved/{sid}/rename", data={"csrf_token": token,
                                                         "name": "Cops"}).status_code == 200
    opened = client.post(f"/saved/{sid}/open", data={"csrf_token": token})
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/search?q=police&sort=newest"
    html = client.get("/saved").get_data(as_text=True)
    assert "Cops" in html and "nothing new" in html and "shares these" in html
    assert client.post(f"/api/saved/{sid}/delete", data={"csrf_token": token}).status_code == 200
    assert client.get("/api/saved").get_json() == {"saved": []}


def test_history_keeps_settled_searches_not_keystrokes_and_clears(client):
    for q in ("p", "po", "pol"):
        client.get("/search", query_string={"q": q, "typing": "1"},
                   headers={"HX-Request": "true"})
    client.get("/search?q=police")
    client.get("/search?q=court", headers={"Sec-Fetch-Site": "cross-site"})  # another site's link
    history = client.get("/api/history").get_json()["history"]
    assert [h["url"] for h in history] == ["/search?q=police"]
    token = token_of(client.get("/search?q=ban").get_data(as_text=True))
    assert [h["url"] for h in client.get("/api/history").get_json()["history"]] == \
        ["/search?q=ban", "/search?q=police"]
    client.post("/history/clear", data={"csrf_token": token})
    assert client.get("/api/history").get_json()["history"] == []


def test_history_off_keeps_nothing(index_dir, seeds_dir):
    client = create_app({"index": index_dir, "seeds": seeds_dir, "history": False}).test_client()
    client.get("/search?q=police")
    assert client.get("/api/history").get_json() == {"history": [], "on": False}
    assert "The history is off" in client.get("/history").get_data(as_text=True)


# -- who may write --------------------------------------------------------------------------

def _collections(client) -> list:
    return client.get("/api/collections").get_json()["collections"]


def test_a_post_without_the_token_or_from_another_site_changes_nothing(client):
    page = client.get("/search?q=police").get_data(as_text=True)
    token, rid = token_of(page), hit_ids(page)[0]
    form = {"collection": "Evil", "record": rid}
    no_token = client.post("/collect", data=form)
    assert no_token.status_code == 400 and b"carries no CSRF token" in no_token.data
    forged = client.post("/collect", data={**form, "csrf_token": "x" * 40})
    assert forged.status_code == 400 and b"CSRF token is not valid" in forged.data
    # A cross-site form and a cross-site fetch, token or not: the browser says where from.
    cross = client.post("/collect", data={**form, "csrf_token": token},
                        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and b"came from another site" in cross.data
    other = client.post("/api/collect", data={**form, "csrf_token": token},
                        headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and "another site" in other.get_json()["error"]
    # Another session's token (a page fetched by someone else) does not do either.
    stranger = create_app({"index": client.application.config["SEARCHAPP"].index}).test_client()
    theirs = token_of(stranger.get("/search?q=police").get_data(as_text=True))
    assert client.post("/collect", data={**form, "csrf_token": theirs}).status_code == 400
    assert _collections(client) == []
    # The page's own token, from the page's own origin, does.
    ok = client.post("/collect", data={**form, "csrf_token": token},
                     headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 303 and [c["name"] for c in _collections(client)] == ["Evil"]


def test_tokens_are_masked_afresh_in_every_response_and_all_valid(client):
    first = client.get("/search?q=police").get_data(as_text=True)
    second = client.get("/search?q=police").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', first + second)
    assert len(set(tokens)) == len(tokens) == 4
    rid = hit_ids(first)[0]
    for n, token in enumerate(tokens[:4]):
        assert client.post("/api/record/tag", data={"csrf_token": token, "record": rid,
                                                    "tags": f"t{n}"}).status_code == 200


def test_the_secret_is_kept_in_the_workspace_and_shared_across_processes_and_restarts(
        index_dir, seeds_dir):
    one = create_app({"index": index_dir, "seeds": seeds_dir}).test_client()
    first = one.get("/search?q=police")
    page = first.get_data(as_text=True)
    cookie = one.get_cookie("searchapp_session")
    assert cookie is not None and cookie.same_site == "Lax" and cookie.http_only
    assert "SameSite=Lax" in first.headers["Set-Cookie"]
    assert (index_dir / "workspace" / "secret.key").stat().st_mode & 0o077 == 0
    again = create_app({"index": index_dir, "seeds": seeds_dir}).test_client()  # a restart
    again.set_cookie("searchapp_session", cookie.value)
    response = again.post("/api/record/tag", data={"csrf_token": token_of(page),
                                                   "record": hit_ids(page)[0], "tags": "kept"})
    assert response.status_code == 200, response.data


def test_a_read_only_site_serves_search_and_refuses_every_change(index_dir, seeds_dir):
    client = create_app({"index": index_dir, "seeds": seeds_dir, "read_only": True}).test_client()
    page = client.get("/search?q=police")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "csrf_token" not in html and "Keep" not in html
    assert "Set-Cookie" not in page.headers
    refused = client.post("/collect", data={"collection": "x", "record": hit_ids(html)[0]})
    assert refused.status_code == 403 and b"This site is read-only" in refused.data
    assert client.post("/api/history/clear").get_json()["status"] == 403
    assert client.get("/saved").status_code == 404
    asked = client.get("/api/search?q=tag:police")
    assert asked.status_code == 400 and "read-only" in asked.get_json()["error"]
    assert not (index_dir / "workspace").exists()


# -- what survives ---------------------------------------------------------------------------

def _damage_a_segment(index: Path) -> None:
    segment = max(store.live(index).folders[0].glob("*.arr*"), key=lambda p: p.stat().st_size)
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])


def test_a_full_rebuild_and_a_repair_keep_the_workspace_and_the_first_seen_times(
        client, kept, index_dir, seeds_dir):
    token = token_of(client.get("/search?q=police").get_data(as_text=True))
    client.post("/api/saved", data={"csrf_token": token, "search": "q=police", "name": "P"})
    before = client.get("/api/collection?name=Story+A").get_json()
    seen_before = client.get("/api/saved").get_json()["saved"][0]
    time.sleep(1.1)  # a record seen anew would be seen a second later than the save
    runner = CliRunner()
    args = ["--seeds", str(seeds_dir), "--index", str(index_dir)]
    assert runner.invoke(main, ["index", "--full", *args]).exit_code == 0
    assert client.get("/api/collection?name=Story+A").get_json() == before
    _damage_a_segment(index_dir)
    result = runner.invoke(main, ["check", "--repair", *args])
    assert result.exit_code == 0 and "repaired" in result.output, result.output
    assert client.get("/api/collection?name=Story+A").get_json() == before
    assert client.get("/api/search?collection=Story+A&tag=police&group=records"
                      ).get_json()["total"] == 5
    after = client.get("/api/saved").get_json()["saved"][0]
    assert (after["total"], after["new"]) == (seen_before["total"], 0)


def _seen_times(index: Path) -> dict:
    searcher = SearchIndex(index)
    try:
        return {r["id"]: t for r, t in searcher.first_seen(SearchRequest(), 10_000)[0]}
    finally:
        searcher.close()


def test_first_seen_times_of_incremental_runs_survive_a_repair(tmp_path):
    seeds, index = copy_seeds(tmp_path / "seeds"), tmp_path / "index"
    build(seeds, index)
    time.sleep(1.1)
    (seeds / "late.txt").write_text('---\ntitle: "A late arrival"\nwebUrl: '
                                    '"https://late.example/1"\n---\n', encoding="utf-8")
    build(seeds, index)  # an incremental run: the late record is seen a second later
    before = _seen_times(index)
    assert len(set(before.values())) == 2
    time.sleep(1.1)
    _damage_a_segment(index)
    result = CliRunner().invoke(main, ["check", "--repair", "--seeds", str(seeds), "--index",
                                       str(index)])
    assert "repaired" in result.output, result.output
    assert _seen_times(index) == before


def test_a_record_that_leaves_the_index_stays_listed_as_such(client, kept, index_dir,
                                                             seeds_dir):
    gone = client.get(f"/api/doc/{kept[0]}").get_json()
    for path in seeds_dir.rglob("*"):
        if path.is_file() and gone["url"] in path.read_text(encoding="utf-8", errors="replace"):
            path.unlink()
    assert CliRunner().invoke(main, ["index", "--seeds", str(seeds_dir), "--index",
                                     str(index_dir)]).exit_code == 0
    assert client.get(f"/api/doc/{kept[0]}").status_code == 404
    html = client.get("/collection?name=Story+A").get_data(as_text=True)
    row = re.search(rf'<li class="kept gone" data-id="{kept[0]}">(.*?)</li>', html, re.S).group(1)
    assert "no longer in the index" in row and gone["title"] in row and gone["url"] in row
    [first] = [r for r in client.get("/api/collection?name=Story+A").get_json()["records"]
               if r["id"] == kept[0]]
    assert (first["in_index"], first["title"], first["date"]) == \
        (False, gone["title"], gone["published"][:10])


def test_a_damaged_workspace_is_said_and_search_goes_on(client, kept, index_dir, seeds_dir):
    client.application.extensions["searchapp.workspace"].close()
    database = index_dir / "workspace" / "workspace.sqlite"
    for extra in ("-wal", "-shm"):
        Path(str(database) + extra).unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    fresh = create_app({"index": index_dir, "seeds": seeds_dir}).test_client()
    page = fresh.get("/search?q=police")
    assert page.status_code == 200 and "cannot be read" in page.get_data(as_text=True)
    assert fresh.get("/api/search?q=police").get_json()["total"] > 0
    listed = fresh.get("/api/collections")
    assert listed.status_code == 503 and "cannot be read" in listed.get_json()["error"]
    result = CliRunner().invoke(main, ["check", "--seeds", str(seeds_dir), "--index",
                                       str(index_dir)])
    assert result.exit_code == 1 and "workspace" in result.output and "cannot be read" in \
        result.output


# -- kill -9 -------------------------------------------------------------------------------

def test_kill_9_during_200_concurrent_tag_writes_loses_nothing_answered(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    build(seeds, index)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([str(BIN / "searchapp"), "serve", "--seeds", str(seeds), "--index",
                             str(index), "--port", str(port), "--workers", "2", "--no-watch"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(url + "/search?q=police&group=records", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        html = page.decode()
        token, ids = token_of(html), hit_ids(html)
        answered: list[tuple[str, str]] = []
        lock = threading.Lock()
        start = threading.Barrier(20)

        def writer(n: int) -> None:
            start.wait()
            for k in range(n, 200, 20):
                body = urllib.parse.urlencode({"csrf_token": token, "record": ids[k % len(ids)],
                                               "tags": f"w{k}"}).encode()
                try:
                    with opener.open(urllib.request.Request(
                            url + "/api/record/tag", data=body), timeout=10) as response:
                        if response.status == 200:
                            with lock:
                                answered.append((ids[k % len(ids)], f"w{k}"))
                except OSError:
                    pass  # the server is gone: this write was not answered

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        while len(answered) < 40:
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        for t in threads:
            t.join(30)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert 40 <= len(answered) < 200
    workspace = Workspace(index / "workspace")
    kept = {(k.record, t) for rid in set(ids) if (k := workspace.kept(rid)) for t in k.tags}
    assert set(answered) <= kept, sorted(set(answered) - kept)[:5]
    assert not CliRunner().invoke(main, ["check", "--seeds", str(seeds), "--index",
                                         str(index)]).exit_code
