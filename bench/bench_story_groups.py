"""Stories as the index makes them, over a whole corpus: which labelled pairs end up in one
story, how far a story reaches, and what grouping costs.

Why: bench_stories.py judges each labelled pair alone, by `stories.alike`; the index groups
every record at once, and a story can hold two records that are not alike (each is alike a
third). So a pair can be joined though its two records are not alike (a chain through
others), or kept apart though they are (each went to another story). Issue 29: a chain of
near-duplicates 30 h apart, each one word from the last, made one 75-day story of 61
records whose first and last shared no word.

How: every record of the news corpora (41,402, as convert_news.py makes them, with their
publication times) and the edited copies of stories_labelled.py (as records of their own) get
`stories.signature`, and `stories.group` groups them all by the default rule, timed (best of
REPEATS). A labelled pair is called one story when its two records share a story id. Two
groupings are scored from the one run: *linked*, the connected groups of alike records
(`Stories.chain`; what the index called a story before issue 29, and all the old code
gives), and *stories*, the index's stories now. Then the stories' reach: the widest span of
a story's dated copies, and the least agreement between a story's first copy and another;
and the linked groups cut into several stories, each record with the story it went to.
Then `stories.regroup` after the edited copies are added to the corpus grouped without them
(what an incremental run does), timed and checked against grouping from scratch. Last, the
issue's chain, alone: CHAIN records CHAIN_HOURS apart, each one word different from the one
before, with the default window and with none. With --scale N, N made-up signatures are
grouped and regrouped too (`at_scale`), for the time a big index takes.

    .venv/bin/python bench/bench_story_groups.py [--corpora ../shared/corpora/news] [--scale N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import machine  # noqa: E402
from searchapp.index import stories  # noqa: E402
from searchapp.settings import Settings  # noqa: E402
from stories_labelled import DEFAULT_CORPORA, Pair, load, pairs  # noqa: E402

RULE = stories.Rule(Settings().story_threshold, Settings().story_window_hours)
REPEATS = 3
CHAIN, CHAIN_HOURS = 61, 30
SHOWN = 10  # linked groups cut, listed


@dataclass
class Records:
    """Every record grouped: its signature, date (UNDATED if none) and a name."""

    names: list[str]
    sigs: np.ndarray
    present: np.ndarray
    dates: np.ndarray

    @property
    def keys(self) -> np.ndarray:
        return np.arange(len(self.names), dtype=np.int64)


def records(corpus, found: list[Pair]) -> tuple[Records, dict[int, tuple[int, int]]]:
    """The corpus's records and then the edited copies; each pair's two row numbers."""
    names = sorted(corpus.seeds)
    texts = [corpus.seeds[n] for n in names]
    dates = [corpus.dates[n] for n in names]
    row = {n: i for i, n in enumerate(names)}
    rows = {}
    for i, p in enumerate(found):
        if p.b_id is None:  # an edit made here: a record of its own
            names.append(f"edit {i} of {p.a_id}")
            texts.append((p.b_title, p.b_excerpt))
            dates.append(p.b_date)
        rows[i] = (row[p.a_id], row[p.b_id] if p.b_id is not None else len(names) - 1)
    sigs, present = stories.signatures([stories.signature(*t) for t in texts])
    when = np.array([stories.UNDATED if d is None else d for d in dates], dtype=np.int64)
    return Records(names, sigs, present, when), rows


def grouped(recs: Records, rule: stories.Rule = RULE) -> tuple[stories.Stories, float]:
    """The stories of every record, and the best time of REPEATS groupings (s)."""
    best, found = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = stories.group(recs.keys, recs.sigs, recs.present, recs.dates, rule)
        best = min(best, time.perf_counter() - started)
    return found, best


def linked(found: stories.Stories) -> np.ndarray:
    """Each grouped record's connected group (the code before issue 29 has only those)."""
    return getattr(found, "chain", found.story)


def labels(keys: np.ndarray, found: stories.Stories, values: np.ndarray) -> np.ndarray:
    """`values` (story or chain keys of found.keys) for every key; a record in none, its own."""
    out = keys.copy()
    at = np.searchsorted(found.keys, keys).clip(0, max(len(found.keys) - 1, 0))
    hit = (found.keys[at] == keys) if len(found.keys) else np.zeros(len(keys), dtype=bool)
    out[hit] = values[at[hit]]
    return out


