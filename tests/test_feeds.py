"""Every search as an Atom feed of the matches that entered the index last: read by a real feed
parser, with links made from `base_url`, gaining what a reindex brings and not flooded by a
full rebuild."""

from __future__ import annotations

import calendar
import time
from urllib.parse import urlsplit

import feedparser
import pytest

from conftest import LiveServer, build, copy_seeds, wait_for
from searchapp import create_app

BASE = "https://news-search.example.org"


def article(title: str, day: int = 1) -> str:
    return (f'---\ntitle: "{title}"\nexcerpt: "Filed for the feed test about facial '
            f'recognition and {title.lower()}."\npublishedDateTime: 2020-01-{day:02d}T08:00:00Z\n'
            "provider:\n  name: Feed Post\n  domain: feedpost.example\n---\n")


@pytest.fixture
def site(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    build(seeds, index)
    app = create_app({"index": index, "seeds": seeds, "base_url": BASE + "/"})
    yield app.test_client(), seeds, index
    if "searchapp.index" in app.extensions:
        app.extensions["searchapp.index"].close()


def read(client, query: str = "q=facial+recognition"):
    response = client.get(f"/search.atom?{query}", headers={"Host": "attacker.example"})
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    return feed


def past_the_second_of(feed) -> None:
    """Return once the clock is past the second `feed`'s latest entry was first seen in:
    first-seen times are whole seconds, so only a run after it gives a later one."""
    last = max(calendar.timegm(e.updated_parsed) for e in feed.entries)
    wait_for(lambda: time.time() >= last + 1, f"the clock to pass {feed.entries[0].updated}",
             every=0.05)


def test_a_search_has_a_valid_feed_with_links_from_base_url_only(site):
    client, _, _ = site
    feed = read(client, "q=facial+recognition&provider=Sky")
    assert feed.version == "atom10"
    assert feed.feed.title == "searchapp: “facial recognition”; provider: Sky"
    links = [feed.feed.id] + [l.href for l in feed.feed.links] + \
        [e.link for e in feed.entries] + [e.id for e in feed.entries]
    assert all(link.startswith(BASE + "/") for link in links), links
    assert "attacker" not in str(feed)
    entry = feed.entries[0]
    assert entry.title and entry.author == "Sky" and entry.summary
    page = client.get(urlsplit(entry.link).path + "?" + urlsplit(entry.link).query)
    assert page.status_code == 200 and "<mark>" in page.get_data(as_text=True)
    alternate = next(l.href for l in feed.feed.links if l.rel == "alternate")
    assert alternate == BASE + "/search?q=facial+recognition&provider=Sky"


def test_the_feed_gains_what_a_reindex_brings_and_a_full_rebuild_does_not_flood_it(site):
    client, seeds, index = site
    before = read(client)
    assert len(before.entries) == 21
    old = {e.id: e.updated for e in before.entries}
    past_the_second_of(before)
    (seeds / "new.txt").write_text(article("Pangolins in the feed"), encoding="utf-8")
    build(seeds, index)
    after = read(client)
    assert after.entries[0].title == "Pangolins in the feed"  # entered last, though old news
    assert after.entries[0].published.startswith("2020-01-01")
    assert {e.id: e.updated for e in after.entries[1:]} == old

    past_the_second_of(after)  # so a rebuild that lost the times would show it on every entry
    build(seeds, index, full=True)
    rebuilt = read(client)
    assert [(e.id, e.updated) for e in rebuilt.entries] == \
        [(e.id, e.updated) for e in after.entries]


def test_a_feed_is_refused_clearly_and_never_breaks_on_odd_text(site):
    client, seeds, index = site
    assert client.get("/search.atom?sort=sideways").status_code == 400
    # `\x01` is YAML's escape: the title holds a control character, which XML cannot.
    (seeds / "odd.txt").write_text(article("Control \\x01 characters \u200b and <b>tags</b>"),
                                   encoding="utf-8")
    build(seeds, index)
    feed = read(client, "q=tags")
    assert feed.entries and "\x01" not in feed.entries[0].title


def test_the_page_links_to_its_feed(site):
    client, _, _ = site
    page = client.get("/search?q=facial&provider=Sky").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="New matches of this '
            'search (Atom)" href="/search.atom?q=facial&amp;provider=Sky">') in page
    assert ">Feed of new matches</a>" in page


@pytest.mark.browser
def test_a_researcher_subscribes_and_the_feed_shows_a_new_record(browser, tmp_path, screenshots):
    from playwright.sync_api import expect
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    build(seeds, index)
    app = create_app({"index": index, "seeds": seeds, "base_url": BASE})
    server = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(server.url + "/search?q=facial+recognition")
        link = page.locator("a", has_text="Feed of new matches")
        expect(link).to_be_visible()
        href = link.get_attribute("href")
        assert page.locator('link[rel=alternate][type="application/atom+xml"]').get_attribute(
            "href") == href
        first = feedparser.parse(page.request.get(server.url + href).body())
        assert len(first.entries) == 21
        past_the_second_of(first)
        (seeds / "new.txt").write_text(article("Quokkas on camera"), encoding="utf-8")
        build(seeds, index)
        second = feedparser.parse(page.request.get(server.url + href).body())
        assert len(second.entries) == 22 and second.entries[0].title == "Quokkas on camera"
        page.goto(server.url + href)  # what a reader sees opening the link itself
        page.screenshot(path=screenshots / "feed.png")
        record = second.entries[0].link.replace(BASE, server.url)
        page.goto(record)
        expect(page.locator("h1")).to_contain_text("Quokkas on camera")
        expect(page.locator("main mark").first).to_be_visible()
    finally:
        context.close()
        server.close()
        app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None
