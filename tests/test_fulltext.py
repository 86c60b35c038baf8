"""The article's own text after the front matter: read as plain text, Markdown or HTML,
indexed as `body`, found by its words and phrases, shown as marked passages on a hit and
whole on the record page, exported; real seed files indexed into a temp dir and served over
real HTTP by waitress."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import LiveServer, build, copy_seeds, index_contents
from searchapp.ingest import fulltext
from searchapp.search.serialize import EXPORT_COLUMNS, SPREADSHEET_CELL
from searchapp.web import create_app

PLAIN = """---
title: "Harbour pilots walk out"
webUrl: "https://example.org/pilots"
excerpt: "Ships queued outside the port on Monday."
provider: {name: Example Tribune, domain: example.org}
publishedDateTime: 2021-05-04T10:00:00Z
---
The pilots said talks had failed. Negotiators for the port authority disagreed.

By evening the harbour pilots had gone on strike. Quokkas were seen on the quay, which
nobody could explain.

A spokesman for the union said the strike would last a week.
"""

# A wire story: its excerpt is the body's first lines, cut with an ellipsis (as Reuters').
WIRE = """---
title: "Ecuador asks for a higher oil quota"
webUrl: "https://example.org/wire-quota"
excerpt: "Ecuador asked the cartel for a higher oil quota on Monday, saying an earthquake had cut its out…"
provider: {name: Example Wire, domain: example.org}
publishedDateTime: 2021-05-05T10:00:00Z
---
Ecuador asked the cartel for a higher oil quota on Monday, saying an earthquake had cut its
output for five months.

Venezuela said it would back the request for a higher quota at the next conference.
"""

MARKDOWN = """---
title: "Notes from the committee"
webUrl: "https://example.org/notes"
---
# Committee minutes

