"""Keeping and marking in a real browser, over `searchapp serve` as `make run` starts it
(two worker processes, watching the seeds folder): a saved search says how many records are
new since it was looked at; five hits go in a collection with tags and a note, are searched
within, exported and read back; a rebuild and a repair keep all of it; a record deleted from
the seeds stays listed as no longer in the index. Plain forms, no script needed."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from test_served_watch import BIN, Served, wait_until
from test_workspace import HOSTILE_NOTE

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    server = Served(tmp_path, files=30)
    yield server
    server.close()


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def new_seed(n: int) -> str:
    return (f'---\ntitle: "Quokka council vote {n}"\nexcerpt: "The quokka council voted again."\n'
            f"publishedDateTime: 2022-03-0{n}T09:00:00Z\nwebUrl: \"https://new.example/{n}\"\n"
            "provider:\n  name: New Source\n---\n")


def test_a_saved_search_says_how_many_records_are_new_since_it_was_opened(
        served, tab, screenshots):
    (served.seeds / "first.txt").write_text(new_seed(1), encoding="utf-8")
    wait_until(lambda: served.total("quokka") == 1, 30, "the first quokka indexed")
    tab.goto(served.url + "/search?q=quokka")
    tab.locator("details.keep-search > summary").click()
    tab.get_by_label("Name").fill("Quokkas")
    tab.get_by_role("button", name="Save this search").click()
    expect(tab).to_have_url(re.compile(r"/saved$"))
    row = tab.locator("tr.saved", has_text="Quokkas")
    expect(row.locator(".new")).to_have_text("nothing new")
    time.sleep(1.1)  # the new records enter the index in a later second than the save
    for n in (2, 3, 4):
        (served.seeds / f"new-{n}.txt").write_text(new_seed(n), encoding="utf-8")
    wait_until(lambda: served.total("quokka") == 4, 30, "three more quokkas indexed")
    tab.goto(served.url + "/saved")
    expect(row.locator(".new")).to_have_text("3 new since you looked")
    expect(row.locator("td.n").first).to_have_text("4")
    tab.screenshot(path=str(screenshots / "saved-searches.png"), full_page=True)
    row.get_by_role("button", name="Open Quokkas").click()
    expect(tab).to_have_url(re.compile(r"/search\?q=quokka$"))
    expect(tab.locator(".summary .count strong").first).to_have_text("4")
    tab.goto(served.url + "/saved")
    expect(row.locator(".new")).to_have_text("nothing new")


def _download(tab, link: str) -> str:
    with tab.expect_download() as done:
        tab.get_by_role("link", name=link, exact=True).click()
    return done.value.path().read_text(encoding="utf-8-sig")


def test_five_hits_kept_with_tags_and_a_note_survive_rebuild_repair_and_deletion(
        served, tab, screenshots):
    tab.goto(served.url + "/search?q=police&group=records&sort=oldest")
    hits = tab.locator("li.hit")
    ids = []
    for n in range(5):  # each hit's own "Keep" box
        hit = hits.nth(n)
        ids.append(hit.get_attribute("id").removeprefix("hit-"))
        hit.get_by_label("Keep").check()
    tab.locator("details.keep-search > summary").click()
    form = tab.locator("form#keep-hits")
    form.get_by_label("Collection").fill("Story A")
    form.get_by_label("Tags").fill("police lead")
    form.get_by_label("Note").fill(HOSTILE_NOTE)
    tab.screenshot(path=str(screenshots / "kept-hits.png"))
    form.get_by_role("button", name="Add the ticked hits").click()
    expect(tab.locator(".flash")).to_have_text("Added 5 records to “Story A”.")
    expect(tab).to_have_url(re.compile(r"/search\?q=police&sort=oldest&group=records$"))
    # Search within what was kept, from the box, as typed.
    tab.locator("#q").fill('collection:"Story A" tag:lead')
    tab.locator("#q").press("Enter")
    expect(tab.locator(".summary")).to_have_attribute("data-total", "5")
    expect(tab.locator(".chips")).to_contain_text("Collections: Story A")
    # htmx swapped the results; the Keep forms outside them were sent the new search.
    expect(tab.locator("#keep-search-hits")).to_have_value(re.compile(r"collection=Story\+A"))
    expect(tab.locator("#keep-search-save")).to_have_value(re.compile(r"tag=lead"))
    assert sorted(h.get_attribute("id")[4:] for h in tab.locator("li.hit").all()) == sorted(ids)
    expect(tab.locator('section.facet[data-facet="tag"]')).to_contain_text("lead")
    tab.screenshot(path=str(screenshots / "search-within-collection.png"), full_page=True)

    def exported():
        tab.goto(served.url + "/collection?name=Story+A")
        rows = list(csv.DictReader(io.StringIO(_download(tab, "CSV"))))
        lines = [json.loads(line) for line in _download(tab, "JSON Lines").splitlines()]
        return rows, lines

    rows, lines = exported()
    assert [r["id"] for r in rows] == ids == [r["id"] for r in lines]
    assert {r["tags"] for r in rows} == {"lead; police"}
    assert {r["note"] for r in rows} == {HOSTILE_NOTE}
    assert all(r["tags"] == ["lead", "police"] and r["note"] == HOSTILE_NOTE for r in lines)
    expect(tab.locator("li.kept .note").first).to_have_text(HOSTILE_NOTE)  # text, not markup

    # A full rebuild and a repair of a damaged build keep all of it.
    args = ["--seeds", str(served.seeds), "--index", str(served.index)]
    subprocess.run([str(BIN / "searchapp"), "index", "--full", *args], check=True,
                   capture_output=True)
    from searchapp.index import store
    segment = max(store.live(served.index).folders[0].glob("*.arr*"),
                  key=lambda p: p.stat().st_size)
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size // 2])
    repaired = subprocess.run([str(BIN / "searchapp"), "check", "--repair", *args],
                              capture_output=True, text=True)
    assert "repaired" in repaired.stdout, repaired.stdout + repaired.stderr
    wait_until(lambda: exported() == (rows, lines), 30, "the collection as it was")

    # A record deleted from the seeds stays listed, as no longer in the index.
    gone = lines[0]
    number = gone["url"].rsplit("/", 1)[1]
    (served.seeds / f"gen_{int(number):05d}.txt").unlink()
    wait_until(lambda: not _in_index(served, gone["id"]), 30, "the record gone from the index")
    tab.goto(served.url + "/collection?name=Story+A")
    item = tab.locator(f'li.kept[data-id="{gone["id"]}"]')
    expect(item).to_contain_text("no longer in the index")
    expect(item).to_contain_text(gone["title"])
    expect(item).to_contain_text(gone["url"])
    expect(item).to_contain_text(gone["date"])
    tab.screenshot(path=str(screenshots / "collection.png"), full_page=True)


def _in_index(served, record_id: str) -> bool:
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(f"{served.url}/api/doc/{record_id}", timeout=5).read()
        return True
    except urllib.error.HTTPError:
        return False


def test_a_cross_site_form_or_fetch_changes_nothing(served, tab):
    """Another site (localhost, where the served site is 127.0.0.1) posts a form and a fetch
    with the visitor's cookies: both are refused with a message, and nothing is kept."""
    import http.server
    import threading

    from conftest import free_port

    tab.goto(served.url + "/search?q=police&group=records")  # the visitor has a session
    rid = tab.locator("li.hit").first.get_attribute("id")[4:]
    # The attacker's own token, from a session of their own: it is not the visitor's.
    theirs = re.search(r'name="csrf_token" value="([^"]+)"',
                       _fetch_text(served.url + "/search?q=police")).group(1)
    evil = f"""<!doctype html><html><body>
      <form id="f" method="post" action="{served.url}/collect">
        <input name="collection" value="Evil"><input name="record" value="{rid}">
        <input name="csrf_token" value="{theirs}"></form>
      <p id="fetched">waiting</p>
      <script>
        fetch("{served.url}/api/record/tag", {{method: "POST", credentials: "include",
              mode: "no-cors", body: new URLSearchParams({{record: "{rid}", tags: "evil"}})}})
          .then(() => document.getElementById("fetched").textContent = "sent")
          .catch(() => document.getElementById("fetched").textContent = "failed");
      </script></body></html>""".encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(evil)

        def log_message(self, *args):
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tab.goto(f"http://localhost:{port}/")
        expect(tab.locator("#fetched")).not_to_have_text("waiting")
        with tab.expect_navigation():
            tab.evaluate("document.getElementById('f').submit()")
        expect(tab.locator("main")).to_contain_text("Refused")
    finally:
        server.shutdown()
    kept = json.loads(_fetch_text(served.url + "/api/collections"))
    assert kept == {"collections": [], "tags": []}


def _fetch_text(url: str) -> str:
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_without_scripts_by_keyboard_a_hit_is_kept_and_the_page_says_so(served, browser):
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        tab.goto(served.url + "/search?q=police&group=records")
        hit = tab.locator("li.hit").first
        rid = hit.get_attribute("id")[4:]
        hit.get_by_label("Keep").focus()
        tab.keyboard.press("Space")  # ticks it
        tab.locator("details.keep-search > summary").focus()
        tab.keyboard.press("Enter")  # opens the details
        tab.keyboard.press("Tab")
        expect(tab.locator("form#keep-hits").get_by_label("Collection")).to_be_focused()
        tab.keyboard.type("By keyboard")
        tab.keyboard.press("Tab")
        tab.keyboard.type("kbd")
        tab.keyboard.press("Enter")  # submits the plain form: a POST, then back here
        expect(tab.locator(".flash")).to_have_text("Added 1 record to “By keyboard”.")
        expect(tab).to_have_url(re.compile(r"/search\?q=police&group=records$"))
        tab.goto(served.url + "/collection?name=By+keyboard")
        expect(tab.locator(f'li.kept[data-id="{rid}"] .tag')).to_have_text("kbd")
    finally:
        context.close()
