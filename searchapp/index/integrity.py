"""Checksums of the index's files, and what is wrong with a build, said in plain words.

Whoosh keeps no checksums: flipped bytes in a segment give wrong answers or errors deep in
its decoding, and a truncated file fails wherever it is first read. So each shard folder
(and each spelling folder) holds CHECKSUMS.json, the size and CRC-32 of every file in it,
recorded after each commit. Segment files never change once written, so recording reads
only the files not yet summed.

`problems(live)` is what a reader checks when it opens a generation (milliseconds): every
shard's table of contents readable, and every file it needs there, of the size recorded.
A server then checks every file against its checksum in the background, and again when a
read fails (`Verified` remembers what was found sound, and when, so that neither reads a
file twice for nothing); `searchapp check` (as Lucene's CheckIndex or `git fsck`) does
that, opens and reads every segment, and runs the manifest's own integrity check. The
spelling index is checked by its own module (spelling.py), with these helpers: losing it
costs corrections, not searches.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import zlib
from pathlib import Path

from ..engine import shards as engine_shards
from ..ingest.problems import shown

SUMS = "CHECKSUMS.json"
# Files rewritten in place (their sums would go stale) or not the index's own. The arrays
# kept beside segments (`.npz`) are not summed either: they are caches, which a search
# process may write anew, and a damaged one (zip checks every member's CRC) is remade.
_NOT_SUMMED = ("MAIN_WRITELOCK", SUMS)
_CACHES = (".npz",)
_CHUNK = 1 << 22
REPAIR = "run `searchapp check --repair` to rebuild it from the seeds"


def checksum(path: Path) -> list[int]:
    """[size, CRC-32] of a file (recorded with its mtime: [size, CRC-32, mtime_ns])."""
    crc, size = 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return [size, crc]


def _summed(name: str) -> bool:
    return not (name.startswith(".") or name.endswith((".tmp", *_CACHES))
                or name in _NOT_SUMMED)


def read_sums(folder: Path) -> dict[str, list[int]]:
    """The sums recorded for a folder ({} when none were, as in an index built before)."""
    try:
        data = json.loads((folder / SUMS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(folder: Path) -> None:
    """Sum the files of `folder` not summed yet and forget the sums of files gone. Files
    never change once written, so a known file keeps its sum (one changed since fails its
    check) except a table of contents written anew under the same name (a killed run's,
    rolled back, then the next run's): that one is known by its mtime too."""
    before = read_sums(folder)
    sums = {}
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and _summed(entry.name):
            st = entry.stat()
            known = before.get(entry.name)
            rewritten = entry.name.endswith(".toc") and (len(known or ()) < 3
                                                         or known[2] != st.st_mtime_ns)
            if known and not rewritten:
                sums[entry.name] = known
            else:
                sums[entry.name] = [*checksum(Path(entry.path)), st.st_mtime_ns]
    tmp = folder / f".{SUMS}.tmp"
    tmp.write_text(json.dumps(sums, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / SUMS)


class Verified:
    """The files found to match their checksums, each as it was then (size, CRC-32, and the
    mtime, ctime and inode it had), with when: a file written since (flipped bytes, a copy
    over it) is another key, so it is read again; `fresh_s` says how long a file found
    sound is trusted unchanged (a disk can rot a file without any write)."""

    KEEP = 8192  # files remembered; past that, those gone (merged away) are forgotten

    def __init__(self) -> None:
        self._when: dict[str, tuple[tuple, float]] = {}  # path -> (key, when found sound)
        self._lock = threading.Lock()

    def sound(self, key: tuple, fresh_s: float | None) -> bool:
        with self._lock:
            known, when = self._when.get(key[0], ((), 0.0))
        return known == key and (fresh_s is None or time.monotonic() - when < fresh_s)

    def add(self, key: tuple) -> None:
        with self._lock:
            self._when[key[0]] = (key, time.monotonic())
            if len(self._when) > self.KEEP:
                for path in [p for p in self._when if not os.path.exists(p)]:
                    del self._when[path]


def problems(live, checksums: bool = False, read: bool = False, manifest: bool = False,
             verified: Verified | None = None, fresh_s: float | None = None) -> list[str]:
    """What is wrong with the index files of the build `live` names, one sentence each ([]
    when nothing). (Its stories and spelling index are not the index's: check.py weighs
    their loss.)

    Always: every shard's table of contents readable, every file it names there and of the
    size recorded (milliseconds). `checksums`: every file against its checksum (skipping
    those `verified` found sound, for `fresh_s` seconds when given, and adding those found
    sound now). `read`: every segment opened and read through. `manifest`: the manifest's
    own check."""
    found: list[str] = []
    build = live.build
    if not build.is_dir():
        return [f"the live build {build.name} is missing"]
    for folder, gen in zip(live.folders, live.shards):
        found.extend(_shard_problems(build, folder, gen, checksums, verified, fresh_s))
    if read and not found:
        found.extend(_readable(live))
    if manifest:
        found.extend(_manifest_problems(build))
    return found


def damage(live, **checks) -> str | None:
    """`problems` said as one message with what to do, or None."""
    found = problems(live, **checks)
    if not found:
        return None
    more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" \
        if len(found) > 1 else ""
    return f"the index is damaged: {found[0]}{more}; {REPAIR}"


def _shard_problems(build: Path, folder: Path, gen: int, checksums: bool,
                    verified: Verified | None, fresh_s: float | None) -> list[str]:
    where = f"{build.name}/{folder.name}"
    if not folder.is_dir():
        return [f"{where} is missing"]
    try:
        needed = engine_shards.files_of(folder, gen)
    except Exception as exc:  # a damaged table of contents fails in many ways inside Whoosh
        return [f"{where}/{engine_shards.toc_name(gen)} (the shard's table of contents) "
                f"cannot be read ({_said(exc)})"]
    sums = read_sums(folder)
    out = []
    for name in needed:
        out.extend(file_problems(folder, name, sums.get(name), checksums, verified, where,
                                 fresh_s))
    return out


def file_problems(folder: Path, name: str, known, checksums: bool, verified: Verified | None,
                  where: str, fresh_s: float | None = None) -> list[str]:
    """What is wrong with one file against its recorded [size, CRC-32] (`known`; None when
    none was recorded: then only whether it is there)."""
    path = folder / name
    try:
        st = path.stat()
    except FileNotFoundError:
        return [f"{where}/{shown(name)} is missing"]
    except OSError as exc:
        return [f"{where}/{shown(name)} cannot be read ({exc.strerror or exc})"]
    if not known:
        return []
    if st.st_size != known[0]:
        return [f"{where}/{shown(name)} is {st.st_size:,} bytes; it was written as "
                f"{known[0]:,}"]
    if checksums:
        key = (str(path), known[0], known[1], st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        if verified is not None and verified.sound(key, fresh_s):
            return []
        try:
            if checksum(path) != list(known[:2]):
                return [f"{where}/{shown(name)} does not match its checksum: its bytes "
                        "changed after it was written"]
        except OSError as exc:
            return [f"{where}/{shown(name)} cannot be read ({exc.strerror or exc})"]
        if verified is not None:
            verified.add(key)
    return []


def _readable(live) -> list[str]:
    """Every segment opened and read through its parts: terms, a posting list of each
    field, the first and last record's stored fields, and the column arrays."""
    try:
        reader = engine_shards.reader(live.folders, list(live.shards), live.generation)
    except Exception as exc:
        return [f"{live.build.name}: the index cannot be opened ({_said(exc)})"]
    try:
        leaves = [reader] if not hasattr(reader, "readers") else reader.readers
        for leaf in leaves:
            name = f"{getattr(leaf, 'kept_folder', live.build).name}: segment " \
                   f"{leaf.segment().segment_id() if hasattr(leaf, 'segment') else '?'}"
            try:
                last_field = None
                for fieldname, text in leaf.all_terms():
                    if fieldname != last_field:
                        last_field = fieldname
                        leaf.postings(fieldname, text).all_ids()
                if leaf.doc_count_all():
                    leaf.stored_fields(0)
                    leaf.stored_fields(leaf.doc_count_all() - 1)
            except Exception as exc:
                return [f"{name} cannot be read ({_said(exc)})"]
    finally:
        reader.close()
    return []


def _manifest_problems(build: Path) -> list[str]:
    path = build / "manifest.sqlite"
    if not path.exists():
        return [f"{build.name}/manifest.sqlite is missing"]
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
            for _ in db.execute("SELECT path, size, mtime_ns, sha1, held FROM files"):
                pass
            dict(db.execute("SELECT key, value FROM meta"))
        finally:
            db.close()
    except sqlite3.Error as exc:
        return [f"{build.name}/manifest.sqlite is damaged ({exc})"]
    if verdict != ["ok"]:
        return [f"{build.name}/manifest.sqlite is damaged ({'; '.join(verdict[:3])})"]
    return []


def _said(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
