"""The `searchapp` command, through click's runner and as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from searchapp.cli import main
from conftest import FIXTURES, ROOT


def test_index_then_search_prints_seeds_and_related_ranked(runner, seeds_dir, tmp_path):
    index = tmp_path / "index"
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith(
        "full rebuild: 5 files seen, 5 new, 0 changed, 0 deleted, 0 rejected; records 23 added")
    result = runner.invoke(main, ["search", "--index", str(index), "facial", "recognition"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("21 records match")
    assert "1.   " in lines[1] and "related" in result.output
    result = runner.invoke(main, ["search", "--index", str(index), "--limit", "50", "facial recognition"])
    assert result.output.count(" · seed") == 5
    assert result.output.startswith("21 records match, 20 stories")
    assert "+ 1 other copy of this story: The Irish News" in result.output \
        or "+ 1 other copy of this story: Express & Star" in result.output
    every = runner.invoke(main, ["search", "--index", str(index), "--limit", "50", "--every-copy",
                                 "facial recognition"])
    assert "other copy" not in every.output
    assert len(every.output.splitlines()) == len(result.output.splitlines()) + 1  # 2 - 1 line


def test_new_seed_file_is_reported_as_one_new_file(runner, seeds_dir, tmp_path):
    args = ["--seeds", str(seeds_dir), "--index", str(tmp_path / "index")]
    runner.invoke(main, ["index", *args])
    (seeds_dir / "zz-new.txt").write_text(
        '---\ntitle: "Lawmakers weigh drone surveillance limits"\n'
        'webUrl: "https://example.org/drones"\n---\n', encoding="utf-8")
    result = runner.invoke(main, ["index", *args])
    assert result.exit_code == 0
    assert "6 files seen, 1 new, 0 changed, 0 deleted, 0 rejected; records 1 added" in result.output
    found = runner.invoke(main, ["search", "--index", str(tmp_path / "index"), "drone"])
    assert "Lawmakers weigh drone surveillance limits" in found.output


def test_rejected_file_makes_the_exit_status_non_zero_and_is_named(runner, seeds_dir, tmp_path):
    shutil.copy(FIXTURES / "bad" / "topics_number.txt", seeds_dir)
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "error: topics_number.txt:4: topics must be a list of strings, got a number" in result.output
    assert "1 rejected; records 23 added" in result.output


def test_search_filters_and_json_output(runner, index_dir):
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--json", "--topic",
                                  "Natural Language Processing", "ban"])
    data = json.loads(result.output)
    assert data["total"] == 1
    assert data["results"][0]["title"] == \
        "Civil liberties groups demand total ban on facial recognition technology"
    result = runner.invoke(main, ["search", "--index", str(index_dir), "--provider", "Sky", "--json",
                                  "ban"])
    assert [r["provider"]["name"] for r in json.loads(result.output)["results"]] == ["Sky"]


def test_search_without_an_index_says_how_to_make_one(runner, tmp_path):
    result = runner.invoke(main, ["search", "--index", str(tmp_path / "none"), "x"])
    assert result.exit_code == 1
    assert "no index in" in result.output and "searchapp index" in result.output


def test_settings_come_from_config_file_and_environment(runner, seeds_dir, tmp_path, monkeypatch):
    config = tmp_path / "conf.yaml"
    config.write_text(f"seeds: {seeds_dir}\nindex: {tmp_path / 'from-config'}\n", encoding="utf-8")
    result = runner.invoke(main, ["--config", str(config), "index"])
    assert result.exit_code == 0 and (tmp_path / "from-config" / "CURRENT").exists()
    monkeypatch.setenv("SEARCHAPP_INDEX", str(tmp_path / "from-env"))
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir)])
    assert result.exit_code == 0 and (tmp_path / "from-env" / "CURRENT").exists()
    monkeypatch.setenv("SEARCHAPP_PORT", "not-a-port")
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir)])
    assert result.exit_code == 1 and "environment: setting 'port'" in result.output


def test_watch_indexes_a_file_as_it_arrives(seeds_dir, tmp_path):
    index = tmp_path / "index"
    proc = subprocess.Popen([sys.executable, "-m", "searchapp.cli", "index", "--watch", "--seeds",
                             str(seeds_dir), "--index", str(index)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().startswith("full rebuild: 5 files seen")
        (seeds_dir / ".arriving.txt.part").write_text(
            '---\ntitle: "Watched folder gets a new article"\n---\n', encoding="utf-8")
        os.replace(seeds_dir / ".arriving.txt.part", seeds_dir / "arriving.txt")  # moved into place
        line = proc.stdout.readline()
        assert "6 files seen, 1 new" in line and "0 rejected" in line, line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_watch_by_polling_waits_for_a_file_to_settle(seeds_dir, tmp_path):
    index = tmp_path / "index"
    env = {**os.environ, "SEARCHAPP_WATCH_POLLING": "1", "SEARCHAPP_WATCH_INTERVAL": "0.2",
           "SEARCHAPP_WATCH_SETTLE": "0.5"}
    proc = subprocess.Popen([sys.executable, "-m", "searchapp.cli", "index", "--watch", "--seeds",
                             str(seeds_dir), "--index", str(index)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().startswith("full rebuild: 5 files seen")
        half = seeds_dir / "arriving.txt"
        half.write_text('---\ntitle: "Half written', encoding="utf-8")  # still being written
        time.sleep(0.2)  # the scenario: the file stays half written for a poll or two
        half.write_text('---\ntitle: "Watched folder gets a new article"\n---\n', encoding="utf-8")
        line = proc.stdout.readline()
        assert "6 files seen, 1 new" in line and "0 rejected" in line, line
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_warnings_name_the_file_and_line(runner, seeds_dir, tmp_path):
    shutil.copy(FIXTURES / "hostile" / "hostile.txt", seeds_dir)
    shutil.copy(FIXTURES / "latin1.txt", seeds_dir)
    result = runner.invoke(main, ["index", "--seeds", str(seeds_dir), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0  # warnings are not rejections
    assert "warning: hostile.txt:6: webUrl dropped: only http(s) links are kept" in result.output
    assert "warning: latin1.txt:2: not valid UTF-8; decoded as Windows-1252" in result.output
