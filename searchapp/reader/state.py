"""What an index says about itself, read whatever state it is in: the generation CURRENT
names, what the last `searchapp index` run did and refused (its manifest), and its watcher's
last heartbeat. `/status` is made from this; nothing here opens a searcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..index import beacon, manifest, store


@dataclass
class IndexState:
    live: store.Live | None  # None: no index yet, or CURRENT cannot be read
    last_run: manifest.Status
    watcher: dict = field(default_factory=dict)  # empty: no watcher ever ran


def index_state(root: Path) -> IndexState:
    """The state of the index in `root`, never raising for an index that is missing or
    damaged (that is what the state says)."""
    try:
        live = store.live(root)
    except store.IndexProblem:
        live = None
    done = manifest.status(live.build) if live is not None else manifest.Status()
    return IndexState(live, done, beacon.state(root) or {})
