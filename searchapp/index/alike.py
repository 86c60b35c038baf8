"""Alike: when two records are copies of one article (the `Rule`), and finding the pairs that
are among many records without comparing every pair.

Two records are alike when they were published within the rule's window of each other (when
both have a date) and their signatures (signatures.py) either agree in at least the rule's
threshold of their MinHash positions, or hold one headline and agree in at least the
threshold squared of them (0.25 at the default 0.5; still 1 at 1, so a rule asking for exact
copies keeps asking for them), or hold one headline and one lead (the excerpt's first words)
and were filed within SAME_DAY_HOURS (or are undated). Candidates are the pairs equal in one
of BANDS bands of ROWS MinHash positions or in a key (each 8 bytes, read as one uint64, so
finding who shares one is a sort).

Why a second, lower bar under one headline: the copies the threshold missed were mostly
one wire story under its own headline, its excerpt cut at another length, a sentence left
out or a clause reworded ("PORTUGUESE GOVERNMENT FALLS" twice, two minutes apart, the same
first sentence and different second ones). One headline over different stories is common
("Today's schedule", a weekly list, a recurring report) but those share little of their
excerpts, and recurring reports differ in their figures (weighed more, signatures.py) and
fall outside the window; a recurring report whose figures come late in its lead is filed a
day or more after the last, outside SAME_DAY_HOURS. On the labelled pairs
(bench/bench_stories.py) the lower bar took recall from 0.69 to 0.85 with precision above
0.95; the lead, which no labelled pair needs, makes the grouping of such a story certain
where the estimate of an agreement near the bar is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..settings import Settings
from .schema import NO_DATE
from .signatures import (BANDS, KEYS, PERMS, SIGNATURE_BYTES, VERSION, agreement, keys,
                         keys_of, needed, values)

UNDATED = NO_DATE  # a record with no date is within any window
SAME_DAY_HOURS = 12  # one headline and one lead: copies when filed within this (or undated)
BIG_BUCKET = 2000  # past this, a band's bucket is compared along its sorted order only
_SIEVE = np.uint64((1 << 22) - 1)


@dataclass(frozen=True)
class Rule:
    """When two records are alike: the `story_threshold` and `story_window_hours` settings."""

    threshold: float
    window_hours: float

    @classmethod
    def of(cls, settings: Settings) -> "Rule":
        """The rule `settings` configure."""
        return cls(settings.story_threshold, settings.story_window_hours)

    @property
    def headline(self) -> float:
        """The agreement two records under one headline need."""
        return self.threshold ** 2

    @property
    def key(self) -> float:
        """Both and the signatures' VERSION, as one number kept with the stories (a change
        regroups everything)."""
        return round(self.threshold, 6) + 1000 * round(self.window_hours, 3) + 1e7 * VERSION


def alike(a: bytes, b: bytes, rule: Rule, dates: tuple[int | None, int | None] = (None, None)
          ) -> bool:
    """The rule the index groups by, for one pair: published within `rule.window_hours` of
    each other (when both have a date; 0: any time apart), then one headline and lead on
    one day, or a shared band or headline and enough agreement."""
    if len(a) != SIGNATURE_BYTES or len(b) != SIGNATURE_BYTES:
        return False
    if None not in dates and rule.window_hours \
            and abs(dates[0] - dates[1]) > rule.window_hours * 3600:
        return False
    (head_a, lead_a), (head_b, lead_b) = keys(a), keys(b)
    if lead_a != 0 and lead_a == lead_b and (None in dates or bool(_same_day(*dates))):
        return True
    one_headline = head_a != 0 and head_a == head_b
    bands_a, bands_b = values(a).view("<u8"), values(b).view("<u8")
    if not one_headline and not (bands_a == bands_b).any():
        return False
    return agreement(a, b) >= needed(rule.headline if one_headline else rule.threshold) / PERMS


def _same_day(a, b) -> np.ndarray:
    """Whether dates (seconds; UNDATED: none), or arrays of them, are within SAME_DAY_HOURS
    of each other, or either is undated."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    return (a <= UNDATED) | (b <= UNDATED) | (np.abs(a - b) <= SAME_DAY_HOURS * 3600)


