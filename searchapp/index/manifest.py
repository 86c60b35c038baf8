"""The manifest: which seed files the last run indexed, so the next run reads only what changed.

One SQLite database per build (stdlib `sqlite3`, write-ahead log), written after the index
commit, in one transaction with the generation it describes. A run writes only the rows
that changed since it read them: at 1M files the JSON manifest it replaces was 119 MB,
read (3 s) and written whole by every run. If the manifest is lost, damaged or stale,
files look changed and are re-merged to the same records, so the index still converges. It
never claims more than the index holds. A build written before reads its `manifest.json`
once; the next write moves it into the database.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..ingest.problems import shown
from . import store

NAME = "manifest.sqlite"
LEGACY = "manifest.json"
# A file written within the clock's granularity of the last run can change again without
# its size or mtime changing ("racy" files, as git calls them): those are re-read.
RACY_NS = 2_000_000_000
# The entry of a file that is rejected while the index keeps its earlier records: no stat
# matches it, so the file is read again every run, and its deletion is noticed.
HELD: dict[str, Any] = {"held": True}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
                                  sha1 TEXT, held INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER);
CREATE TABLE IF NOT EXISTS refused (path TEXT PRIMARY KEY, line INTEGER, message TEXT)
                                    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS last_run (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
"""


@dataclass
class Manifest:
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> size, mtime_ns, sha1
    generation: int | None = None  # the index generation it was written for
    written_ns: int = 0
    in_database: bool = False  # read from the database (so a write need only add what changed)
    total: int = 0  # files the database lists (when only some of them were read)
    # Set by the indexer when it makes the next manifest from this one: the rows it changed.
    rows_changed: set[str] | None = None
    rows_gone: set[str] | None = None

    @classmethod
    def read(cls, build: Path | None, only: set[str] | None = None) -> "Manifest":
        """The build's manifest; an empty one when there is none or it cannot be read.

        With `only` (paths a watcher saw change), just the rows of those paths and of the
        files under them (a folder moved in or away): a watched run at 1M files must not
        read a million rows to index a hundred. A run writes such a manifest back over the
        same rows."""
        if build is None:
            return cls()
        if (build / NAME).exists():
            try:
                with closing(sqlite3.connect(build / NAME)) as db:
                    meta = dict(db.execute("SELECT key, value FROM meta"))
                    columns = "SELECT path, size, mtime_ns, sha1, held FROM files"
                    if only is None:
                        rows = list(db.execute(columns))
                        total = len(rows)
                    else:
                        rows = []
                        for rel in sorted(only):  # the path, and every path under it
                            rows.extend(db.execute(
                                f"{columns} WHERE path = ? OR (path > ? AND path < ?)",
                                (rel, f"{rel}/", f"{rel}0")))  # "0" sorts right after "/"
                        total = db.execute("SELECT count(*) FROM files").fetchone()[0]
                files = {path: dict(HELD) if held else
                         {"size": size, "mtime_ns": mtime_ns, "sha1": sha1}
                         for path, size, mtime_ns, sha1, held in rows}
                return cls(files, meta.get("generation"), meta.get("written_ns") or 0, True,
                           total)
            except sqlite3.Error:
                return cls()  # damaged: everything looks changed, and the index converges
        data = store.read_json(build / LEGACY)
        files = dict(data.get("files", {}))
        return cls(files, data.get("generation"), data.get("written_ns", 0), total=len(files))

    def write(self, build: Path, generation: int, before: "Manifest | None" = None) -> int:
        """Call only after the index commit it describes. Writes the rows that differ from
        `before` (the manifest this run read, when it came from the database), or all of
        them; returns how many rows it wrote or deleted."""
        self.generation, self.written_ns = generation, time.time_ns()
        if before is None or not before.in_database:
            gone, changed = None, self.files
        elif self.rows_changed is not None and self.rows_gone is not None:
            gone = list(self.rows_gone)
            changed = {p: self.files[p] for p in self.rows_changed}
        else:
            gone = [p for p in before.files if p not in self.files]
            changed = {p: e for p, e in self.files.items() if before.files.get(p) != e}
        try:
            self._write_rows(build / NAME, gone, changed)
        except sqlite3.OperationalError as exc:  # disk full, read-only: reported as such
            raise OSError(f"{exc} ({build / NAME})") from None
        except sqlite3.DatabaseError:  # a damaged file: start it again, whole
            for suffix in ("", "-wal", "-shm"):
                Path(f"{build / NAME}{suffix}").unlink(missing_ok=True)
            gone, changed = None, self.files
            self._write_rows(build / NAME, gone, changed)
        try:
            os.unlink(build / LEGACY)  # moved into the database
        except FileNotFoundError:
            pass
        self.in_database = True
        return len(changed) + (len(gone) if gone is not None else 0)

    def _write_rows(self, path: Path, gone: list[str] | None, changed: dict[str, dict]) -> None:
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            with db:  # one transaction: the rows and the generation they describe
                if gone is None:
                    db.execute("DELETE FROM files")
                else:
                    db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in gone))
                db.executemany(
                    "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha1, held) VALUES (?, ?, ?, ?, ?)",
                    ((p, e.get("size"), e.get("mtime_ns"), e.get("sha1"), int(bool(e.get("held"))))
                     for p, e in changed.items()))
                db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               (("generation", self.generation), ("written_ns", self.written_ns)))

    @staticmethod
    def move_on(build: Path, was: int, now: int) -> None:
        """The index moved from generation `was` to `now` without any file changing (its
        segments were merged): a manifest that listed everything still does."""
        try:
            with closing(sqlite3.connect(build / NAME)) as db, db:
                db.execute("UPDATE meta SET value = ? WHERE key = 'generation' AND value = ?",
                           (now, was))
        except sqlite3.Error:
            pass  # the next run finds it stale, scans, and converges

    def stale(self, files: dict) -> list[str]:
        """The files of `files` (path: stat) to read again, sorted: those not of the size
        and mtime listed, or written too close to the last run to tell ("racy"). One pass
        without a call per file (a million calls were 3 s of a run with nothing new)."""
        known, racy = self.files, self.written_ns - RACY_NS
        out = []
        for rel, st in files.items():
            entry = known.get(rel)
            if not entry or entry.get("size") != st.st_size \
                    or entry.get("mtime_ns") != st.st_mtime_ns or st.st_mtime_ns >= racy:
                out.append(rel)
        out.sort()
        return out

    def lists_everything_in(self, generation: int) -> bool:
        """Written for this very index generation: it lists every file the index holds."""
        return self.generation == generation

    def __contains__(self, rel: str) -> bool:
        return rel in self.files

    def get(self, rel: str) -> dict[str, Any] | None:
        return self.files.get(rel)


