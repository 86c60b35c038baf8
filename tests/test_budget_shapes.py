"""Every query shape within the search's time budget, and heavy ones in the heavy lane
(issue 29, item 6): `title:*` is every record with a title, read from the title's length
column, exact whatever the budget; `police~9` is searched as `police~2` and says so; a scan
of the vocabulary, Whoosh's own collecting and the union of a keyword field's words stop at
the deadline and say the counts are "at least"; a heavy search waits for its turn in the
lane while a light one answers. A spent budget (`budget_ms=-1`: past before the search
starts) stands for a search that runs out of time, so nothing here depends on a clock.
"""

from __future__ import annotations

import sys
import threading
import time

import pytest
from whoosh import query as wq

from searchapp import create_app
from searchapp.engine import fallback
from searchapp.engine.pause import pausing
from searchapp.engine.shapes import Kind, matching, scoring, word_keys
from searchapp.index.analysis import stem_word
from searchapp.reader import Words
from searchapp.search import SearchIndex, SearchRequest, answer
from searchapp.search.lane import Lane, Turn
from conftest import build, copy_seeds, wait_for, write_generated

WILDCARDS = " OR ".join(f"*{c}*" for c in "aeioulnrstcdmpbghkvwy")  # 20, any position
FIELDS = ("title", "excerpt", "source", "topic", "category", "type", "kind")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(seeds, index) of the real seeds and 700 generated ones, written in two runs and
    with records replaced (several segments, deleted documents)."""
    base = tmp_path_factory.mktemp("budget_shapes")
    seeds = copy_seeds(base / "seeds")
    write_generated(seeds, 600)
    build(seeds, base / "index")
    write_generated(seeds, 100, start=600)
    write_generated(seeds, 40, start=100, word="changed")  # replaces records: deletions
    build(seeds, base / "index")
    return seeds, base / "index"


@pytest.fixture(scope="module")
def index(built):
    index = SearchIndex(built[1], recent_cache_mb=0)
    yield index
    index.close()


@pytest.fixture(scope="module")
def spent(built):
    """The same index, searched with a budget spent before each search starts."""
    index = SearchIndex(built[1], recent_cache_mb=0, budget_ms=-1)
    yield index
    index.close()


def whooshs(snap, q: wq.Query) -> list[int]:
    """The live records Whoosh itself matches, in order."""
    return sorted(d for _, d in snap.searcher.search(q, limit=None).top_n
                  if snap.columns.alive[d])


def search(index: SearchIndex, q: str, **asked):
    return index.search(SearchRequest(q=q, typing=False, **asked), terms=False)


# -- `field:*`: every record with a word in the field -------------------------------------

@pytest.mark.parametrize("field", FIELDS)
def test_a_field_wide_pattern_finds_the_records_whoosh_finds_with_a_word_there(index, field):
    with index.using() as snap:
        assert len(snap.columns.leaves) >= 2 and any(
            leaf.has_deletions() for leaf, _, _ in snap.columns.leaves)
        found = snap.scorer.run(wq.Every(field, boost=2.0))
        want = whooshs(snap, wq.Every(field, boost=2.0))
        assert found.docs.tolist() == want and snap.scorer.docs(wq.Every(field)).tolist() == want
        assert set(found.scores.tolist()) == {2.0}  # Whoosh's list matcher: the boost each
    assert search(index, f"{field}:*").total == len(want)


def test_every_title_is_read_by_the_scorer_and_foreseen_by_the_cluster(index):
    """Not handed to Whoosh, which reads every posting of every title word (1.7 s over the
    41k news records); a cluster's coordinator knows it asks for no word's count."""
    assert scoring(wq.Every("title")).kind is Kind.EVERY
    assert matching(wq.Every("title")).kind is Kind.EVERY
    with index.using() as snap:
        assert word_keys(wq.Every("title"), snap.searcher.schema) == set()


def test_every_record_with_a_title_and_a_word_is_what_whoosh_finds(index):
    result = search(index, "title:* police")
    with index.using() as snap:
        police = set(whooshs(snap, wq.Or([wq.Term(f, t) for f, t in (
            ("title", stem_word("police")), ("excerpt", stem_word("police")), ("source", "police"),
            ("topic", "police"))])))
        titled = set(whooshs(snap, wq.Every("title")))
    assert result.total == len(police & titled) > 0 and result.exact


def test_every_title_is_counted_exactly_within_a_spent_budget(index, spent):
    """One read of the title's length column per segment: nothing to cut short."""
    whole = search(index, "title:*")
    cut = search(spent, "title:*")
    assert cut.exact and not cut.cut_short and cut.total == whole.total > 700
    assert [h.id for h in cut.hits] == [h.id for h in whole.hits]


