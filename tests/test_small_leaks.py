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

@pytest.mark.parametrize("host", ["::1", "fe80::1", "127.0.0.1"])
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
