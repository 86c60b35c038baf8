"""Corrections from evidence, over news records written as the real ones are: a typo is
corrected to the word the records make likely (Bejing: Beijing, not the commoner `being`;
tarrifs: tariffs, not one record's `tarriffs`), a word typed as it sounds finds the name
(kadafi: Gaddafi), a right word is left alone, and a name the records spell several ways
says so, with one search for all its spellings. Asserted on the page and on /api/search."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.cli import main
from searchapp.index import store

from conftest import build

TOPICS = ["World", "Business", "Politics"]
FILLER = ["markets", "shares", "council", "election", "budget", "energy", "harbour", "police",
          "football", "school", "weather", "court", "airline", "bank", "farmers", "museum"]


def _records() -> list[tuple[str, str]]:
    """(title, excerpt) of every record, in the proportions the news index has them."""
    out = []
    for n in range(40):  # Beijing: common, but less so than `being`
        out.append((f"Beijing talks on {FILLER[n % 16]} resume",
                    f"Officials in Beijing said the {FILLER[(n + 3) % 16]} talks would go on, "
                    f"round {n}."))
    for n in range(90):  # `being`: one letter from Bejing too, and commoner
        out.append((f"{FILLER[n % 16].title()} plan under review {n}",
                    f"The {FILLER[(n + 5) % 16]} plan is being studied by the board, item {n}."))
    for n in range(30):
        out.append((f"New tariffs on {FILLER[n % 16]} imports",
                    f"Washington said tariffs on {FILLER[(n + 7) % 16]} would rise, step {n}."))
    out.append(("White House says Japanese tarriffs likely",
                "The tarriffs on Japanese chips are likely, officials said."))
    for n, who in enumerate(["Gaddafi"] * 6 + ["Qaddafi"] * 3 + ["Gadhafi"]):
        out.append((f"Libya's {who} meets envoys {n}",
                    f"Libyan leader Muammar {who} met {FILLER[n % 16]} envoys in Tripoli."))
    for n in range(60):  # a common word one letter from a rare right one
        out.append((f"Cash reserves at {FILLER[n % 16]} firms rise {n}",
                    f"Companies hold more cash than a year ago, the {FILLER[(n + 2) % 16]} "
                    f"survey found, week {n}."))
    for n in range(3):
        out.append((f"A rash of burglaries in town {n}",
                    f"Police reported a rash of burglaries overnight, case {n}."))
    for n in range(20):  # two words that sound alike and differ by a double letter: not names
        out.append((f"Vacancies filled at {FILLER[n % 16]} office {n}",
                    f"All the posts were filled by the {FILLER[(n + 1) % 16]} board, round {n}."))
        out.append((f"Lawsuit filed against {FILLER[n % 16]} firm {n}",
                    f"A complaint was filed in court against the {FILLER[(n + 4) % 16]} firm."))
    return out


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    base = tmp_path_factory.mktemp("corrections")
    seeds = base / "seeds"
    seeds.mkdir()
    for n, (title, excerpt) in enumerate(_records()):
        (seeds / f"news_{n:04d}.txt").write_text(
            f'---\ntitle: "{title}"\nexcerpt: "{excerpt}"\n'
            f"publishedDateTime: 20{10 + n % 10}-{1 + n % 12:02d}-{1 + n % 28:02d}T12:00:00Z\n"
            f'webUrl: "https://news.example/{n}"\nprovider:\n  name: Outlet {n % 7}\n'
            f"  domain: outlet{n % 7}.example\ntopics: [{TOPICS[n % 3]}]\n---\n",
            encoding="utf-8")
    build(seeds, base / "index")
    app = create_app({"index": base / "index", "seeds": seeds})
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


def api(client, q: str) -> dict:
    response = client.get(f"/api/search?q={quote(q)}&typing=0")
    assert response.status_code == 200
    return response.get_json()


def page_text(client, q: str) -> str:
    """What the search page says, as a reader sees it (tags dropped, spaces closed up)."""
    response = client.get(f"/search?q={quote(q)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def titles(found: dict) -> list[str]:
    return [hit["title"] for hit in found["results"]]


def test_bejing_shows_the_beijing_records_not_the_commoner_being(client):
    found = api(client, "Bejing")
    assert (found["total"], found["showing_results_for"], found["showing_total"]) == \
        (0, "beijing", 40)
    assert all("Beijing" in t for t in titles(found))
    assert "Showing results for beijing (40 results)" in page_text(client, "Bejing")
    assert api(client, "Bejing talks")["showing_results_for"] == "beijing talks"


def test_tarrifs_shows_tariffs_not_the_one_record_that_misspells_it_so(client):
    found = api(client, "tarrifs")
    assert (found["showing_results_for"], found["showing_total"]) == ("tariffs", 30)
    text = page_text(client, "tarrifs")
    assert "Showing results for tariffs (30 results)" in text
    assert "tarriffs" not in text.lower()
    # The one record's misspelling is itself corrected to the common spelling.
    assert api(client, "tarriffs")["showing_results_for"] == "tariffs"


def test_kadafi_typed_as_it_sounds_finds_the_gaddafi_records(client):
    found = api(client, "kadafi")
    assert (found["total"], found["showing_results_for"], found["showing_total"]) == \
        (0, "gaddafi", 6)
    assert sorted(titles(found)) == sorted(f"Libya's Gaddafi meets envoys {n}" for n in range(6))
    assert "Showing results for gaddafi (6 results)" in page_text(client, "kadafi")


def test_a_name_spelt_several_ways_lists_its_spellings_and_searches_them_all(client):
    text = page_text(client, "gadhafi")
    assert "“gadhafi” is also spelled Gaddafi (6), Qaddafi (3). Search all 3 spellings " \
           "(10 results)." in text
    spelled = api(client, "gadhafi")["spellings"]
    assert spelled == [{"word": "gadhafi",
                        "also": [{"spelling": "Gaddafi", "total": 6, "q": "Gaddafi"},
                                 {"spelling": "Qaddafi", "total": 3, "q": "Qaddafi"}],
                        "all_q": "(gadhafi OR Gaddafi OR Qaddafi)", "all_total": 10}]
    # The results fragment htmx swaps in while typing says the same.
    fragment = client.get("/search?q=gadhafi", headers={"HX-Request": "true"})
    assert "is also spelled <a" in fragment.get_data(as_text=True)
    # A spelling's link lists that spelling as written, which its count counts.
    assert 'href="/search?q=Qaddafi&amp;literal=1"' in fragment.get_data(as_text=True)
    # One click: the link's search finds what the notice counts, every spelling of the name.
    link = re.search(r'href="([^"]+)"[^>]*>Search all 3 spellings',
                     client.get("/search?q=gadhafi").get_data(as_text=True)).group(1)
    everything = client.get(unescape(link).replace("/search?", "/api/search?")).get_json()
    assert everything["total"] == 10
    assert {t.split()[1] for t in titles(everything)} == {"Gaddafi", "Qaddafi", "Gadhafi"}


def test_the_correction_of_a_name_lists_the_names_other_spellings(client):
    assert "“gaddafi” is also spelled Qaddafi (3), Gadhafi (1)." in page_text(client, "kadafi")
    assert [s["spelling"] for s in api(client, "kadafi")["spellings"][0]["also"]] == \
        ["Qaddafi", "Gadhafi"]


def test_a_query_naming_two_spellings_lists_neither_as_news_and_a_phrase_none(client):
    """A spelling the query already has is not "also spelled"; a word in a quoted phrase or
    naming a field is not respelled (an OR inside quotes would find nothing)."""
    both = api(client, "gadhafi OR qaddafi")["spellings"]
    assert all(a["spelling"].lower() not in ("gadhafi", "qaddafi")
               for s in both for a in s["also"]), both
    assert api(client, '"gadhafi"')["spellings"] == []


def test_words_that_sound_alike_but_are_not_names_list_no_other_spellings(client):
    for q in ("filled", "filed", "tariffs"):
        found = api(client, q)
        assert found["spellings"] == [] and found["showing_results_for"] is None
        assert "also spelled" not in page_text(client, q)


def test_a_rare_word_spelt_right_is_not_replaced_by_a_common_one_a_letter_away(client):
    found = api(client, "rash")
    assert (found["total"], found["showing_results_for"], found["suggestion"]) == (3, None, None)
    assert sorted(titles(found)) == sorted(f"A rash of burglaries in town {n}" for n in range(3))
    text = page_text(client, "rash")
    assert "Showing results for" not in text and "Did you mean" not in text


def test_a_lost_sound_index_costs_corrections_not_searches_and_check_names_it(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n, (title, excerpt) in enumerate(_records()[:60] + _records()[161:171]):
        (seeds / f"news_{n:04d}.txt").write_text(
            f'---\ntitle: "{title}"\nexcerpt: "{excerpt}"\n'
            f'webUrl: "https://news.example/{n}"\n---\n', encoding="utf-8")
    index = tmp_path / "index"
    build(seeds, index)
    next(store.live(index).build.glob("spelling-*/sounds.npy")).unlink()
    checked = CliRunner().invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert checked.exit_code == 1 and "sounds.npy" in checked.output
    app = create_app({"index": index, "seeds": seeds})
    try:
        found = app.test_client().get("/api/search?q=kadafi&typing=0").get_json()
        assert found["showing_results_for"] is None and found["spellings"] == []
        assert "Spelling corrections are unavailable" in found["notice"]
        assert app.test_client().get("/api/search?q=gaddafi").get_json()["total"] == 6
    finally:
        app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None
