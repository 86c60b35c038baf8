"""Batch search: a list of queries in, a count per query out, over a real index built from the
real seeds (the Flask test client), and in a real browser against a live server."""

from __future__ import annotations

import codecs
import csv
import http.client
import io
import json
import re
import urllib.request
from urllib.parse import urlencode, urlsplit

import pytest

from conftest import build, write_generated
from searchapp.search import SearchIndex, SearchRequest
from searchapp.search import batch as batches
from searchapp.search.request import RequestLimits
from searchapp.settings import Settings
from searchapp.web import batch_asked, batch_lane

LIMITS = RequestLimits.of(Settings())  # what the app reads a batch under by default
LONGEST = LIMITS.max_query_length


def api_total(client, q: str, **filters) -> dict:
    """What /api/search answers for one query, as a batch row counts it: the words as typed
    (`typing=0`: no completion of the last word; `literal=1`: no correction)."""
    response = client.get("/api/search?" + urlencode({"q": q, "typing": "0", "literal": "1",
                                                       **filters}, doseq=True))
    return response.get_json() | {"status": response.status_code}


def batch_json(client, text: str, method: str = "get", **params) -> dict:
    send = getattr(client, method)
    key = "query_string" if method == "get" else "data"
    response = send("/api/batch", **{key: {"queries": text, **params}})
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def words_of_the_index(client) -> list[str]:
    """Every title word of the records (3 letters or more), in order of first appearance."""
    page = client.get("/api/search?per_page=100&typing=0").get_json()
    words = re.findall(r"[A-Za-z]{3,}", " ".join(r["title"] for r in page["results"]))
    return list(dict.fromkeys(w.lower() for w in words))


