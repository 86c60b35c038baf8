"""One ranking whatever the shard count: the same seeds indexed into 1, 2 and 4 shards give
the same ids in the same order, the same facet, timeline and distinctive-word counts, and
the same suggestions, for every query shape a researcher types."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from searchapp.index import store
from searchapp.index.writing import shard_of
from searchapp.search import SearchIndex, SearchRequest
from searchapp.search.serialize import result_to_json
from conftest import build, copy_seeds, write_generated

from test_scoring import WORDS, queries

SHARDS = (1, 2, 4)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    base = tmp_path_factory.mktemp("shards")
    seeds = copy_seeds(base / "seeds")
    write_generated(seeds, 900)
    out = {}
    for n in SHARDS:
        summary = build(seeds, base / f"index-{n}", full=True, shards=n)
        assert summary.ok
        out[n] = SearchIndex(base / f"index-{n}")
    yield out
    for index in out.values():
        index.close()


def answer(index: SearchIndex, **params) -> dict:
    """What a user sees of a search, without the timings and the generation's name."""
    req = SearchRequest(**params)
    found = result_to_json(index.search(req))
    for key in ("took_ms", "generation", "timings"):
        found.pop(key, None)
    return found


def same_everywhere(indexes, **params) -> dict:
    seen = {n: json.dumps(answer(index, **params), sort_keys=True) for n, index in indexes.items()}
    assert seen[2] == seen[1], params
    assert seen[4] == seen[1], params
    return json.loads(seen[1])


def test_the_shards_hold_every_record_once_and_in_the_shard_its_id_names(indexes):
    for n, index in indexes.items():
        folders = store.live(index.root).folders
        assert len(folders) == n
        with store.open_live(index.root).searcher() as s:
            ids = [f["id"] for f in s.all_stored_fields()]
            for leaf, _ in s.reader().leaf_readers():
                shard = folders.index(leaf.kept_folder)
                assert all(shard_of(f["id"], n) == shard for f in leaf.all_stored_fields())
        assert len(ids) == len(set(ids)) == indexes[1].stats().records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries(), match=st.sampled_from(["all", "any"]),
       sort=st.sampled_from(["relevance", "relevance", "newest", "oldest"]))
def test_every_query_shape_answers_the_same_over_1_2_and_4_shards(indexes, q, match, sort):
    same_everywhere(indexes, q=q, match=match, sort=sort, typing=False, per_page=100)


@pytest.mark.parametrize("phrase", ["facial recognition", "police camera ban", "privacy court"])
def test_a_phrase_typed_a_letter_at_a_time_answers_the_same(indexes, phrase):
    for end in range(1, len(phrase) + 1):
        same_everywhere(indexes, q=phrase[:end], typing=True)


@pytest.mark.parametrize("q", [
    "", "polcie", "xqzv", "*tion", "po*ce", "pol?ce", " OR ".join(WORDS[:12]),
    " OR ".join(f"*{w[1:4]}*" for w in WORDS[:12]), '"facial recognition"~4',
    "Police used facial recognition cameras at the protest, and the court heard that the "
    "data was kept for years without a vote of the council. Privacy groups said the hospital "
    "and the school had used the same cameras.",
])
def test_the_heavy_shapes_answer_the_same(indexes, q):
    found = same_everywhere(indexes, q=q, typing=False, per_page=100)
    if q and q != "xqzv":
        assert found["total"] > 0 or found["suggestion"] or found["showing_results_for"], q


def test_filters_pages_and_distinctive_words_answer_the_same(indexes):
    first = same_everywhere(indexes, q="police OR camera", typing=False)
    provider = first["facets"]["provider"][0]["value"]
    topic = first["facets"]["topic"][0]["value"]
    same_everywhere(indexes, q="police OR camera", filters={"provider": (provider,)}, typing=False)
    same_everywhere(indexes, q="police", filters={"topic": (topic,)}, sort="newest", page=2)
    broad = same_everywhere(indexes, q="town", typing=False)  # more matches than are sampled
    assert broad["terms_sample"]["sampled"] and broad["terms"]