class Rows:
    """A new build's manifest, written a chunk of rows at a time as a full build reads its
    files: a million entries held until the end were most of a full build's memory."""

    CHUNK = 10_000

    def __init__(self, build: Path):
        self.path = build / NAME
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._chunk: list[tuple] = []

    def add(self, rel: str, entry: dict[str, Any]) -> None:
        self._chunk.append((rel, entry.get("size"), entry.get("mtime_ns"), entry.get("sha1"),
                            int(bool(entry.get("held")))))
        if len(self._chunk) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO files (path, size, mtime_ns, sha1, held) "
                                 "VALUES (?, ?, ?, ?, ?)", self._chunk)
        self._chunk = []

    def finish(self, generation: int) -> None:
        """Call only after the index commit it describes."""
        self._flush()
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                 (("generation", generation), ("written_ns", time.time_ns())))

    def compare(self, old_build: Path | None, rejected: set[str]) -> tuple[int, int, int]:
        """(new, changed, deleted) files against the build this one replaces; `rejected`
        are files read but not listed (bad now, and nothing of theirs kept): counted as
        rejected, so neither new nor deleted."""
        db = self._db
        db.execute("CREATE TEMP TABLE bad (path TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO bad VALUES (?)", ((r,) for r in rejected))
        old = None if old_build is None else old_build / NAME
        if old is None or not old.exists():
            listed = db.execute("SELECT count(*) FROM files WHERE held = 0").fetchone()[0]
            return listed, 0, 0
        try:
            db.execute("ATTACH DATABASE ? AS old", (str(old),))
            new = db.execute("SELECT count(*) FROM main.files WHERE held = 0 AND path NOT IN "
                             "(SELECT path FROM old.files)").fetchone()[0]
            changed = db.execute("SELECT count(*) FROM main.files f JOIN old.files g "
                                 "USING (path) WHERE f.held = 0 AND g.held = 0 "
                                 "AND f.sha1 IS NOT g.sha1").fetchone()[0]
            deleted = db.execute("SELECT count(*) FROM old.files WHERE path NOT IN "
                                 "(SELECT path FROM main.files) AND path NOT IN "
                                 "(SELECT path FROM bad)").fetchone()[0]
            db.execute("DETACH DATABASE old")
        except sqlite3.Error:  # the old one is damaged: the counts are what they can be
            return 0, 0, 0
        return new, changed, deleted

    def close(self) -> None:
        self._db.close()


# -- what the last runs refused ---------------------------------------------------------------

@dataclass
class Status:
    """What `searchapp index` last did, kept with the index so a server (and a restart)
    can say it: its summary line, when it ended, and every file refused and not since
    fixed, as `file:line: reason` (names escaped)."""

    last_run: str | None = None
    last_run_ns: int | None = None
    refused: list[tuple[str, int | None, str]] = field(default_factory=list)  # the first few
    refused_total: int = 0


# Refusals a status shows at most (a folder of a million broken files must not make a page of
# a million rows); the total is always said.
SHOW_REFUSED = 2000


def record_run(build: Path, line: str, refused: list, looked_at: set[str] | None) -> None:
    """After a run: its summary line, and the files it refused. `looked_at` (the paths a
    watched run looked at, and so under them) is None when the run read the whole folder:
    then the refusals are exactly this run's."""
    rows = [(shown(p.path), p.line, p.message) for p in refused]
    try:
        with closing(sqlite3.connect(build / NAME)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            with db:
                if looked_at is None:
                    db.execute("DELETE FROM refused")
                else:
                    for rel in looked_at:
                        shown_rel = shown(rel)
                        db.execute("DELETE FROM refused WHERE path = ? OR (path > ? AND path < ?)",
                                   (shown_rel, f"{shown_rel}/", f"{shown_rel}0"))
                db.executemany("INSERT OR REPLACE INTO refused (path, line, message) "
                               "VALUES (?, ?, ?)", rows)
                db.executemany("INSERT OR REPLACE INTO last_run (key, value) VALUES (?, ?)",
                               (("line", line), ("ended_ns", time.time_ns())))
    except sqlite3.Error:
        pass  # only the status page misses it; the next run that reads everything says it again


def status(build: Path) -> Status:
    """What the last runs recorded (an empty Status when nothing was, or it cannot be read)."""
    path = build / NAME
    if not path.exists():
        return Status()
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            found = dict(db.execute("SELECT key, value FROM last_run"))
            refused = list(db.execute("SELECT path, line, message FROM refused ORDER BY path "
                                      "LIMIT ?", (SHOW_REFUSED,)))
            total = db.execute("SELECT count(*) FROM refused").fetchone()[0]
    except sqlite3.Error:
        return Status()
    return Status(found.get("line"), found.get("ended_ns"), refused, total)


