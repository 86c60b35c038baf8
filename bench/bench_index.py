"""Time indexing: a full build of N generated seeds, then 100 more added incrementally.

Why: the two costs a user of searchapp waits for are the first `searchapp index` over a big
folder, and the delay between dropping new seed files in and a running server finding them.
This measures both with searchapp's own Indexer and SearchIndex, and, in the same run on the
same files, SQLite FTS5 loading the same records (see fts_peer.py), so the numbers have a
scale. "Searchable after" is timed from the start of the incremental run until a SearchIndex
opened (and warmed) before it returns one of the new records; the search runs right after
the indexer returns, as a server's next request would.

    bench_index.py --count N [--keep DIR] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # generate, fts_peer

import fts_peer  # noqa: E402
from generate import article, write_seeds  # noqa: E402
from searchapp.index.indexer import Indexer  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.index.analysis import STOP_WORDS  # noqa: E402

MORE = 100  # files added for the incremental run
GIVE_UP = 30.0  # seconds to wait for a new record to become searchable


def machine() -> str:
    """The machine, and the code measured (the tree may hold uncommitted changes)."""
    git = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                         text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
    return (f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
            f"Python {platform.python_version()}, SQLite {fts_peer.sqlite3.sqlite_version}; "
            f"searchapp at {git or 'unknown'}")


def query_for(title: str) -> str:
    """The title's words, lower-cased so none reads as AND/OR/NOT or other query syntax.

    Stop words are left out: searchapp drops them from title and excerpt but not from source
    and topic, so an all-words query holding one ("attack on immigrants") finds nothing.
    """
    return " ".join(w for w in re.findall(r"[^\W\d_]+", title.lower()) if w not in STOP_WORDS)


def wait_searchapp(index: SearchIndex, title: str, url: str, started: float) -> float:
    q = query_for(title)
    while True:
        hits = index.search(SearchRequest(q=q)).hits
        if any(h.record["url"] == url for h in hits):
            return time.perf_counter() - started
        if time.perf_counter() - started > GIVE_UP:
            return float("nan")
        time.sleep(0.01)


def wait_sqlite(conn, title: str, url: str, started: float) -> float:
    phrase = '"' + title.replace('"', '""') + '"'
    while True:
        found = conn.execute("SELECT d.url FROM fts JOIN docs d ON d.id = fts.rowid "
                             "WHERE fts MATCH ? LIMIT 50", (phrase,)).fetchall()
        if (url,) in found:
            return time.perf_counter() - started
        if time.perf_counter() - started > GIVE_UP:
            return float("nan")
        time.sleep(0.01)


def run(work: Path, count: int, seed: int) -> None:
    seeds, index_root, db = work / "seeds", work / "index", work / "peer.sqlite"
    print(machine())
    t = time.perf_counter()
    first = write_seeds(seeds, count, seed=seed, start_index=1)
    print(f"generated {len(first)} seed files in {time.perf_counter() - t:.1f} s into {seeds}")

    # -- full build ----------------------------------------------------------------------------
    full = Indexer(Settings(seeds=seeds, index=index_root)).run(full=True)
    print(f"searchapp {full.line()}")
    conn = fts_peer.connect(db)
    t = time.perf_counter()
    fts_peer.load(conn, first)
    sqlite_full = time.perf_counter() - t
    sqlite_records = fts_peer.count(conn)

    # -- 100 more files, incrementally, with readers already open --------------------------------
    index = SearchIndex(index_root)
    index.search(SearchRequest(q="police"))  # open and warm, as a running server would be
    reader = fts_peer.connect(db)
    reader.execute("SELECT count(*) FROM fts WHERE fts MATCH 'police'").fetchone()
    more = write_seeds(seeds, MORE, seed=seed, start_index=count + 1)
    target = article(seed, "seed", count + MORE)  # the last new file's own article

    started = time.perf_counter()
    inc = Indexer(Settings(seeds=seeds, index=index_root)).run()
    visible = wait_searchapp(index, target["title"], target["webUrl"], started)
    print(f"searchapp {inc.line()}")
    t = time.perf_counter()
    fts_peer.load(conn, more)
    sqlite_inc = time.perf_counter() - t
    sqlite_visible = wait_sqlite(reader, target["title"], target["webUrl"], t)
    records_after = index.stats().records
    index.close()
    reader.close()
    conn_records_after = fts_peer.count(conn)
    conn.close()

    rows = [
        (f"full index ({count} files), s", full.seconds, sqlite_full),
        ("  records", full.added, sqlite_records),
        ("  records/s", full.added / full.seconds, sqlite_records / sqlite_full),
        (f"incremental (+{MORE} files), s", inc.seconds, sqlite_inc),
        ("  records after", records_after, conn_records_after),
        ("searchable after, s", visible, sqlite_visible),
        ("  of which the first search, s", visible - inc.seconds, sqlite_visible - sqlite_inc),
    ]
    print()
    print(f"{'':32} {'searchapp':>12} {'sqlite fts5':>12} {'ratio':>8}")
    for label, ours, peer in rows:
        ratio = ours / peer if peer else float("nan")
        print(f"{label:32} {_fmt(ours):>12} {_fmt(peer):>12} {ratio:>7.2f}x")
    print(f"\nratio = searchapp / sqlite. searchapp parses with {os.cpu_count()} processes from "
          f"2000 files up; the peer parses in one. Both write to {work}.")


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True, help="seed files for the full build")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="work in DIR (must be empty or absent) and keep seeds, index and "
                         "SQLite file there; default: a temporary folder, removed afterwards")
    ap.add_argument("--seed", type=int, default=1, help="random seed for generate.py")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("--count must be at least 1")
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            ap.error(f"{args.keep} is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.keep, args.count, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_index-") as tmp:
            run(Path(tmp), args.count, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
