"""Index time and query time cut words the same way: if they drifted apart, queries would
silently miss. Every analyser comes from searchapp/index/analysis.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchapp.index import analysis
from searchapp.index.schema import build_schema
from searchapp.search.query import query_schema

TEXTS = ["Facial recognition cameras", "Cafés and CAFE: naïve façade", "The police were running",
         "don't stop-and-search", "Ünïcödé Straße 2021 élection"]


def tokens(analyzer, text: str, **kw) -> list[str]:
    return [t.text for t in analyzer(text, **kw)]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("field", ["title", "excerpt", "source", "topic"])
def test_query_words_are_cut_as_the_index_cut_them(field, text):
    index_side = build_schema()[field].analyzer
    query_side = query_schema()[field].analyzer
    indexed = tokens(index_side, text)
    queried = tokens(query_side, text, mode="query")
    if field in ("source", "topic"):  # the query side also drops stop words (see analysis.py)
        indexed = [t for t in indexed if t not in analysis.STOP_WORDS]
    assert queried == indexed


def test_patterns_are_not_stemmed_at_query_time_only():
    assert tokens(analysis.query_stemmed(), "running") == tokens(analysis.stemmed(), "running")
    assert [t.text for t in analysis.StemUnlessPattern()(_tokens("flies*", "flies"))] == \
        ["flies*", analysis.stem_word("flies")] == ["flies*", "fly"]


def _tokens(*texts):
    from whoosh.analysis import Token
    for text in texts:
        yield Token(text=text)


def test_folding_a_word_and_a_pattern():
    assert analysis.fold_word("Don't") == "dont"
    assert analysis.fold_pattern("Café*") == "cafe*"


def test_the_index_analysers_are_whooshs_own_classes():
    """Whoosh pickles them into the index: a class of ours there would tie old indexes to our
    module names. The stemmer is a function of analysis.py, pickled by its name."""
    for name, field in build_schema().items():
        analyzer = getattr(field, "analyzer", None)
        for part in getattr(analyzer, "items", [analyzer] if analyzer else []):
            assert type(part).__module__.startswith("whoosh."), (name, type(part))
            stem = getattr(part, "stemfn", None)
            if stem is not None:
                assert getattr(analysis, stem.__name__) is stem, (name, stem)


@pytest.mark.parametrize("word,family", [
    ("federal", {"federal"}), ("Federer", {"federer"}), ("federated", {"federate"}),
    ("prices", {"price"}), ("policies", {"policy"}), ("analyses", {"analysis"}),
    ("running", {"run"}), ("Cafés", {"cafe"})])
def test_words_of_one_family_share_a_stem_and_no_others(word, family):
    """Plurals and inflections are one word; federal, Federer and federated are three
    (Porter2 made them all `feder`)."""
    assert {analysis.stem_word(word)} == family


PIECES = list("aeiouAEIOU stnrlkSTNRLK.&'-_9ßéÆǅﬁİı\u0301\u200b") + [
    "the ", " a ", " of ", "U.S.", "AT&T", "running", "Cafés", "e-mail"]
WORDISH = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(WORDISH, st.text(max_size=40)))
def test_the_bulk_writers_cuts_give_what_the_index_analysers_give(text):
    """engine/bulk.py cuts text with `index_words` instead of Whoosh's token chain; a word or
    a position apart would make a full build disagree with an incremental one."""
    schema = build_schema()
    checked = 0
    for name, field in schema.items():
        cut = analysis.index_words(field.analyzer) if field.indexed else None
        if cut is None:
            continue
        checked += 1
        expected = [(t.text, t.pos) for t in field.analyzer(text, positions=True, mode="index")]
        assert cut(text) == expected, name
    assert checked == 7  # title, excerpt, body, written, written_body, source, topic


def test_a_lemma_of_another_word_is_not_taken():
    """`ai` lemmatises to `be` and `us` to `we`: searching AI must not find "been"."""
    stem_word = analysis.stem_word
    assert stem_word("ai") == "ai" and stem_word("ai") != stem_word("been")
    assert stem_word("us") != stem_word("we")
    assert stem_word("prices") == stem_word("price") and stem_word("ran") == stem_word("run")
