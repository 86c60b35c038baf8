"""The query language as researchers write it: names with punctuation, hyphenated words,
exact words and words near each other, over real seed files written for the purpose."""

from __future__ import annotations

import pytest

from searchapp.search import SearchIndex, SearchRequest
from conftest import build

SEEDS = {
    "att.txt": ("AT&T fined over data sharing", "The carrier AT&T sold location data of "
                "customers to brokers, regulators in the U.S. said."),
    "email.txt": ("Leaked e-mail shows police plans", "An e-mail sent by officers describes "
                  "the facial recognition rollout."),
    "mail.txt": ("Royal Mail strike", "Postal workers walked out; e deliveries and mail "
                 "sorting stopped."),
    "banned.txt": ("City banned facial recognition", "The council banned the cameras."),
    "ban.txt": ("Calls to ban facial recognition", "Campaigners want a ban on cameras."),
    "banning.txt": ("Banning the cameras", "Banning facial recognition was debated."),
    "near.txt": ("Facial systems: a ban looms", "Facial analysis systems could face a ban "
                 "soon."),
    "march.txt": ("Marchers protested", "The march was a protest against protesting rules."),
    "wellknown.txt": ("A well-known critic of surveillance", "The critic spoke well of "
                      "surveillance reform, known for years."),
}


def seed(title: str, excerpt: str, n: int) -> str:
    return (f'---\ntitle: "{title}"\nexcerpt: "{excerpt}"\n'
            f"publishedDateTime: 2024-01-{n:02d}T10:00:00Z\n"
            f"webUrl: https://example.org/{n}\nprovider:\n  name: Example\n"
            f"  domain: example.org\ntopics:\n  - Privacy\n---\n")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    base = tmp_path_factory.mktemp("language")
    seeds = base / "seeds"
    seeds.mkdir()
    for n, (name, (title, excerpt)) in enumerate(SEEDS.items(), 1):
        (seeds / name).write_text(seed(title, excerpt, n), encoding="utf-8")
    build(seeds, base / "index")
    index = SearchIndex(base / "index")
    yield index
    index.close()


def found(index, q: str, typing: bool = False) -> list[str]:
    result = index.search(SearchRequest(q=q, typing=typing, per_page=50), terms=False)
    return sorted(h.record["title"] for h in result.hits)


@pytest.mark.parametrize("q", ["AT&T", "at&t", "AT&T's", "AT&"])
def test_a_name_joined_by_an_ampersand_is_one_word(index, q):
    assert found(index, q, typing=q.endswith("&")) == ["AT&T fined over data sharing"]


def test_dotted_initials_are_searchable_as_written(index):
    assert found(index, "U.S.") == found(index, "U.S") == ["AT&T fined over data sharing"]


def test_a_hyphen_inside_a_word_is_not_a_minus(index):
    # `e-mail` was `e NOT mail`: it found the record without "mail" and missed the two with it.
    assert found(index, "e-mail") == ["Leaked e-mail shows police plans"]
    assert found(index, "well-known") == ["A well-known critic of surveillance"]
    assert found(index, "facial -police") == sorted(
        ["Banning the cameras", "Calls to ban facial recognition", "City banned facial recognition",
         "Facial systems: a ban looms"])


def test_a_hyphenated_word_keeps_results_while_it_is_typed(index):
    for typed in ("e-m", "e-ma", "e-mai", "e-mail"):
        assert "Leaked e-mail shows police plans" in found(index, typed, typing=True), typed


def test_an_exact_word_is_not_stemmed_and_ranks_like_any_word(index):
    assert len(found(index, "banned")) == 4  # ban, banned, banning: one stem
    assert found(index, "=banned") == ["City banned facial recognition"]
    assert found(index, "=ban facial") == ["Calls to ban facial recognition",
                                            "Facial systems: a ban looms"]
    result = index.search(SearchRequest(q="=banned OR =banning", typing=False), terms=False)
    assert {h.record["title"] for h in result.hits} == {"City banned facial recognition",
                                                        "Banning the cameras"}
    assert all(h.score > 0 for h in result.hits)


def test_an_exact_word_marks_only_that_word(index):
    """`=protested` marks "protested", not the "protest" and "protesting" beside it, which
    share its stem; asked for plainly as well, the stem marks them all."""
    hit = index.search(SearchRequest(q="=protested", typing=False), terms=False).hits[0]
    assert hit.title_html == "Marchers <mark>protested</mark>"
    assert hit.excerpt_html == "The march was a protest against protesting rules."
    hit = index.search(SearchRequest(q="=protested OR protest", typing=False), terms=False).hits[0]
    assert hit.excerpt_html == "The march was a <mark>protest</mark> against <mark>protesting</mark> rules."


def test_words_near_each_other(index):
    assert found(index, '"facial ban"') == found(index, '"facial ban"~1') == []
    assert found(index, '"facial ban"~5') == ["Facial systems: a ban looms"]
    assert found(index, '"facial ban"~2') == ["Facial systems: a ban looms"]  # the title
    hits = index.search(SearchRequest(q='"facial ban"~5', typing=False), terms=False).hits
    assert hits and hits[0].score > 0


def test_a_single_letter_being_typed_never_empties_the_results(index):
    # `e` is a word of the index (`e-mail`, `e deliveries`); typing `facial e` on the way to
    # `facial emotions` must not narrow to the records holding a lone `e`.
    assert found(index, "facial e", typing=True) == found(index, "facial", typing=True)
    assert found(index, "facial e", typing=False) == ["Leaked e-mail shows police plans"]  # done: it counts


def test_every_prefix_of_a_word_with_results_finds_them_though_commoner_words_share_it(tmp_path):
    """Over real news, `facial re`, `facial rec` and `facial reco` found nothing: the
    commonest words beginning so (report, record, recent ...) are in no record about facial."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    common = [f"rec{a}{b}" for a in "abdfhjkl" for b in "aeiou"]  # 40 words, each in 3 records
    for n in range(60):
        words = " ".join(common[(n * 2 + k) % len(common)] for k in range(2))
        text = seed(f"Council {words}", f"About {words}.", 1 + n % 28)
        (seeds / f"c{n}.txt").write_text(text.replace("example.org/", f"example.org/c{n}-"),
                                          encoding="utf-8")
    (seeds / "f.txt").write_text(seed("Facial recognition in schools", "Cameras.", 3), encoding="utf-8")
    build(seeds, tmp_path / "index")
    index = SearchIndex(tmp_path / "index")
    for end in range(len("facial r"), len("facial recognition") + 1):
        typed = "facial recognition"[:end]
        result = index.search(SearchRequest(q=typed, typing=True), terms=False)
        assert [h.record["title"] for h in result.hits] == ["Facial recognition in schools"], typed
        if end > len("facial r"):
            assert "<mark>recognition</mark>" in result.hits[0].title_html, typed
    index.close()