The **chair** opened with a [long report](https://example.org/hiddenurlword) on
*marmosets* and `wombats`.

- first item about lighthouses
- second item

> A quoted line about zeppelins.

[ref]: https://example.org/referenceonlyword
"""

HTML = """---
title: "A page of HTML"
webUrl: "https://example.org/html"
---
<html><head><title>headonlyword</title><style>.styleonlyword { color: red }</style></head>
<body><p>The first paragraph names <b>narwhals</b>.</p>
<script>var x = "scriptonlyword";</script>
<p>A second paragraph &amp; an <a href="https://example.org/linkonlyword">axolotl</a>.</p>
<p>Reuters writes companies as <ACME CORP> in text.</p></body></html>
"""

# Right-to-left overrides around a word, a script tag, a NUL byte and a C0 control.
HOSTILE = ("---\ntitle: \"Hostile body\"\nwebUrl: \"https://example.org/hostile\"\n---\n"
           "Before \u202eevil\u202c after. <script>alert('pwned')</script> Pangolins\x00 "
           "were\x07 counted.\n")

HUGE_WORDS = 50 * 1024 * 1024 // 10


def _write_huge(path: Path) -> None:
    """A 50 MB body: `firstword` at its start, `lastword` past what is kept."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('---\ntitle: "An enormous article"\nwebUrl: "https://example.org/huge"\n---\n')
        f.write("firstword opens it.\n")
        line = "filler " * 20 + "\n"
        for _ in range(50 * 1024 * 1024 // len(line)):
            f.write(line)
        f.write("lastword closes it.\n")


@pytest.fixture(scope="module")
def body_site(tmp_path_factory):
    """The real seeds plus seeds with bodies, indexed and served over HTTP."""
    base = tmp_path_factory.mktemp("fulltext")
    seeds = copy_seeds(base / "seeds")
    for name, text in (("plain.txt", PLAIN), ("markdown.txt", MARKDOWN), ("html.txt", HTML),
                       ("wire.txt", WIRE)):
        (seeds / name).write_text(text, encoding="utf-8")
    (seeds / "hostile.txt").write_bytes(HOSTILE.encode("utf-8"))
    _write_huge(seeds / "huge.txt")
    summary = build(seeds, base / "index")
    # No time budget: a search cut short on a busy machine would read as a wrong answer.
    app = create_app({"index": base / "index", "seeds": seeds, "search_budget_ms": 0})
    server = LiveServer(app)
    server.summary, server.index = summary, base / "index"
    yield server
    server.close()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


def get(site, path: str, **params) -> tuple[int, str]:
    url = site.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8-sig")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def titles(site, q: str) -> list[str]:
    status, text = get(site, "/api/search", q=q)
    assert status == 200, text
    answer = json.loads(text)
    assert answer["exact"], answer["notice"]
    return [r["title"] for r in answer["results"]]


def test_a_word_only_in_the_body_finds_the_article(body_site):
    assert titles(body_site, "quokkas") == ["Harbour pilots walk out"]
    assert titles(body_site, "negotiators") == ["Harbour pilots walk out"]


def test_a_phrase_across_two_sentences_of_the_body_finds_it(body_site):
    assert titles(body_site, '"strike quokkas"') == ["Harbour pilots walk out"]
    assert titles(body_site, '"quokkas strike"') == []


def test_body_colon_searches_the_body_alone(body_site):
    assert titles(body_site, "body:quokkas") == ["Harbour pilots walk out"]
    assert titles(body_site, "title:quokkas") == []
    assert titles(body_site, "body:ships") == []  # in the excerpt, not the body
    assert titles(body_site, 'body:"pilots had gone"') == ["Harbour pilots walk out"]


def test_match_any_takes_body_words_too(body_site):
    status, text = get(body_site, "/api/search", q="quokkas narwhals", match="any")
    assert {r["title"] for r in json.loads(text)["results"]} == {
        "Harbour pilots walk out", "A page of HTML"}


def test_a_hit_shows_the_body_passage_with_the_word_marked(body_site):
    status, text = get(body_site, "/api/search", q="quokkas")
    hit = json.loads(text)["results"][0]
    assert hit["highlights"]["excerpt"] == "Ships queued outside the port on Monday."
    [fragment] = hit["highlights"]["body"]
    assert "<mark>Quokkas</mark> were seen on the quay" in fragment
    status, page = get(body_site, "/search", q="quokkas")
    assert status == 200 and '<p class="fragment">' in page and "<mark>Quokkas</mark>" in page
    # A hit matched by its title alone shows no body passage.
    status, text = get(body_site, "/api/search", q="title:harbour")
    assert json.loads(text)["results"][0]["highlights"]["body"] == []


def test_a_body_passage_does_not_repeat_the_excerpt_shown_above_it(body_site):
    """A wire story's excerpt is its body's first lines: the hit shows them once, and its
    body passages come from the text after them."""
    status, text = get(body_site, "/api/search", q="quota")
    [hit] = [r for r in json.loads(text)["results"] if r["title"].startswith("Ecuador asks")]
    assert "<mark>quota</mark> on Monday" in hit["highlights"]["excerpt"]
    [fragment] = hit["highlights"]["body"]
    assert "for a higher <mark>quota</mark> at the next conference" in fragment
    assert "on Monday" not in fragment and "earthquake" not in fragment


def test_the_record_page_shows_the_whole_text_in_paragraphs_with_the_words_marked(body_site):
    status, text = get(body_site, "/api/search", q="quokkas")
    rid = json.loads(text)["results"][0]["id"]
    status, page = get(body_site, f"/doc/{rid}", q="strike")
    assert status == 200
    assert '<p>The pilots said talks had failed. Negotiators for the port authority ' \
           'disagreed.</p>' in page
    assert 'gone on <mark id="match-1">strike</mark>. Quokkas' in page
    assert 'the <mark id="match-2">strike</mark> would last' in page
    assert "2 matches marked in the text" in page and 'href="#match-1"' in page
    status, plain = get(body_site, f"/doc/{rid}")
    assert "<mark" not in plain.split('class="fulltext-body"')[1].split("</div>")[0]
    assert "A spokesman for the union said the strike would last a week." in plain


def test_markdown_and_html_bodies_index_their_words_only(body_site):
    assert titles(body_site, "marmosets") == ["Notes from the committee"]
    assert titles(body_site, "lighthouses zeppelins wombats") == ["Notes from the committee"]
    assert titles(body_site, '"long report"') == ["Notes from the committee"]
    assert titles(body_site, "narwhals axolotl") == ["A page of HTML"]
    for hidden in ("hiddenurlword", "referenceonlyword", "scriptonlyword", "styleonlyword",
                   "headonlyword", "linkonlyword"):
        assert titles(body_site, hidden) == [], hidden
    records = {r["record"]["title"]: r["record"] for r in index_contents(body_site.index).values()}
    assert records["Notes from the committee"]["body"].split("\n\n") == [
        "Committee minutes", "The chair opened with a long report on marmosets and wombats.",
        "first item about lighthouses", "second item", "A quoted line about zeppelins."]
    html_body = records["A page of HTML"]["body"].split("\n\n")
    assert html_body == ["The first paragraph names narwhals.",
                         "A second paragraph & an axolotl.",
                         "Reuters writes companies as <ACME CORP> in text."]


def test_a_hostile_body_is_repaired_and_said_and_never_a_500(body_site):
    summary = body_site.summary
    said = [str(w) for w in summary.warnings]
    assert "hostile.txt:5: body: 1 NUL byte(s) removed" in said
    huge = [w for w in said if w.startswith("huge.txt")]
    assert len(huge) == 1 and "body is over 1,000,000 bytes" in huge[0] \
        and "kept its first 1,000,000" in huge[0], said
    records = {r["record"]["title"]: r["record"] for r in index_contents(body_site.index).values()}
    hostile = records["Hostile body"]["body"]
    assert hostile == "Before evil after. Pangolins were counted."
    assert titles(body_site, "pangolins") == ["Hostile body"]
    assert titles(body_site, "evil") == ["Hostile body"]
    assert titles(body_site, "alert") == [] and titles(body_site, "pwned") == []
    # The huge file keeps its record, its body cut: its first words found, its last not.
    assert titles(body_site, "firstword") == ["An enormous article"]
    assert titles(body_site, "lastword") == []
    assert len(records["An enormous article"]["body"].encode("utf-8")) <= 1_000_000
    for q in ("pangolins", "firstword", "filler", '"filler filler"', "body:fil*"):
        status, text = get(body_site, "/api/search", q=q)
        assert status == 200, (q, text)
        for hit in json.loads(text)["results"]:
            status, page = get(body_site, f"/doc/{hit['id']}", q=q)
            assert status == 200 and "<script>" not in page.split("<main")[1].split(
                '<script src=')[0], q
        assert get(body_site, "/search", q=q)[0] == 200


def test_a_front_matter_over_the_limit_is_still_refused_whole(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "big.txt").write_text('---\ntitle: "Big"\nexcerpt: "' + "x" * 70_000 + '"\n---\nbody\n',
                                   encoding="utf-8")
    summary = build(seeds, tmp_path / "index", max_seed_bytes=64 * 1024)
    assert summary.rejected == 1 and "over the 65,536-byte limit" in str(summary.errors[0])


def test_csv_has_no_body_column_unless_asked_and_jsonl_carries_it(body_site):
    status, text = get(body_site, "/export.csv", q="quokkas")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS) and "body" not in header
    status, text = get(body_site, "/export.csv", q="quokkas", columns="id,title,body")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:3] == ["id", "title", "body"]
    assert rows[0]["body"].startswith("The pilots said talks had failed.")
    status, text = get(body_site, "/export.csv", q="firstword", columns="title,body")
    cell = list(csv.DictReader(io.StringIO(text)))[0]["body"]
    assert len(cell) == SPREADSHEET_CELL and cell.endswith("characters in all]")
    status, text = get(body_site, "/export.csv", q="quokkas", columns="title,nonsense")
    assert status == 400 and "no column 'nonsense'" in text
    status, text = get(body_site, "/export.jsonl", q="quokkas")
    assert json.loads(text.splitlines()[0])["body"].startswith("The pilots said talks")


