"""The array codec (searchapp/engine/codec) beside Whoosh's W3, on the same bench records.

Both indexes are written by Whoosh's own SegmentWriter from the same documents (one
segment each), so what differs is the codec alone; SQLite FTS5 loads the same seed files in
the same run for scale. Then, in a fresh process per codec (the page cache warm, the
process cold): the search mix (but its wildcards, which plain Whoosh expands unbounded)
through Whoosh's own searcher (top 20), three passes, and the
posting lists of every word of the mix read as arrays (W3: engine/postings.py decoding its
pickled blocks; arrays: a view of the mapped file), first pass and third.

    .venv/bin/python bench/bench_codec.py --count 20000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


def documents(folder: Path) -> list[dict]:
    from searchapp.index import writing
    from searchapp.ingest import records
    from searchapp.ingest.seeds import SeedLimits, SeedRejected, parse_file
    from searchapp.settings import Settings

    limits = SeedLimits.of(Settings())
    drafts: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            parsed = parse_file(path, path.name, limits)
        except SeedRejected:
            continue
        for draft in records.file_drafts(parsed):
            drafts[draft["id"]].append(draft)
    docs = [writing.merge(rid, drafts[rid], 1)[0] for rid in sorted(drafts)]
    return [d for d in docs if d is not None]


def write(folder: Path, codec_name: str, docs: list[dict]) -> float:
    from whoosh import index
    from whoosh.codec.whoosh3 import W3Codec

    from searchapp.engine.codec import ArrayCodec
    from searchapp.index.schema import build_schema

    folder.mkdir(parents=True)
    ix = index.create_in(str(folder), build_schema())
    codec = ArrayCodec() if codec_name == "arrays" else W3Codec()
    started = time.perf_counter()
    w = ix.writer(codec=codec)
    for d in docs:
        w.add_document(**d)
    w.commit()
    return time.perf_counter() - started


def write_bulk(folder: Path, codec_name: str, docs: list[dict]) -> float:
    """A full build's writer (engine/bulk.py), one shard, as `searchapp index` runs it."""
    from whoosh.codec.whoosh3 import W3Codec

    from searchapp.engine import bulk, shards
    from searchapp.engine.codec import ArrayCodec
    from searchapp.index import writing
    from searchapp.index.schema import build_schema

    shards.create(folder, build_schema())
    started = time.perf_counter()
    w = bulk.BulkWriter(shards.open_index(folder), writing.index_cuts(build_schema()),
                        codec=ArrayCodec() if codec_name == "arrays" else W3Codec())
    for d in docs:
        w.add_document(**d)
    w.commit()
    return time.perf_counter() - started


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def searches(folder: str, codec_name: str) -> dict:
    """Run in a fresh process: the mix through Whoosh's searcher, and its words read as arrays."""
    import numpy as np
    from whoosh import index, query as wq

    import user_mix
    from searchapp.engine import postings as post
    from searchapp.engine import zerocopy
    from searchapp.search.query.language import parse_user_query

    zerocopy.install()  # as the server reads W3 segments
    ix = index.open_dir(folder)
    parsed = []
    for label, text, _ in user_mix.cases():
        if "wildcard" in label:  # unbounded in plain Whoosh (the app bounds them: engine/expand)
            continue
        q = parse_user_query(text, "all", typing=label == "typed a letter at a time").query
        if q is not None and q is not wq.NullQuery:
            parsed.append(q)
    out: dict = {}
    with ix.searcher() as s:
        terms = sorted({(f, t) for q in parsed for f, t in q.existing_terms(s.reader(), expand=True)})
        leaves = [leaf for leaf, _ in s.reader().leaf_readers()]
        for n in (1, 2, 3):
            times = []
            for q in parsed:
                started = time.perf_counter()
                s.search(q, limit=20)
                times.append((time.perf_counter() - started) * 1000)
            out[f"whoosh pass {n}"] = times
        for n in (1, 2, 3):
            started = time.perf_counter()
            total = 0
            for leaf in leaves:
                for field, btext in terms:
                    if codec_name == "arrays":
                        found = leaf._terms.postings_arrays(field, btext)
                        total += 0 if found is None else int(np.asarray(found[0]).sum() % 7)
                    else:
                        total += int(post.postings(leaf, field, btext)[0].sum() % 7)
            out[f"arrays pass {n}"] = [(time.perf_counter() - started) * 1000]
        out["terms"] = len(terms)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20000, help="bench seed files to write")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--writes-only", action="store_true", help="skip the searches")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(searches(*args.child)))
        return 0
    import fts_peer
    import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-codec-"))
    seeds = work / "seeds"
    paths = generate.write_seeds(seeds, args.count)
    started = time.perf_counter()
    docs = documents(seeds)
    parse_s = time.perf_counter() - started
    print(f"{args.count:,} seed files, {len(docs):,} records (parsed in {parse_s:.1f} s, not counted below)")
    conn = fts_peer.connect(work / "fts.db")
    started = time.perf_counter()
    fts_peer.load(conn, paths)
    fts_s = time.perf_counter() - started
    conn.close()
    print(f"SQLite FTS5 load (reads and parses the files too): {fts_s:.1f} s, "
          f"{len(paths) / fts_s:,.0f} files/s, {os.path.getsize(work / 'fts.db') / 2**20:.1f} MB")
    for name in ("w3", "arrays"):
        seconds = write(work / name, name, docs)
        print(f"{name:6} SegmentWriter add + commit: {seconds:.1f} s, {len(docs) / seconds:,.0f} records/s, "
              f"{size(work / name) / 2**20:.1f} MB on disk")
    for name in ("w3", "arrays"):
        seconds = write_bulk(work / f"bulk-{name}", name, docs)
        print(f"{name:6} bulk writer (a full build's) add + commit: {seconds:.1f} s, "
              f"{len(docs) / seconds:,.0f} records/s, {size(work / f'bulk-{name}') / 2**20:.1f} MB")
    if args.writes_only:
        return 0
    for name in ("w3", "arrays"):
        got = json.loads(subprocess.run(
            [sys.executable, __file__, "--child", str(work / name), name],
            check=True, capture_output=True, text=True).stdout)
        print(f"{name:6} fresh process, {got.pop('terms'):,} words of the mix:")
        for label, times in got.items():
            if len(times) > 1:
                q = statistics.quantiles(times, n=20)
                print(f"    {label}: p50 {statistics.median(times):.1f} ms, p95 {q[18]:.1f} ms, "
                      f"total {sum(times):.0f} ms ({len(times)} searches)")
            else:
                print(f"    {label} (every word's postings): {times[0]:.0f} ms")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
