"""Stories: copies of one article grouped, the same after incremental runs as after a full
rebuild, and shown as one hit with its copies folded under it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import build, copy_seeds
from searchapp.index import stories
from searchapp.settings import Settings
from searchapp.search import SearchIndex, SearchRequest

# Two outlets running one wire story (the real seeds have one such pair too).
WIRE = ("Regulator fines water company over sewage spills into rivers",
        "The environment regulator has fined the water company a record sum after it admitted "
        "releasing untreated sewage into three rivers over five years, in breach of its permits, "
        "and ordered it to pay for the clean-up of the affected stretches.")
OTHER = ("Council approves new cycle lanes across the city centre",
         "Councillors voted to build segregated cycle lanes on four main roads after a "
         "consultation in which most residents backed the plan, despite objections from some "
         "shop owners about the loss of parking spaces.")


def seed(title: str, excerpt: str, outlet: str, day: int = 1, url: str = "",
         when: str = "") -> str:
    domain = outlet.lower().replace(" ", "") + ".example"
    url = url or f"https://{domain}/{abs(hash((title, outlet))) % 10**8}"
    return (f'---\ntitle: "{title}"\nexcerpt: "{excerpt}"\nwebUrl: "{url}"\n'
            f"publishedDateTime: {when or f'2024-03-{day:02d}T08:00:00Z'}\n"
            f"provider:\n  name: {outlet}\n  domain: {domain}\ntopics: [Environment]\n---\n")


def edited(text: str, cut: int) -> str:
    """A copy as another outlet runs it: the excerpt cut shorter, a word changed."""
    words = text.split()
    return " ".join(words[:len(words) - cut]).replace("record", "large") + " …"


def story_ids(index: Path) -> dict[str, str]:
    """Every record's story id, as the export gives it."""
    search = SearchIndex(index)
    try:
        export = search.export(SearchRequest(group="records"))
        return {r["id"]: r["story_id"] for batch in export for r in batch}
    finally:
        search.close()


def groups(ids: dict[str, str]) -> set[frozenset[str]]:
    by_story: dict[str, set[str]] = {}
    for rid, story in ids.items():
        by_story.setdefault(story, set()).add(rid)
    return {frozenset(v) for v in by_story.values() if len(v) > 1}


def full_rebuild_of(seeds: Path, tmp_path: Path) -> dict[str, str]:
    other = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
    build(seeds, other, full=True)
    return story_ids(other)


