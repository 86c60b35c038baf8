"""Indexing: record counts, dedup, incremental runs equal to full rebuilds, and nothing lost."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from searchapp.index import manifest, store
from searchapp.index.indexer import Indexer
from searchapp.settings import Settings
from searchapp.index.schema import FORMAT
from searchapp.search import SearchIndex, SearchRequest
from conftest import FIXTURES, SEEDS, build, index_contents


contents = index_contents


def records(index: Path) -> dict[str, dict]:
    return {rid: v["record"] for rid, v in contents(index).items()}


def by_title(index: Path) -> dict[str, dict]:
    return {r["title"]: r for r in records(index).values()}


def test_record_count_is_seeds_plus_distinct_related_urls(index_dir):
    recs = records(index_dir)
    related_urls = set()
    for f in SEEDS.iterdir():
        text = f.read_text(encoding="utf-8")
        related_urls |= {line.split('"')[1] for line in text.split("related:")[1].splitlines()
                         if line.strip().startswith("webUrl:")}
    seed_urls = {r["url"] for r in recs.values() if r["kind"] == "seed"}
    assert len([r for r in recs.values() if r["kind"] == "seed"]) == 5
    assert len(recs) == 5 + len(related_urls - seed_urls) == 23


def test_article_that_is_a_seed_and_a_related_entry_is_one_seed_record(index_dir):
    pi = by_title(index_dir)["PI and 30 CSOs unite against use of live facial recognition technology"]
    assert pi["kind"] == "seed"
    assert pi["topics"] == ["Computer Vision", "AI"]  # the seed's data won
    assert pi["sources"] == ["001_fb559b05b6f8c451.txt", "002_2aecd8ef6c2bfcb0.txt"]
    citing = records(index_dir)[pi["cited_by"][0]]
    assert citing["title"] == "Civil liberties groups demand total ban on facial recognition technology"


def test_related_record_cited_by_two_seeds_survives_deleting_one(seeds_dir, index_dir):
    title = "Calls against use of live facial recognition tech in Britain grow, Parliament petitioned"
    assert len(by_title(index_dir)[title]["cited_by"]) == 2
    (seeds_dir / "003_846b0d9d21d4c20f.txt").unlink()
    summary = build(seeds_dir, index_dir)
    assert (summary.deleted, summary.removed, summary.updated) == (1, 1, 1)
    survivor = by_title(index_dir)[title]
    assert survivor["sources"] == ["001_fb559b05b6f8c451.txt"] and len(survivor["cited_by"]) == 1


def test_secured_is_not_in_the_index(index_dir):
    files = [f for f in index_dir.rglob("*") if f.is_file()]
    assert any(f.parent.name.startswith("spelling-") for f in files)  # the spelling index too
    for f in files:
        assert b"DLTkRwzMiVojmyMc" not in f.read_bytes(), f


def test_new_seed_file_is_reported_and_searchable(seeds_dir, index_dir):
    (seeds_dir / "new.txt").write_text(
        '---\ntitle: "Zebra crossings get cameras"\nwebUrl: "https://example.org/zebra"\n---\n',
        encoding="utf-8")
    summary = build(seeds_dir, index_dir)
    assert (summary.seen, summary.new, summary.changed, summary.added) == (6, 1, 0, 1)
    assert "6 files seen, 1 new, 0 changed, 0 deleted, 0 rejected" in summary.line()
    index = SearchIndex(index_dir)
    assert [h.record["title"] for h in index.search(SearchRequest(q="zebra")).hits] == [
        "Zebra crossings get cameras"]
    index.close()


def test_unchanged_run_touches_nothing(seeds_dir, index_dir):
    generation = store.live(index_dir).generation
    (seeds_dir / "000_9bbfbf767327a7e8.txt").touch()
    summary = build(seeds_dir, index_dir)
    assert (summary.new, summary.changed, summary.added, summary.updated) == (0, 0, 0, 0)
    assert store.live(index_dir).generation == generation


def test_file_that_turns_bad_keeps_its_records_until_fixed(seeds_dir, index_dir):
    before = records(index_dir)
    good = (seeds_dir / "004_b5ab22eff5a58556.txt").read_text(encoding="utf-8")
    (seeds_dir / "004_b5ab22eff5a58556.txt").write_text(good.replace("title:", "title: [", 1),
                                                        encoding="utf-8")
    summary = build(seeds_dir, index_dir)
    assert summary.rejected == 1 and not summary.ok
    assert "keeping the 3 record(s) indexed from its last good version" in str(summary.errors[0])
    assert records(index_dir) == before
    full = build(seeds_dir, index_dir, full=True)  # a full rebuild loses nothing either
    assert full.rejected == 1 and records(index_dir) == before
    (seeds_dir / "004_b5ab22eff5a58556.txt").write_text(good, encoding="utf-8")
    assert build(seeds_dir, index_dir).ok and records(index_dir) == before


def test_bad_files_are_reported_and_the_rest_indexed(seeds_dir, tmp_path):
    for f in (FIXTURES / "bad").iterdir():
        shutil.copy(f, seeds_dir / f.name)
    summary = build(seeds_dir, tmp_path / "index", max_seed_bytes=64 * 1024)
    assert summary.rejected == 12
    reported = {str(p).split(":")[0] for p in summary.errors}
    assert reported == {f.name for f in (FIXTURES / "bad").iterdir()}
    assert len(records(tmp_path / "index")) == 23


def test_same_url_in_two_seed_files_is_one_record_naming_both(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(FIXTURES / "dup", seeds)
    summary = build(seeds, tmp_path / "index")
    recs = list(records(tmp_path / "index").values())
    assert len(recs) == 1 and recs[0]["title"] == "Same article, first file"
    assert recs[0]["sources"] == ["a.txt", "b.txt"]
    assert [str(w) for w in summary.warnings] == [
        "b.txt: same URL as a.txt: indexed as one record with the data of a.txt"]


def test_full_rebuild_swaps_in_a_new_build_and_equals_incremental(seeds_dir, index_dir):
    old_build = store.live_build(index_dir)
    incremental = contents(index_dir)
    build(seeds_dir, index_dir, full=True)
    assert store.live_build(index_dir) != old_build
    assert contents(index_dir) == incremental


def test_index_of_another_format_is_refused_by_search_and_rebuilt_by_index(seeds_dir, index_dir):
    old_build = store.live_build(index_dir)
    (old_build / store.META).write_text(json.dumps({"format": FORMAT + 99}), encoding="utf-8")
    with pytest.raises(store.FormatMismatch, match=r"run `searchapp index --full`"):
        SearchIndex(index_dir).stats()
    summary = build(seeds_dir, index_dir)
    assert summary.full
    assert f"built with format {FORMAT + 99}" in summary.warnings[0]
    assert store.live_build(index_dir) != old_build
    assert len(records(index_dir)) == 23


def test_a_server_names_an_index_of_an_older_format_and_what_to_run(seeds_dir, index_dir):
    """An index of format 9 (Whoosh's W3 segments) is named at a server's start with the
    command that rebuilds it; `searchapp index` rebuilds it into array segments."""
    from searchapp.index import check

    old_build = store.live_build(index_dir)
    (old_build / store.META).write_text(json.dumps({"format": 9}), encoding="utf-8")
    said = check.damage(index_dir)
    assert "built with format 9" in said and f"reads format {FORMAT}" in said
    assert "run `searchapp index --full`" in said
    summary = build(seeds_dir, index_dir)
    assert summary.full and "built with format 9" in summary.warnings[0]
    assert check.damage(index_dir) is None
    live = store.live(index_dir)
    assert list(live.folders[0].glob("*.arrterms")) and not list(live.folders[0].glob("*.seg"))


def test_second_writer_waits_then_names_the_lock(seeds_dir, index_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from searchapp.index import store\n"
         "with store.write_lock(Path(sys.argv[1]), 5):\n print('locked', flush=True); sys.stdin.read()",
         str(index_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(store.LockTimeout) as caught:
            Indexer(Settings(seeds=seeds_dir, index=index_dir, lock_timeout=0.5)).run()
        # It waited out its timeout (a lower bound no slow machine breaks) and said so; that
        # it gave up at all, while the holder holds on until told, is what returned.
        assert time.monotonic() - started >= 0.5
        assert "waited 0.5s for the lock" in str(caught.value)
        assert holder.poll() is None  # still holding: the writer gave up, the lock did not go
        assert str(index_dir / ".write.lock") in str(caught.value)
        assert f"pid {holder.pid}" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()
    assert Indexer(Settings(seeds=seeds_dir, index=index_dir, lock_timeout=2)).run().ok  # a dead holder leaves no lock


# -- incremental equals full, over random sequences of changes ----------------------------

URLS = [f"https://news.example/{n}" for n in ("a", "b", "c", "d", "e", "f")]
NAMES = ["one.txt", "two.txt", "sub/three.txt", "four.txt"]
WORDS = ["police", "ban", "camera", "privacy", "council", "vote"]


@st.composite
def seed_texts(draw):
    url = draw(st.sampled_from(URLS + [None]))
    related = draw(st.lists(st.sampled_from(URLS), max_size=3, unique=True))
    title = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
    lines = ["---", f'title: "{title}"', f'publishedDateTime: 2021-0{draw(st.integers(1, 9))}-01T00:00:00Z']
    if url:
        lines.append(f'webUrl: "{url}"')
    if draw(st.booleans()):
        lines.append(f"topics: [{draw(st.sampled_from(['AI', 'Privacy']))}]")
    if related:
        lines.append("related:")
        for r in related:
            lines += [f'  - title: "about {r[-1]} {draw(st.sampled_from(WORDS))}"', f'    webUrl: "{r}"']
    return "\n".join(lines + ["---", ""])


steps = st.lists(st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), seed_texts()),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.none()),
), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_incremental_index_equals_a_full_rebuild_after_every_step(tmp_path_factory, actions):
    base = tmp_path_factory.mktemp("prop")
    seeds, incremental = base / "seeds", base / "incremental"
    seeds.mkdir()
    for number, (action, name, text) in enumerate(actions):
        path = seeds / name
        if action == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        elif path.exists():
            path.unlink()
        build(seeds, incremental)
        fresh = base / f"full-{number}"
        build(seeds, fresh, full=True)
        assert contents(incremental) == contents(fresh)


def test_parallel_full_build_equals_a_serial_one(seeds_dir, tmp_path, monkeypatch):
    from searchapp.index import build as full_build
    from searchapp.ingest import reading
    build(seeds_dir, tmp_path / "serial", full=True)
    monkeypatch.setattr(full_build, "PARALLEL_WRITE_FROM", 1)
    monkeypatch.setattr(reading, "PARALLEL_FROM", 1)
    build(seeds_dir, tmp_path / "parallel", full=True)
    assert contents(tmp_path / "parallel") == contents(tmp_path / "serial")
    index = SearchIndex(tmp_path / "parallel")
    assert index.search(SearchRequest(q="facial recognition")).total == 21
    index.close()


def test_a_run_writes_only_the_manifest_rows_that_changed(tmp_path):
    """The manifest is a database written a row at a time: a run that adds one file and
    deletes another writes two rows, not every file's (119 MB of JSON at 1M files)."""
    from conftest import write_generated
    seeds = tmp_path / "seeds"
    write_generated(seeds, 30)
    build(seeds, tmp_path / "index")
    live = store.live_build(tmp_path / "index")
    read = manifest.Manifest.read(live)
    assert read.in_database and len(read.files) == 30
    write_generated(seeds, 1, start=500)
    (seeds / "gen_00003.txt").unlink()
    writes = []
    original = manifest.Manifest.write
    manifest.Manifest.write = lambda self, *a, **k: writes.append(original(self, *a, **k))
    try:
        build(seeds, tmp_path / "index")
    finally:
        manifest.Manifest.write = original
    assert writes == [2]
    after = manifest.Manifest.read(live)
    assert set(after.files) == set(read.files) - {"gen_00003.txt"} | {"gen_00500.txt"}
    assert after.generation == read.generation + 1


def test_a_manifest_written_as_json_is_read_and_moved_into_the_database(tmp_path):
    from conftest import write_generated
    seeds = tmp_path / "seeds"
    write_generated(seeds, 10)
    build(seeds, tmp_path / "index")
    live = store.live_build(tmp_path / "index")
    old = manifest.Manifest.read(live)
    (live / manifest.NAME).unlink()
    store.write_json(live / manifest.LEGACY, {"generation": old.generation, "written_ns": old.written_ns,
                                              "files": old.files})
    summary = build(seeds, tmp_path / "index")
    assert (summary.new, summary.changed, summary.added, summary.updated) == (0, 0, 0, 0)
    assert not (live / manifest.LEGACY).exists()
    assert manifest.Manifest.read(live).files == old.files


def test_a_lost_manifest_still_converges(seeds_dir, index_dir, tmp_path):
    (store.live_build(index_dir) / manifest.NAME).unlink()
    (seeds_dir / "003_846b0d9d21d4c20f.txt").unlink()  # deleted while the manifest was gone
    summary = build(seeds_dir, index_dir)
    assert summary.deleted == 1
    build(seeds_dir, tmp_path / "reference", full=True)
    assert contents(index_dir) == contents(tmp_path / "reference")


@pytest.mark.parametrize("full", [False, True])
def test_a_kept_bad_file_deleted_later_takes_its_records(seeds_dir, index_dir, full):
    """Found in review: with the manifest lost, a file that then turned bad kept its records
    but got no manifest entry, so its later deletion went unnoticed."""
    new = seeds_dir / "zz-orphan.txt"
    new.write_text('---\ntitle: "Orphanword arrives"\nwebUrl: "https://example.org/orphan"\n---\n',
                   encoding="utf-8")
    build(seeds_dir, index_dir)
    (store.live_build(index_dir) / manifest.NAME).unlink()  # killed before the manifest
    new.write_text("---\ntitle: [unclosed\n", encoding="utf-8")
    summary = build(seeds_dir, index_dir, full=full)
    assert "keeping" in summary.errors[0].message
    assert SearchIndex(index_dir).search(SearchRequest(q="orphanword", typing=False)).total == 1
    new.unlink()
    summary = build(seeds_dir, index_dir)
    assert summary.removed == 1
    assert SearchIndex(index_dir).search(SearchRequest(q="orphanword", typing=False)).total == 0


def test_a_damaged_manifest_is_written_anew_and_the_index_converges(tmp_path):
    from conftest import write_generated
    seeds = tmp_path / "seeds"
    write_generated(seeds, 12)
    build(seeds, tmp_path / "index")
    before = index_contents(tmp_path / "index")
    live = store.live_build(tmp_path / "index")
    (live / manifest.NAME).write_bytes(b"not a database at all" * 100)
    (seeds / "gen_00004.txt").unlink()
    build(seeds, tmp_path / "index")
    build(seeds, tmp_path / "fresh")
    assert index_contents(tmp_path / "index") == index_contents(tmp_path / "fresh") != before
    assert len(manifest.Manifest.read(live).files) == 11
