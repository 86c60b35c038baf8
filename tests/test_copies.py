"""Copies of one story folded into one hit, more like a record without its copies or records
sharing one stray word, and distinctive words that tell something (issue 30): over seed
files written as outlets run them, and over the real news records when they are here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pytest

from conftest import build, copy_seeds
from searchapp.index import stories, store
from searchapp.web import create_app


def seed(title: str, excerpt: str, outlet: str, domain: str, when: str | None, n: int) -> str:
    """A seed file as the converted news records are (an undated one has no date)."""
    dated = f"publishedDateTime: '{when}'\n" if when else ""
    return (f"---\ntitle: {json.dumps(title)}\nexcerpt: {json.dumps(excerpt)}\n"
            f"webUrl: https://{domain or 'wire.example'}/{n}\n"
            f"provider:\n  name: {json.dumps(outlet)}\n  domain: {json.dumps(domain)}\n"
            f"topics: []\ncategory: news\ntype: article\n{dated}---\n")


# A wire story filed twice two minutes apart: one headline, one first sentence, then each
# goes on differently (as "PORTUGUESE GOVERNMENT FALLS" did in the Reuters records).
FALLS = "MALTESE GOVERNMENT FALLS"
FALLS_LEAD = ("Malta's minority centre-right coalition government was ousted on Friday in a "
              "parliamentary censure vote backed by two left-wing opposition parties. ")
FALLS_A = FALLS_LEAD + ("The president, who returns from a state visit to Canada on Monday, now "
                        "faces the task of either asking a new leader to form a government or "
                        "calling an early general election. The Labour Party, …")
FALLS_B = FALLS_LEAD + ("Labour and the Greens, who hold 36 of the 65 seats in parliament, voted "
                        "for the motion against the Nationalist-led cabinet of Prime Minister "
                        "Joseph Camilleri after a row over …")
# One wire story as two undated feeds ran it (as "EU, US Talks on Aircraft Aid Grounded" was
# in AG News): the headline's case, a clause reworded.
TALKS_A = ("EU, US Government Talks on Steel Aid Grounded",
           "US and EU negotiators disagreed on Thursday about government tariffs on steel and "
           "aluminium, winding up no closer on a sensitive issue that has gathered steam before "
           "the US midterm elections.")
TALKS_B = ("EU, US Government Talks On Steel Aid Grounded",
           "US and EU negotiators traded arguments on Thursday over government tariffs on steel "
           "and aluminium, but wound up no closer on a sensitive issue that has gathered steam "
           "in the run up to the US midterm elections.")
OTHERS = [  # other government stories, each its own
    ("GOVERNMENT WINS VOTE ON PENSION REFORM", "The government won a parliamentary vote on its "
     "pension reform by eleven votes, after two rebel members of its own party abstained."),
    ("Government to sell stake in national airline", "The government plans to sell its "
     "remaining stake in the national airline within a year, the finance minister said."),
    ("GOVERNMENT SEES SLOWER GROWTH THIS YEAR", "The government cut its forecast for economic "
     "growth this year to 1.5 percent from 2.1 percent, citing weaker exports to Asia."),
    ("Government announces flood defence plan", "Ministers unveiled a ten-year plan to "
     "strengthen river defences after winter floods damaged thousands of homes."),
    ("GOVERNMENT BONDS RALLY AFTER INFLATION DATA", "Government bonds rallied after consumer "
     "prices rose less than expected last month, lifting hopes of an interest rate cut."),
    ("Local government budgets squeezed", "Councils warn that local government budgets cannot "
     "absorb another year of rising social care costs without cuts to libraries and buses."),
]


@pytest.fixture
def copies_site(tmp_path):
    """A client over the repo's seeds and the seeds above, indexed."""
    seeds = copy_seeds(tmp_path / "seeds")
    files = [seed(FALLS, FALLS_A, "Reuters", "reuters.com", "1987-04-03T15:07:42Z", 1),
             seed(FALLS, FALLS_B, "Reuters", "reuters.com", "1987-04-03T15:09:26Z", 2),
             seed(*TALKS_A, "", "", None, 3), seed(*TALKS_B, "", "", None, 4)]
    files += [seed(t, e, "Daily Post", "dailypost.example", f"2024-05-{10 + n:02d}T09:00:00Z",
                   10 + n) for n, (t, e) in enumerate(OTHERS)]
    for n, text in enumerate(files):
        (seeds / f"copies-{n:02d}.txt").write_text(text, encoding="utf-8")
    build(seeds, tmp_path / "index")
    app = create_app({"index": tmp_path / "index", "seeds": seeds})
    yield app.test_client()
    app.extensions["searchapp.index"].close() if "searchapp.index" in app.extensions else None