def mixed_queries(words: list[str], n: int) -> list[str]:
    """`n` queries of the shapes researchers write (words, phrases, boolean, fields,
    prefixes, typos, labels), with some that cannot be read and some that cannot run;
    blank and comment lines between them."""
    shapes = [
        lambda a, b, c: a,
        lambda a, b, c: f'"{a} {b}"',
        lambda a, b, c: f"{a} OR {b}",
        lambda a, b, c: f"{a} -{b}",
        lambda a, b, c: f"{a} AND ({b} OR {c})",
        lambda a, b, c: f"title:{a}",
        lambda a, b, c: f"{a[:3]}*",
        lambda a, b, c: f"{a}~",
        lambda a, b, c: f"Label {a}\t{b} {c}",
        lambda a, b, c: f'"{a} {b}',  # an unclosed quote: searched for its words, and said
        lambda a, b, c: f"({a} OR {b}",  # unbalanced brackets
        lambda a, b, c: f"{a} year:2021",
        lambda a, b, c: f"{a} date:2021-13",  # no such month: the row says so
    ]
    out = []
    for i in range(n):
        a, b, c = (words[(i * k + i // len(words)) % len(words)] for k in (1, 7, 13))
        out.append(shapes[i % len(shapes)](a, b, c))
    return out


def as_text(queries: list[str]) -> str:
    """The queries one a line, with blank lines and comments among them (skipped)."""
    lines = ["# names from the source list"]
    for i, q in enumerate(queries):
        lines.append(q)
        if i % 97 == 0:
            lines += ["", "   # a comment after spaces"]
    return "\r\n".join(lines)


def split(line: str) -> tuple[str, str]:
    label, _, query = line.partition("\t") if "\t" in line else ("", "", line)
    return label, query


# -- reading the lines ---------------------------------------------------------------------

def test_lines_keep_labels_and_skip_blank_lines_and_comments():
    text = "\ufeff# a comment\r\nfacial\r\n\r\n  \t  \r\nPolice chiefs\tpolice\rban OR moratorium\n" \
           "   # indented comment\nlabel only\t\nTag\t#metoo\n  padded query  \n"
    assert batches.lines_of(text) == [(2, "", "facial"), (5, "Police chiefs", "police"),
                                      (6, "", "ban OR moratorium"), (8, "", "label only"),
                                      (9, "Tag", "#metoo"), (10, "", "padded query")]


def test_duplicate_queries_are_rows_of_their_own():
    rows = batches.read("ban\nban\nA\tban", SearchRequest(), LIMITS)
    assert [(r.line, r.label, r.text) for r in rows] == [(1, "", "ban"), (2, "", "ban"),
                                                          (3, "A", "ban")]


def test_a_thousand_queries_run_and_one_more_is_refused_before_anything_runs():
    text = "\n".join(f"word{i}" for i in range(1000)) + "\n# the end\n\n"
    assert len(batches.read(text, SearchRequest(), LIMITS)) == 1000
    with pytest.raises(batches.TooManyQueries, match=r"1,001 queries; at most 1,000 can run"):
        batches.read(text + "one more", SearchRequest(), LIMITS)


def test_uploaded_files_are_read_in_the_encodings_spreadsheets_write():
    assert batches.decode("Zoë\tzoë".encode("utf-8")) == "Zoë\tzoë"
    assert batches.decode(codecs.BOM_UTF8 + "café".encode("utf-8")) == "café"
    assert batches.decode("Zoë\tzoë\r\n".encode("utf-16")) == "Zoë\tzoë\r\n"  # "Unicode text"
    assert batches.decode("café".encode("cp1252")) == "café"


def test_each_row_is_a_search_with_the_batch_filters_and_its_own_dates():
    base = SearchRequest.from_params({"provider": ["Sky"], "from": ["2021-01-01"], "match": ["any"]},
                                     LIMITS)
    row, dated, bad = batches.read("ban camera\nban year:2021\nban date:2021-13", base, LIMITS)
    assert row.request.q == "ban camera" and row.request.filters == {"provider": ("Sky",)}
    assert row.request.match == "any" and not row.request.typing and row.request.literal
    assert str(dated.request.date_from) == "2021-01-01" and str(dated.request.date_to) == "2021-12-31"
    assert bad.request is None and "date must be a date like 2021-08-23" in bad.error


def test_a_query_too_long_to_run_is_a_row_error():
    long = "word " * 3000
    rows = batches.read(f"police\n{long}", SearchRequest(), LIMITS)
    assert rows[0].error is None
    assert rows[1].request is None
    assert rows[1].error == "this query is 14,999 characters long; a batch runs queries of at most 10,000"


def test_sorting_by_a_column_puts_rows_that_did_not_run_last_in_either_direction():
    query = lambda n, text: batches.Query(n, "", text, None)  # noqa: E731
    rows = [batches.Counted(query(1, "b"), 5, 4, None, None, "g", 0),
            batches.Counted(query(2, "x"), None, None, None, "bad", "g", 0),
            batches.Counted(query(3, "A"), 9, 1, None, None, "g", 0),
            batches.Counted(query(4, "c"), 5, 5, None, None, "g", 0)]
    lines = lambda sort: [r.query.line for r in batches.sorted_rows(rows, sort)]  # noqa: E731
    assert lines("-total") == [3, 1, 4, 2]  # ties keep their order
    assert lines("total") == [1, 4, 3, 2]
    assert lines("query") == [3, 1, 4, 2]  # A before b: case does not matter
    assert lines("-stories") == [4, 1, 3, 2]
    assert lines("") == lines("line") == [1, 2, 3, 4]
    assert lines("-line") == [4, 3, 2, 1]  # by line, every row keeps its place
    with pytest.raises(batches.BadRequest, match="sort must be one of line, label"):
        batches.sort_key("relevance")


# -- one snapshot --------------------------------------------------------------------------

def test_every_row_counts_one_index_generation_even_when_a_reindex_lands(seeds_dir, index_dir):
    index = SearchIndex(index_dir)
    try:
        police = index.search(SearchRequest(q="police", typing=False), terms=False).total
        rows = index.batch(batches.read("zanzibarquux\npolice\nzanzibarquux", SearchRequest(), LIMITS))
        first = next(rows)
        write_generated(seeds_dir, 3, word="zanzibarquux police")
        build(seeds_dir, index_dir)  # lands while the batch is under way
        rest = list(rows)
        assert [r.total for r in [first, *rest]] == [0, police, 0]
        assert {r.generation for r in rest} == {first.generation}
        assert all(users == 0 for _, users in index.snapshots())  # the batch let go
        again = list(index.batch(batches.read("zanzibarquux\npolice", SearchRequest(), LIMITS)))
        assert [r.total for r in again] == [3, police + 3]
        assert again[0].generation != first.generation
    finally:
        index.close()


# -- the page, its CSV and its JSON --------------------------------------------------------

def test_each_row_counts_what_api_search_counts(client):
    queries = mixed_queries(words_of_the_index(client), 130)
    rows = batch_json(client, as_text(queries))["rows"]
    assert [split(q)[1] for q in queries] == [r["query"] for r in rows]
    for row in rows:
        api = api_total(client, row["query"])
        if row["error"]:
            assert api["status"] == 400 and api["error"] == row["error"], row
            continue
        assert (row["total"], row["notice"]) == (api["total"], api["notice"]), row
        if "stories" in api:
            assert row["stories"] == api["stories"], row
    assert sum(r["total"] or 0 for r in rows) > 100  # the mix finds things
    assert any(r["error"] for r in rows) and any(r["notice"] for r in rows)


@pytest.mark.parametrize("filters", [{"provider": ["Sky", "Forbes"]}, {"from": "2021-08-01", "to": "2021-08-31"},
                                     {"match": "any"}, {"kind": "seed", "topic": "Policing"}])
def test_the_filters_apply_to_every_row(client, filters):
    queries = ["facial recognition", "police camera ban", "ban OR moratorium", "year:2021", "clearview"]
    got = batch_json(client, "\n".join(queries), **filters)
    assert got["params"] == {k: v if k in ("from", "to", "match") else v if isinstance(v, list)
                             else [v] for k, v in filters.items()}
    assert [r["total"] for r in got["rows"]] == [api_total(client, q, **filters)["total"]
                                                 for q in queries]
    unfiltered = batch_json(client, "\n".join(queries))["rows"]
    assert [r["total"] for r in got["rows"]] != [r["total"] for r in unfiltered]


def test_the_page_shows_a_row_per_query_linked_to_its_results(client):
    text = "facial\nPolice chiefs\tpolice\n\n# skipped\nban date:2021-13\n\"unclosed phrase"
    response = client.get("/batch?" + urlencode({"queries": text, "provider": "Sky"}))
    assert response.status_code == 200 and response.is_streamed
    page = response.get_data(as_text=True)
    rows = re.findall(r"(?s)<tr(?: class=\"failed\")?>\s*<td class=\"n\">(\d+)</td>(.*?)</tr>", page)
    assert [int(n) for n, _ in rows] == [1, 2, 5, 6]
    police = rows[1][1]
    assert "<td>Police chiefs</td>" in police
    link = re.search(r'<td class="n"><a href="([^"]+)"', police).group(1).replace("&amp;", "&")
    assert link == "/search?q=police&provider=Sky&literal=1"
    shown = int(re.search(r'aria-label="[^"]*">(\d+)</a>', police).group(1))
    assert shown == api_total(client, "police", provider="Sky")["total"]
    assert "Not run: date must be a date like 2021-08-23" in rows[2][1]
    assert "A quotation mark is not closed" in rows[3][1]
    assert "3 queries counted" in page and "1 could not be run" in page
    # The form keeps what was pasted and the filters chosen.
    assert ">facial\nPolice chiefs\tpolice\n\n# skipped\nban date:2021-13\n&#34;unclosed phrase</textarea>" in page
    assert 'name="provider" value="Sky" checked' in page


def test_post_gives_the_same_table_as_get_and_an_upload_fills_the_box(client):
    text = "facial\nban OR moratorium\nSky\tsource:sky"
    by_get = batch_json(client, text, method="get", kind="related")
    by_post = batch_json(client, text, method="post", kind="related")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "took_ms"} for r in rows]  # noqa: E731
    assert strip(by_get["rows"]) == strip(by_post["rows"])
    upload = client.post("/batch", data={"queries": "ignored when a file is chosen", "kind": "related",
                                         "file": (io.BytesIO(("\ufeff" + text).encode("utf-16")), "names.txt")},
                         content_type="multipart/form-data")
    page = upload.get_data(as_text=True)
    assert upload.status_code == 200
    assert ">facial\nban OR moratorium\nSky\tsource:sky</textarea>" in page
    assert "ignored" not in page
    totals = re.findall(r'aria-label="[^"]*">([\d,]+)</a>', page)
    assert [int(t) for t in totals] == [r["total"] for r in by_get["rows"]]


def test_the_table_sorts_on_the_server_by_each_column(client):
    text = "facial\nban\nzzzqqq\nban date:2021-13\nB label\tpolice\nA label\tcamera"
    page = client.get("/batch?" + urlencode({"queries": text, "sort": "-total"})).get_data(as_text=True)
    lines = [int(n) for n in re.findall(r'<tr(?: class="failed")?>\s*<td class="n">(\d+)</td>', page)]
    totals = {r["line"]: r["total"] for r in batch_json(client, text)["rows"]}
    ran = [n for n in lines if totals[n] is not None]
    assert [totals[n] for n in ran] == sorted((t for t in totals.values() if t is not None), reverse=True)
    assert lines[-1] == 4  # the row that could not run comes last
    assert 'aria-sort="descending"' in page
    # Each heading links to the other direction of its column, or to its own first one.
    assert re.search(r'href="/batch\?queries=[^"]*sort=total"[^>]*>Records</a>', page)
    assert re.search(r'href="/batch\?queries=[^"]*sort=-stories"[^>]*>Stories</a>', page)
    assert re.search(r'href="/batch\?queries=[^"]*sort=label"[^>]*>Label</a>', page)
    labels = batch_json(client, text, sort="label")["rows"]
    assert [r["label"] or r["query"] for r in labels][:3] == ["A label", "B label", "ban"]
    assert client.get("/batch?queries=x&sort=relevance").status_code == 400
    assert client.get("/api/batch?queries=x&sort=nope").get_json()["status"] == 400


def test_the_csv_opens_in_a_spreadsheet_and_runs_no_formulas(client):
    text = "facial\n=HYPERLINK(\"http://evil\")\t-police\n@SUM(1)\nban date:2021-13"
    response = client.get("/batch?" + urlencode({"queries": text, "format": "csv", "provider": "Sky"}))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(r'attachment; filename="searchapp-batch-4-queries-source-sky-\d{8}\.csv"',
                        response.headers["Content-Disposition"])
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8 + b"line,label,query,total,stories,notice,error,search_url,batch_note,"
                           b"showing_results_for,showing_total\r\n")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["line"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["label"] == "'=HYPERLINK(\"http://evil\")" and rows[1]["query"] == "'-police"
    assert rows[2]["query"] == "'@SUM(1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert int(rows[0]["total"]) == api_total(client, "facial", provider="Sky")["total"]
    assert rows[3]["total"] == "" and rows[3]["error"].startswith("date must be a date")
    assert urlsplit(rows[0]["search_url"]).path == "/search"
    assert "q=facial&provider=Sky&literal=1" in rows[0]["search_url"]
    assert re.match(r"4 queries; provider=Sky; index \S+; run \d{4}-\d\d-\d\dT", rows[0]["batch_note"])


def test_the_json_carries_the_queries_and_the_counts(client):
    got = batch_json(client, "Face\tfacial\nban date:2021-13\n\n#\nfacial", method="post",
                     sort="-total", provider="Sky")
    assert list(got) == ["queries", "params", "sort", "descending", "generation", "rows",
                         "counted", "errors", "took_ms"]
    assert (got["queries"], got["counted"], got["errors"]) == (3, 2, 1)
    assert got["params"] == {"provider": ["Sky"]} and (got["sort"], got["descending"]) == ("total", True)
    face, again, bad = got["rows"]
    assert list(face) == ["line", "label", "query", "total", "stories", "notice", "error",
                          "search_url", "took_ms", "showing_results_for", "showing_total"]
    assert (face["line"], face["label"], face["query"]) == (1, "Face", "facial")
    assert (again["line"], again["total"]) == (5, face["total"])  # the same query again
    assert (bad["total"], bad["stories"], bad["search_url"]) == (None, None, None)
    assert face["search_url"] == "http://localhost/search?q=facial&provider=Sky&literal=1"


def test_absolute_links_come_from_base_url_when_it_is_set(index_dir, seeds_dir):
    from searchapp import create_app
    app = create_app({"index": index_dir, "seeds": seeds_dir, "base_url": "https://news.example.org/"})
    try:
        got = batch_json(app.test_client(), "facial")
        assert got["rows"][0]["search_url"] == "https://news.example.org/search?q=facial&literal=1"
    finally:
        app.extensions["searchapp.index"].close()


def test_a_doubled_minus_in_sort_is_refused_and_says_one_is_the_rule(client):
    """`--total` once sorted as `-total`: a link or a script that doubled the minus got a
    sort it did not write, and no word of it."""
    asked = urlencode({"queries": "facial\nban", "sort": "--total"})
    api = client.get(f"/api/batch?{asked}")
    assert api.status_code == 400
    assert api.get_json()["error"] == ("sort must be one of line, label, query, total, "
                                       "stories (with one - before it to sort descending), "
                                       "not '--total'")
    page = client.get(f"/batch?{asked}")
    assert page.status_code == 400
    assert "with one - before it to sort descending), not &#39;--total&#39;" in page.get_data(
        as_text=True)
    assert client.post("/batch", data={"queries": "facial", "resort": "--stories"}).status_code == 400
    assert client.get("/api/batch?queries=facial&sort=-").status_code == 400
    assert batch_json(client, "facial\nban", sort="-total")["descending"] is True


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF32_LE, "utf-32-le"),
                                        (codecs.BOM_UTF32_BE, "utf-32-be")],
                         ids=["little-endian", "big-endian"])
