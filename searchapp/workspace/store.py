"""The workspace database: one SQLite file in write-ahead-log mode, opened by every serving
process and thread of one machine (a connection per thread), each change one short
transaction committed before it is answered, so a kill -9 loses at most the write in flight.

Records are named by their id, never by a document number: ids are stable across
`index --full` and `check --repair`. What the workspace last saw of a record (title, URL,
date) is kept beside it, so a record that leaves the index is still listed, as such.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..index.schema import id_key

DATABASE = "workspace.sqlite"
MARK_KINDS = ("collection", "tag")  # what the query language and the facets filter by
NAME_LONGEST = 80
NOTE_LONGEST = 16_000
BUSY_MS = 15_000  # a writer waits this long for another's transaction before giving up
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS saved(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    params TEXT NOT NULL, created INTEGER NOT NULL, opened INTEGER NOT NULL,
    opened_total INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS history(id INTEGER PRIMARY KEY, params TEXT NOT NULL,
    total INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS collections(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS items(collection INTEGER NOT NULL
    REFERENCES collections(id) ON DELETE CASCADE, record TEXT NOT NULL, added INTEGER NOT NULL,
    PRIMARY KEY(collection, record));
CREATE TABLE IF NOT EXISTS tags(record TEXT NOT NULL, tag TEXT NOT NULL,
    PRIMARY KEY(record, tag));
CREATE TABLE IF NOT EXISTS notes(record TEXT PRIMARY KEY, note TEXT NOT NULL,
    updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records(record TEXT PRIMARY KEY, idkey INTEGER NOT NULL,
    title TEXT NOT NULL, url TEXT NOT NULL, date TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('version', 0);
INSERT OR IGNORE INTO meta VALUES ('schema', 1);
"""


class WorkspaceProblem(Exception):
    """Something a user asked of the workspace cannot be done; the message says why."""


class WorkspaceDamaged(WorkspaceProblem):
    """The workspace database cannot be read; search goes on without it."""


def valid_name(text: str, what: str) -> str:
    """A collection or tag name as kept: trimmed, one line, not empty, not too long, and not
    starting with what the query language reads as negation or "any" (`-`, `*`). Tags are
    lower case, with no spaces (`tag:word` in a query)."""
    name = " ".join(str(text or "").split())
    if what == "tag":
        name = name.lower().replace(" ", "-")
    if not name:
        raise WorkspaceProblem(f"a {what} needs a name")
    if len(name) > NAME_LONGEST:
        raise WorkspaceProblem(f"a {what} name is at most {NAME_LONGEST} characters")
    if name[0] in "-*\"":
        raise WorkspaceProblem(f"a {what} name cannot start with {name[0]!r}")
    return name


@dataclass(frozen=True)
class Kept:
    """A record as the workspace knows it: its id, what it last saw of it, and its marks."""

    record: str
    title: str
    url: str
    date: str
    tags: tuple[str, ...]
    note: str
    collections: tuple[str, ...] = ()


@dataclass(frozen=True)
class MarkState:
    """Every collection's and tag's records as sorted id keys, at one version of the
    workspace: what the search side filters and counts by."""

    version: int
    keys: dict[str, dict[str, np.ndarray]]  # kind -> name -> sorted id keys
    any: dict[str, np.ndarray]  # kind -> the id keys of every record with one

    @property
    def empty(self) -> bool:
        return not any(self.keys.values())


