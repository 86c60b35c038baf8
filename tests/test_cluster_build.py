"""A full build on a Ray cluster (`searchapp index --full --cluster ADDRESS`) makes the index
a build on this machine makes, record for record and shard for shard; its parsing and its
shard writing really run on both nodes; a worker killed mid-build fails the run with the
live index untouched; and the option is refused where it cannot apply."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from searchapp.cli import main
from searchapp.index import integrity, store, stories
from searchapp.index.indexer import Indexer, Summary
from searchapp.search import SearchIndex, SearchRequest
from searchapp.settings import Settings
from searchapp.search.serialize import result_to_json
from conftest import ROOT, build, copy_seeds, index_contents, write_generated

pytestmark = pytest.mark.cluster

SEARCHES = [dict(q=""), dict(q="police"), dict(q="market energy", match="any"),
            dict(q="court", sort="newest"), dict(q="data", page=2)]


@dataclass
class Built:
    plain: Path  # built by the indexer on this machine
    clustered: Path  # built by `searchapp index --cluster`
    summary: Summary  # of the plain build
    run: Result  # of the command


@pytest.fixture(scope="module")
def built(ray_cluster, corpus_20k, tmp_path_factory) -> Built:
    """The 20k corpus in 4 shards, once here and once on the two-node cluster."""
    base = tmp_path_factory.mktemp("cluster-build")
    plain, clustered = base / "plain", base / "clustered"
    summary = build(corpus_20k, plain, full=True, shards=4)
    run = CliRunner().invoke(main, [
        "index", "--seeds", str(corpus_20k), "--index", str(clustered), "--full",
        "--shards", "4", "--cluster", ray_cluster.address])
    assert run.exit_code == (0 if summary.ok else 1), run.output
    return Built(plain, clustered, summary, run)


def shard_of_each(index: Path) -> dict[str, str]:
    """Each record's id -> the name of the shard folder holding it."""
    folders = store.live(index).folders
    with store.open_live(index).searcher() as s:
        return {f["id"]: leaf.kept_folder.name
                for leaf, _ in s.reader().leaf_readers() if leaf.kept_folder in folders
                for f in leaf.all_stored_fields()}


def kept_stories(index: Path) -> stories.Stories:
    live = store.live(index)
    return stories.Stories.load(stories.path(live.build, live.generation))


def seen_by_a_user(index: SearchIndex, params: dict) -> dict:
    """What a search shows: the total, the story count, every facet count, the ids in order."""
    found = result_to_json(index.search(SearchRequest(**params)))
    return {"total": found["total"], "stories": found["stories"], "facets": found["facets"],
            "ids": [hit["id"] for hit in found["results"]]}


def test_the_cluster_build_reports_what_the_local_build_reports(built):
    assert built.summary.seen > 20_000
    counts = built.summary.line().rsplit(";", 1)[0]  # all but the seconds
    assert f"\n{counts}; " in f"\n{built.run.stdout}"


def test_the_cluster_build_holds_the_same_records_merged_from_the_same_drafts(built):
    here, there = index_contents(built.plain), index_contents(built.clustered)
    assert len(here) >= 20_000
    assert there == here


def test_every_record_is_in_the_same_shard(built):
    here, there = shard_of_each(built.plain), shard_of_each(built.clustered)
    assert len(set(there.values())) == 4
    assert there == here


def test_the_same_records_share_a_story(built):
    here, there = kept_stories(built.plain), kept_stories(built.clustered)
    assert len(there.keys) > 0  # the syndicated copies make stories
    assert there.keys.tolist() == here.keys.tolist()
    assert there.story.tolist() == here.story.tolist()


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: " ".join(map(str, p.values())) or "all")
def test_searches_show_the_same_totals_facets_and_ids(built, params):
    here, there = SearchIndex(built.plain), SearchIndex(built.clustered)
    try:
        expected = seen_by_a_user(here, params)
        assert expected["total"] > 0
        assert seen_by_a_user(there, params) == expected
    finally:
        here.close()
        there.close()


