"""Stories: records that are copies of one article (a wire story run by many outlets, lightly
edited) share a story id, the smallest record id among them; grouping every record into
them, and keeping them beside each index generation.

Each record gets a MinHash signature of the word shingles of its title and excerpt when it
is written (signatures.py). Two records are *alike* (alike.py) when their signatures share a
band, agree in at least `threshold` of all positions, and were published within
`window_hours` of each other (when both have a date). A story is a connected group of alike
records.

Measured on labelled pairs from the news corpora (bench/bench_stories.py), nearly every
false join was a recurring report ("Fed adds reserves via customer repurchases") on
another day with other figures: hence the window, and shingles holding a number counting
NUMBER_WEIGHT times (added again under salts), so that differing figures weigh more.

datasketch does the same per record with Python objects (its LSH keeps a set per bucket, a
gigabyte at a million records); arrays over every record's signature are a fraction of that
and are grouped in seconds. Records too short to have a signature are not judged: each is a
story of its own.

A story depends on the records alone, not on the order they arrived in, so an incremental
run (`regroup`: the stories of the records it changed, and of those they now join) gives
what a full rebuild (`group`) gives; a test holds the two to each other. The signature and
the rule live in their own modules and are named here too, as everything outside this
package knows them from here.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import columns, segments
from .alike import UNDATED, Rule, alike, pairs_among, pairs_with, verified
from .signatures import (BANDS, MIN_SHINGLES, NUMBER_WEIGHT, PERMS, ROWS, SHINGLE,
                         SIGNATURE_BYTES, agreement, shingles, signature, signatures)

__all__ = ["BANDS", "MIN_SHINGLES", "NUMBER_WEIGHT", "PERMS", "ROWS", "SHINGLE",
           "SIGNATURE_BYTES", "UNDATED", "Rule", "Stories", "agreement", "alike", "clean",
           "group", "of_reader", "path", "regroup", "shingles", "signature", "signatures"]


@dataclass
class Stories:
    """Which records share a story: `keys` (sorted id keys, see schema.id_key) of every record
    in a story of two or more, and `story` (the story's key: its smallest id key) of each."""

    keys: np.ndarray
    story: np.ndarray
    rule: float  # Rule.key of the rule they were grouped by

    @classmethod
    def none(cls, rule: float = 0.0) -> "Stories":
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty.copy(), rule)

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The story key of each of these id keys (a record in no story is its own)."""
        keys = np.asarray(keys, dtype=np.int64)
        out = keys.copy()
        if len(self.keys) and len(keys):
            at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            found = self.keys[at] == keys
            out[found] = self.story[at[found]]
        return out

    def save(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "wb") as handle:
            np.savez(handle, keys=self.keys, story=self.story,
                     rule=np.array([self.rule]))
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Stories | None":
        """The stories kept at `path`, or None if missing or not whole."""
        try:
            with np.load(path, allow_pickle=False) as kept:
                keys, story, rule = kept["keys"], kept["story"], kept["rule"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None
        if keys.dtype != np.int64 or story.dtype != np.int64 or keys.shape != story.shape \
                or rule.shape != (1,) or (len(keys) > 1 and (keys[1:] <= keys[:-1]).any()):
            return None
        return cls(keys, story, float(rule[0]))


FILE = "stories-{}.npz"  # in the build folder, one per index generation


def path(build: Path, generation: int) -> Path:
    return build / FILE.format(generation)


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
        return np.zeros(0, dtype=np.int64), np.zeros((0, PERMS), dtype="<u2"), \
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
    return _stories(keys, a, b, rule.key, np.zeros(0, dtype=np.int64), Stories.none(rule.key))


def regroup(keys: np.ndarray, sigs: np.ndarray, present: np.ndarray, dates: np.ndarray,
            before: Stories, changed: np.ndarray, rule: Rule) -> Stories:
    """The stories after a run that added, changed or removed the records with id keys
    `changed`, from the stories `before` it: the stories those records were in are taken
    apart and made again, with every record now alike one of their members (and whole the
    stories those join); every other story is as it was.

    `keys`, `sigs`, `present` and `dates` are of every record now in the index."""
    if before.rule != rule.key:
        return group(keys, sigs, present, dates, rule)
    changed = np.unique(np.asarray(changed, dtype=np.int64))
    touched = np.unique(before.of(changed))  # the stories they were in
    members = before.keys[np.isin(before.story, touched)]
    affected = np.union1d(changed, members)
    rows = np.flatnonzero(np.isin(keys, affected) & present)
    a, b = verified(sigs, dates, pairs_with(sigs, present, rows), rule)
    return _stories(keys, a, b, rule.key, affected, before)


def _stories(keys: np.ndarray, a: np.ndarray, b: np.ndarray, rule: float,
             affected: np.ndarray, before: Stories) -> Stories:
    """Stories from the old ones (less the `affected` records' stories) and new links
    (rows `a[i]`-`b[i]` of `keys`)."""
    keep = ~np.isin(before.keys, affected) & ~np.isin(before.story, before.of(affected))
    old_keys, old_story = before.keys[keep], before.story[keep]
    if not len(a):
        return Stories(old_keys, old_story, rule)
    # Nodes: the linked records, and the stories of old ones they link into, whole.
    linked = np.unique(np.concatenate([keys[a], keys[b]]))
    joined_story = before.of(linked)
    joined = np.isin(old_story, joined_story)
    nodes = np.unique(np.concatenate([linked, old_keys[joined]]))
    left = np.searchsorted(nodes, np.concatenate([keys[a], old_keys[joined]]))
    right = np.searchsorted(nodes, np.concatenate([keys[b], old_story[joined]]))
    label = _components(len(nodes), left, right)
    smallest = np.full(len(nodes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, label, nodes)
    story = smallest[label]
    in_story = np.bincount(label, minlength=len(nodes))[label] > 1
    out_keys = np.concatenate([old_keys[~joined], nodes[in_story]])
    out_story = np.concatenate([old_story[~joined], story[in_story]])
    order = np.argsort(out_keys, kind="stable")
    return Stories(out_keys[order], out_story[order], rule)


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
