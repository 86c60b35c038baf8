"""Research views over seeds with known dates: attention over time, compare, distinctive terms."""

from __future__ import annotations

import csv
import io

import pytest

from searchapp import create_app
from searchapp.search import SearchIndex, SearchRequest
from searchapp.search.request import DEFAULT_LIMITS
from searchapp.search.timeline import choose_interval
from conftest import build

DAY = 86400
# (file, date, title, provider): "drone" matches five records; "zorblax" is planted in three.
KNOWN = [
    ("d1.txt", "2022-01-03", "Drone zorblax rules for council parks", "Alpha"),
    ("d2.txt", "2022-01-03", "Council debates drone zorblax limits", "Beta"),
    ("d3.txt", "2022-01-05", "Police drone zorblax trial ends", "Alpha"),
    ("d4.txt", "2022-01-10", "Drone maker opens council office", "Gamma"),
    ("d5.txt", "2022-01-10", "Drone sightings near airport", "Beta"),
    ("o1.txt", "2022-01-03", "Council budget passes", "Alpha"),
    ("o2.txt", "2022-01-04", "Library hours extended by council", "Gamma"),
    ("o3.txt", "2022-01-10", "School meals council review", "Beta"),
    ("o4.txt", "2022-01-10", "Council elects new chair", "Alpha"),
]


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    base = tmp_path_factory.mktemp("known")
    seeds = base / "seeds"
    seeds.mkdir()
    for name, day, title, provider in KNOWN:
        (seeds / name).write_text(
            f'---\ntitle: "{title}"\nexcerpt: "A report from the {provider} desk."\n'
            f"publishedDateTime: {day}T12:00:00Z\nwebUrl: \"https://example.org/{name}\"\n"
            f"provider:\n  name: {provider}\n  domain: {provider.lower()}.example\n---\n",
            encoding="utf-8")
    build(seeds, base / "index")
    return base / "index"


@pytest.fixture(scope="module")
def index(known):
    index = SearchIndex(known)
    yield index
    index.close()


@pytest.fixture
def known_client(known):
    return create_app({"index": known}).test_client()


def timeline(index, **params):
    req = SearchRequest.from_params({k: [v] for k, v in params.items()}, DEFAULT_LIMITS)
    return index.search(req).timeline


def test_timeline_counts_every_day_including_empty_ones(index):
    line = timeline(index, q="drone")
    assert line.interval == "day"
    assert [(b.start.date().isoformat(), b.count) for b in line.buckets] == [
        ("2022-01-03", 2), ("2022-01-04", 0), ("2022-01-05", 1), ("2022-01-06", 0),
        ("2022-01-07", 0), ("2022-01-08", 0), ("2022-01-09", 0), ("2022-01-10", 2)]


def test_share_is_of_all_records_in_the_same_period(index):
    line = timeline(index, q="drone")
    assert [round(b.share, 4) for b in line.buckets] == [0.6667, 0, 1, 0, 0, 0, 0, 0.5]
    assert [b.baseline for b in line.buckets] == [3, 1, 1, 0, 0, 0, 0, 4]


def test_interval_can_be_overridden(index):
    weeks = timeline(index, q="drone", interval="week")
    assert [(b.start.date().isoformat(), b.count) for b in weeks.buckets] == [
        ("2022-01-03", 3), ("2022-01-10", 2)]  # weeks start on Monday
    months = timeline(index, q="drone", interval="month")
    assert [(b.label("month"), b.count, b.baseline) for b in months.buckets] == [("2022-01", 5, 9)]


def test_timeline_honours_every_filter(index):
    line = timeline(index, q="drone", provider="Alpha")
    assert [(b.start.date().isoformat(), b.count) for b in line.buckets] == [
        ("2022-01-03", 1), ("2022-01-04", 0), ("2022-01-05", 1)]
    assert timeline(index, q="drone", **{"from": "2022-01-05"}).total == 3