def test_both_phases_ran_on_both_nodes(built, ray_cluster):
    import ray
    nodes = {n["NodeID"][:8] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2
    said = dict(re.findall(r"on the cluster: ([a-z ]+): (.*)", built.run.stderr))
    assert set(said) == {"reading seed files", "writing shards"}, built.run.stderr
    for what, line in said.items():
        ran = dict(re.findall(r"([0-9a-f]{8}) (\d+)", line))
        assert set(ran) == nodes, f"{what}: {line}"
    assert sum(map(int, dict(re.findall(r"([0-9a-f]{8}) (\d+)", said["writing shards"]))
                   .values())) == 4  # one task per shard


def test_a_folder_missing_on_a_node_is_refused_by_name_not_read_as_no_files(ray_cluster, tmp_path):
    import ray
    from searchapp.cluster.build import RayPool
    missing = tmp_path / "not-mounted-here"
    pool = RayPool(ray, shared=(tmp_path, missing))
    with pytest.raises(store.IndexProblem) as refused:
        list(pool.map(abs, [-1, -2]))
    assert f"{missing} is not there on cluster node" in str(refused.value)
    assert "storage every node shares, at the same path" in str(refused.value)
    assert list(RayPool(ray, shared=(tmp_path,)).map(abs, [-1, -2, -3], chunksize=2)) == [1, 2, 3]


# -- refused where it cannot apply ----------------------------------------------------------

def test_cluster_without_full_is_refused_as_incremental_runs_are_local(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    result = CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--index",
                                       str(tmp_path / "index"), "--cluster", "auto"])
    assert result.exit_code == 2
    assert "--cluster needs --full: incremental runs are local" in result.output
    assert not (tmp_path / "index").exists()


def test_cluster_with_watch_is_refused(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    for extra in ([], ["--full"]):
        result = CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--index",
                                           str(tmp_path / "index"), "--watch", "--cluster",
                                           "auto", *extra])
        assert result.exit_code == 2
        assert "--cluster cannot be used with --watch" in result.output
        assert "incremental runs are local" in result.output
    assert not (tmp_path / "index").exists()


def run_cli_without_ray(*args: str) -> subprocess.CompletedProcess:
    """`searchapp ARGS` in a Python where `import ray` fails, as it does without the extra;
    prints whether anything imported Ray."""
    code = ("import sys\nsys.modules['ray'] = None\nfrom searchapp.cli import main\n"
            f"try:\n    main({list(args)!r})\nfinally:\n"
            "    print('ray imported' if 'ray' in sys.modules and sys.modules['ray'] "
            "else 'ray not imported')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_without_ray_the_cluster_option_says_what_to_install(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    done = run_cli_without_ray("index", "--seeds", str(seeds), "--index",
                               str(tmp_path / "index"), "--full", "--cluster", "auto")
    assert done.returncode == 1
    assert "Error: --cluster needs Ray: pip install 'searchapp[cluster]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_build_without_cluster_never_imports_ray(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    done = run_cli_without_ray("index", "--seeds", str(seeds), "--index",
                               str(tmp_path / "index"), "--full")
    assert done.returncode == 0, done.stderr
    assert "full rebuild:" in done.stdout and "ray not imported" in done.stdout


# -- a worker lost mid-build ----------------------------------------------------------------

def our_task_worker(title: str) -> int | None:
    """The pid of a worker of this session's cluster (a child of a raylet this process
    started) whose title says it runs `title`: never a process of anyone else's cluster."""
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")[0].decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        procs[int(name)] = (ppid, cmd)
    raylets = {pid for pid, (ppid, cmd) in procs.items()
               if ppid == os.getpid() and "raylet" in cmd}
    return next((pid for pid, (ppid, cmd) in procs.items()
                 if ppid in raylets and cmd == f"ray::{title}"), None)


def test_a_worker_killed_while_writing_shards_fails_the_build_and_the_index_stays(
        ray_cluster, tmp_path):
    import ray
    from searchapp.cluster.build import RayPool
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    write_generated(seeds, 3000)
    assert build(seeds, index, full=True, shards=4).ok
    before, records = store.live(index), len(index_contents(index))
    killed: list[int] = []
    outcome: dict = {}
    finished = threading.Event()

    def kill_a_shard_writer() -> None:
        while not finished.is_set() and not killed:
            pid = our_task_worker("searchapp: writing shards")
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.01)

    def rebuild() -> None:
        try:
            pool = RayPool(ray, shared=(seeds, index))
            outcome["summary"] = Indexer(Settings(seeds=seeds, index=index, lock_timeout=2,
                                                  shards=4), pool=pool).run(full=True)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    killer, runner = threading.Thread(target=kill_a_shard_writer), threading.Thread(target=rebuild)
    killer.start()
    runner.start()
    runner.join(180)
    finished.set()
    killer.join(10)
    assert not runner.is_alive(), "the build hung after a worker was killed"
    assert killed, "no shard writer was seen to kill"
    error = outcome.get("error")
    assert isinstance(error, store.IndexProblem), outcome
    assert "failed while writing shards: WorkerCrashedError" in str(error)
    assert "the index as it was before this run is untouched and still served" in str(error)
    assert store.live(index) == before
    assert not integrity.damage(before)
    assert len(index_contents(index)) == records
    # The lock is free again: the next run (incremental, on this machine) goes through.
    assert build(seeds, index).ok
