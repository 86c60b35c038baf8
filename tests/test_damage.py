"""A damaged index: every kind of index file truncated, deleted or with bytes flipped. Each
time, `searchapp check` names what is wrong, searching answers 503 with a page that says
how to repair it (never a 500, never wrong answers; a lost spelling index or stories file
costs no search, and check says what it does cost), `searchapp index` says the same, and
`searchapp check --repair` rebuilds from the seeds with nothing lost. `--slow` tries every
damage on every kind of file; the default run tries one of each. Counts go to
test-output/hardening.txt."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp import create_app
from searchapp.cli import main
from searchapp.index import store

from conftest import build, copy_seeds, index_contents, record, wait_for, write_generated

KINDS = ("segment", "toc", "kept array", "spelling", "manifest", "checksums", "stories")
DAMAGES = ("truncate", "delete", "flip")
QUERIES = ("police", "camera council", "privacy")
# The default run: one of each damage and each kind of file.
QUICK = {("segment", "truncate"), ("segment", "flip"), ("toc", "delete"),
         ("kept array", "flip"), ("manifest", "truncate"), ("spelling", "delete"),
         ("stories", "flip")}
TALLY = {"tried": 0, "named by check": 0, "503 not 500": 0, "repaired": 0, "lost": 0}


def target(index: Path, kind: str) -> Path:
    live = store.live(index)
    shard = live.folders[0]
    if kind == "segment":
        return max(shard.glob("*.arr*"), key=lambda p: p.stat().st_size)
    if kind == "toc":
        return shard / f"_MAIN_{live.shards[0]}.toc"
    if kind == "kept array":
        return next(shard.glob("*.c_topic.npz"))
    if kind == "spelling":
        return next(live.build.glob("spelling-*/keys.npy"))
    if kind == "manifest":
        return live.build / "manifest.sqlite"
    if kind == "stories":
        return live.build / f"stories-{live.generation}.npz"
    return shard / "CHECKSUMS.json"


def damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        data = bytearray(path.read_bytes())
        for at in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
            data[at] ^= 0xFF
        path.write_bytes(bytes(data))


def answers(client) -> dict:
    """What the API answers for each query: the status, and for a 200 what a user sees (the
    total, the records in order, the facet counts); otherwise the error it says."""
    out = {}
    for q in QUERIES:
        response = client.get("/api/search", query_string={"q": q, "per_page": 50})
        body = response.get_json()
        if response.status_code == 200:
            body = {"total": body["total"], "ids": [r["id"] for r in body["results"]],
                    "facets": body["facets"], "timeline": body["timeline"]}
        out[q] = (response.status_code, body)
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    folder = copy_seeds(tmp_path_factory.mktemp("damage") / "seeds")
    write_generated(folder, 120)
    return folder


CASES = [(k, d) for k in KINDS for d in DAMAGES]


@pytest.mark.parametrize("kind,how", CASES, ids=[f"{k}-{d}" for k, d in CASES])
def test_a_damaged_index_says_so_and_is_repaired_with_nothing_lost(tmp_path, seeds, kind, how,
                                                                    slow):
    if not slow and (kind, how) not in QUICK:
        pytest.skip("the full damage series runs with --slow")
    index = tmp_path / "index"
    build(seeds, index, shards=2)
    before = index_contents(index)
    cfg = {"index": str(index), "seeds": str(seeds)}
    expected = answers(create_app(cfg).test_client())
    assert all(status == 200 for status, _ in expected.values())
    runner = CliRunner()
    clean = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert clean.exit_code == 0, clean.output

    path = target(index, kind)
    damage(path, how)
    TALLY["tried"] += 1
    # Lost checksums are recorded again at the next commit; the arrays kept beside segments
    # are caches, remade when missing or damaged (zip checks each member's CRC).
    harmless = kind in ("checksums", "kept array")

    checked = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    if harmless:
        assert checked.exit_code == 0, checked.output
    else:
        assert checked.exit_code == 1, checked.output
        assert path.name in checked.output, checked.output
        assert "searchapp check --repair" in checked.output
        assert "Traceback" not in checked.output and "Aborted" not in checked.output
        TALLY["named by check"] += 1

    client = create_app(cfg).test_client()
    statuses = _settled_statuses(client)
    assert 500 not in statuses, statuses
    if kind in ("spelling", "stories"):  # kept beside the records: losing one costs no search
        assert statuses == {200}, statuses
        assert "until `searchapp index`" in checked.output, checked.output
    for q, (status, body) in answers(client).items():
        if status == 200:  # still answering: then with the same answers as before
            assert body == expected[q][1], q
            continue
        assert status == 503 and "searchapp check --repair" in body["error"], body
    damaged_index_files = kind in ("segment", "toc") and not harmless
    if damaged_index_files:
        page = client.get("/?q=police")
        assert page.status_code == 503
        assert b"check --repair" in page.data
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" in page.headers
        health = client.get("/healthz")
        assert health.status_code == 503 and "damaged" in health.get_json()["error"]
        assert client.get("/static/app.js").status_code == 200
        searched = runner.invoke(main, ["search", "police", "--index", str(index),
                                        "--seeds", str(seeds)])
        said = runner.invoke(main, ["index", "--index", str(index), "--seeds", str(seeds)])
        for run in (searched, said):
            assert "Traceback" not in run.output and "Aborted" not in run.output
            if how != "flip":  # one-shot commands check sizes; checksums when a read fails
                assert run.exit_code == 1 and "check --repair" in run.output, run.output
    TALLY["503 not 500"] += 1

    repaired = runner.invoke(main, ["check", "--repair", "--index", str(index),
                                    "--seeds", str(seeds)])
    assert repaired.exit_code == 0, repaired.output
    again = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert again.exit_code == 0, again.output
    after = index_contents(index)
    assert after.keys() == before.keys()
    assert answers(create_app(cfg).test_client()) == expected
    TALLY["repaired"] += 1


def _statuses(client) -> set[int]:
    statuses = {client.get("/api/search", query_string={"q": q}).status_code for q in QUERIES}
    statuses.add(client.get("/?q=police").status_code)
    statuses.add(client.get("/healthz").status_code)
    return statuses


def _verifying() -> bool:
    """A background check of a generation's files against their checksums is running
    (reader/damage.py starts it in this process when a search first opens the generation)."""
    return any(t.name == "searchapp-verify" for t in threading.enumerate())


def _settled_statuses(client) -> set[int]:
    """Status codes of the search routes before and once the background check of the files
    (which finds flipped bytes) has finished."""
    first = _statuses(client)  # opens the generation, which starts the check
    wait_for(lambda: not _verifying(), "the background check of the index's files")
    return first | _statuses(client)


@pytest.fixture(scope="module", autouse=True)
def _damage_figures():
    yield
    if TALLY["tried"]:
        record("damage series: " + ", ".join(f"{v} {k}" for k, v in TALLY.items()))


@pytest.mark.parametrize("pointer", ['{"build": "../../etc", "generation": 1, "shards": [1]}',
                                     "\x00\xff garbage", '{"build": "build-x/../../x"}'],
                         ids=["leads outside", "garbage", "traversal"])
def test_a_damaged_pointer_is_named_and_never_followed_out_of_the_index(tmp_path, seeds,
                                                                         pointer):
    index = tmp_path / "index"
    build(seeds, index, shards=1)
    before = index_contents(index)
    (index / "CURRENT").write_text(pointer, encoding="utf-8", errors="surrogateescape")
    runner = CliRunner()
    checked = runner.invoke(main, ["check", "--index", str(index), "--seeds", str(seeds)])
    assert checked.exit_code == 1 and "CURRENT" in checked.output, checked.output
    client = create_app({"index": str(index), "seeds": str(seeds)}).test_client()
    response = client.get("/api/search", query_string={"q": "police"})
    assert response.status_code == 503 and "check --repair" in response.get_json()["error"]
    said = runner.invoke(main, ["index", "--index", str(index), "--seeds", str(seeds)])
    assert said.exit_code == 1 and "check --repair" in said.output, said.output
    repaired = runner.invoke(main, ["check", "--repair", "--index", str(index),
                                    "--seeds", str(seeds)])
    assert repaired.exit_code == 0, repaired.output
    assert index_contents(index).keys() == before.keys()