@pytest.mark.parametrize("days,interval", [(0, "day"), (30, "day"), (120, "day"), (365, "week"),
                                           (3 * 365, "week"), (10 * 365, "month"),
                                           (60 * 365, "year")])
def test_interval_is_chosen_from_the_span(days, interval):
    assert choose_interval(0, days * DAY) == interval


def test_api_search_carries_the_timeline(known_client):
    data = known_client.get("/api/search?q=drone").get_json()
    assert data["interval"] == "day"
    assert data["timeline"][0] == {"start": "2022-01-03", "end": "2022-01-03", "count": 2,
                                   "share": 0.666667}
    assert len(data["timeline"]) == 8


def test_bars_link_to_their_period_and_the_chart_reads_without_scripts(known_client):
    page = known_client.get("/search?q=drone").get_data(as_text=True)
    assert 'href="/search?q=drone&amp;from=2022-01-05&amp;to=2022-01-05"' in page
    # A group of links, not an image holding links (axe: nested-interactive).
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="group"' in page
    assert "<title id=\"timeline-title\">Matching records per day</title>" in page
    assert "peak 2 in 2022-01-03" in page
    assert '<th scope="row">2022-01-03</th><td>2</td><td>3</td><td>66.7%</td>' in page
    assert '<th scope="row">2022-01-04</th>' not in page  # nothing matched that day
    assert 'data-start="2022-01-04"' not in page  # nor is it a link that would find nothing
    # One tab stop for the whole chart: the last bar; arrow keys move along (app.js).
    assert page.count('class="bar"') - 1 == page.count('tabindex="-1"><title>')


def test_share_view_scales_bars_by_share(known_client):
    page = known_client.get("/search?q=drone&scale=share").get_data(as_text=True)
    assert ">100%</text>" in page  # the y axis tops out at the highest share
    assert 'aria-current="true" class="current">Share of all records</a>' in page


def test_timeline_downloads(known_client):
    response = known_client.get("/timeline.csv?q=drone")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["start", "end", "count", "all_records", "share"]
    assert rows[1] == ["2022-01-03", "2022-01-03", "2", "3", "0.666667"]
    assert len(rows) == 9
    svg = known_client.get("/timeline.svg?q=drone&interval=week")
    assert svg.mimetype == "image/svg+xml" and "attachment" in svg.headers["Content-Disposition"]
    body = svg.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>') and body.count('class="bar"') == 2


def test_compare_two_queries_on_one_axis(known_client):
    data = known_client.get("/api/compare?q=drone&q=council").get_json()
    assert [q["query"] for q in data["queries"]] == ["drone", "council"]
    assert [q["total"] for q in data["queries"]] == [5, 7]
    drone, council = data["queries"]
    assert [b["start"] for b in drone["timeline"]] == [b["start"] for b in council["timeline"]]
    assert [b["count"] for b in council["timeline"]] == [3, 1, 0, 0, 0, 0, 0, 3]
    assert drone["top"]["provider"][0] == {"value": "Alpha", "count": 2}


def test_compare_four_queries_with_their_own_filters(known_client):
    url = "/api/compare?q1=drone&q2=council&q3=zorblax&q4=drone&provider4=Beta"
    data = known_client.get(url).get_json()
    assert [q["total"] for q in data["queries"]] == [5, 7, 3, 2]
    page = known_client.get(url.replace("/api", "")).get_data(as_text=True)
    assert page.count("<polyline") == 4
    assert 'href="/search?q=drone&amp;provider=Beta"' in page


def test_compare_needs_two_to_four_queries(known_client):
    assert known_client.get("/api/compare?q=drone").status_code == 400
    assert known_client.get("/api/compare?q=a&q=b&q=c&q=d&q=e").status_code == 400
    assert known_client.get("/compare").status_code == 200  # the empty form
    one = known_client.get("/compare?q=drone")  # one query: the form asks for another
    assert one.status_code == 200 and "Add a query to compare with “drone”" in one.get_data(as_text=True)
    five = known_client.get("/compare?q=a&q=b&q=c&q=d&q=e")
    assert five.status_code == 400 and "could not be compared" in five.get_data(as_text=True)


