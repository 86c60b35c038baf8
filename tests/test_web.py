"""The site through Flask's test client, over a real index built from the real seeds."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest

from conftest import FIXTURES, build


def test_front_page_browses_all_records_newest_first_with_facets(client):
    page = client.get("/").get_data(as_text=True)
    # The two copies of the Express & Star story are one story.
    assert "<strong>23</strong> records in <strong>22</strong> stories" in page \
        and "(all records, newest first)" in page
    assert page.index("Feds are increasing use") < page.index("Why civil liberty groups")
    assert 'href="/search?provider=Biometric+Companies"' in page
    assert "23 records" in page  # footer


def test_search_page_highlights_and_links_each_hit(client):
    page = client.get("/search?q=baltimore").get_data(as_text=True)
    assert "<mark>Baltimore</mark>’s bad idea" in page
    assert 'rel="noopener noreferrer" referrerpolicy="no-referrer"' in page
    assert 'href="/doc/' in page


def test_htmx_request_gets_the_results_partial_and_vary(client):
    full = client.get("/search?q=facial")
    partial = client.get("/search?q=facial", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and "<form" not in body
    assert 'id="form-filters" hidden hx-swap-oob="true"' in body
    assert 'id="form-state"' not in body  # the control a user is in is never swapped
    assert "HX-Request" in partial.headers["Vary"] and "HX-Request" in full.headers["Vary"]
    restore = client.get("/search?q=facial", headers={"HX-Request": "true",
                                                       "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_full_page_and_partial_show_the_same_results(client):
    full = client.get("/search?q=ban&provider=Sky").get_data(as_text=True)
    part = client.get("/search?q=ban&provider=Sky", headers={"HX-Request": "true"}).get_data(as_text=True)
    def results(html):
        # The elapsed time differs between two requests, and the htmx partial loads the
        # research views (and in them the distinctive words) when they are opened; nothing
        # else may differ.
        html = re.sub(r'<span class="took">.*?</span>', "", html)
        html = re.sub(r'(?s)<details class="research".*?(?=<ol class="hit-list")', "", html)
        html = html[html.index('<div class="layout">'):html.index("</aside>\n</div>")]
        return re.sub(r"\s+", " ", html)
    assert results(part) == results(full)
    assert 'hx-get="/research?q=ban&amp;provider=Sky" hx-trigger="toggle once"' in part
    research = client.get("/research?q=ban&provider=Sky", headers={"HX-Request": "true"})
    body = research.get_data(as_text=True)
    assert 'hx-get="/terms?q=ban&amp;provider=Sky" hx-trigger="load"' in body
    assert full.count('class="bar"') == body.count('class="bar"') > 0


def test_facet_links_toggle_and_chips_remove(client):
    page = client.get("/search?q=facial&provider=Sky").get_data(as_text=True)
    assert 'href="/search?q=facial&amp;provider=Sky&amp;provider=Forbes"' in page  # add another
    assert 'href="/search?q=facial" class="selected"' in page                      # untick
    assert 'aria-label="Remove filter Sources: Sky"' in page
    assert '<input type="hidden" name="provider" value="Sky">' in page


def test_bad_parameters_get_a_400_page_not_a_500(client):
    for url in ["/search?page=abc", "/search?per_page=-1", "/search?from=yesterday",
                "/search?sort=sideways"]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert "That search could not be run" in response.get_data(as_text=True)


def test_long_pasted_text_is_searched_not_refused(client):
    response = client.get("/search?q=" + "facial+" * 2000)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your text was 14,000 characters long; its first" in body
    assert "<strong>21</strong> records in <strong>20</strong> stories" in body  # as `facial` alone


def test_api_search_contract(client):
    data = client.get("/api/search?q=facial+recognition&provider=Forbes").get_json()
    assert set(data) >= {"query", "total", "page", "per_page", "took_ms", "results", "facets",
                         "suggestion"}
    assert data["total"] == 1 and data["query"] == "facial recognition"
    hit = data["results"][0]
    assert set(hit) == {"id", "title", "excerpt", "url", "provider", "topics", "category", "type",
                        "kind", "published", "score", "highlights", "story_id", "copies",
                        "more_copies"}
    assert hit["provider"] == {"name": "Forbes", "domain": "forbes.com"}
    assert hit["published"] == "2021-08-23T11:22:00Z"
    assert "<mark>Facial</mark>" in hit["highlights"]["title"]
    assert {"value": "Forbes", "count": 1, "selected": True} in data["facets"]["provider"]


def test_api_bad_parameters_are_a_json_400(client):
    response = client.get("/api/search?per_page=5000")
    assert response.status_code == 400
    assert response.get_json() == {"error": "per_page must be at most 100", "status": 400}


@pytest.mark.parametrize("query", ["", "q=facial", "q=ban&provider=Sky&provider=Forbes", "q=nothingmatches"])
def test_exports_stream_every_matching_record(client, query):
    total = client.get(f"/api/search?{query}").get_json()["total"]
    response = client.get(f"/export.csv?{query}&per_page=2&page=3")
    assert response.status_code == 200 and "attachment;" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "title", "excerpt"] and len(rows) - 1 == total
    assert rows[0][-4:] == ["export_search", "export_note", "rank", "score"]  # appended last
    for row in rows[1:]:
        record = dict(zip(rows[0], row))
        assert record["export_search"].startswith("http://localhost/search")
        assert f"{total:,} records; index " in record["export_note"]
        assert record["published_date"] == record["published"][:10]
    if rows[1:]:  # the URL on each row redoes the search
        again = rows[1][rows[0].index("export_search")].removeprefix("http://localhost")
        assert client.get(again.replace("/search", "/api/search", 1)).get_json()["total"] == total
    lines = client.get(f"/export.jsonl?{query}").get_data(as_text=True).splitlines()
    assert len(lines) == total
    assert all("secured" not in json.loads(line) for line in lines)
    assert all(json.loads(line)["export_search"].startswith("http://") for line in lines)
    plain = client.get(f"/export.csv?{query}&bom=0").get_data()
    assert plain.startswith(b"id,title,")


def test_export_filename_names_the_query_and_the_filters(client):
    response = client.get("/export.jsonl?q=Facial+recognition!")
    assert 'filename="searchapp-facial-recognition-' in response.headers["Content-Disposition"]
    one = client.get("/export.csv?q=ban&provider=Sky&from=2021").headers["Content-Disposition"]
    two = client.get("/export.csv?q=ban&provider=Forbes").headers["Content-Disposition"]
    assert 'filename="searchapp-ban-source-sky-2021-01-01-to-end-' in one
    assert 'filename="searchapp-ban-source-forbes-' in two


def test_record_page_shows_fields_related_and_citing_seeds(client):
    seed_id = client.get("/api/search?q=%22PI+and+30+CSOs%22&kind=seed").get_json()["results"][0]["id"]
    page = client.get(f"/doc/{seed_id}").get_data(as_text=True)
    assert "PI and 30 CSOs unite against use of live facial recognition technology" in page
    assert "Related articles (5)" in page and "Cited by (1)" in page
    assert "Civil liberties groups demand total ban on facial recognition technology" in page
    assert "More like this" in page
    assert "<img" not in page  # images are links, never loaded


def test_unknown_record_is_a_404_page(client):
    for url in ["/doc/0000000000000000", "/doc/not-an-id", "/doc/..%2F..%2Fetc%2Fpasswd"]:
        response = client.get(url)
        assert response.status_code == 404
    assert "No record with id" in client.get("/doc/0000000000000000").get_data(as_text=True)
    assert client.get("/api/doc/0000000000000000").status_code == 404


def test_security_headers_on_every_response(client):
    for url in ["/", "/api/search", "/doc/nope", "/static/app.css", "/healthz"]:
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_pages_load_nothing_from_other_sites(client):
    page = client.get("/search?q=facial").get_data(as_text=True)
    for tag in ("<script", "<link", "<img"):
        for piece in page.split(tag)[1:]:
            src = piece.split(">")[0]
            assert "http" not in src, src


def test_hostile_seed_is_shown_as_text(tmp_path, seeds_dir):
    shutil.copy(FIXTURES / "hostile" / "hostile.txt", seeds_dir)
    build(seeds_dir, tmp_path / "hostile-index")
    from searchapp import create_app
    client = create_app({"index": tmp_path / "hostile-index"}).test_client()
    page = client.get("/search?q=hostile").get_data(as_text=True)
    assert "alert(1) <mark>Hostile</mark> headline" in page
    body = page.split("<main", 1)[1]
    assert "<script" not in body and "javascript:" not in body and "onmouseover" not in body
    assert "SECRET-BLOB" not in page


def test_healthz_reports_count_and_generation(client):
    data = client.get("/healthz").get_json()
    assert data["status"] == "ok" and data["records"] == 23 and data["generation"]


def test_healthz_without_an_index_is_503(tmp_path):
    from searchapp import create_app
    client = create_app({"index": tmp_path / "empty"}).test_client()
    assert client.get("/healthz").status_code == 503
    response = client.get("/")
    assert response.status_code == 503 and "searchapp index" in response.get_data(as_text=True)


def test_running_app_sees_a_reindex_without_restart_and_reuses_its_searcher(app, client, seeds_dir, index_dir):
    client.get("/search?q=facial")
    index = app.extensions["searchapp.index"]
    first = index.snapshots()
    client.get("/search?q=ban")
    assert index.snapshots() == first and len(first) == 1  # one searcher, reused
    (seeds_dir / "late.txt").write_text('---\ntitle: "Late breaking zeppelin story"\n---\n',
                                        encoding="utf-8")
    build(seeds_dir, index_dir)
    assert client.get("/api/search?q=zeppelin").get_json()["total"] == 1
    assert len(index.snapshots()) == 1 and index.snapshots() != first  # the old one closed
    build(seeds_dir, index_dir, full=True)  # a full rebuild swaps builds; still seen
    assert client.get("/api/search?q=zeppelin").get_json()["total"] == 1
    assert client.get("/healthz").get_json()["records"] == 24


def test_htmx_gets_the_error_in_the_partial_for_a_bad_parameter(client):
    response = client.get("/search?q=ban&from=2021-99-99", headers={"HX-Request": "true"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<html" not in body and "from must be a date like 2021-08-23" in body


def test_export_without_an_index_is_a_clear_error_not_a_broken_download(tmp_path):
    from searchapp import create_app
    client = create_app({"index": tmp_path / "none"}).test_client()
    response = client.get("/export.csv?q=x")
    assert response.status_code == 503 and "no index" in response.get_data(as_text=True)


def test_htmx_push_url_is_the_canonical_shareable_url(client):
    response = client.get("/search?q=ban&sort=relevance&from=&to=&provider=Sky",
                          headers={"HX-Request": "true"})
    assert response.headers["HX-Push-Url"] == "/search?q=ban&provider=Sky"


def test_an_export_that_is_never_read_lets_go_of_its_searcher(app, client):
    client.get("/search?q=facial")
    index = app.extensions["searchapp.index"]
    response = client.head("/export.csv?q=facial")
    assert response.status_code == 200
    response.close()
    client.get("/export.jsonl?q=ban").close()
    assert [users for _, users in index.snapshots()] == [0]  # the exports' own are closed


def test_a_refused_search_keeps_the_filters_in_the_form(client):
    body = client.get("/search?q=ban&provider=Sky&from=2022-01-01&to=2021-01-01",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "is after to" in body and 'id="form-filters"' not in body


def test_a_misspelt_query_shows_the_correction_and_the_way_back(client):
    body = client.get("/search?q=facial+recogniton&typing=0").get_data(as_text=True)
    assert "Showing results for" in body and "<strong>facial recognition</strong>" in body
    # The count is the words' as written; the correction's is a second, labelled count.
    assert re.search(r'<p class="count" tabindex="-1"><strong>0</strong> results\s+for “facial recogniton”', body)
    assert "<strong>facial recognition</strong></a> (21 results)" in body
    assert 'href="/search?q=facial+recogniton&amp;literal=1"' in body
    literal = client.get("/search?q=facial+recogniton&literal=1").get_data(as_text=True)
    assert "Showing results for" not in literal and "Did you mean" in literal
    assert "No records match" in literal
    data = client.get("/api/search?q=facial+recogniton&typing=0").get_json()
    assert data["showing_results_for"] == "facial recognition" and data["total"] == 0
    assert data["showing_total"] == 21
    assert data["query"] == "facial recogniton"