def test_a_keyword_fields_every_record_stops_at_a_spent_budget_and_says_at_least(index, spent):
    """A field keeping no lengths unites its words' postings, looking at the clock."""
    cut = search(spent, "category:*")
    assert cut.cut_short and not cut.exact and "stopped after" in cut.notice
    assert cut.total <= search(index, "category:*").total
    full = search(spent, "category:*", full=True)
    assert full.exact and full.total == search(index, "category:*").total > 0


# -- fuzzy words: at most 2 edits, and said --------------------------------------------------

def test_a_fuzzy_word_asking_for_more_edits_is_searched_within_two_and_says_so(index):
    far, near = search(index, "police~9"), search(index, "police~2")
    assert far.total == near.total > 0 and far.exact
    assert [h.id for h in far.hits] == [h.id for h in near.hits]
    assert "police~9 was searched as police~2" in far.notice
    assert near.notice is None


def test_the_page_and_the_api_say_a_fuzzy_word_was_searched_within_two_edits(built):
    seeds, index_dir = built
    app = create_app({"index": index_dir, "seeds": seeds})
    client = app.test_client()
    page = client.get("/search?q=police~9").get_data(as_text=True)
    assert "police~9 was searched as police~2" in page
    answer = client.get("/api/search?q=police~9").get_json()
    assert "police~9 was searched as police~2" in answer["notice"] and answer["exact"]
    app.extensions["searchapp.index"].close()


# -- scans that stop at the deadline ---------------------------------------------------------

def test_a_scan_of_the_vocabulary_stops_at_the_deadline_a_piece_at_a_time(index, monkeypatch):
    from searchapp.reader import words as words_module
    monkeypatch.setattr(words_module, "SCAN_WORDS", 8)  # pieces of 8 words, not 32,768
    with index.using() as snap:
        words = Words(snap.words("written").parts)  # a fresh one: its pieces are cut anew
        assert len(words.texts) > 3
        past = time.perf_counter()
        whole, cut = words.matching("?*", 10_000), words.matching("?*", 10_000, past)
        assert cut == whole[:8] and len(whole) > 8  # the first piece, in order
        near = words.within("10", 2, 0, 10_000)
        scanned = words.within("10", 2, 0, 10_000, past)
        assert 0 < len(scanned) < len(near) and set(scanned) < set(near)


def test_a_shape_left_to_whoosh_stops_collecting_at_the_deadline(index):
    with index.using() as snap:
        q = wq.Every()  # every record, Whoosh's list matcher: more than CHECK_EVERY
        whole, stopped = fallback.scored(snap.searcher, q, None)
        assert not stopped and whole.docs.tolist() == sorted(
            d for _, d in snap.searcher.search(q, limit=None).top_n)
        cut, stopped = fallback.scored(snap.searcher, q, time.perf_counter())
        assert stopped and 0 < len(cut.docs) < len(whole.docs)
        assert set(cut.docs.tolist()) <= set(whole.docs.tolist())


@pytest.mark.parametrize("q", ["title:*", "police~9", WILDCARDS, "category:*", "*o*",
                               '"police camera"~3', "NOT police", "pol* cam*", "title:?*",
                               "police OR camera OR council OR privacy OR vote OR court"])
def test_every_shape_within_a_spent_budget_is_exact_or_says_at_least(index, spent, q):
    """Stopped at once, a search answers with what it has and says so; one that needed no
    time to spare answers in full."""
    whole, cut = search(index, q), search(spent, q)
    assert cut.total <= whole.total
    if cut.exact:
        assert cut.total == whole.total
    else:
        assert cut.cut_short or cut.capped
        assert not cut.cut_short or "stopped after" in cut.notice