def test_an_upload_in_utf32_is_read_as_utf32_not_as_utf16(client, bom, codec):
    """A UTF-32 file starts with FF FE 00 00 (little-endian), which begins with UTF-16's
    mark too: read as UTF-16 it came out as NULs between the letters."""
    text = "facial\nZoë\tban OR moratorium"
    upload = client.post("/batch", data={"file": (io.BytesIO(bom + text.encode(codec)), "names.txt")},
                         content_type="multipart/form-data")
    page = upload.get_data(as_text=True)
    assert upload.status_code == 200
    assert ">facial\nZoë\tban OR moratorium</textarea>" in page
    totals = re.findall(r'aria-label="[^"]*">([\d,]+)</a>', page)
    assert [int(t.replace(",", "")) for t in totals] == [
        r["total"] for r in batch_json(client, text)["rows"]]
    api = client.post("/api/batch", data={"file": (io.BytesIO(bom + text.encode(codec)), "q.txt")},
                      content_type="multipart/form-data")
    assert [(r["label"], r["query"]) for r in api.get_json()["rows"]] == [
        ("", "facial"), ("Zoë", "ban OR moratorium")]


def test_a_batch_without_queries_or_with_too_many_says_so(client):
    response = client.get("/api/batch?queries=%0A%23+only+a+comment")
    assert response.status_code == 400 and "no queries" in response.get_json()["error"]
    page = client.get("/batch?queries=%0A%23+only+a+comment").get_data(as_text=True)
    assert "No queries: every line is blank or a comment (#)." in page
    many = "\n".join(f"name {i}" for i in range(1001))
    response = client.post("/batch", data={"queries": many, "topic": "AI"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "this batch has 1,001 queries; at most 1,000 can run at once" in page
    assert "name 1000</textarea>" in page  # the text is kept, to be split
    assert 'name="topic" value="AI" checked' in page
    api = client.post("/api/batch", data={"queries": many})
    assert api.status_code == 400 and "1,001 queries" in api.get_json()["error"]
    assert client.get("/batch").status_code == 200  # the empty form


def test_a_request_too_large_is_refused_clearly(client):
    big = "x" * (batch_asked.MAX_BODY + 10)
    response = client.post("/batch", data={"queries": big})
    assert response.status_code == 413
    assert "a batch may be at most 8 MB" in response.get_data(as_text=True)
    response = client.post("/api/batch", data={"queries": big})
    assert response.status_code == 413 and response.get_json()["status"] == 413


def test_a_short_batch_has_a_link_and_a_long_one_has_buttons_that_post(client):
    short = client.get("/batch?queries=facial%0Aban").get_data(as_text=True)
    assert 'class="share"' in short and 'data-share-url="/batch?queries=facial%0Aban"' in short
    assert '<a href="/batch?queries=facial%0Aban&amp;format=csv" download' in short
    assert '<a href="/api/batch?queries=facial%0Aban" rel="nofollow">JSON</a>' in short
    text = "\n".join(f"police camera {i}" for i in range(150))
    long = client.post("/batch", data={"queries": text}).get_data(as_text=True)
    assert 'class="share"' not in long and 'data-share-url=""' in long
    assert '<button type="submit" form="batch-form" name="format" value="csv"' in long
    assert 'formaction="/api/batch"' in long
    assert re.search(r'<button type="submit" form="batch-form" name="resort" value="-total" class="sort">Records</button>', long)
    resorted = client.post("/batch", data={"queries": text, "sort": "", "resort": "-line"}).get_data(as_text=True)
    assert re.findall(r'<tr>\s*<td class="n">(\d+)</td>', resorted)[:2] == ["150", "149"]
    assert '<input type="hidden" name="sort" value="-line">' in resorted  # kept for the next run


def test_one_batch_at_a_time_per_process_and_the_next_is_told_when_to_retry(client, app, monkeypatch):
    first = client.get("/batch?queries=facial")  # makes the lane
    assert first.status_code == 200 and "facial" in first.get_data(as_text=True)
    first.close()  # read to its end and closed, as the server does
    lane = app.extensions["searchapp.batch_lane"]
    monkeypatch.setattr(batch_lane, "LANE_WAIT_S", 0)  # held throughout: waiting changes nothing
    assert lane.acquire(blocking=False)  # free (the first batch let go), held as one under way does
    try:
        page = client.post("/batch", data={"queries": "facial"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "10"
        assert "already running a batch" in page.get_data(as_text=True)
        api = client.get("/api/batch?queries=facial")
        assert api.status_code == 503 and api.get_json()["status"] == 503
    finally:
        lane.release()
    assert client.get("/api/batch?queries=facial").status_code == 200


def test_a_batch_lets_go_of_its_lane_and_snapshot_however_its_response_ends(client, app):
    head = client.head("/batch?queries=facial")  # a body never read
    assert head.status_code == 200
    head.close()  # as the server closes every response
    lane = app.extensions["searchapp.batch_lane"]
    index = app.extensions["searchapp.index"]
    assert lane.acquire(blocking=False)  # let go at once, not in a while
    lane.release()
    # Rows enough for several chunks, whatever the clock: the first leaves mid-batch.
    many = "\n".join(f"police camera {n}" for n in range(400))
    gone = client.get("/api/batch?" + urlencode({"queries": many}))
    next(gone.response)  # the first chunk, then the client goes away
    assert not lane.acquire(blocking=False), "the batch ended before the client went away"
    assert sum(users for _, users in index.snapshots()) == 1
    gone.close()
    assert lane.acquire(blocking=False)
    lane.release()
    assert all(users == 0 for _, users in index.snapshots())


def test_batch_routes_take_post_but_write_nothing_and_carry_the_security_headers(client):
    methods = {rule.rule: rule.methods for rule in client.application.url_map.iter_rules()}
    assert methods["/batch"] == methods["/api/batch"] == {"GET", "HEAD", "OPTIONS", "POST"}
    asked = [("get", "/batch", {}), ("post", "/batch", {"data": {"queries": "facial"}}),
             ("get", "/batch?queries=facial&format=csv", {}),
             ("post", "/api/batch", {"data": {"queries": "facial"}}),
             ("post", "/api/batch", {"data": {"queries": ""}})]
    for method, path, kwargs in asked:
        response = getattr(client, method)(path, **kwargs)
        response.get_data()  # read, as a server sends it
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_every_page_links_to_batch_search(client):
    assert '<a href="/batch">batch search</a>' in client.get("/").get_data(as_text=True)


# -- in a real browser ---------------------------------------------------------------------

def api_answers(live_site, queries: list[str]) -> list[dict]:
    """/api/search for each query, one kept-alive connection, as 1,000 API calls."""
    host = urlsplit(live_site.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    out = []
    try:
        for q in queries:
            conn.request("GET", "/api/search?" + urlencode({"q": q, "typing": "0", "literal": "1"}))
            with conn.getresponse() as r:
                out.append(json.loads(r.read()) | {"status": r.status})
    finally:
        conn.close()
    return out


def live_json(live_site, path: str) -> dict:
    with urllib.request.urlopen(live_site.url + path, timeout=60) as response:
        return json.loads(response.read())


def live_words(live_site) -> list[str]:
    titles = " ".join(r["title"] for r in live_json(live_site, "/api/search?per_page=100&typing=0")["results"])
    return list(dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z]{3,}", titles)))


@pytest.mark.browser
def test_a_pasted_batch_of_1000_queries_counts_what_1000_api_calls_count(page, live_site, screenshots):
    from playwright.sync_api import expect

    queries = mixed_queries(live_words(live_site), 1000)
    page.goto(live_site.url + "/batch")
    expect(page.locator("h1")).to_have_text("Batch search")
    page.locator("#queries").fill(as_text(queries))
    expect(page.locator("#queries-count")).to_have_text("1,000 queries")
    page.get_by_role("button", name="Run batch").click()
    expect(page.locator(".batch-done")).to_contain_text("counted in", timeout=60_000)
    rows = page.locator(".batch-table tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))")
    assert len(rows) == 1000
    answers = api_answers(live_site, [split(q)[1] for q in queries])
    for query, row, api in zip(queries, rows, answers):
        line, label, text, total, stories, note = row
        assert (label, text) == split(query)
        if api["status"] == 400:
            assert (total, note) == ("—", f"Not run: {api['error']}"), (query, row)
            continue
        assert int(total.replace(",", "")) == api["total"], (query, row, api["total"])
        if "stories" in api:
            assert int(stories.replace(",", "")) == api["stories"], (query, row)
    assert page.locator(".batch-table tr.failed").count() == sum(a["status"] == 400 for a in answers)
    # The form kept the text; a long batch is shared by its files, not by a link.
    assert page.locator("#queries").input_value().count("\n") == as_text(queries).count("\r\n")
    expect(page.locator(".exports")).to_contain_text("the CSV and JSON carry every query")
    page.screenshot(path=screenshots / "batch-1000.png")
    # Sorting by the count re-runs the same batch from the form, largest first.
    page.get_by_role("button", name="Records").click()
    expect(page.locator(".batch-done")).to_contain_text("counted in", timeout=60_000)
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("Records")
    first = int(page.locator(".batch-table tbody tr").first.locator("td").nth(3).inner_text().replace(",", ""))
    assert first == max(a["total"] for a in answers if a["status"] == 200)
    page.screenshot(path=screenshots / "batch-1000-sorted.png")


@pytest.mark.browser
def test_a_short_batch_from_the_keyboard_with_a_filter_gets_a_shareable_address(page, live_site, screenshots):
    from playwright.sync_api import expect

    page.goto(live_site.url + "/batch")
    expect(page.locator("#queries")).to_be_focused()
    page.keyboard.type("facial\npolice\n")
    page.keyboard.insert_text("Bans\tban OR moratorium")
    expect(page.locator("#queries-count")).to_have_text("3 queries")
    kinds = page.locator("details.batch-facet summary", has_text="Record kind")
    kinds.focus()
    page.keyboard.press("Enter")  # opens the list
    page.get_by_label(re.compile(r"\bseed\b")).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(re.compile(r"\bseed\b"))).to_be_checked()
    page.get_by_role("button", name="Run batch").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".batch-done")).to_contain_text("3 queries counted")
    expect(page).to_have_url(re.compile(r"/batch\?queries=facial%0Apolice%0ABans%09ban\+OR\+moratorium&kind=seed"))
    expect(page.locator("th", has_text="Label")).to_be_visible()
    expect(page.locator("h2#results-title")).to_have_text("3 queries with Record kind: seed")
    page.screenshot(path=screenshots / "batch-short.png", full_page=True)
    total = page.locator(".batch-table tbody tr").nth(2).locator("td").nth(3)
    count = int(total.inner_text())
    total.locator("a").click()
    expect(page).to_have_url(re.compile(r"/search\?q=ban\+OR\+moratorium&kind=seed&literal=1"))
    assert live_json(live_site, "/api/search?q=ban+OR+moratorium&kind=seed&typing=0&literal=1")["total"] == count
    page.go_back()  # the shared address runs the batch again, with GET
    expect(page.locator(".batch-done")).to_contain_text("3 queries counted")


@pytest.mark.browser
def test_a_sheet_pasted_with_its_header_counts_its_rows_and_a_misspelt_one_gets_a_hint(
        page, live_site, screenshots):
    from playwright.sync_api import expect

    page.goto(live_site.url + "/batch")
    page.locator("#queries").focus()
    page.keyboard.insert_text("Label\tQuery\nFaces\tfacail recognition\nPolice\tpolice")
    expect(page.locator("#queries-count")).to_have_text("2 queries")  # the header is not one
    page.get_by_role("button", name="Run batch").click()
    expect(page.locator(".batch-done")).to_contain_text("2 queries counted")
    expect(page.get_by_role("status").first).to_contain_text("Line 1 names the columns")
    rows = page.locator(".batch-table tbody tr")
    expect(rows).to_have_count(2)
    fixed = live_json(live_site, "/api/search?q=facail+recognition")
    assert fixed["showing_results_for"] == "facial recognition"
    note = rows.first.locator("td.note")
    expect(note).to_have_text(f"Did you mean facial recognition? {fixed['showing_total']:,} records.")
    page.screenshot(path=screenshots / "batch-header-hint.png")
    note.get_by_role("link", name="facial recognition").click()
    expect(page).to_have_url(re.compile(r"/search\?q=facial\+recognition&literal=1$"))
    expect(page.locator("#q")).to_have_value("facial recognition")


@pytest.mark.browser
def test_on_a_phone_the_batch_table_scrolls_sideways_and_passes_axe(browser, live_site, screenshots):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_site.url + "/batch?" + urlencode(
            {"queries": "Facial recognition\tfacial recognition\nPolice\tpolice\nbad\tban date:2021-13",
             "provider": "Sky", "sort": "-total"}))
        expect(page.locator(".batch-done")).to_contain_text("2 queries counted")
        scroller = page.locator(".table-scroll")
        assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        records = page.locator(".batch-table tbody tr").first.locator("td").nth(3).bounding_box()
        assert records["x"] + records["width"] <= 390  # the counts in view; the notes scroll
        page.screenshot(path=screenshots / "batch-phone.png", full_page=True)
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
            "resultTypes": ["violations"]})
        serious = [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == []
    finally:
        context.close()


# -- odd input -----------------------------------------------------------------------------

PATHOLOGICAL = ["*a*", "?*?*", "*", "(" * 240 + "x" + ")" * 240, '"' * 300, "title:" * 80,
                "~" * 100, "x~99999", "x^99999999999", "-" * 400, "NOT " * 120, "AND OR NOT",
                "\x00\x01\x02", "\u202e\u200b", "<script>alert(1)</script>", "' OR 1=1 --",
                "[a TO z]", "year:99999", "date:2021-02-30", "date:2021..2019", "colour:red",
                " ".join(["word"] * 40)]


def test_pathological_queries_each_get_a_row_and_never_a_500(client):
    got = batch_json(client, "\n".join(PATHOLOGICAL))
    assert len(got["rows"]) == len(PATHOLOGICAL)
    for row in got["rows"]:
        assert (row["total"] is None) == (row["error"] is not None), row
    page = client.post("/batch", data={"queries": "\n".join(PATHOLOGICAL)})
    assert page.status_code == 200 and "<script>alert(1)</script>" not in page.get_data(as_text=True)


from hypothesis import given, settings, strategies as st  # noqa: E402

_LINES = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
                            st.sampled_from(["", "  ", "# note", "\t", "a\tb", "x\t", "\ufeff"])),
                  max_size=30)


@settings(deadline=None, max_examples=200)
@given(lines=_LINES, newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_text_reads_into_rows_of_one_line_each(lines, newline):
    text = newline.join(lines)
    rows = batches.lines_of(text)
    assert len(rows) <= len(text.splitlines()) + 1
    for number, label, query in rows:
        assert query and query == query.strip() and "\n" not in query and "\r" not in query
        assert "\t" not in label
        assert label or not query.startswith("#")  # `#...` alone is a comment
    assert [n for n, _, _ in rows] == sorted({n for n, _, _ in rows})