def scores(found: list[Pair], rows: dict, label: np.ndarray) -> dict[str, Counter]:
    """TP/FP/FN/TN of the labelled pairs, in all and by kind."""
    out: dict[str, Counter] = defaultdict(Counter)
    for i, p in enumerate(found):
        a, b = rows[i]
        said = label[a] == label[b]
        cell = ("tp" if said else "fn") if p.same else ("fp" if said else "tn")
        out["all"][cell] += 1
        out[("same " if p.same else "diff ") + p.kind][cell] += 1
    return out


def _pr(c: Counter) -> tuple[float, float]:
    said, same = c["tp"] + c["fp"], c["tp"] + c["fn"]
    return (c["tp"] / said if said else 1.0), (c["tp"] / same if same else 0.0)


def reach(recs: Records, keys: np.ndarray, label: np.ndarray) -> str:
    """Groups of two or more, their records, the largest, the widest span of dated copies,
    and the least agreement between a group's first copy and another of it."""
    order = np.lexsort((keys, np.where(recs.dates == stories.UNDATED, np.iinfo(np.int64).max,
                                       recs.dates), label))
    values, starts, sizes = np.unique(label[order], return_index=True, return_counts=True)
    span, least, n = 0.0, 1.0, 0
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = order[start:start + size]
        n += size
        dated = recs.dates[members][recs.dates[members] != stories.UNDATED]
        if len(dated):
            span = max(span, (dated.max() - dated.min()) / 3600)
        first = recs.sigs[members[0]].tobytes()
        least = min(least, min(stories.agreement(first, recs.sigs[m].tobytes())
                               for m in members[1:]))
    return (f"{int((sizes > 1).sum()):5} groups of 2+ holding {n:5} records, the largest "
            f"{int(sizes.max()):3}; widest span of dated copies {span:7.1f} h; least agreement "
            f"of a first copy with another {least:.2f}")


def compare(found: list[Pair], rows: dict, recs: Records, result: stories.Stories) -> None:
    keys = recs.keys
    both = {"linked (before issue 29)": labels(keys, result, linked(result)),
            "stories (the index's now)": labels(keys, result, result.story)}
    print(f"\n{'':26} | {'prec':>6} {'recall':>6} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4}")
    for name, label in both.items():
        c = scores(found, rows, label)["all"]
        p, r = _pr(c)
        print(f"{name:26} | {p:6.3f} {r:6.3f} {c['tp']:4} {c['fp']:4} {c['fn']:4} {c['tn']:4}")
    print("\nBy kind, share called one story (recall of a same kind, false-positive rate of a "
          "different kind): linked | stories; (n)")
    by = {name: scores(found, rows, label) for name, label in both.items()}
    first, second = by.values()
    for kind in sorted(k for k in first if k != "all"):
        rate = lambda c: (c["tp"] + c["fp"]) / sum(c.values())  # noqa: E731
        mark = "  <- differs" if first[kind] != second[kind] else ""
        print(f"  {kind:<24} {rate(first[kind]):5.2f} | {rate(second[kind]):5.2f}  "
              f"({sum(first[kind].values())}){mark}")
    print("\nReach:")
    for name, label in both.items():
        print(f"  {name:26} {reach(recs, keys, label)}")
    chain = linked(result)
    cut = [c for c in np.unique(chain) if len(np.unique(result.story[chain == c])) > 1]
    print(f"  linked groups cut into more than one story: {len(cut)}")
    for c in cut[:SHOWN]:
        print("    " + " | ".join(f"{recs.names[k]} -> {result.story[result.keys == k][0]}"
                                  for k in result.keys[chain == c].tolist()))


def incremental(recs: Records, corpus_size: int, full: stories.Stories) -> None:
    """Regroup after the edited copies arrive, against grouping all from scratch."""
    old = np.arange(corpus_size)
    before = stories.group(recs.keys[old], recs.sigs[old], recs.present[old],
                           recs.dates[old], RULE)
    changed = recs.keys[corpus_size:]
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        again = stories.regroup(recs.keys, recs.sigs, recs.present, recs.dates, before,
                                changed, RULE)
        best = min(best, time.perf_counter() - started)
    same = np.array_equal(again.keys, full.keys) and np.array_equal(again.story, full.story)
    print(f"\nregroup after {len(changed)} records arrive (the edited copies), best of {REPEATS}: "
          f"{best:.3f} s; equal to grouping from scratch: {'yes' if same else 'NO'}")


