"""Stories: records that are copies of one article (a wire story run by many outlets, lightly
edited) share a story id, the smallest record id among them; grouping every record into
them, and keeping them beside each index generation.

Each record gets a signature when it is written (signatures.py): a MinHash of the word
shingles of its title and excerpt, without the marks outlets add, and a key of its headline.
Two records are *alike* (alike.py) when they were published within `window_hours` of each
other (when both have a date) and agree in at least `threshold` of the MinHash positions, or
in the threshold squared under one headline.

A story is a first copy and records alike it (issue 29). Records linked through others,
each alike the next, are a *chain*; a chain can run on without end (sixty-one records 30 h
apart, each one word off the one before, were one story of 75 days whose first and last
shared no word). So each chain is cut into stories (`bounded`): walked in order of
publication, a record joins the story of an earlier first copy it is alike, or starts one.
Every copy is then published within the window after its story's first and agrees with it
as the rule asks, however long the chain. A cut by time alone would keep
the window but not the likeness: with no window, or copies an hour apart, a story could
still go from one text to one sharing nothing with it. On the news corpora chains are short
(five records at most) and four are cut, each of look-alike reports that are not one story
(banks' rate changes, hourly rubber prices, a company's third- and fourth-quarter results):
one labelled false join fewer, no labelled pair of copies parted (bench/bench_story_groups.py).

Measured on labelled pairs from the news corpora (bench/bench_stories.py), nearly every
false join was a recurring report ("Fed adds reserves via customer repurchases") on
another day with other figures: hence the window, and shingles holding a number counting
NUMBER_WEIGHT times (added again under salts), so that differing figures weigh more. The
body is left out (but for a record with no excerpt): signed with its first 10 to 1,000 words
too, the pairs' recall was no higher, and from 25 words lower (corrected re-sends differ in
the body; bench_stories.py --bodies).

datasketch does the same per record with Python objects (its LSH keeps a set per bucket, a
gigabyte at a million records); arrays over every record's signature are a fraction of that
and are grouped in seconds. Records too short to have a signature are not judged: each is a
story of its own.

A story depends on the records alone, not on the order they arrived in, so an incremental
run (`regroup`: the chains of the records it changed, and of those they now join, made and
cut again) gives what a full rebuild (`group`) gives; a test holds the two to each other. The signature and
the rule live in their own modules and are named here too, as everything outside this
package knows them from here.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import columns, segments
from ..engine.npyfiles import READING
from .alike import UNDATED, Rule, agreeing, alike, pairs_among, pairs_with, verified
from .signatures import (BANDS, MIN_SHINGLES, NUMBER_WEIGHT, PERMS, POSITIONS, ROWS, SHINGLE,
                         SIGNATURE_BYTES, VERSION, agreement, shingles, signature, signatures)

__all__ = ["BANDS", "MIN_SHINGLES", "NUMBER_WEIGHT", "PERMS", "POSITIONS", "ROWS", "SHINGLE",
           "SIGNATURE_BYTES", "UNDATED", "VERSION", "Rule", "Stories", "agreement", "alike",
           "clean", "group", "of_reader", "path", "regroup", "shingles", "signature", "signatures",
           "signed_before"]


@dataclass
class Stories:
    """Which records share a story: `keys` (sorted id keys, see schema.id_key) of every record
    linked to another, `story` (the story's key: its smallest id key) of each, and `chain`
    (the key of every record linked to it through others, its smallest: a story is a part of
    its chain, and an incremental run takes chains apart and makes them again whole)."""

    keys: np.ndarray
    story: np.ndarray
    chain: np.ndarray
    rule: float  # Rule.key of the rule they were grouped by

    @classmethod
    def none(cls, rule: float = 0.0) -> "Stories":
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty.copy(), empty.copy(), rule)

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The story key of each of these id keys (a record in no story is its own)."""
        return self._lookup(self.story, keys)

    def chain_of(self, keys: np.ndarray) -> np.ndarray:
        """The chain key of each of these id keys (a record linked to none is its own)."""
        return self._lookup(self.chain, keys)

    def _lookup(self, values: np.ndarray, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.int64)
        out = keys.copy()
        if len(self.keys) and len(keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            found = self.keys[at] == keys
            out[found] = values[at[found]]
        return out

    def save(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=self.keys, story=self.story, chain=self.chain,
                     rule=np.array([self.rule]), version=np.array([VERSION]))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Stories | None":
        """The stories kept at `path`, or None if missing or not whole, or written before
        stories were bounded (no `chain`: its stories may be chains), or from signatures of
        another VERSION (no `version`: before copies under one headline were grouped); they
        are grouped again as lost ones are."""
        try:
            with READING, np.load(path, allow_pickle=False) as kept:
                keys, story, chain, rule = kept["keys"], kept["story"], kept["chain"], kept["rule"]
                version = kept["version"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if version.shape != (1,) or int(version[0]) != VERSION:
            return None
        if any(a.dtype != np.int64 or a.shape != keys.shape for a in (keys, story, chain)) \
                or rule.shape != (1,) or (len(keys) > 1 and (keys[1:] <= keys[:-1]).any()):
            return None
        return cls(keys, story, chain, float(rule[0]))


FILE = "stories-{}.npz"  # in the build folder, one per index generation


def path(build: Path, generation: int) -> Path:
    return build / FILE.format(generation)


def signed_before(live) -> bool:
    """Whether records of the generation `live` carry signatures of an earlier VERSION (of
    another length: the one before the headline keys was PERMS values alone). They are kept
    in the segments, so only a full rebuild makes them again; until then those records are
    in no story."""
    with live.searcher() as searcher:
        return any(columns.fixed_bytes(leaf, "c_minhash", PERMS * 2)[1].any()
                   for leaf, _, _ in segments.leaves(searcher.reader()))


def clean(build: Path, keep: set[int]) -> None:
    """Remove the stories of generations no reader will open again."""
    for found in build.glob("stories-*.npz"):
        number = found.name[len("stories-"):-len(".npz")]
        if not number.isdigit() or int(number) not in keep:
            found.unlink(missing_ok=True)


def of_reader(reader) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(id keys, signatures, whether each is a live record with one, dates) of every document
    `reader` holds, deleted ones included but never `present` (copying a million signatures
    to leave them out was half of an incremental run's time here)."""
    leaves = segments.leaves(reader)
    if not leaves:
        return np.zeros(0, dtype=np.int64), np.zeros((0, POSITIONS), dtype="<u2"), \
            np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    size = sum(leaf.doc_count_all() for leaf, _, _ in leaves)
    read = [columns.fixed_bytes(leaf, "c_minhash", SIGNATURE_BYTES) for leaf, _, _ in leaves]
    sigs = np.concatenate([rows for rows, _ in read]).view("<u2")
    present = np.concatenate([has for _, has in read]) & segments.alive(leaves, size)
    keys = np.concatenate([columns.numbers(leaf, "c_idkey", 0) for leaf, _, _ in leaves])
    dates = np.concatenate([columns.numbers(leaf, "c_date", UNDATED) for leaf, _, _ in leaves])
    return keys, sigs, present, dates


def group(keys: np.ndarray, sigs: np.ndarray, present: np.ndarray, dates: np.ndarray,
          rule: Rule) -> Stories:
    """Every record's story, from scratch (a full build, or a changed rule)."""
    rows = np.flatnonzero(present)
    a, b = verified(sigs, dates, pairs_among(sigs, rows), rule)
    return _stories(keys, (sigs, present, dates), a, b, rule, np.zeros(0, dtype=np.int64),
                    Stories.none(rule.key))


def regroup(keys: np.ndarray, sigs: np.ndarray, present: np.ndarray, dates: np.ndarray,
            before: Stories, changed: np.ndarray, rule: Rule) -> Stories:
    """The stories after a run that added, changed or removed the records with id keys
    `changed`, from the stories `before` it: the chains those records were in are taken
    apart and made again, with every record now alike one of their members (and whole the
    chains those join), and cut into stories again; every other story is as it was.

    `keys`, `sigs`, `present` and `dates` are of every record now in the index."""
    if before.rule != rule.key:
        return group(keys, sigs, present, dates, rule)
    changed = np.unique(np.asarray(changed, dtype=np.int64))
    touched = np.unique(before.chain_of(changed))  # the chains they were in
    members = before.keys[np.isin(before.chain, touched)]
    affected = np.union1d(changed, members)
    rows = np.flatnonzero(np.isin(keys, affected) & present)
    a, b = verified(sigs, dates, pairs_with(sigs, present, rows), rule)
    return _stories(keys, (sigs, present, dates), a, b, rule, affected, before)


def _stories(keys: np.ndarray, records: tuple[np.ndarray, np.ndarray, np.ndarray],
             a: np.ndarray, b: np.ndarray, rule: Rule, affected: np.ndarray, before: Stories
             ) -> Stories:
    """Stories from the old ones (less the `affected` records' chains) and new links (rows
    `a[i]`-`b[i]` of `keys`): the chains the links make, each cut into stories. `records`:
    the signatures, presence and dates of the rows of `keys`."""
    keep = ~np.isin(before.keys, affected) & ~np.isin(before.chain, before.chain_of(affected))
    old_keys, old_story, old_chain = before.keys[keep], before.story[keep], before.chain[keep]
    if not len(a):
        return Stories(old_keys, old_story, old_chain, rule.key)
    # Nodes: the linked records, and the chains of old ones they link into, whole.
    linked = np.unique(np.concatenate([keys[a], keys[b]]))
    joined = np.isin(old_chain, before.chain_of(linked))
    nodes = np.unique(np.concatenate([linked, old_keys[joined]]))
    left = np.searchsorted(nodes, np.concatenate([keys[a], old_keys[joined]]))
    right = np.searchsorted(nodes, np.concatenate([keys[b], old_chain[joined]]))
    label = _components(len(nodes), left, right)
    smallest = np.full(len(nodes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, label, nodes)
    in_chain = np.bincount(label, minlength=len(nodes))[label] > 1
    nodes, chain = nodes[in_chain], smallest[label][in_chain]
    story = chain.copy()  # a chain of two is one story: its two records are alike
    which = np.unique(chain, return_inverse=True)[1].reshape(-1)
    walked = np.flatnonzero(np.bincount(which)[which] > 2)
    if len(walked):
        sigs, present, dates = records
        rows = _rows_of(keys, present, nodes[walked])
        story[walked] = bounded(nodes[walked], chain[walked], sigs[rows], dates[rows], rule)
    out_keys = np.concatenate([old_keys[~joined], nodes])
    order = np.argsort(out_keys, kind="stable")
    return Stories(out_keys[order], np.concatenate([old_story[~joined], story])[order],
                   np.concatenate([old_chain[~joined], chain])[order], rule.key)


def _rows_of(keys: np.ndarray, present: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row of each of the sorted id keys `wanted` among `keys`: its live record (a changed
    record's old version is still in its segment, deleted, under the same key)."""
    hit = np.flatnonzero(np.isin(keys, wanted) & present)
    return hit[np.argsort(keys[hit], kind="stable")]


def bounded(keys: np.ndarray, chain: np.ndarray, sigs: np.ndarray, dates: np.ndarray,
            rule: Rule) -> np.ndarray:
    """The story key of each record of some chains (`keys`, their `chain` keys, signatures
    and dates; every record of each chain): each chain cut into stories, each story a first
    copy and records alike it.

    A chain is walked in order of publication (undated records last, then by id key): a
    record alike an earlier first copy joins the story of the one it agrees with most (the
    earliest of those agreeing as much); a record alike none starts a story. So no copy is
    published more than the window after its story's first, nor is less alike it than the
    rule asks, however long the chain; and a story is what its chain's records make, in
    whatever order they arrived."""
    when = np.where(dates <= UNDATED, np.iinfo(np.int64).max, dates)
    walk = np.lexsort((keys, when, chain))
    sigs, dates = sigs[walk], dates[walk]
    everyone = np.arange(len(walk))
    # Pairs within each chain, found as among its records alone.
    a, b = verified(sigs, dates, pairs_among(sigs, everyone, chain[walk]), rule)
    agree = agreeing(sigs[a], sigs[b])
    first = everyone.tolist()  # each record's story's first copy, by place in the walk
    placed = -1
    # Each record's links to earlier ones, most agreeing first: those earlier ones are placed.
    for earlier, later in zip(*(v[np.lexsort((a, -agree, b))].tolist() for v in (a, b))):
        if later != placed and first[earlier] == earlier:
            first[later], placed = earlier, later
    first = np.array(first, dtype=np.int64)
    smallest = np.full(len(walk), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, first, keys[walk])
    story = np.empty(len(walk), dtype=np.int64)
    story[walk] = smallest[first]
    return story


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each node's component, as its smallest node number (links a[i]-b[i])."""
    label = np.arange(n, dtype=np.int64)
    while True:
        low = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        label = label[label]  # pointer jumping: long chains close in few passes
        label = label[label]
        if np.array_equal(label, before):
            return label