def test_seeds_without_a_body_are_the_records_they_were(body_site, tmp_path):
    """The five real seeds have no body: their records have no body key and are the same
    records beside seeds with bodies; their hits have no body passages. (Their ranking is
    pinned by test_ranking.py.)"""
    alone = tmp_path / "alone"
    build(copy_seeds(tmp_path / "seeds"), alone)
    before = index_contents(alone)
    assert all("body" not in r["record"] for r in before.values())
    with_bodies = index_contents(body_site.index)
    for rid, found in before.items():
        assert with_bodies[rid]["record"] == found["record"]
    app = create_app({"index": alone, "seeds": tmp_path / "seeds"})
    client = app.test_client()
    for q in ("facial recognition", "police", '"civil liberties"', "ban*"):
        mine = client.get("/api/search", query_string={"q": q}).get_json()["results"]
        status, text = get(body_site, "/api/search", q=q)
        theirs = [r for r in json.loads(text)["results"] if r["id"] in before]
        assert mine and {r["id"] for r in mine} == {r["id"] for r in theirs}, q
        assert all(r["highlights"]["body"] == [] for r in mine)
        lines = client.get("/export.jsonl", query_string={"q": q}).get_data(as_text=True)
        assert all("body" not in json.loads(line) for line in lines.splitlines())
    app.extensions["searchapp.index"].close()