def band_keys(sigs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(len(rows), BANDS + KEYS) uint64: each band of each row's signature as one number,
    then its keys (a row with none gets a number of its own, its row with the top bit)."""
    found = np.ascontiguousarray(sigs[rows]).view("<u8").reshape(len(rows), BANDS + KEYS)
    for column in range(BANDS, BANDS + KEYS):
        none = found[:, column] == 0
        found[none, column] = np.uint64(1 << 63) | np.asarray(rows, dtype=np.uint64)[none]
    return found


def pairs_among(sigs: np.ndarray, rows: np.ndarray, parts: np.ndarray | None = None
                ) -> list[np.ndarray]:
    """Candidate pairs among `rows` (row numbers of `sigs`): those sharing a band, and the
    same one of `parts` (a number for each row) when given, so that the pairs found in one
    part are those found among its rows alone, whatever else is searched with it."""
    if len(rows) < 2:
        return []
    bands = band_keys(sigs, rows)
    found = []
    for band in range(BANDS + KEYS):
        column = bands[:, band]
        if parts is None:
            order = np.argsort(column, kind="stable")
            values_ = column[order]
            split = values_[1:] != values_[:-1]
        else:
            order = np.lexsort((column, parts))
            values_, part = column[order], parts[order]
            split = (values_[1:] != values_[:-1]) | (part[1:] != part[:-1])
        starts = np.flatnonzero(np.r_[True, split])
        sizes = np.diff(np.r_[starts, len(values_)])
        for size in np.unique(sizes[sizes > 1]).tolist():
            at = starts[sizes == size]
            if size > BIG_BUCKET:
                found += [_big_bucket_pairs(sigs, rows[order[s:s + size]]) for s in at.tolist()]
            else:  # every bucket of this size at once: real buckets are many and small
                members = np.sort(rows[order[at[:, None] + np.arange(size)]], axis=1)
                i, j = np.triu_indices(size, 1)
                found.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
    return found


def _big_bucket_pairs(sigs: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Candidate pairs (n, 2) in a band's bucket of more than BIG_BUCKET records (in a
    smaller one, every pair): each with the next few in signature order (the one place a
    full build may link less than every alike pair; real buckets are far smaller)."""
    members = np.sort(members)
    members = members[np.lexsort(sigs[members].T[::-1])]
    return np.sort(np.concatenate([np.stack([members[:-k], members[k:]], axis=1)
                                   for k in range(1, 33)]), axis=1)


def pairs_with(sigs: np.ndarray, present: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Candidate pairs with one side in `rows`, the other anywhere."""
    if not len(rows):
        return []
    everyone = np.flatnonzero(present)
    all_bands = band_keys(sigs, everyone)
    mine = band_keys(sigs, rows)
    found = []
    sieve = np.zeros(_SIEVE + 1, dtype=bool)
    for band in range(BANDS + KEYS):
        order = np.argsort(mine[:, band], kind="stable")
        values_ = mine[order, band]
        column = all_bands[:, band]
        # A table lookup of each record's low bits first: a gather, where a search of every
        # record among `values_` was most of an incremental run's time at a million records.
        sieve[:] = False
        sieve[values_ & _SIEVE] = True
        hit = np.flatnonzero(sieve[column & _SIEVE])
        hit = hit[np.isin(column[hit], values_)]
        if not len(hit):
            continue
        low = np.searchsorted(values_, column[hit], side="left")
        high = np.searchsorted(values_, column[hit], side="right")
        counts = high - low
        other = np.repeat(everyone[hit], counts)
        starts = np.repeat(low - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        own = rows[order[starts]]
        pairs = np.sort(np.stack([own, other], axis=1), axis=1)
        found.append(pairs[pairs[:, 0] != pairs[:, 1]])
    return found


def _agree(a: np.ndarray, b: np.ndarray, dates_a: np.ndarray, dates_b: np.ndarray, rule: Rule
           ) -> np.ndarray:
    """Whether each pair of signature rows agrees as `alike` asks (the rule's window aside)."""
    agree = agreeing(a, b)
    keys_a, keys_b = keys_of(a), keys_of(b)
    one = (keys_a != 0) & (keys_a == keys_b)  # one headline; one headline and lead
    return (agree >= needed(rule.threshold)) | (one[:, 0] & (agree >= needed(rule.headline))) \
        | (one[:, 1] & _same_day(dates_a, dates_b))


def agreeing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many MinHash positions each pair of signature rows agree in."""
    return (a[:, :PERMS] == b[:, :PERMS]).sum(axis=1)


def verified(sigs: np.ndarray, dates: np.ndarray, found: list[np.ndarray], rule: Rule
             ) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs published close enough and whose signatures agree enough, each once."""
    pairs = np.concatenate(found).astype(np.int64) if found else np.zeros((0, 2), np.int64)
    if not len(pairs):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Each pair as one number, sorted: np.unique (by rows, or hashing) was most of grouping's
    # time where copies are many (a bucket of n copies is n (n - 1) / 2 pairs in each band).
    width = int(pairs.max()) + 1
    pairs = np.sort(pairs[:, 0] * width + pairs[:, 1])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]
    pairs = np.stack([pairs // width, pairs % width], axis=1)
    if rule.window_hours:
        da, db = dates[pairs[:, 0]], dates[pairs[:, 1]]
        close = (da <= UNDATED) | (db <= UNDATED) | (np.abs(da - db) <= rule.window_hours * 3600)
        pairs = pairs[close]
    keep = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), 200_000):
        part = pairs[start:start + 200_000]
        keep[start:start + len(part)] = _agree(sigs[part[:, 0]], sigs[part[:, 1]],
                                               dates[part[:, 0]], dates[part[:, 1]], rule)
    pairs = pairs[keep]
    return pairs[:, 0], pairs[:, 1]