def test_distinctive_terms_find_the_planted_word(index):
    result = index.search(SearchRequest(q="drone"))
    words = [t.text for t in result.terms.terms]
    assert words[0] == "zorblax"
    assert "drone" not in words and "council" not in words  # the query; a word found everywhere
    assert not result.terms.sampled


def test_distinctive_terms_say_when_they_sampled(index, known):
    from searchapp.search import distinctive as terms
    with index.using() as snap:
        final = snap.columns.all_docs[:5]
        sampled = terms.distinctive(snap.scorer.vectors, snap.doc_frequency, final, 9, set(), sample=3)
    assert sampled.sampled and sampled.sample_size == 3 and sampled.population == 5


def test_no_distinctive_terms_for_the_whole_collection(index, known_client):
    assert not index.search(SearchRequest()).terms.comparable
    page = known_client.get("/search").get_data(as_text=True)
    assert "Search or filter to see which words set the results apart" in page


def test_distinctive_term_links_add_the_word_to_the_query(known_client):
    page = known_client.get("/search?q=drone").get_data(as_text=True)
    assert 'href="/search?q=drone+zorblax"' in page


def test_terms_fragment_loads_after_the_results(known_client):
    partial = known_client.get("/research?q=drone", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-get="/terms?q=drone" hx-trigger="load"' in partial
    assert 'href="/search?q=drone+zorblax"' not in partial
    fragment = known_client.get("/terms?q=drone", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'href="/search?q=drone+zorblax"' in fragment


def test_the_api_gives_distinctive_words_when_asked(known_client):
    plain = known_client.get("/api/search?q=drone").get_json()
    assert plain["terms"] == [] and plain["terms_sample"] is None
    asked = known_client.get("/api/search?q=drone&terms=1").get_json()
    assert "zorblax" in [t["term"] for t in asked["terms"]]
    assert asked["terms_sample"]["size"] == asked["total"]


def test_the_timeline_draws_where_the_matches_are_and_can_show_everything(tmp_path):
    from conftest import build
    from searchapp.web import create_app
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    days = [f"2022-03-{d:02d}" for d in range(1, 29)] + ["1991-05-02", "2003-07-09"]
    for n, day in enumerate(days):
        (seeds / f"s{n}.txt").write_text(
            f'---\ntitle: "Harbour strike day {n}"\npublishedDateTime: {day}T10:00:00Z\n'
            f'webUrl: https://example.org/{n}\n---\n', encoding="utf-8")
    build(seeds, tmp_path / "index")
    app = create_app({"index": tmp_path / "index", "seeds": seeds})
    client = app.test_client()
    focused = client.get("/api/search?q=harbour").get_json()
    assert focused["interval"] == "day" and focused["timeline"][0]["start"] == "2022-03-01"
    assert sum(b["count"] for b in focused["timeline"]) == 28 and focused["timeline_outside"] == 2
    page = client.get("/research?q=harbour", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "2 more, from 1991-05-02 to 2003-07-09, are not drawn" in page
    assert 'href="/search?q=harbour&amp;span=all"' in page
    whole = client.get("/api/search?q=harbour&span=all").get_json()
    assert whole["timeline"][0]["start"].startswith("1991") and whole["interval"] != "day"
    assert sum(b["count"] for b in whole["timeline"]) == 30
    compared = client.get("/compare?q=harbour&q=strike").get_data(as_text=True)
    assert "4 dated matches outside it are not drawn" in compared  # 2 of each query
    assert "span=all" in compared
    # A date range the user chose is drawn as chosen.
    ranged = client.get("/api/search?q=harbour&from=1990&to=2023").get_json()
    assert ranged["timeline"][0]["start"].startswith("1991")
    app.extensions["searchapp.index"].close()
