"""`searchapp index --watch` driven by file-system events: new, changed, deleted and moved
files are indexed without scanning the seeds folder (the indexer counts its scans)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager

import pytest

from searchapp.index.indexer import Indexer
from searchapp.index.watch import watch
from searchapp.search import SearchIndex, SearchRequest
from searchapp.settings import Settings

from conftest import HANG_S, wait_for, write_generated


def _article(title: str) -> str:
    return f'---\ntitle: "{title}"\nexcerpt: "Filed by the watch test."\n---\n'


class Watching:
    """`watch` running in a thread over one seeds folder, with what each run reported."""

    def __init__(self, seeds, index, **settings):
        self.seeds, self.index = seeds, index
        self.indexer = Indexer(Settings(seeds=seeds, index=index, lock_timeout=5))
        self.summaries = []
        self.said: list[str] = []
        self.stopping = False
        self.settings = Settings(seeds=seeds, index=index, **settings)
        self.thread = threading.Thread(target=watch, daemon=True, kwargs=dict(
            indexer=self.indexer, settings=self.settings, report=self.summaries.append,
            stop=lambda: self.stopping, say=self.said.append))
        self.thread.start()

    def wait_for(self, check):
        """The first run whose summary (and the index after it) `check` accepts."""
        try:
            return wait_for(lambda: next((s for s in list(self.summaries) if check(s)), None),
                            "a run that matched")
        except AssertionError:
            raise AssertionError(
                f"no run matched; runs: {[s.line() for s in self.summaries]}") from None

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=10)


@contextmanager
def watching(tmp_path, files: int, **settings):
    """A watcher over `files` generated seeds, once its first run is done."""
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, files)
    w = Watching(seeds, index, **settings)
    try:
        w.wait_for(lambda s: s.full)
        yield w
    finally:
        w.stop()


def _found(index_dir, q: str) -> int:
    index = SearchIndex(index_dir)
    try:
        return index.search(SearchRequest(q=q, typing=False)).total
    finally:
        index.close()


def test_new_changed_deleted_and_moved_files_are_indexed_without_a_folder_scan(tmp_path):
    with watching(tmp_path, 300) as w:
        seeds, index = w.seeds, w.index
        assert w.indexer.scans == 1  # the first run's
        for n in range(3):
            (seeds / f"new-{n}.txt").write_text(_article(f"Quokkas sighted in town {n}"),
                                                encoding="utf-8")
        w.wait_for(lambda s: s.new >= 1)
        w.wait_for(lambda s: sum(x.added for x in w.summaries[1:]) >= 3)
        assert _found(index, "quokkas") == 3

        (seeds / "new-0.txt").write_text(_article("Wombats instead"), encoding="utf-8")
        (seeds / "new-1.txt").unlink()
        w.wait_for(lambda s: s.deleted == 1 or s.changed == 1)
        w.wait_for(lambda s: _found(index, "quokkas") == 1 and _found(index, "wombats") == 1)

        # A folder of files moved in at once makes one event, for the folder.
        batch = tmp_path / "batch"
        batch.mkdir()
        for n in range(4):
            (batch / f"b{n}.txt").write_text(_article(f"Platypus report {n}"), encoding="utf-8")
        os.rename(batch, seeds / "batch")
        w.wait_for(lambda s: _found(index, "platypus") == 4)
        # ... and moving it away takes its records.
        shutil.move(seeds / "batch", tmp_path / "gone")
        w.wait_for(lambda s: _found(index, "platypus") == 0)
        assert w.indexer.scans == 1, "a watched run scanned the whole seeds folder"


def test_a_file_rejected_while_half_written_is_indexed_once_it_is_whole(tmp_path):
    with watching(tmp_path, 20) as w:
        path = w.seeds / "arriving.txt"
        path.write_text('---\ntitle: "Half writ', encoding="utf-8")
        time.sleep(0.3)  # the scenario: a writer that pauses mid-file, long enough for a run
        path.write_text(_article("Echidnas are whole now"), encoding="utf-8")
        w.wait_for(lambda s: _found(w.index, "echidnas") == 1)


def test_polling_finds_new_files_where_events_do_not_arrive(tmp_path):
    with watching(tmp_path, 20, watch_polling=True, watch_interval=0.1, watch_settle=0.2) as w:
        (w.seeds / "polled.txt").write_text(_article("Numbats by polling"), encoding="utf-8")
        w.wait_for(lambda s: _found(w.index, "numbats") == 1)
        assert w.indexer.scans > 1


def test_segments_watched_runs_leave_are_merged_when_the_watcher_is_idle(tmp_path):
    """A watched run merges nothing (to be searchable at once); `merge_small_segments` merges what the runs
    left, and the answers do not change."""
    from searchapp.index import store

    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 60)
    indexer = Indexer(Settings(seeds=seeds, index=index, lock_timeout=5, shards=1))
    indexer.run(full=True)
    for n in range(4):
        added = write_generated(seeds, 5, start=1000 + 10 * n)
        assert indexer.run(changed={p.name for p in added}).added >= 5

    def segments() -> int:
        with store.open_live(index).searcher() as s:
            return len(s.reader().leaf_readers())

    server = SearchIndex(index)
    before = server.search(SearchRequest(q="police", typing=False, per_page=100))
    assert segments() == 5
    assert indexer.merge_small_segments()
    assert segments() < 5
    after = server.search(SearchRequest(q="police", typing=False, per_page=100))
    assert after.generation != before.generation
    assert [h.id for h in after.hits] == [h.id for h in before.hits] and after.total > 0
    assert not indexer.merge_small_segments()  # nothing left to merge
    assert indexer.run().added == 0 and indexer.scans == 2  # the manifest still lists everything
    server.close()


# -- a watcher that never dies ---------------------------------------------------------------

@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_a_file_dated_in_the_future_is_indexed_and_stalls_nothing(tmp_path, polling):
    kw = dict(watch_polling=True, watch_interval=0.1, watch_settle=0.3) if polling else {}
    with watching(tmp_path, 10, **kw) as w:
        future = w.seeds / "tomorrow.txt"
        future.write_text(_article("Bilbies from tomorrow"), encoding="utf-8")
        ahead = time.time() + 86400
        os.utime(future, (ahead, ahead))
        w.wait_for(lambda s: _found(w.index, "bilbies") == 1)
        (w.seeds / "today.txt").write_text(_article("Dingoes of today"), encoding="utf-8")
        w.wait_for(lambda s: _found(w.index, "dingoes") == 1)


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_the_watcher_waits_for_a_lock_another_indexer_holds(tmp_path, polling):
    from searchapp.index import store

    kw = dict(watch_polling=True, watch_interval=0.1, watch_settle=0.2) if polling else {}
    with watching(tmp_path, 10, **kw) as w:
        w.indexer.lock_timeout = 0.2
        held, release = threading.Event(), threading.Event()

        def other_indexer():
            with store.write_lock(w.index, 5):
                held.set()
                release.wait(10)

        other = threading.Thread(target=other_indexer, daemon=True)
        other.start()
        held.wait(5)
        (w.seeds / "locked-out.txt").write_text(_article("Wallabies wait their turn"),
                                                encoding="utf-8")
        wait_for(lambda: any("another indexer" in m for m in w.said),
                 "the watcher to say the lock is held")
        assert any("another indexer holds the index" in m for m in w.said), w.said
        assert w.thread.is_alive()
        release.set()
        other.join(5)
        w.wait_for(lambda s: _found(w.index, "wallabies") == 1)


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
def test_the_watcher_waits_for_a_seeds_folder_moved_away_and_back(tmp_path, polling):
    kw = dict(watch_polling=True, watch_interval=0.1, watch_settle=0.2) if polling else {}
    with watching(tmp_path, 10, **kw) as w:
        aside = tmp_path / "aside"
        os.rename(w.seeds, aside)
        (aside / "while-away.txt").write_text(_article("Cassowaries while away"),
                                              encoding="utf-8")
        wait_for(lambda: any("went away" in m or "missing" in m for m in w.said),
                 "the watcher to notice the folder gone")
        assert w.thread.is_alive()
        os.rename(aside, w.seeds)
        w.wait_for(lambda s: _found(w.index, "cassowaries") == 1)
        (w.seeds / "after.txt").write_text(_article("Kookaburras after"), encoding="utf-8")
        w.wait_for(lambda s: _found(w.index, "kookaburras") == 1)
        assert any("went away" in m or "missing" in m for m in w.said), w.said


def test_polling_indexes_under_continuous_arrivals(tmp_path):
    """Files arriving more often than `watch_settle` still get indexed, at the latest
    `watch_max_wait` seconds after the first of them."""
    with watching(tmp_path, 10, watch_polling=True, watch_interval=0.1, watch_settle=1.0,
                  watch_max_wait=1.5) as w:
        deadline = time.monotonic() + HANG_S  # a hang guard: the run comes after max_wait
        n = 0
        while time.monotonic() < deadline and _found(w.index, "churning") == 0:
            (w.seeds / f"churn-{n}.txt").write_text(_article(f"Churning story {n}"),
                                                    encoding="utf-8")
            n += 1
            time.sleep(0.2)  # the scenario: a file every 0.2 s, sooner than watch_settle
        assert _found(w.index, "churning") > 0, "no run while files kept arriving"


def test_a_watched_link_to_a_seed_file_adds_no_second_record(tmp_path):
    with watching(tmp_path, 5) as w:
        (w.seeds / "real.txt").write_text(_article("Tuataras linked twice"), encoding="utf-8")
        w.wait_for(lambda s: _found(w.index, "tuataras") == 1)
        os.symlink("real.txt", w.seeds / "alias.txt")
        w.wait_for(lambda s: s.seen and s is w.summaries[-1] and len(w.summaries) >= 3)
        time.sleep(0.5)  # a later run of the link's events has its moment (nothing to wait on)
        assert _found(w.index, "tuataras") == 1


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_the_watcher_stops_on_a_signal_even_started_in_the_background(tmp_path, how):
    """A shell without job control starts a background command ignoring SIGINT; the watcher
    must stop on SIGINT all the same (the benchmark's never did), and on SIGTERM."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from conftest import copy_seeds
    seeds = copy_seeds(tmp_path / "seeds")
    binary = Path(sys.executable).parent / "searchapp"
    proc = subprocess.Popen(
        [str(binary), "index", "--watch", "--seeds", str(seeds), "--index", str(tmp_path / "ix")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stdout.readline().startswith("full rebuild:")  # watching now
        proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "stopped watching" in err
    finally:
        if proc.poll() is None:
            proc.kill()
