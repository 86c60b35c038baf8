"""Stories bounded as a whole (issue 29): a chain of records, each alike the one before, is
cut into stories that each keep to the window of their first copy and stay alike it, the
same after incremental runs as after a full rebuild, whatever order the records arrive in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from conftest import build
from searchapp.index import stories
from searchapp.search import SearchIndex, SearchRequest
from searchapp.settings import Settings
from test_stories import seed


def _made_up(n: int) -> str:
    """A word of letters only (one with a digit would weigh as a figure)."""
    syllables = "ka lo mi ne ru sa te vi zo pa".split()
    return "".join(syllables[n // 10 ** k % 10] for k in range(3))


def drifted(changed) -> tuple[str, str]:
    """A title and excerpt of 60 made-up words, those at the places `changed` swapped."""
    now = [_made_up(500 + n if n in changed else n) for n in range(60)]
    return " ".join(now[:8]).capitalize(), " ".join(now[8:]) + "."


def write_drifted(folder: Path, k: int, changed, hours: float) -> tuple[str, str, str, int]:
    """Seed file chain-<k> of `drifted(changed)`, published `hours` after the first:
    (url, title, excerpt, seconds after the first)."""
    title, excerpt = drifted(set(changed))
    when = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(hours=hours)
    url = f"https://chain.example/{k}"
    (folder / f"chain-{k:02d}.txt").write_text(
        seed(title, excerpt, f"Outlet {k % 7}", url=url,
             when=when.strftime("%Y-%m-%dT%H:%M:%SZ")), encoding="utf-8")
    return url, title, excerpt, int(hours * 3600)


def chain_seeds(folder: Path, numbers, hours: float = 30) -> dict[str, tuple[str, str, int]]:
    """Issue 29's chain: record k is record k-1 with one more word changed, published `hours`
    after it; 61 records, so the first and the last share no word. Writes the `numbers`
    asked for; returns each one's url -> (title, excerpt, seconds after the first)."""
    out = {}
    for k in numbers:
        url, *made = write_drifted(folder, k, range(k), hours * k)
        out[url] = tuple(made)
    return out


def stories_by_url(index: Path) -> dict[str, str]:
    """Every record's story id, by its url."""
    search = SearchIndex(index)
    try:
        export = search.export(SearchRequest(group="records"))
        return {r["url"]: r["story_id"] for batch in export for r in batch}
    finally:
        search.close()


def made_url(k: int) -> str:
    return f"https://chain.example/{k}"


def full_rebuild_of_by_url(seeds: Path, tmp_path: Path) -> dict[str, str]:
    other = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
    build(seeds, other, full=True)
    return stories_by_url(other)


def test_a_chain_of_near_duplicates_30_hours_apart_is_not_one_75_day_story(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    made = chain_seeds(seeds, range(61))
    build(seeds, tmp_path / "index")
    found = stories_by_url(tmp_path / "index")
    members: dict[str, list[str]] = {}
    for url in sorted(made, key=lambda u: made[u][2]):
        members.setdefault(found[url], []).append(url)
    rule = stories.Rule(Settings().story_threshold, Settings().story_window_hours)
    for story in members.values():
        first = made[story[0]]
        for url in story[1:]:  # every copy within the window of its story's first, and alike it
            assert made[url][2] - first[2] <= rule.window_hours * 3600
            assert stories.alike(stories.signature(*first[:2]), stories.signature(*made[url][:2]),
                                 rule, dates=(first[2], made[url][2]))
    # Each record is alike the ones 30 h before and after it (60 h is past the window), so
    # each story is a first copy and the next record: pairs.
    assert [len(story) for story in members.values()] == [2] * 30 + [1]


def test_a_chain_is_cut_the_same_whichever_order_its_records_arrive_in(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    chain_seeds(seeds, range(1, 31))
    build(seeds, index)
    first_run = stories_by_url(index)
    assert first_run == full_rebuild_of_by_url(seeds, tmp_path)
    chain_seeds(seeds, [0])  # an earlier copy turns up: the cut moves along the chain
    build(seeds, index)
    earlier = stories_by_url(index)
    assert earlier == full_rebuild_of_by_url(seeds, tmp_path)
    assert earlier[made_url(1)] != earlier[made_url(2)] == earlier[made_url(3)]
    assert first_run[made_url(1)] == first_run[made_url(2)] != first_run[made_url(3)]
    chain_seeds(seeds, range(31, 61))
    build(seeds, index)
    assert stories_by_url(index) == full_rebuild_of_by_url(seeds, tmp_path)
    (seeds / "chain-20.txt").unlink()  # the chain breaks in two
    build(seeds, index)
    broken = stories_by_url(index)
    assert broken == full_rebuild_of_by_url(seeds, tmp_path)
    assert broken[made_url(19)] not in {broken[made_url(k)] for k in range(21, 61)}


def test_a_rewritten_copy_is_judged_by_its_new_text_not_the_one_it_replaced(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    # `later` rewrites half the words: all three keep one headline, under which copies
    # need only the threshold squared of agreement (alike.py).
    first, block, later = set(), set(range(10, 16)), set(range(20, 50))
    rule = stories.Rule(Settings().story_threshold, Settings().story_window_hours)
    sig = lambda changed: stories.signature(*drifted(changed))  # noqa: E731
    assert stories.alike(sig(first), sig(block | {50}), rule)
    assert stories.alike(sig(block), sig(block | later), rule)
    assert not stories.alike(sig(first), sig(block | later), rule)
    for k, changed in enumerate((first, block, block | {50})):
        write_drifted(seeds, k, changed, 10 * k)
    build(seeds, index)
    assert len(set(stories_by_url(index).values())) == 1
    write_drifted(seeds, 2, block | later, 20)  # alike the second still, no longer the first
    build(seeds, index)
    found = stories_by_url(index)
    assert found == full_rebuild_of_by_url(seeds, tmp_path)
    assert found[made_url(0)] == found[made_url(1)] != found[made_url(2)]


def test_stories_kept_before_they_were_bounded_are_grouped_again(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    chain_seeds(seeds, range(61))
    build(seeds, index)
    bounded = stories_by_url(index)
    [kept] = index.glob("**/stories-*.npz")
    now = stories.Stories.load(kept)
    one = np.full(len(now.keys), now.keys.min())
    with open(kept, "wb") as handle:  # as the index kept them: the chain, one story
        np.savez(handle, keys=now.keys, story=one, rule=np.array([now.rule]))
    assert stories.Stories.load(kept) is None
    assert stories_by_url(index) == bounded  # a reader groups them again itself
    build(seeds, index)  # and the next run, though nothing changed, keeps them again
    again = stories.Stories.load(kept)
    assert again is not None and np.array_equal(again.story, now.story)