# -- the heavy lane --------------------------------------------------------------------------

def test_a_turn_in_the_lane_is_taken_once_and_held_until_the_search_ends():
    lane = Lane()
    with Turn(lane) as turn:
        assert turn.take() and not turn.take()  # asked again by a later phase: still held
        assert not lane.acquire(blocking=False)
    assert lane.acquire(blocking=False)
    lane.release()
    assert not Turn(None).take()  # a search with no lane never waits


def test_a_heavy_search_gives_way_to_the_light_ones_under_way_beside_it():
    lane = Lane()
    light, heavy = Turn(lane), Turn(lane)
    assert heavy.take()
    gave: list[float] = []
    waiting = threading.Thread(target=lambda: gave.append(heavy.give_way()))
    waiting.start()
    wait_for(lambda: not waiting.is_alive() or _in(waiting, "give_way"),
             "the heavy search to give way", every=0.001)
    light.close()  # the light search ended: the heavy one goes on
    waiting.join()
    assert gave and gave[0] > 0 and light.give_way() == 0.0
    assert heavy.give_way() == 0.0  # no light search under way: no waiting
    heavy.close()


def test_the_time_a_heavy_search_gives_way_is_not_taken_from_its_budget(index):
    """Between two patterns and two words scored, a heavy search lets the light ones beside
    it run (engine/pause.py); its deadline moves on by what it gave. Here each step says it
    gave a second, of a budget already spent: the search runs to its end all the same."""
    req = SearchRequest(q="pol* OR cam* OR council OR privacy", typing=False)
    calls: list[int] = []
    with index.using() as snap:
        whole = answer.matching(snap, answer.parse(snap, req, index.limits), req)
        with pausing(lambda: calls.append(1) or 1.0):
            parsed = answer.parse(snap, req, index.limits, time.perf_counter())
            found = answer.matching(snap, parsed, req, deadline=time.perf_counter())
        cut = answer.matching(snap, answer.parse(snap, req, index.limits, time.perf_counter()),
                              req, deadline=time.perf_counter())
    assert len(calls) > 4 and not parsed.cut_short and not found.cut_short
    assert found.final.tolist() == whole.final.tolist()
    assert cut.cut_short and len(cut.final) < len(whole.final)  # not giving way: cut at once


def _in(thread: threading.Thread, function: str) -> bool:
    """Whether `thread` is inside lane.py's `function` now."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == function and frame.f_code.co_filename.endswith("lane.py"):
            return True
        frame = frame.f_back
    return False


@pytest.mark.parametrize("q", ["title:*", "police~9", WILDCARDS])
def test_a_heavy_search_waits_for_the_lane_while_a_light_one_answers(index, q):
    lane = index._heavy_lane
    assert lane.acquire(blocking=False)  # another heavy search holds the lane
    answers: list = []
    heavy = threading.Thread(target=lambda: answers.append(search(index, q)))
    try:
        heavy.start()
        wait_for(lambda: _in(heavy, "take"), f"{q!r} to wait for the lane",
                 every=0.001)
        light = search(index, "budget")
        assert light.total > 0 and answers == []
    finally:
        lane.release()
    heavy.join()
    assert answers[0].total > 0
    assert lane.acquire(blocking=False)  # let go when it ended
    lane.release()


def test_a_heavy_comparison_waits_for_the_lane_while_a_light_one_answers(index):
    """/compare of a heavy query (four patterns) takes its turn in the heavy lane like a
    search; a comparison of plain words beside it answers at once."""
    lane = index._heavy_lane
    assert lane.acquire(blocking=False)  # another heavy search holds the lane
    answers: list = []
    heavy = threading.Thread(target=lambda: answers.append(index.compare(
        [SearchRequest(q=WILDCARDS, typing=False), SearchRequest(q="budget", typing=False)])))
    try:
        heavy.start()
        wait_for(lambda: _in(heavy, "__enter__"), "the comparison to wait for the lane",
                 every=0.001)
        light = index.compare([SearchRequest(q="budget", typing=False),
                               SearchRequest(q="police", typing=False)])
        assert light[0].total > 0 and answers == []
    finally:
        lane.release()
    heavy.join()
    assert answers[0][0].total > 0 and answers[0][1].total == light[0].total