class Workspace:
    """The workspace in `folder` (made when missing). Opens nothing until first used."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / DATABASE
        self._local = threading.local()
        self._state: MarkState | None = None
        self._state_lock = threading.Lock()
        self.problem = ""  # why the workspace could not be read, the last time it could not

    # -- connections ------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # answered means on disk
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise WorkspaceDamaged(self._damaged(exc)) from None
        except OSError as exc:
            raise WorkspaceDamaged(f"the workspace {self.folder} cannot be opened: "
                                   f"{exc.strerror or exc}") from None
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _damaged(self, exc: BaseException) -> str:
        return (f"the workspace database {self.path} cannot be read ({exc}); search goes on "
                "without saved searches, collections, tags and notes. `searchapp check` says "
                "more; move the file aside to start a new workspace")

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._conn().execute(sql, tuple(args)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise WorkspaceDamaged(self._damaged(exc)) from None

    def _write(self, steps: list[tuple[str, Iterable[Any]]] | Any, durable: bool = True,
               marks: bool = True) -> None:
        """Run `steps` (SQL, args) as one transaction; one that changes the marks (`marks`:
        collections, tags) also moves the version on, which the search side's recent
        searches are keyed by (a saved search or the history leaves them be).
        Every commit survives a kill -9 of the process (the write-ahead log is written
        before the answer); a `durable` one survives a power cut too (synced to disk). The
        history is not worth a sync on every search."""
        conn = self._conn()
        try:
            if not durable:
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in steps:
                    if isinstance(args, list) and args and isinstance(args[0], tuple):
                        conn.executemany(sql, args)
                    else:
                        conn.execute(sql, tuple(args))
                if marks:
                    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as exc:
            raise WorkspaceProblem(f"not changed: {exc}") from None
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise WorkspaceProblem("the workspace is busy; try again") from None
            raise WorkspaceDamaged(self._damaged(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise WorkspaceDamaged(self._damaged(exc)) from None
        finally:
            if not durable:
                conn.execute("PRAGMA synchronous=FULL")

    def version(self) -> int:
        return int(self._read("SELECT value FROM meta WHERE key = 'version'")[0][0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- saved searches ---------------------------------------------------------------------

    def save_search(self, name: str, params: str, total: int) -> int:
        """Keep the search `params` (its canonical query string) under `name`; it counts as
        opened now, with `total` matches."""
        name = valid_name(name, "saved search")
        now = int(time.time())
        if self._read("SELECT 1 FROM saved WHERE name = ?", (name,)):
            raise WorkspaceProblem(f"a saved search is already named {name!r}")
        self._write([("INSERT INTO saved(name, params, created, opened, opened_total) "
                      "VALUES (?, ?, ?, ?, ?)", (name, params, now, now, total))], marks=False)
        return int(self._read("SELECT id FROM saved WHERE name = ?", (name,))[0][0])

    def saved(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT id, name, params, created, opened, opened_total FROM saved "
                          "ORDER BY name COLLATE NOCASE")
        return [dict(zip(("id", "name", "params", "created", "opened", "opened_total"), r))
                for r in rows]

    def saved_one(self, saved_id: int) -> dict[str, Any]:
        for row in self.saved():
            if row["id"] == saved_id:
                return row
        raise WorkspaceProblem(f"no saved search {saved_id}")

    def opened(self, saved_id: int, total: int) -> None:
        self.saved_one(saved_id)
        self._write([("UPDATE saved SET opened = ?, opened_total = ? WHERE id = ?",
                      (int(time.time()), total, saved_id))], marks=False)

    def rename_saved(self, saved_id: int, name: str) -> None:
        name = valid_name(name, "saved search")
        self.saved_one(saved_id)
        if self._read("SELECT 1 FROM saved WHERE name = ? AND id != ?", (name, saved_id)):
            raise WorkspaceProblem(f"a saved search is already named {name!r}")
        self._write([("UPDATE saved SET name = ? WHERE id = ?", (name, saved_id))], marks=False)

    def delete_saved(self, saved_id: int) -> None:
        self.saved_one(saved_id)
        self._write([("DELETE FROM saved WHERE id = ?", (saved_id,))], marks=False)

    # -- history ----------------------------------------------------------------------------

    def remember(self, params: str, total: int, keep: int) -> None:
        """A settled search, newest kept first; the same search again moves to the top."""
        self._write([("DELETE FROM history WHERE params = ?", (params,)),
                     ("INSERT INTO history(params, total, at) VALUES (?, ?, ?)",
                      (params, total, int(time.time()))),
                     ("DELETE FROM history WHERE id NOT IN "
                      "(SELECT id FROM history ORDER BY id DESC LIMIT ?)", (keep,))],
                    durable=False, marks=False)

    def history(self, limit: int) -> list[dict[str, Any]]:
        rows = self._read("SELECT params, total, at FROM history ORDER BY id DESC LIMIT ?",
                          (limit,))
        return [dict(zip(("params", "total", "at"), r)) for r in rows]

    def clear_history(self) -> None:
        self._write([("DELETE FROM history", ())], marks=False)

    # -- collections, tags, notes -----------------------------------------------------------

    def collections(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT c.name, count(i.record), c.created FROM collections c "
                          "LEFT JOIN items i ON i.collection = c.id GROUP BY c.id "
                          "ORDER BY c.name COLLATE NOCASE")
        return [{"name": n, "size": s, "created": c} for n, s, c in rows]

    def tag_names(self) -> list[tuple[str, int]]:
        return [(t, n) for t, n in self._read(
            "SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag")]

    def _known(self, records: list[dict[str, Any]]) -> list[tuple[str, Iterable[Any]]]:
        rows = [(str(r["id"]), id_key(str(r["id"])), str(r.get("title") or ""),
                 str(r.get("url") or ""), str(r.get("date") or "")) for r in records]
        return [("INSERT INTO records VALUES (?, ?, ?, ?, ?) ON CONFLICT(record) DO UPDATE "
                 "SET title = excluded.title, url = excluded.url, date = excluded.date",
                 rows)] if rows else []

    def add(self, collection: str, records: list[dict[str, Any]], tags: Iterable[str] = (),
            note: str = "") -> int:
        """Put `records` (each with id, title, url, date) in `collection` (made when new),
        with `tags` and a `note` on each; how many were not in it before."""
        name = valid_name(collection, "collection")
        tags = [valid_name(t, "tag") for t in tags if str(t).strip()]
        now = int(time.time())
        ids = [str(r["id"]) for r in records]
        before = {r for (r,) in self._read(
            "SELECT i.record FROM items i JOIN collections c ON c.id = i.collection "
            "WHERE c.name = ?", (name,))}
        steps = self._known(records)
        steps.append(("INSERT OR IGNORE INTO collections(name, created) VALUES (?, ?)",
                      (name, now)))
        if ids:
            steps.append(("INSERT OR IGNORE INTO items(collection, record, added) "
                          "SELECT id, ?, ? FROM collections WHERE name = ?",
                          [(rid, now, name) for rid in ids]))
        steps += self._tag_steps(ids, tags) + self._note_steps(ids, note)
        self._write(steps)
        return len(set(ids) - before)

    def _tag_steps(self, ids: list[str], tags: list[str]):
        rows = [(rid, t) for rid in ids for t in tags]
        return [("INSERT OR IGNORE INTO tags VALUES (?, ?)", rows)] if rows else []

    def _note_steps(self, ids: list[str], note: str):
        note = str(note or "").strip()
        if not note:
            return []
        if len(note) > NOTE_LONGEST:
            raise WorkspaceProblem(f"a note is at most {NOTE_LONGEST:,} characters")
        return [("INSERT INTO notes VALUES (?, ?, ?) ON CONFLICT(record) DO UPDATE SET "
                 "note = excluded.note, updated = excluded.updated",
                 [(rid, note, int(time.time())) for rid in ids])]

    def tag(self, records: list[dict[str, Any]], tags: Iterable[str]) -> None:
        tags = [valid_name(t, "tag") for t in tags if str(t).strip()]
        if not tags:
            raise WorkspaceProblem("give at least one tag")
        ids = [str(r["id"]) for r in records]
        self._write(self._known(records) + self._tag_steps(ids, tags))

    def untag(self, record: str, tag: str) -> None:
        self._write([("DELETE FROM tags WHERE record = ? AND tag = ?", (record, tag))])

    def write_note(self, record: dict[str, Any], note: str) -> None:
        """Write (or, empty, remove) the note on a record."""
        rid = str(record["id"])
        steps = self._known([record])
        if str(note or "").strip():
            steps += self._note_steps([rid], note)
        else:
            steps.append(("DELETE FROM notes WHERE record = ?", (rid,)))
        self._write(steps)

    def remove(self, collection: str, record: str) -> None:
        self._write([("DELETE FROM items WHERE record = ? AND collection = "
                      "(SELECT id FROM collections WHERE name = ?)", (record, collection))])

    def rename_collection(self, collection: str, name: str) -> None:
        name = valid_name(name, "collection")
        if not self._read("SELECT 1 FROM collections WHERE name = ?", (collection,)):
            raise WorkspaceProblem(f"no collection named {collection!r}")
        if self._read("SELECT 1 FROM collections WHERE name = ?", (name,)):
            raise WorkspaceProblem(f"a collection is already named {name!r}")
        self._write([("UPDATE collections SET name = ? WHERE name = ?", (name, collection))])

    def delete_collection(self, collection: str) -> None:
        self._write([("DELETE FROM collections WHERE name = ?", (collection,))])

    def members(self, collection: str) -> list[Kept]:
        """The records of `collection`, in the order they were added, with their marks."""
        if not self._read("SELECT 1 FROM collections WHERE name = ?", (collection,)):
            raise WorkspaceProblem(f"no collection named {collection!r}")
        rows = self._read(
            "SELECT i.record, coalesce(r.title, ''), coalesce(r.url, ''), coalesce(r.date, '') "
            "FROM items i JOIN collections c ON c.id = i.collection "
            "LEFT JOIN records r ON r.record = i.record WHERE c.name = ? "
            "ORDER BY i.added, i.rowid", (collection,))
        return self._with_marks(rows)

    def kept(self, record: str) -> Kept | None:
        """What the workspace holds of one record (None: nothing)."""
        rows = self._read("SELECT record, title, url, date FROM records WHERE record = ?",
                          (record,))
        return self._with_marks(rows)[0] if rows else None

    def _with_marks(self, rows: list[tuple]) -> list[Kept]:
        ids = [r[0] for r in rows]
        tags: dict[str, list[str]] = {}
        notes: dict[str, str] = {}
        ins: dict[str, list[str]] = {}
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            marks = ",".join("?" * len(chunk))
            for rid, tag in self._read(f"SELECT record, tag FROM tags WHERE record IN ({marks}) "
                                       "ORDER BY tag", chunk):
                tags.setdefault(rid, []).append(tag)
            for rid, note in self._read(f"SELECT record, note FROM notes WHERE record IN "
                                        f"({marks})", chunk):
                notes[rid] = note
            for rid, name in self._read(
                    f"SELECT i.record, c.name FROM items i JOIN collections c ON "
                    f"c.id = i.collection WHERE i.record IN ({marks}) ORDER BY c.name", chunk):
                ins.setdefault(rid, []).append(name)
        return [Kept(rid, title, url, date, tuple(tags.get(rid, ())), notes.get(rid, ""),
                     tuple(ins.get(rid, ()))) for rid, title, url, date in rows]

    def notes_of(self, ids: list[str]) -> dict[str, str]:
        """The notes on the records `ids` that have one."""
        return {k.record: k.note for k in self._with_marks([(rid, "", "", "") for rid in ids])
                if k.note}

    # -- what the search side filters by ----------------------------------------------------

    def marks(self) -> MarkState:
        """Every collection's and tag's records as id keys, made again only when a write has
        moved the version on since."""
        try:
            return self._marks()
        except WorkspaceDamaged as exc:  # search goes on, without the marks; pages say why
            self.problem = str(exc)
            return MarkState(-2, {}, {})

    def _marks(self) -> MarkState:
        version = self.version()
        state = self._state
        if state is not None and state.version == version:
            return state
        with self._state_lock:
            rows = {
                "collection": self._read(
                    "SELECT c.name, r.idkey FROM items i JOIN collections c ON c.id = "
                    "i.collection JOIN records r ON r.record = i.record"),
                "tag": self._read("SELECT t.tag, r.idkey FROM tags t JOIN records r ON "
                                  "r.record = t.record"),
            }
            version_after = self.version()
            keys: dict[str, dict[str, np.ndarray]] = {}
            every: dict[str, np.ndarray] = {}
            for kind, pairs in rows.items():
                grouped: dict[str, list[int]] = {}
                for name, key in pairs:
                    grouped.setdefault(name, []).append(key)
                keys[kind] = {n: np.unique(np.array(k, dtype=np.int64))
                              for n, k in grouped.items()}
                every[kind] = np.unique(np.array([k for _, k in pairs], dtype=np.int64))
            state = MarkState(version if version == version_after else -1, keys, every)
            self._state = state
            return state


def check(folder: Path) -> list[str]:
    """What is wrong with the workspace in `folder`, in plain words (nothing: sound, or
    there is none yet)."""
    path = Path(folder) / DATABASE
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_MS / 1000)
        try:
            found = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            orphans = conn.execute("SELECT count(*) FROM items WHERE collection NOT IN "
                                   "(SELECT id FROM collections)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"workspace: {path} cannot be read ({exc}); move it aside to start a new "
                "workspace (saved searches, collections, tags and notes in it are lost)"]
    problems = [f"workspace: {path}: {line}" for line in found if line != "ok"]
    if orphans:
        problems.append(f"workspace: {path}: {orphans} collection entries name no collection")
    return problems
