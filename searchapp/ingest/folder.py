"""The seeds folder walked: which of its files are seed files, and the rule for symbolic links.

A run sees the folder as `scan` lists it, and a watched run (which looks only at the paths
a watcher saw change) must see the same files: `named` applies the same rules to those
paths. Names that are not UTF-8 (the index cannot store them) and links to folders (never
followed, so a link loop cannot repeat the folder or lead out of it) are left out and said;
a link to a file inside the folder is left out silently (the file is found under its own
name), and a link to a file outside it is indexed under the link's name.
"""

from __future__ import annotations

import os
from pathlib import Path

from .problems import Problem

IGNORED_SUFFIXES = ("~", ".tmp", ".swp", ".part", ".crdownload")
NOT_UTF8 = "the file name is not valid UTF-8, which the index cannot store; rename it to index it"
LINKED_FOLDER = "a symbolic link to a folder; links to folders are not followed"


def utf8_name(name: str) -> bool:
    """Whether a path from the file system is valid UTF-8 (what the index can store)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan(seeds: Path, skipped: list[Problem] | None = None) -> dict[str, os.stat_result]:
    """Every seed file under `seeds` by its path relative to it (hidden and temp files
    skipped); what the rules leave out is said in `skipped`.

    os.scandir, not pathlib: at 100k files pathlib's objects were 90% of an incremental run.
    In no order: callers sort what they read (sorting a million names twice was a second of
    every run).
    """
    found: dict[str, os.stat_result] = {}
    links: list[tuple[str, str]] = []
    real_root = os.path.realpath(seeds)
    pending = [("", os.fspath(seeds))]
    say = skipped.append if skipped is not None else (lambda problem: None)
    while pending:
        prefix, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # a folder deleted while scanning: the next run sees it gone
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            rel = f"{prefix}{name}"
            if not utf8_name(name):
                say(Problem(rel, None, NOT_UTF8))
                continue
            try:
                if entry.is_symlink():
                    if entry.is_dir():
                        say(Problem(rel, None, LINKED_FOLDER))
                    elif _link_target(entry.path, real_root) is not None:
                        links.append((rel, entry.path))
                elif entry.is_dir():
                    pending.append((f"{rel}/", entry.path))
                elif entry.is_file():
                    found[rel] = entry.stat()
            except OSError:
                continue  # deleted between listing and stat
    linked: set[str] = set()  # several links to one file outside: the first by name
    for rel, path in sorted(links):
        real = os.path.realpath(path)
        if real not in linked:
            try:
                found[rel] = os.stat(path)
            except OSError:
                continue
            linked.add(real)
    return found


def named(seeds: Path, changed: set[str], skipped: list[Problem]) -> dict[str, os.stat_result]:
    """The seed files at the paths a watcher saw change, sorted: no folder scan. A changed
    folder (moved in, or away) is scanned, and only it."""
    files = {}
    for rel in changed:
        if not utf8_name(rel):
            skipped.append(Problem(rel, None, NOT_UTF8))
            continue
        path = seeds / rel
        link = _linked_folder_on_the_way(seeds, rel)
        if link is not None:  # a watch follows links into folders; the scan does not
            skipped.append(Problem(link, None, LINKED_FOLDER))
            continue
        try:
            st = os.stat(path)
        except OSError:
            continue  # gone: the manifest rows read for it (and under it) are deletions
        if os.path.islink(path):  # as the scan treats links (see `_link_target`)
            if os.path.isdir(path):
                skipped.append(Problem(rel, None, LINKED_FOLDER))
                continue
            if _link_target(os.fspath(path), os.path.realpath(seeds)) is None:
                continue
        if os.path.isdir(path):
            files.update((f"{rel}/{sub}", sub_st)
                         for sub, sub_st in scan(path, skipped).items())
        elif os.path.isfile(path):
            files[rel] = st
    return dict(sorted(files.items()))


def _linked_folder_on_the_way(seeds: Path, rel: str) -> str | None:
    """The first folder on the way from `seeds` to `rel` that is a symbolic link, if any:
    what lies behind it is not in the seeds folder, as `scan` sees it."""
    parts = rel.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        if os.path.islink(os.path.join(seeds, prefix)):
            return prefix
    return None


def _link_target(path: str, real_root: str) -> str | None:
    """The file a symbolic link leads to when it is indexed under the link's name: not for
    a link to a folder (never followed), to a file inside the seeds folder (indexed under
    its own name, once), or to nothing."""
    real = os.path.realpath(path)
    if real.startswith(real_root + os.sep) or not os.path.isfile(real):
        return None
    return real
