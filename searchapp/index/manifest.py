"""The manifest: which seed files the last run indexed, so the next run reads only what changed.

One JSON file per build, written after the index commit: if it is lost or stale, files
look changed and are re-merged to the same records, so the index still converges. It
never claims more than the index holds.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import store

NAME = "manifest.json"
# A file written within the clock's granularity of the last run can change again without
# its size or mtime changing ("racy" files, as git calls them): those are re-read.
RACY_NS = 2_000_000_000
# The entry of a file that is rejected while the index keeps its earlier records: no stat
# matches it, so the file is read again every run, and its deletion is noticed.
HELD: dict[str, Any] = {"held": True}


@dataclass
class Manifest:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> size, mtime_ns, sha1
    generation: int | None = None  # the index generation it was written for
    written_ns: int = 0

    @classmethod
    def read(cls, build: Path | None) -> "Manifest":
        """The build's manifest; an empty one when there is none or it cannot be read."""
        data = store.read_json(build / NAME) if build is not None else {}
        return cls(dict(data.get("files", {})), data.get("generation"), data.get("written_ns", 0))

    def write(self, build: Path, generation: int) -> None:
        """Call only after the index commit it describes."""
        self.generation, self.written_ns = generation, time.time_ns()
        store.write_json(build / NAME, {"generation": generation, "written_ns": self.written_ns,
                                        "files": self.files})

    def unchanged(self, rel: str, st: os.stat_result) -> bool:
        """Whether a file can be skipped: same size and mtime as indexed, and not racy."""
        entry = self.files.get(rel)
        return (bool(entry) and entry.get("size") == st.st_size
                and entry.get("mtime_ns") == st.st_mtime_ns
                and st.st_mtime_ns < self.written_ns - RACY_NS)

    def lists_everything_in(self, generation: int) -> bool:
        """Written for this very index generation: it lists every file the index holds."""
        return self.generation == generation

    def __contains__(self, rel: str) -> bool:
        return rel in self.files

    def get(self, rel: str) -> dict[str, Any] | None:
        return self.files.get(rel)
