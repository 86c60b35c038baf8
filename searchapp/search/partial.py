"""An answer of a cluster that some shard did not give: said where an answer can be partial
(how many shards answered), refused with a 503 to try again where it cannot.

On one machine every shard always answers, and none of this says anything.
"""

from __future__ import annotations

from ..reader import ShardsMissing, Snapshot


def answered(snap: Snapshot) -> tuple[int, int] | None:
    """On a cluster: (shards that answered, shards)."""
    if snap.remote is None:
        return None
    return snap.shard_count - snap.absent, snap.shard_count


def every_shard(snap: Snapshot) -> None:
    """Where an answer cannot say that it is partial, a shard of a cluster that did not
    answer while it was computed is a 503, to try again."""
    if snap.absent:
        raise ShardsMissing(
            f"{snap.shard_count - snap.absent} of {snap.shard_count} shards of the cluster "
            "answered; this needs all of them. Try again in a moment.")


def whole(snap: Snapshot, value):
    """`value` (a record, where None is one a shard did not give), if every shard answered."""
    every_shard(snap)
    if value is None:
        raise ShardsMissing("a shard of the cluster did not answer; try again in a moment")
    return value