def test_government_top_ten_holds_no_two_copies_of_one_story(copies_site):
    found = copies_site.get("/api/search?q=government&per_page=10").get_json()
    titles = [r["title"].lower() for r in found["results"]]
    assert FALLS.lower() in titles and TALKS_A[0].lower() in titles  # each story once ...
    assert len(titles) == len(set(titles))  # ... with its copy folded under it
    by_title = {r["title"]: r for r in found["results"]}
    assert len(by_title[FALLS]["copies"]) == 1 and len(by_title[TALKS_A[0]]["copies"]) == 1
    page = copies_site.get("/search?q=government").get_data(as_text=True)
    hits = page.split('<li class="hit"')[1:11]
    falls = [h for h in hits if "MALTESE <mark>GOVERNMENT</mark> FALLS" in h]
    assert len(falls) == 1 and "+1 other copy" in falls[0]  # one hit, its copy folded under it


def ids_of(client, q: str) -> list[str]:
    return [r["id"] for r in client.get(f"/api/search?q={q}&group=records").get_json()["results"]]


def similar_on_page(client, record_id: str) -> list[str]:
    """The titles the record page lists under "More like this"."""
    page = client.get(f"/doc/{record_id}").get_data(as_text=True)
    section = page.split("More like this", 1)[1] if "More like this" in page else ""
    section = section.split("</section>", 1)[0]
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", section)]


