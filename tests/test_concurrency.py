"""No search waits for another: each thread reads through a snapshot of its own, so a light
search answers while the heaviest one anyone can type is still running, and exports being
read do not hold anyone up. Asserted by order of completion, never by timings."""

from __future__ import annotations

import threading

import pytest

from searchapp.search import SearchIndex, SearchRequest
from conftest import build, wait_for, write_generated

HEAVY = " OR ".join(f"*{c}*" for c in "aeioulnrstcdmpbghkvwy")  # 20 wildcards, any position


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("concurrent")
    write_generated(root / "seeds", 3000)
    build(root / "seeds", root / "index")
    return root / "index"


def test_a_light_search_answers_while_the_heaviest_runs(big):
    """Two of the heaviest searches, then a light one: the light one answers first. (One,
    since searches got faster, ends too soon after a light one begins to tell waiting from
    sharing the core; behind a lock, the light one would end after at least one of two.)"""
    index = SearchIndex(big, max_wildcard_terms=5000, recent_cache_mb=0)
    index.search(SearchRequest(q="warm", typing=False))
    events: list[str] = []
    heavies = [threading.Thread(target=lambda: (
        index.search(SearchRequest(q=HEAVY, typing=False, match="any")), events.append("heavy")))
        for _ in range(2)]
    for heavy in heavies:
        heavy.start()
    # Both are under way: each holds its snapshot, and neither has answered.
    wait_for(lambda: events or sum(users for _, users in index.snapshots()) == 2,
             "both heavy searches to hold their snapshots", every=0.001)
    assert events == [], "a heavy search answered before the light one was sent"
    light = index.search(SearchRequest(q="budget", typing=False))
    events.append("light")
    for heavy in heavies:
        heavy.join()
    index.close()
    assert light.total > 0
    assert events == ["light", "heavy", "heavy"]


def test_searches_answer_while_two_exports_are_being_read(big):
    index = SearchIndex(big, recent_cache_mb=0)
    exports = [index.export(SearchRequest(q="", typing=False), page=50) for _ in range(2)]
    readers = [iter(e) for e in exports]
    first = [next(r) for r in readers]  # both begun, neither finished
    totals = [index.search(SearchRequest(q=q, typing=False)).total
              for q in ("police", "budget", "court")]
    assert all(totals) and all(len(batch) == 50 for batch in first)
    assert sum(users for _, users in index.snapshots()) == 2  # the two exports hold theirs
    for r in readers:
        r.close()  # as a server does when the client has what it wants, or goes
    assert sum(users for _, users in index.snapshots()) == 0
    index.close()


def test_a_search_past_its_time_budget_answers_with_what_it_has(big):
    index = SearchIndex(big, max_wildcard_terms=5000, recent_cache_mb=0, budget_ms=1)
    result = index.search(SearchRequest(q=HEAVY, typing=False, match="any"))
    assert "stopped after 1 ms" in result.notice
    unbounded = SearchIndex(big, max_wildcard_terms=5000, recent_cache_mb=0, budget_ms=0)
    full = unbounded.search(SearchRequest(q=HEAVY, typing=False, match="any"))
    assert full.notice is None and full.total >= result.total
    index.close()
    unbounded.close()
