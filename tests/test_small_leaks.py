"""The smaller leaks and slips of issue 29, each as a user meets it over a real index: a 503
that named the server's folders, /status repeating a file read through a link out of the
seeds folder, /api/doc cutting a story's copies without a word, feed links to an IPv6 host,
pages a cache could keep, and a query string whose %-escapes are not UTF-8."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from conftest import build, copy_seeds
from searchapp import create_app


def served(index: Path, seeds: Path | None = None, **settings):
    app = create_app({"index": index, "seeds": seeds or index.parent / "seeds", **settings})
    app.config["TESTING"] = True
    return app


@pytest.fixture
def close_apps():
    made = []
    yield made.append
    for app in made:
        if "searchapp.index" in app.extensions:
            app.extensions["searchapp.index"].close()


# -- a. a 503 says what is wrong, not where the server keeps its index ----------------------

def answers_503(client) -> dict[str, str]:
    """The 503 of every route a user or a probe meets first, by path: its body as read."""
    out = {}
    for path in ("/api/search?q=police", "/search?q=police", "/healthz", "/", "/export.csv?q=x",
                 "/api/doc/0123456789abcdef", "/search.atom?q=police"):
        response = client.get(path)
        assert response.status_code == 503, path
        out[path] = response.get_data(as_text=True)
    return out


def test_a_503_without_an_index_says_so_without_its_absolute_path(tmp_path, close_apps):
    app = served(tmp_path / "index")
    close_apps(app)
    bodies = answers_503(app.test_client())
    for path, body in bodies.items():
        assert str(tmp_path) not in body, path
    said = "no index in the index folder: run `searchapp index` first"
    assert json.loads(bodies["/api/search?q=police"])["error"] == said
    assert json.loads(bodies["/healthz"]) == {"status": "unavailable", "error": said}
    assert f"<p>{said}</p>" in bodies["/search?q=police"]


def test_a_503_of_a_damaged_index_names_its_files_from_the_index_folder(tmp_path, seeds_dir,
                                                                        close_apps):
    index = tmp_path / "index"
    build(seeds_dir, index)
    (index / "CURRENT").write_text("../../elsewhere\n", encoding="utf-8")
    app = served(index, seeds_dir)
    close_apps(app)
    bodies = answers_503(app.test_client())
    for path, body in bodies.items():
        assert str(tmp_path) not in body and "/CURRENT" not in body, path
    error = json.loads(bodies["/api/search?q=police"])["error"]
    assert error.startswith("the index pointer CURRENT is damaged (it names '../../elsewhere'")
    assert "The index is damaged" in bodies["/search?q=police"]


# -- f. %-escapes that are not UTF-8 are a 400, as raw bytes are ---------------------------

def test_a_query_whose_percent_escapes_are_not_utf8_is_a_400(client):
    for path in ("/search", "/api/search", "/compare", "/export.csv", "/search.atom", "/batch",
                 "/api/batch", "/timeline.csv"):
        for query in ("q=%FF%FE", "q=police&provider=%C3", "queries=%ED%A0%80"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert response.get_data(as_text=True) == "The query string is not valid UTF-8."
    # UTF-8 escaped as a browser escapes it still searches.
    page = client.get("/api/search?q=caf%C3%A9+%E2%80%9Cfacial%E2%80%9D")
    assert page.status_code == 200 and page.get_json()["query"] == "café “facial”"


# -- d. feed links to a site served on an IPv6 address --------------------------------------

@pytest.mark.parametrize("host", ["::1", "2001:db8::7"])
def test_feed_links_to_a_site_served_on_an_ipv6_address_bracket_it(index_dir, seeds_dir,
                                                                   close_apps, host):
    """`searchapp serve --host ::1` (no `base_url`): a feed reader must be able to follow
    every link the feed gives it back to this site."""
    import feedparser
    app = served(index_dir, seeds_dir, host=host, port=8123)
    close_apps(app)
    response = app.test_client().get("/search.atom?q=facial+recognition")
    assert response.status_code == 200
    feed = feedparser.parse(response.data)
    assert not feed.bozo and feed.entries
    links = [feed.feed.id] + [l.href for l in feed.feed.links] + \
        [e.link for e in feed.entries] + [e.id for e in feed.entries]
    for link in links:
        parts = urlsplit(link)
        assert (parts.scheme, parts.hostname, parts.port) == ("http", host, 8123), link
        assert parts.path.startswith(("/search", "/doc/")), link


# -- c. a story with more copies than a record's JSON lists ---------------------------------

def wire_story(seeds: Path, outlets: int) -> None:
    """One story run by `outlets` outlets within the morning: the same title and excerpt,
    a minute apart."""
    seeds.mkdir(parents=True, exist_ok=True)
    for n in range(outlets):
        (seeds / f"wire_{n:03d}.txt").write_text(
            '---\ntitle: "Council votes to ban facial recognition cameras in city parks"\n'
            'excerpt: "The city council voted on Tuesday to ban police use of facial '
            'recognition cameras in parks, after a long debate."\n'
            f"publishedDateTime: 2021-03-02T{8 + n // 60:02d}:{n % 60:02d}:00Z\n"
            f'webUrl: "https://wire{n}.example/council-ban"\n'
            f"provider:\n  name: Wire {n}\n  domain: wire{n}.example\n---\n", encoding="utf-8")


def test_a_record_of_a_big_story_says_how_many_copies_it_lists_and_links_to_all(tmp_path,
                                                                                close_apps):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    wire_story(seeds, 205)
    build(seeds, index)
    app = served(index, seeds)
    close_apps(app)
    client = app.test_client()
    first = client.get("/api/search?q=council&group=records&sort=oldest&per_page=1").get_json()
    assert first["total"] == 205 and first["stories"] == 1
    record_id = first["results"][0]["id"]
    doc = client.get(f"/api/doc/{record_id}").get_json()
    assert len(doc["copies"]) == 200 and record_id not in doc["copies"]
    assert (doc["copies_total"], doc["more_copies"]) == (204, 4)
    # The rest, by the link it gives: every record of the story, page by page.
    listed = []
    url = doc["copies_url"]
    while url:
        page = client.get(url).get_json()
        listed += [r["id"] for r in page["results"]]
        url = (doc["copies_url"] + "&" + urlencode({"page": page["page"] + 1})
               if page["page"] < page["pages"] else None)
    assert len(set(listed)) == 205 and set(doc["copies"]) | {record_id} <= set(listed)
    assert listed[:201] == [record_id] + doc["copies"]  # earliest first, as listed
    html = client.get(f"/doc/{record_id}").get_data(as_text=True)
    assert "Copies of this story (205 records)" in html
    assert "listed here: the first 200 of the other 204, earliest first" in html


def test_a_record_of_a_small_story_lists_every_copy_and_says_none_is_left(tmp_path,
                                                                         close_apps):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    wire_story(seeds, 3)
    copy_seeds(seeds)
    build(seeds, index)
    app = served(index, seeds)
    close_apps(app)
    client = app.test_client()
    first = client.get("/api/search?q=council+parks&group=records&sort=oldest").get_json()
    doc = client.get(f"/api/doc/{first['results'][0]['id']}").get_json()
    assert (len(doc["copies"]), doc["copies_total"], doc["more_copies"]) == (2, 2, 0)
    assert client.get(doc["copies_url"]).get_json()["total"] == 3
    others = client.get("/api/search?q=facial&group=records").get_json()["results"]
    alone = [d for d in (client.get(f"/api/doc/{r['id']}").get_json() for r in others)
             if not d["copies"]]
    assert alone and all((d["copies_total"], d["more_copies"], d["copies_url"]) == (0, 0, None)
                         for d in alone)


# -- b. /status and a file read through a link out of the seeds folder -----------------------

def test_status_never_repeats_what_a_file_linked_from_outside_the_seeds_folder_holds(
        tmp_path, close_apps):
    """A seeds folder may link to a file elsewhere (it is indexed under the link's name); if
    that file is not a seed file, /status says it was refused, and not what it holds."""
    seeds, outside = copy_seeds(tmp_path / "seeds"), tmp_path / "private"
    outside.mkdir()
    held = {"dated.txt": '---\ntitle: "x"\npublishedDateTime: "SECRET-DATE-4471"\n---\n',
            "typo.txt": '---\nSECRET-KEY-9913: yes\nexcerpt: "no title here"\n---\n',
            "deploy.yaml": "---\npassword: SECRET-PASS-2208: [unclosed\n---\n"}
    for name, text in held.items():
        (outside / name).write_text(text, encoding="utf-8")
        os.symlink(outside / name, seeds / f"linked-{name}")
    os.symlink(outside, seeds / "linked-folder")
    (seeds / "own.txt").write_text(held["dated.txt"].replace("SECRET", "OWN"), encoding="utf-8")
    build(seeds, tmp_path / "index")
    app = served(tmp_path / "index", seeds)
    close_apps(app)
    client = app.test_client()
    page = client.get("/status").get_data(as_text=True)
    api = client.get("/api/status").get_json()
    for shown in (page, json.dumps(api)):
        assert "SECRET" not in shown
    reasons = {row["file"]: row["reason"] for row in api["refused"]}
    assert set(reasons) == {"linked-dated.txt", "linked-typo.txt", "linked-deploy.yaml", "own.txt"}
    for name in held:
        assert reasons[f"linked-{name}"] == ("a link to a file outside the seeds folder, which "
                                             "is not a seed file that can be read; the reason "
                                             "is not repeated, as it would quote that file")
        assert f"<code>linked-{name}</code>" in page
    # A file of the seeds folder's own is said as it always was: its owner put it there.
    assert "'OWN-DATE-4471' is not a date" in reasons["own.txt"]


# -- e. what a cache may keep -----------------------------------------------------------------

def test_nothing_that_holds_a_search_may_be_kept_and_static_files_are_cached_by_version(client):
    """Every page, fragment, API answer, export, feed, batch and error names a researcher's
    search in its URL or holds what it found: `no-store`. Static files hold nothing of
    anyone's: a year for a file whose URL names its version, five minutes for the others,
    which change in place on an upgrade."""
    private = [("get", "/", {}), ("get", "/search?q=facial", {}),
               ("get", "/search?q=facial", {"headers": {"HX-Request": "true"}}),
               ("get", "/api/search?q=facial", {}), ("get", "/export.csv?q=facial", {}),
               ("get", "/export.jsonl?q=facial", {}), ("get", "/search.atom?q=facial", {}),
               ("get", "/timeline.csv?q=facial", {}), ("get", "/compare?q=ban&q=camera", {}),
               ("get", "/batch?queries=facial", {}), ("get", "/api/batch?queries=facial", {}),
               ("post", "/batch", {"data": {"queries": "facial"}}),
               ("get", "/facet?q=facial&facet=topic", {}), ("get", "/status", {}),
               ("get", "/api/status", {}), ("get", "/healthz", {}),
               ("get", "/api/search?page=0", {}), ("get", "/nope", {}),
               ("get", "/static/nope.js", {}), ("head", "/search?q=facial", {})]
    hit = client.get("/api/search?q=facial").get_json()["results"][0]["id"]
    private += [("get", f"/doc/{hit}?q=facial", {}), ("get", f"/api/doc/{hit}", {})]
    for method, path, kwargs in private:
        response = getattr(client, method)(path, **kwargs)
        response.get_data()
        assert response.headers.get("Cache-Control") == "no-store", (method, path,
                                                                     response.status_code)
    page = client.get("/search?q=facial").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    # The page links each by its version (web/assets.py); unversioned, those whose name
    # carries none are kept five minutes.
    assert {a.split("?v=")[0] for a in assets} >= {"/static/htmx-2.0.11.min.js", "/static/app.css"}
    assets += [a.split("?v=")[0] for a in assets]
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200
        versioned = re.search(r"-\d+(\.\d+)+(\.min)?\.js$|\?v=[0-9a-f]{12}$", asset)
        expected = ("public, max-age=31536000, immutable" if versioned
                    else "public, max-age=300")
        assert response.headers["Cache-Control"] == expected, asset
        again = client.get(asset, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == expected