def test_more_like_this_lists_records_on_its_subject_not_a_copy_nor_one_stray_word(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    deficit = ("VOLCKER SAYS TRADE DEFICIT IS MAJOR CHALLENGE",
               "Fed chairman Paul Volcker said the trade deficit is a challenge equal to the "
               "Soviet launch of Sputnik, and called for lower budget deficits and more exports.")
    records = [
        deficit,
        (deficit[0].replace("TRADE", "U.S. TRADE"), deficit[1]),  # a copy: listed apart
        ("VOLCKER URGES CUTS IN BUDGET DEFICIT", "Fed chairman Paul Volcker urged Congress to "
         "cut the budget deficit, saying it kept the trade deficit high."),
        ("TRADE DEFICIT WIDENS IN JANUARY", "The trade deficit widened in January as imports "
         "rose, the Commerce Department said, a setback for Volcker and the Fed."),
        ("SpaceShipOne, take two", "The private rocket plane flew again to claim a ten million "
         "dollar prize, meeting the challenge set by the X Prize foundation."),  # one word shared
        ("Harvest festival draws crowds", "Farmers showed prize pumpkins at the county fair."),
    ]
    for n, (title, excerpt) in enumerate(records):
        (seeds / f"r{n}.txt").write_text(
            seed(title, excerpt, "Reuters", "reuters.com", f"1987-04-0{n + 1}T10:00:00Z", n),
            encoding="utf-8")
    build(seeds, tmp_path / "index")
    app = create_app({"index": tmp_path / "index", "seeds": seeds})
    client = app.test_client()
    first = ids_of(client, "sputnik")[0]
    listed = similar_on_page(client, first)
    assert listed[:2] == ["VOLCKER URGES CUTS IN BUDGET DEFICIT", "TRADE DEFICIT WIDENS IN JANUARY"] \
        or listed[:2] == ["TRADE DEFICIT WIDENS IN JANUARY", "VOLCKER URGES CUTS IN BUDGET DEFICIT"]
    assert "SpaceShipOne, take two" not in listed
    assert records[1][0] not in listed  # the copy is under "Other copies", not here
    app.extensions["searchapp.index"].close()


def news_terms(client, q: str) -> dict:
    return client.get(f"/api/search?q={q}&terms=1").get_json()


def test_distinctive_words_leave_out_the_query_in_every_form_and_the_outlets(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = [
        ("Oil prices climb as OPEC holds output", "NEW YORK (Reuters) - Oil prices rose to 80 "
         "dollars a barrel as OPEC kept output steady; the price of crude has risen for a week."),
        ("Crude prices rise on supply worries", "LONDON (Reuters) - Crude prices rose, with "
         "barrels of Brent at their highest price since March as OPEC output fell."),
        ("Fuel prices to rise again", "SINGAPORE (Reuters) - Pump prices follow crude, a barrel "
         "of which costs more after OPEC cut output, traders said."),
        ("Heating oil prices jump", "CHICAGO (Reuters) - Heating oil prices jumped as crude "
         "barrels grew scarce and OPEC output lagged demand."),
        ("Gasoline prices at a record", "HOUSTON (Reuters) - Gasoline prices hit a record as "
         "crude rose above 85 dollars a barrel on OPEC output cuts."),
        ("Producer prices steady", "WASHINGTON (Reuters) - Producer prices held steady as "
         "cheaper crude barrels offset dearer food, with OPEC output unchanged."),
    ]
    background = [(f"Council meeting number {n}", f"Councillors of the town met to discuss "
                   f"parks, roads and schools, item {n} on the agenda.") for n in range(30)]
    for n, (title, excerpt) in enumerate(lines + background):
        outlet = ("Reuters", "reuters.com") if n < len(lines) else ("Town Crier", "crier.example")
        (seeds / f"r{n:02d}.txt").write_text(
            seed(title, excerpt, *outlet, f"2024-01-{n % 28 + 1:02d}T10:00:00Z", n),
            encoding="utf-8")
    build(seeds, tmp_path / "index")
    app = create_app({"index": tmp_path / "index", "seeds": seeds})
    client = app.test_client()
    for q, forms in (("prices", {"price", "prices"}), ("price", {"price", "prices"}),
                     ("barrel", {"barrel", "barrels"}), ("barrels", {"barrel", "barrels"})):
        words = [t["term"] for t in news_terms(client, q)["terms"]]
        assert "opec" in words and "crude" in words, (q, words)
        assert not forms & set(words), (q, words)
        assert "reuters" not in words, (q, words)  # in every dateline of these six
    app.extensions["searchapp.index"].close()


def test_no_distinctive_words_for_a_single_result_and_the_page_says_why(copies_site):
    one = news_terms(copies_site, "pension")
    assert one["total"] == 1 and one["terms"] == []
    fragment = copies_site.get("/terms?q=pension", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    assert "Too few results to tell which words set them apart" in fragment
    assert "No word stands out" not in fragment and "<ol" not in fragment


def falls_seeds(tmp_path) -> Path:
    """The shipped seeds and two copies of the Maltese story, two minutes apart."""
    seeds = copy_seeds(tmp_path / "seeds")
    for n, excerpt in enumerate((FALLS_A, FALLS_B)):
        (seeds / f"falls-{n}.txt").write_text(
            seed(FALLS, excerpt, "Reuters", "reuters.com", f"1987-04-03T15:0{7 + 2 * n}:00Z", n),
            encoding="utf-8")
    return seeds


def test_stories_kept_by_an_older_version_are_grouped_again(tmp_path):
    seeds = falls_seeds(tmp_path)
    index = tmp_path / "index"
    build(seeds, index)
    live = store.open_live(index)
    kept = stories.path(live.build, live.generation)
    with open(kept, "wb") as handle:  # as a searchapp before the headline key wrote it
        empty = np.zeros(0, dtype=np.int64)
        np.savez(handle, keys=empty, story=empty, chain=empty, rule=np.array([0.6 + 36_000]))
    app = create_app({"index": index, "seeds": seeds})
    found = app.test_client().get(f"/api/search?q={FALLS.lower()}").get_json()
    assert found["total"] == 2 and found["stories"] == 1
    app.extensions["searchapp.index"].close()


# -- the real news records (the shared corpora; skipped where they are not) -----------------

def api(site, query: str) -> dict:
    with urlopen(f"{site.url}/api/search?{query}", timeout=60) as answer:
        return json.load(answer)


def test_over_the_news_government_top_ten_holds_no_two_copies(news_site):
    found = api(news_site, "q=government&per_page=10")
    titles = [" ".join(r["title"].lower().split()) for r in found["results"]]
    assert len(titles) == 10 and len(titles) == len(set(titles)), titles
    falls = [r for r in found["results"] if r["title"] == "PORTUGUESE GOVERNMENT FALLS"]
    assert len(falls) == 1 and len(falls[0]["copies"]) == 1


def test_over_the_news_more_like_a_trade_deficit_story_is_about_trade(news_site):
    first = api(news_site, "q=volcker+sputnik&group=records")["results"][0]
    with urlopen(f"{news_site.url}/doc/{first['id']}", timeout=60) as answer:
        page = answer.read().decode("utf-8")
    section = page.split("More like this", 1)[1].split("</section>", 1)[0]
    titles = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", section)]
    assert titles and not any("SpaceShipOne" in t for t in titles), titles
    assert sum("DEFICIT" in t.upper() or "TRADE" in t.upper() for t in titles) >= len(titles) - 1


def test_over_the_news_distinctive_words_are_not_the_query_nor_the_outlet(news_site):
    words = [t["term"] for t in api(news_site, "q=oil+prices&terms=1")["terms"]]
    assert "crude" in words or "opec" in words, words
    assert not {"oil", "price", "prices", "reuters"} & set(words), words


def test_an_index_signed_by_an_earlier_version_is_said_stale_and_rebuilt_in_full(tmp_path,
                                                                               monkeypatch):
    from searchapp.index import check, documents
    seeds = falls_seeds(tmp_path)
    index = tmp_path / "index"
    current = stories.signature
    with monkeypatch.context() as patched:  # as a searchapp before the keys signed records
        patched.setattr(documents.stories, "signature",
                        lambda title, excerpt: current(title, excerpt)[:stories.PERMS * 2])
        build(seeds, index)
    problems, _ = check.verdict(index, seeds)
    assert any("made by another version of searchapp" in p for p in problems), problems
    summary = build(seeds, index)
    assert any("story signatures were made by another version" in str(w)
               for w in summary.warnings), summary.warnings
    assert check.verdict(index, seeds)[0] == []
    app = create_app({"index": index, "seeds": seeds})
    found = app.test_client().get(f"/api/search?q={FALLS.lower()}").get_json()
    assert found["total"] == 2 and found["stories"] == 1
    app.extensions["searchapp.index"].close()
