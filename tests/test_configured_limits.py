"""Every page that searches reads its request under the limits the settings configure, as
/search does: the comparison, the batch and the downloads refuse (or cut) alike. /compare
once passed only `max_query_length` on, and took 50 facet values whatever was configured."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from searchapp import create_app

THREE_SOURCES = [("provider", "Sky"), ("provider", "Forbes"), ("provider", "BBC")]


@pytest.fixture
def strict(index_dir, seeds_dir):
    """An app that lets a request select at most two values of a facet, and reads queries of
    at most 12 characters."""
    app = create_app({"index": index_dir, "seeds": seeds_dir, "max_facet_values": 2,
                      "max_query_length": 12})
    app.config["TESTING"] = True
    yield app.test_client()
    if "searchapp.index" in app.extensions:
        app.extensions["searchapp.index"].close()


def _url(path: str, *pairs) -> str:
    return path + "?" + urlencode(list(pairs))


def test_search_refuses_more_facet_values_than_configured(strict):
    assert strict.get(_url("/api/search", ("q", "ban"), *THREE_SOURCES)).status_code == 400
    assert strict.get(_url("/api/search", ("q", "ban"), *THREE_SOURCES[:2])).status_code == 200


@pytest.mark.parametrize("path", ["/compare", "/compare.csv", "/api/compare"])
def test_compare_refuses_more_facet_values_than_configured_as_search_does(strict, path):
    response = strict.get(_url(path, ("q", "ban"), ("q", "police"), *THREE_SOURCES))
    assert response.status_code == 400
    said = response.get_data(as_text=True)
    assert "at most 2 values of provider can be selected" in said
    ok = strict.get(_url(path, ("q", "ban"), ("q", "police"), *THREE_SOURCES[:2]))
    assert ok.status_code == 200


def test_a_numbered_filter_of_one_compared_query_is_held_to_the_limit_too(strict):
    response = strict.get(_url("/api/compare", ("q1", "ban"), ("q2", "police"),
                               ("provider2", "Sky"), ("provider2", "Forbes"),
                               ("provider2", "BBC")))
    assert response.status_code == 400


def test_compare_cuts_a_long_query_as_search_does(strict):
    compared = strict.get(_url("/api/compare", ("q", "police chiefs and more"), ("q", "ban")))
    searched = strict.get(_url("/api/search", ("q", "police chiefs and more")))
    assert compared.status_code == searched.status_code == 200
    cut = searched.get_json()["query"]
    assert compared.get_json()["queries"][0]["query"] == cut
    assert len(cut) <= 12 and "police chiefs and more".startswith(cut)


@pytest.mark.parametrize("path", ["/export.csv", "/export.jsonl", "/timeline.csv",
                                  "/timeline.svg", "/search.atom"])
def test_downloads_refuse_more_facet_values_than_configured(strict, path):
    assert strict.get(_url(path, ("q", "ban"), *THREE_SOURCES)).status_code == 400
    assert strict.get(_url(path, ("q", "ban"), *THREE_SOURCES[:2])).status_code == 200


def test_batch_refuses_more_facet_values_than_configured(strict):
    page = strict.get(_url("/batch", ("queries", "ban\npolice"), *THREE_SOURCES))
    assert page.status_code == 400
    assert "at most 2 values of provider" in page.get_data(as_text=True)
    api = strict.get(_url("/api/batch", ("queries", "ban\npolice"), *THREE_SOURCES))
    assert api.status_code == 400 and api.get_json()["status"] == 400
    assert strict.get(_url("/api/batch", ("queries", "ban"), *THREE_SOURCES[:2])).status_code == 200


def test_a_batch_row_longer_than_the_configured_query_length_says_why(strict):
    rows = strict.get(_url("/api/batch", ("queries", "ban\npolice chiefs and more"))).get_json()
    assert [r["error"] is None for r in rows["rows"]] == [True, False]
    assert "at most 12" in rows["rows"][1]["error"]