def test_copies_share_the_smallest_id_and_incremental_runs_equal_a_full_rebuild(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    (seeds / "wire-a.txt").write_text(seed(*WIRE, "Daily Post"), encoding="utf-8")
    (seeds / "other.txt").write_text(seed(*OTHER, "City News"), encoding="utf-8")
    build(seeds, index)
    first = story_ids(index)
    assert first == full_rebuild_of(seeds, tmp_path)

    # A second outlet runs the wire story: the stories merge.
    (seeds / "wire-b.txt").write_text(seed(WIRE[0], edited(WIRE[1], 4), "Evening Star", 2),
                                      encoding="utf-8")
    build(seeds, index)
    merged = story_ids(index)
    assert merged == full_rebuild_of(seeds, tmp_path)
    search = SearchIndex(index)
    try:
        hits = search.search(SearchRequest(q="sewage spills", group="records")).hits
    finally:
        search.close()
    copies = {h.id for h in hits}
    assert len(copies) == 2 and len({merged[c] for c in copies}) == 1
    assert merged[next(iter(copies))] == min(copies)  # a story's id: its smallest record id

    # A third copy bridges nothing new; then the first copy is rewritten as another story
    # (the story splits) and the second deleted (what is left stands alone).
    (seeds / "wire-c.txt").write_text(seed(WIRE[0], edited(WIRE[1], 2), "Morning Herald", 3),
                                      encoding="utf-8")
    build(seeds, index)
    assert story_ids(index) == full_rebuild_of(seeds, tmp_path)
    (seeds / "wire-a.txt").write_text(seed(*OTHER, "Daily Post"), encoding="utf-8")
    build(seeds, index)
    split = story_ids(index)
    assert split == full_rebuild_of(seeds, tmp_path)
    (seeds / "wire-b.txt").unlink()
    build(seeds, index)
    after = story_ids(index)
    assert after == full_rebuild_of(seeds, tmp_path)
    assert groups(after) != groups(split)


def test_the_real_seeds_group_the_syndicated_story_and_nothing_else(index_dir):
    ids = story_ids(index_dir)
    search = SearchIndex(index_dir)
    try:
        by_id = {h.id: h.record for h in search.search(
            SearchRequest(q="", group="records", per_page=100)).hits}
    finally:
        search.close()
    found = [{by_id[r]["provider"]["name"] for r in g} for g in groups(ids)]
    assert found == [{"Express & Star", "The Irish News"}]


def test_a_changed_threshold_regroups_everything(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    index = tmp_path / "index"
    from searchapp.index.indexer import Indexer
    (seeds / "wire-a.txt").write_text(seed(*WIRE, "Daily Post"), encoding="utf-8")
    (seeds / "wire-b.txt").write_text(seed(WIRE[0], edited(WIRE[1], 4), "Evening Star", 2),
                                      encoding="utf-8")
    Indexer(Settings(seeds=seeds, index=index, lock_timeout=2)).run()
    assert len(groups(story_ids(index))) == 2
    (seeds / "new.txt").write_text(seed(*OTHER, "City News"), encoding="utf-8")
    Indexer(Settings(seeds=seeds, index=index, lock_timeout=2, story_threshold=0.99)).run()  # exact copies
    assert len(groups(story_ids(index))) == 1  # the syndicated seeds, word for word the same


# -- the grouping itself, on made-up signatures ---------------------------------------------

WORDS = ("police camera council privacy vote court data school budget drone hospital ban "
         "report market energy water river city lane shop").split()


def _texts(draw_seed: int, n: int) -> list[str]:
    """Variations of a few texts; half of them a few words off one made before, so that
    chains form (each text alike the one it came from, the ends of a chain not alike)."""
    rng = np.random.default_rng(draw_seed)
    bases = [[WORDS[i] for i in rng.integers(0, len(WORDS), 24)] for _ in range(max(1, n // 4))]
    out = []
    for _ in range(n):
        if out and rng.random() < 0.5:
            words, changes = out[rng.integers(0, len(out))].split(), rng.integers(1, 4)
        else:
            words, changes = list(bases[rng.integers(0, len(bases))]), rng.integers(0, 8)
        for _ in range(changes):
            words[rng.integers(0, len(words))] = WORDS[rng.integers(0, len(WORDS))]
        out.append(" ".join(words))
    return out


def assert_bounded(found: stories.Stories, keys, sigs, dates, rule: stories.Rule) -> None:
    """Every story's id is its smallest member; every copy is alike its story's first (the
    earliest, undated last, then the smallest id key) and within the window of it; a story
    lies in one chain."""
    row = {k: i for i, k in enumerate(keys.tolist())}
    when = lambda k: (dates[row[k]] <= stories.UNDATED, dates[row[k]], k)  # noqa: E731
    date = lambda k: None if dates[row[k]] <= stories.UNDATED else int(dates[row[k]])  # noqa: E731
    for story in np.unique(found.story):
        members = sorted(found.keys[found.story == story].tolist(), key=when)
        assert story == min(members)
        assert len(set(found.chain_of(np.array(members)).tolist())) == 1
        first = members[0]
        for other in members[1:]:
            assert stories.alike(sigs[row[first]].tobytes(), sigs[row[other]].tobytes(), rule,
                                 dates=(date(first), date(other)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed_=st.integers(0, 10_000), n=st.integers(2, 60), removed=st.integers(0, 10),
       added=st.integers(0, 10), threshold=st.sampled_from([0.4, 0.6, 0.8]),
       window=st.sampled_from([0, 36]))
def test_regrouping_after_changes_equals_grouping_from_scratch_and_stories_are_bounded(
        seed_, n, removed, added, threshold, window):
    texts = _texts(seed_, n + added)
    keys = np.arange(len(texts), dtype=np.int64) * 3 - 50
    sigs, present = stories.signatures([stories.signature("", t) for t in texts])
    rng = np.random.default_rng(seed_ + 2)
    dates = np.where(rng.random(len(texts)) < 0.2, stories.UNDATED,
                     rng.integers(0, 4 * 86400, len(texts)))  # some too far apart to join
    rule = stories.Rule(threshold, window)
    before_rows = np.arange(n)
    before = stories.group(keys[before_rows], sigs[before_rows], present[before_rows],
                           dates[before_rows], rule)
    rng = np.random.default_rng(seed_ + 1)
    gone = rng.choice(n, size=min(removed, n), replace=False)
    now = rng.permutation(np.setdiff1d(np.arange(n + added), gone))  # a reader's order
    changed = np.concatenate([keys[gone], keys[n:n + added]])
    again = stories.regroup(keys[now], sigs[now], present[now], dates[now], before, changed, rule)
    fresh = stories.group(keys[now], sigs[now], present[now], dates[now], rule)
    assert np.array_equal(again.keys, fresh.keys) and np.array_equal(again.story, fresh.story)
    assert np.array_equal(again.chain, fresh.chain)
    assert_bounded(fresh, keys[now], sigs[now], dates[now], rule)


def test_short_texts_are_never_judged_and_alike_needs_enough_agreement():
    assert stories.signature("U.S. weekly money supply", "") == b""
    a = stories.signature(*WIRE)
    rule = stories.Rule(Settings().story_threshold, Settings().story_window_hours)
    assert stories.alike(a, stories.signature(WIRE[0], edited(WIRE[1], 4)), rule)
    assert not stories.alike(a, stories.signature(*OTHER), rule)
    day = 86400
    assert stories.alike(a, a, rule, dates=(0, day)) and not stories.alike(a, a, rule, dates=(0, 2 * day))
    assert stories.alike(a, a, stories.Rule(rule.threshold, 0), dates=(0, 2 * day))
    # A recurring report with other figures is told apart by them.
    report = ("Fed adds reserves via customer repurchases",
              "The Federal Reserve entered the government securities market to supply {} "
              "billion dlrs of temporary reserves indirectly via {} billion dlrs of customer "
              "repurchase agreements, a Fed spokesman said. Dealers said Federal funds were "
              "trading at {} pct when the Fed began its temporary and indirect supply.")
    assert not stories.alike(stories.signature(report[0], report[1].format(1.5, 2, 6.1)),
                             stories.signature(report[0], report[1].format(3.0, 4, 6.3)), rule)
    assert stories.agreement(a, a) == 1.0 and stories.agreement(a, b"") == 0.0


# -- the web page, the API and the exports ----------------------------------------------------

def test_one_hit_per_story_with_its_copies_and_every_copy_when_asked(client):
    page = client.get("/search?q=civil+liberties+groups+demand").get_data(as_text=True)
    assert re.search(r"<strong>\d+</strong> records in <strong>\d+</strong> stories", page)
    folded = re.findall(r'<details class="copies">.*?</details>', page, re.S)
    assert len(folded) == 1 and "+1 other outlet" in folded[0]
    assert re.search(r"The Irish News|Express &amp; Star", folded[0])

    every = client.get("/search?q=civil+liberties+groups+demand&group=records").get_data(
        as_text=True)
    assert every.count("<h2 class=\"hit-title\">") == page.count("<h2 class=\"hit-title\">") + 1
    assert "other outlet" not in every

    data = client.get("/api/search?q=civil+liberties+groups+demand").get_json()
    assert data["group"] == "story" and data["stories"] == data["total"] - 1
    grouped = [h for h in data["results"] if h["copies"]]
    assert len(grouped) == 1 and grouped[0]["copies"][0]["provider"]["name"] in (
        "The Irish News", "Express & Star")
    story = grouped[0]["story_id"]
    both = client.get(f"/api/search?story={story}").get_json()
    assert both["total"] == 2 and {h["story_id"] for h in both["results"]} == {story}
    assert client.get("/api/search?story=nope").status_code == 400
    assert client.get("/api/search?group=all").status_code == 400


def test_exports_carry_the_story_id(client):
    text = client.get("/export.csv?q=civil+liberties").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(re.fullmatch(r"[0-9a-f]{16}", r["story_id"]) for r in rows)
    copies = [r for r in rows if r["title"] == "Civil liberties groups demand ban on facial "
                                               "recognition technology"]
    assert len(copies) == 2 and copies[0]["story_id"] == copies[1]["story_id"] \
        == min(c["id"] for c in copies)
    lines = client.get("/export.jsonl?q=civil+liberties").get_data(as_text=True).splitlines()
    assert all('"story_id"' in line for line in lines)


def test_the_timeline_and_top_sources_can_count_stories(client):
    records = client.get("/search?q=civil+liberties+groups+demand").get_data(as_text=True)
    stories_ = client.get("/search?q=civil+liberties+groups+demand&count=stories").get_data(
        as_text=True)
    assert "by stories" in stories_ and "stories (each at its first copy)" in stories_
    table = lambda page: [int(n) for n in re.findall(r"<td>(\d+)</td>", page)]  # noqa: E731
    assert sum(table(stories_)) < sum(table(records)) or table(stories_) != table(records)


def test_counting_stories_measures_shares_against_all_stories_and_says_so(client):
    """With count=stories a share is of stories over stories, and every place that names the
    baseline (the table, the bars, the CSV) says stories: a share of stories over all
    records would mix two measures."""
    records = client.get("/timeline.csv?q=&span=all&interval=year").get_data(as_text=True)
    stories_ = client.get("/timeline.csv?q=&span=all&interval=year&count=stories").get_data(
        as_text=True)
    head, *rows = list(csv.reader(io.StringIO(stories_)))
    assert head == ["start", "end", "count", "all_stories", "share"]
    assert list(csv.reader(io.StringIO(records)))[0][3] == "all_records"
    # Browsing everything, each period's stories are all its stories: every share is whole.
    assert rows and all(r[2] == r[3] and float(r[4]) == 1.0 for r in rows if int(r[3]))
    every = client.get("/api/search?q=&count=stories").get_json()
    assert sum(int(r[2]) for r in rows) <= every["stories"] < every["total"]
    page = client.get("/search?q=civil+liberties&count=stories&scale=share").get_data(
        as_text=True)
    assert '<th scope="col">All stories</th>' in page and "Share of all stories" in page
    assert re.search(r"\d+ of [\d,]+ stories \(", page)
    assert not re.search(r"\d+ of [\d,]+ records \(", page)


def test_the_record_page_lists_its_copies_and_marks_the_search_words(client):
    data = client.get("/api/search?q=civil+liberties+groups+demand").get_json()
    hit = next(h for h in data["results"] if h["copies"])
    page = client.get(f"/doc/{hit['id']}?q=facial+recognition").get_data(as_text=True)
    assert "Copies of this story (2 records)" in page
    assert hit["copies"][0]["provider"]["name"] in page
    assert "<mark>facial</mark>" in page and "<mark>recognition</mark>" in page
    assert "The words of “facial recognition” are marked" in page
    plain = client.get(f"/doc/{hit['id']}").get_data(as_text=True)
    assert "<mark>" not in plain
    hostile = client.get(f"/doc/{hit['id']}?q=" + "%22" * 3 + "<script>").get_data(as_text=True)
    assert "<script>" not in hostile
    api = client.get(f"/api/doc/{hit['id']}").get_json()
    assert api["story_id"] == hit["story_id"] and api["copies"] == [hit["copies"][0]["id"]]


@pytest.mark.browser
def test_stories_collapse_and_expand_in_the_browser(page, live_site, screenshots):
    from playwright.sync_api import expect
    page.goto(live_site.url + "/search?q=civil+liberties+groups+demand")
    hit = page.locator(".hit", has=page.locator(".copies"))
    expect(hit).to_have_count(1)
    summary = hit.locator(".copies summary")
    expect(summary).to_contain_text("+1 other outlet")
    copy = hit.locator(".copy-list li").first
    expect(copy).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")  # a keyboard opens it as a click does
    expect(copy).to_be_visible()
    expect(copy).to_contain_text(re.compile("The Irish News|Express & Star"))
    page.screenshot(path=screenshots / "stories-expanded.png", full_page=True)
    count = page.locator(".hit-title").count()
    page.select_option("select[name=group]", "records")
    expect(page.locator(".hit-title")).to_have_count(count + 1)
    expect(page.locator(".copies")).to_have_count(0)
    assert "group=records" in page.url
    page.select_option("select[name=group]", "story")
    expect(page.locator(".copies")).to_have_count(1)
    page.locator(".copies summary").click()
    copy_link = page.locator(".copy-list li a").first
    copy_link.click()
    expect(page.locator("h1")).to_contain_text("Civil liberties groups demand ban")
    expect(page.locator("h1 mark").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Copies of this story (2 records)")


def test_signatures_are_read_in_one_gather_and_equal_whoosh_s_own_values(index_dir):
    from searchapp.engine import columns, segments
    from searchapp.index import store
    columns.PATHS.clear()
    with store.open_live(index_dir).searcher() as searcher:
        reader = searcher.reader()
        keys, sigs, present, _ = stories.of_reader(reader)
        whoosh = [bytes(v) for leaf, _, _ in segments.leaves(reader)
                  for v in leaf.column_reader("c_minhash", translate=False)]
    assert columns.PATHS["fixed bytes: arrays"] > 0
    assert columns.PATHS["fixed bytes: one at a time"] == columns.PATHS["fixed bytes: one read"] == 0
    mine, has = stories.signatures(whoosh)
    assert np.array_equal(sigs, mine) and np.array_equal(present, has) and present.any()


def test_counting_and_folding_agree_with_the_plain_definitions(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    for n, outlet in enumerate(("Daily Post", "Evening Star", "Morning Herald")):
        (seeds / f"wire-{n}.txt").write_text(seed(WIRE[0], edited(WIRE[1], n), outlet, 1 + n % 2),
                                             encoding="utf-8")
    build(seeds, tmp_path / "index")
    search = SearchIndex(tmp_path / "index")
    try:
        with search.using() as snap:
            cols = snap.columns
            rng = np.random.default_rng(5)
            for _ in range(50):
                docs = np.sort(rng.choice(cols.all_docs, rng.integers(0, len(cols.all_docs) + 1),
                                          replace=False))
                assert cols.story_count(docs) == len(np.unique(cols.story[docs]))
                firsts = cols.firsts(docs)  # one per story, its earliest
                assert sorted(cols.story[firsts].tolist()) == sorted(set(cols.story[docs].tolist()))
                for d in firsts.tolist():
                    rivals = docs[cols.story[docs] == cols.story[d]]
                    assert cols.dates[d] == cols.dates[rivals].min()
                one_each = cols.per_story("provider", docs)  # one per (story, source)
                pairs = {(s, v) for s, v in zip(cols.story[docs].tolist(),
                                                cols.ordinals["provider"][docs].tolist())}
                assert len(one_each) == len(pairs)
                for d in docs.tolist():
                    same = docs[(cols.story[docs] == cols.story[d]) & (docs != d)]
                    assert sorted(cols.copies_in(d, docs).tolist()) == sorted(same.tolist())
    finally:
        search.close()
