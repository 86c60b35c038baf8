"""What the search page offers a researcher beyond the results, through Flask's test client
over the real seeds: facet values loaded when asked, limits said in words, advice when
nothing matches, and the way into a comparison."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest

from searchapp.web import create_app


def partial(client, url: str) -> str:
    return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_facet_values_past_the_first_ten_load_when_asked(client):
    body = partial(client, "/search?q=")
    shown = body.count('role="button"')
    assert 'hx-trigger="toggle once"' in body and "/facet?" in body
    data = client.get("/api/search?q=").get_json()
    listed = sum(len(v) for v in data["facets"].values())
    assert shown < listed  # the rest are not in the keystroke's answer
    more = partial(client, "/facet?facet=provider")
    values = [v["value"] for v in data["facets"]["provider"]]
    assert values[10] in more and values[0] not in more.split("</li>")[0]
    page = client.get("/facet?facet=provider").get_data(as_text=True)  # without scripts
    assert "<h1>Sources of the results</h1>" in page and values[10] in page
    assert values[0] in page  # the page lists them all, the first ten too
    assert client.get("/facet?facet=colour").status_code == 400


def test_too_many_values_of_one_facet_are_refused_with_a_reason(client):
    many = "&".join(f"provider=p{n}" for n in range(51))
    response = client.get("/api/search?" + many)
    assert response.status_code == 400
    assert "at most 50 values of provider" in response.get_json()["error"]
    assert client.get("/search?" + many).status_code == 400
    assert client.get("/api/search?" + "&".join(f"provider=p{n}" for n in range(50))).status_code == 200


def test_paging_says_how_far_it_goes(index_dir, seeds_dir):
    app = create_app({"index": index_dir, "seeds": seeds_dir, "max_page": 2})
    body = partial(app.test_client(), "/search?q=&per_page=5")
    assert "Page 1 of 2" in body and "the first 10 results" in body and "export all 23" in body
    last = partial(app.test_client(), "/search?q=&per_page=5&page=2")
    assert 'rel="next"' not in last
    app.extensions["searchapp.index"].close()


def test_nothing_found_says_what_to_try(client):
    body = partial(client, '/search?q="ban+cameras+parliament"&provider=Sky&typing=0')
    assert "No records match" in body
    assert "The same words without filters or dates" in body
    assert "The words without quotation marks" in body
    words = partial(client, "/search?q=ban+zebras&typing=0")
    assert "Records with any of the words" in words and "match=any" in words


def test_a_comparison_starts_from_the_search(client):
    body = partial(client, "/search?q=facial&provider=Sky")
    assert 'href="/compare?q=facial&amp;provider=Sky"' in body
    one = client.get("/compare?q=facial&provider=Sky")
    text = one.get_data(as_text=True)
    assert one.status_code == 200 and "Add a query to compare with “facial”" in text
    assert 'value="facial"' in text and "Sources: Sky" in text
    both = client.get("/compare?q=facial&q=police&from=2021-01-01").get_data(as_text=True)
    assert 'value="2021-01-01"' in both and "/compare.csv?" in both
    table = client.get("/compare.csv?q=facial&q=police").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(table)))
    assert rows[0] == ["start", "end", "facial (count)", "facial (share)", "police (count)",
                       "police (share)"]
    assert sum(int(r[2]) for r in rows[1:]) > 0 and len(rows) > 2


def test_a_results_fragment_is_small(client):
    assert len(partial(client, "/search?q=").encode()) < 30_000


def test_counting_stories_says_stories_in_the_chart_and_its_table(client):
    body = client.get("/search?q=facial&count=stories").get_data(as_text=True)
    title = body.split('<title id="timeline-title">')[1].split("</title>")[0]
    assert title.startswith("Matching stories per ")
    caption = body.split("<caption>")[1].split("</caption>")[0]
    assert caption.startswith("Matching stories per ")


def test_one_storys_page_says_what_it_lists_and_in_what_order(client):
    story = client.get("/api/search?q=facial").get_json()["results"][0]["story_id"]
    body = client.get(f"/search?story={story}&sort=oldest").get_data(as_text=True)
    assert "(the copies of one story, oldest first)" in body
    assert "<title>One story · searchapp</title>" in body


def test_a_long_paste_is_said_once_and_no_link_repeats_it(client):
    paste = ("facial recognition police cameras surveillance privacy court ruling " * 40)[:2500]
    body = partial(client, "/search?" + urlencode({"q": paste}))
    assert body.count(paste) == 1  # in the folded whole search, not in a link
    assert len(body) < 60_000
    assert "data-q-kept" in body


def test_an_open_pages_poll_is_a_304_until_the_index_changes(client):
    first = client.get("/fresh?q=facial&total=1")
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.get_json()["total"] == client.get("/api/search?q=facial").get_json()["total"]
    again = client.get("/fresh?q=facial&total=1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    footer = client.get("/fresh").get_json()
    assert "total" not in footer and footer["records"] == first.get_json()["records"]