@pytest.mark.parametrize("text,kind", [
    ("Plain words. Two sentences.", "plain"),
    ("Reuters: <ACME CORP> said 3 < 4.", "plain"),
    ("<p>HTML</p>", "html"),
    ("Text with a <br> break", "html"),
    ("# A heading\n\nwords", "markdown"),
    ("words with a [link](https://example.org) in them", "markdown"),
    ("- a list\n- of things", "markdown"),
    ("some **strong** words", "markdown"),
])
def test_a_bodys_kind_is_told_by_its_markup(text, kind):
    assert fulltext.kind_of(text) == kind


@pytest.mark.browser
def test_the_record_page_marks_the_words_and_next_match_walks_them(browser, body_site):
    context = browser.new_context(viewport={"width": 1280, "height": 700})
    page = context.new_page()
    try:
        page.goto(body_site.url + "/search?q=strike")
        page.locator(".hit-title a", has_text="Harbour pilots walk out").click()
        text = page.locator(".fulltext-body")
        expect(text.locator("p")).to_have_count(3)
        expect(text.locator("mark")).to_have_text(["strike", "strike"])
        nxt = page.locator("[data-next-match]")
        nxt.click()
        expect(page.locator("#match-1")).to_have_class("current-match")
        nxt.click()
        expect(page.locator("#match-2")).to_have_class("current-match")
        expect(page.locator("#match-1")).not_to_have_class("current-match")
        expect(nxt).to_have_text("Next match ↓ (2 of 2)")
        assert page.evaluate("location.hash") == "#match-2"
        nxt.click()  # round to the first again
        expect(page.locator("#match-1")).to_have_class("current-match")
    finally:
        context.close()


def test_a_body_word_is_completed_while_typing_and_matched_by_patterns(body_site):
    status, text = get(body_site, "/api/search", q="quokk", typing="1")
    assert [r["title"] for r in json.loads(text)["results"]] == ["Harbour pilots walk out"]
    assert titles(body_site, "quok*") == ["Harbour pilots walk out"]
    assert titles(body_site, "body:quok*") == ["Harbour pilots walk out"]
    assert titles(body_site, "=quokkas") == ["Harbour pilots walk out"]
    assert titles(body_site, "quokas~") == ["Harbour pilots walk out"]
    status, text = get(body_site, "/api/search", q="quok*")
    assert "<mark>Quokkas</mark>" in json.loads(text)["results"][0]["highlights"]["body"][0]
