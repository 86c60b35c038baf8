"""Searching and building the shards on a Ray cluster (the optional `searchapp[cluster]`).

Nothing outside this package imports Ray. `connect` joins (or starts) a cluster with Ray's
usage statistics off; `guard.py` runs the instance `auto` starts, on 127.0.0.1 alone, and
ends it with the server; `shard.py` is what one shard's actor does, in plain Python; `pool.py`
keeps one actor per shard and is the coordinator's side of a search: the two rounds of
exact global BM25 and the fetching of records; `build.py` runs a full build's parsing and
shard writing as Ray tasks. The design, and what it costs, is in
docs/cluster.md.
"""

from .connect import ClusterUnavailable, connect, disconnect

__all__ = ["ClusterUnavailable", "connect", "disconnect"]
