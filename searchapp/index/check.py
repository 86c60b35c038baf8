"""`searchapp check`'s verdict on the live index, as `git fsck` gives one on a repository:
every file against the checksum it was written with, every segment opened and read, the
manifest's own check, and what the generation keeps beside its records (its stories, its
spelling index), each loss said with what it costs; and, when all is well, what was
checked and what waits to be indexed.
"""

from __future__ import annotations

from pathlib import Path

from ..ingest.folder import scan
from . import integrity, spelling, stories, store
from .manifest import Manifest

STORIES_COST = ("searches still group copies of a story, but each server process groups "
                "the records itself when it opens the index (seconds at a million records) "
                "until `searchapp index` writes it again")


def verdict(root: Path, seeds: Path) -> tuple[list[str], str]:
    """(what is wrong with the live index in `root`, in plain words; what was checked when
    nothing is)."""
    try:
        live = store.live(root)
    except store.IndexDamaged as exc:
        return [str(exc)], ""
    if live is None:
        return [f"there is no index in {root} (`searchapp index` builds one)"], ""
    if not live.build.is_dir():
        return [f"the live build {live.build.name} is missing"], ""
    if store.format_of(live.build) != store.FORMAT or not live.shards:
        return [f"{live.build.name} was built by another version of searchapp (format "
                f"{store.format_of(live.build)}; this one reads {store.FORMAT})"], ""
    found = integrity.problems(live, checksums=True, read=True, manifest=True) + losses(live)
    if found:
        return found, ""
    files = sum(len(integrity.read_sums(folder)) for folder in live.folders)
    with live.searcher() as searcher:
        records = searcher.doc_count()
    said = (f"ok: {live.build.name}, generation {live.generation}: {len(live.folders)} "
            f"shard{'s' if len(live.folders) != 1 else ''}, {records:,} records, "
            f"{files:,} files match their checksums; the stories and the spelling index "
            "are whole")
    try:
        listed = len(Manifest.read(live.build).files)
    except Exception:
        listed = None
    if seeds.is_dir() and listed is not None:
        waiting = len(scan(seeds)) - listed
        if waiting > 0:
            said += (f"; {waiting:,} seed file{'s are' if waiting != 1 else ' is'} not "
                     "indexed yet (`searchapp index`)")
    return [], said


def losses(live: store.Live) -> list[str]:
    """What is lost of what the generation keeps beside its records, one sentence each with
    what the loss costs: searches go on without them, so only `check` and a notice say so."""
    out = []
    story_file = stories.path(live.build, live.generation)
    if _signed_before(live):
        out.append(f"{live.build.name}/{story_file.name} (which records are copies of one "
                   "story) and the records' story signatures were made by another version of "
                   "searchapp: copies are not grouped until `searchapp index` rebuilds the "
                   "index in full")
    elif stories.Stories.load(story_file) is None:
        out.append(f"{live.build.name}/{story_file.name} (which records are copies of one "
                   f"story) is missing or damaged: {STORIES_COST}")
    lost = spelling.lost(live.build, checksums=True)
    if lost:
        out.append(f"{lost}: {spelling.COST}")
    return out


def _signed_before(live: store.Live) -> bool:
    """stories.signed_before, False for segments that cannot be read (integrity says why)."""
    try:
        return stories.signed_before(live)
    except Exception:
        return False


def damage(root: Path) -> str | None:
    """What a server says at start when the live index is damaged (the quick check) or was
    built in another format (with what to run), or None."""
    try:
        live = store.live(root)
        if live is None or not live.build.is_dir():
            return None
        store.check_format(live.build)
        return integrity.damage(live)
    except (store.IndexDamaged, store.FormatMismatch) as exc:
        return str(exc)