def _word(n: int) -> str:
    """A made-up word, letters only (a word with a digit would weigh as a figure)."""
    syllables = "ka lo mi ne ru sa te vi zo pa".split()
    return "".join(syllables[n // 10 ** k % 10] for k in range(3))


def chain(rule: stories.Rule, hours: float) -> Records:
    """CHAIN records `hours` apart, each one word different from the one before: the first
    and the last share no word."""
    words = [_word(n) for n in range(CHAIN - 1)]
    texts = []
    for k in range(CHAIN):
        now = [_word(500 + n) if n < k else w for n, w in enumerate(words)]
        texts.append((" ".join(now[:8]), " ".join(now[8:])))
    sigs, present = stories.signatures([stories.signature(*t) for t in texts])
    dates = 1_700_000_000 + np.arange(CHAIN, dtype=np.int64) * int(hours * 3600)
    return Records([str(k) for k in range(CHAIN)], sigs, present, dates)


def chains() -> None:
    print(f"\nThe chain of issue 29: {CHAIN} records, each one word different from the one "
          "before (first and last share no word)")
    for hours, window in ((CHAIN_HOURS, RULE.window_hours), (1, 0)):
        recs = chain(RULE, hours)
        rule = stories.Rule(RULE.threshold, window)
        found = stories.group(recs.keys, recs.sigs, recs.present, recs.dates, rule)
        print(f"  {hours:g} h apart, window {window:g} h:")
        for name, values in (("linked", linked(found)), ("stories", found.story)):
            print(f"    {name:8} {reach(recs, recs.keys, labels(recs.keys, found, values))}")


def at_scale(n: int) -> None:
    """Grouping `n` made-up signatures, 3 % of them copies (a record some rows on, with 12
    of its 64 positions changed; copies of copies make chains), and regrouping after 100
    change: what a big index costs, without hashing the text of a million records."""
    rng = np.random.default_rng(7)
    sigs = rng.integers(0, 1 << 16, size=(n, stories.POSITIONS), dtype=np.uint16)
    sigs[:, stories.PERMS:] = 0  # no headline keys: the MinHash alone
    copies = n * 3 // 100
    source = rng.integers(0, n - 50, copies)
    for a, b in zip(source.tolist(), (source + rng.integers(1, 40, copies)).tolist()):
        sigs[b] = sigs[a]
        sigs[b, rng.integers(0, stories.PERMS, 12)] = rng.integers(0, 1 << 16, 12)
    recs = Records([], sigs, np.ones(n, dtype=bool),
                   1_600_000_000 + np.arange(n, dtype=np.int64) * 600)  # 10 minutes apart
    keys = rng.permutation(n).astype(np.int64) * 11  # in no order, as a reader's are
    best, found = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        found = stories.group(keys, recs.sigs, recs.present, recs.dates, RULE)
        best = min(best, time.perf_counter() - started)
    changed = keys[rng.integers(0, n, 100)]
    again = float("inf")
    for _ in range(REPEATS * 2):
        started = time.perf_counter()
        stories.regroup(keys, recs.sigs, recs.present, recs.dates, found, changed, RULE)
        again = min(again, time.perf_counter() - started)
    print(f"\n{n:,} made-up signatures ({copies:,} copies): {len(found.keys):,} records in "
          f"{len(np.unique(found.story)):,} stories of 2+; group every record, best of "
          f"{REPEATS}: {best:.2f} s; regroup after 100 change, best of {REPEATS * 2}: "
          f"{again:.3f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--scale", type=int, default=0,
                        help="also group this many made-up signatures (1000000: a big index)")
    args = parser.parse_args(argv)
    print(machine())
    started = time.perf_counter()
    corpus = load(args.corpora)
    found = pairs(corpus=corpus)
    recs, rows = records(corpus, found)
    print(f"{len(recs.names)} records ({len(corpus.seeds)} of the corpora, "
          f"{len(recs.names) - len(corpus.seeds)} edited copies), {len(found)} labelled pairs "
          f"({sum(p.same for p in found)} same story); signatures in "
          f"{time.perf_counter() - started:.1f} s; rule: threshold {RULE.threshold}, window "
          f"{RULE.window_hours:g} h")
    result, took = grouped(recs)
    print(f"group every record from scratch, best of {REPEATS}: {took:.3f} s")
    compare(found, rows, recs, result)
    incremental(recs, len(corpus.seeds), result)
    chains()
    if args.scale:
        at_scale(args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
