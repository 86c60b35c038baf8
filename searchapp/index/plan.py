"""An incremental run worked out before anything is written: which files changed, which
records they touch, and what to delete and add for each.

The index is the one source of truth: each record stores the drafts it was merged from, so
a run parses only new and changed files, takes the drafts of deleted or changed files out
of the records that hold them, and merges just those records again. The plan is read from
one searcher of the live generation, under the write lock, so its document numbers still
name the same records when it is applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..ingest.problems import Problem
from ..ingest.reading import Intake, Loaded
from .documents import merge
from .manifest import HELD, Manifest
from .schema import id_key, source_token
from .summary import Summary


@dataclass
class Stored:
    """A record as the index holds it: its document number and its stored fields."""

    docnum: int
    fields: dict[str, Any]

    def drafts(self) -> list[dict[str, Any]]:
        return json.loads(self.fields["drafts"])


@dataclass
class Plan:
    """What an incremental run will change, worked out before anything is written."""

    loaded: list[Loaded]
    retired: set[str]  # files whose drafts go from the records that hold them
    existing: dict[str, Stored]  # records those files or the new drafts touch, by id
    new_drafts: dict[str, list[str]]  # by record id
    before: Manifest  # as the run found it
    manifest: Manifest  # to write after the commit
    writes: list[tuple[int | None, dict | None]] = field(default_factory=list)  # (delete, add)
    changed: set[int] = field(default_factory=set)  # id keys of the records written or removed


def make(build: Path, searcher, generation: int, intake: Intake, now: int, summary: Summary,
         watched: set[str] | None = None) -> Plan:
    """Which files changed (only the `watched` paths, when the manifest can be trusted to
    list everything else), which records they touch, and what to write for each; `now` is
    when a new record is first seen."""
    manifest = Manifest.read(build, only=watched) if watched is not None else None
    if manifest is not None and manifest.lists_everything_in(generation):
        files = intake.named(watched)
        summary.seen = manifest.total - len(manifest.files) + len(files)
    else:  # no watcher, or a manifest that cannot be trusted to list everything
        manifest = Manifest.read(build)
        files = intake.scan()
        summary.seen = len(files)
    loaded = intake.read(manifest.stale(files), manifest.get)
    read = {l.rel for l in loaded if l.drafts is not None}  # the rejected count as such
    deleted = {rel for rel in manifest.files if rel not in files}
    summary.new = sum(1 for rel in read if rel not in manifest)
    summary.changed = len(read) - summary.new
    good = [l for l in loaded if l.drafts is not None]
    summary.warnings.extend(w for l in good for w in l.warnings)
    retired = {l.rel for l in good} | deleted  # files whose old drafts must go
    new_drafts = _drafts_by_id(good)

    # Files the index has records of but the folder no longer holds: deleted while the
    # manifest was lost or stale (a run killed between commit and manifest). Their
    # records must go as well.
    orphans: set[str] = set()
    if not manifest.lists_everything_in(generation):
        on_disk = {source_token(rel) for rel in files}
        orphans = {t.decode() if isinstance(t, bytes) else t
                   for t in searcher.lexicon("sources")} - on_disk
    tokens = {source_token(rel) for rel in retired} | orphans
    existing = _stored_records(searcher, tokens, new_drafts)
    for stored in existing.values():
        retired.update(d["source"] for d in stored.drafts()
                       if source_token(d["source"]) in orphans)
    summary.deleted = len(deleted | {r for r in retired if r not in files})
    held = rejections(loaded, searcher, summary)

    plan = Plan(loaded, retired, existing, new_drafts, manifest,
                _next_manifest(manifest, deleted, loaded, held)
                if loaded or deleted or held else manifest)  # nothing changed: the same
    for rid in sorted(set(existing) | set(new_drafts)):
        old = existing.get(rid)
        kept = [d for d in old.drafts() if d["source"] not in retired] if old else []
        seen = (old.fields.get("seen") if old else None) or now
        doc, problems = merge(rid, kept + new_drafts.get(rid, []), seen)
        summary.warnings.extend(problems)
        if doc is None:
            if old is not None:
                plan.writes.append((old.docnum, None))
                plan.changed.add(id_key(rid))
                summary.removed += 1
        elif old is None:
            plan.writes.append((None, doc))
            plan.changed.add(id_key(rid))
            summary.added += 1
        elif (doc["hash"], doc["drafts"]) != (old.fields["hash"], old.fields["drafts"]):
            plan.writes.append((old.docnum, doc))
            plan.changed.add(id_key(rid))
            summary.updated += 1
    return plan


def rejections(loaded: list[Loaded], searcher, summary: Summary) -> dict[str, list[dict]]:
    """Report every rejected file. A file that turns bad keeps what its last good version gave
    the index (nothing already indexed is lost): for each such file, the drafts it gave, read
    from `searcher` (the live index, or the build a full rebuild replaces)."""
    held: dict[str, list[dict]] = {}
    for item in loaded:
        if item.problem is None:
            continue
        summary.rejected += 1
        problem, records_kept, drafts = item.problem, 0, []
        if searcher is not None:
            for docnum in searcher.document_numbers(sources=source_token(item.rel)):
                records_kept += 1
                drafts.extend(d for d in json.loads(searcher.stored_fields(docnum)["drafts"])
                              if d["source"] == item.rel)
        if records_kept:
            held[item.rel] = drafts
            problem = Problem(problem.path, problem.line,
                              f"{problem.message} (keeping the {records_kept} record(s) indexed "
                              "from its last good version)")
        summary.errors.append(problem)
    return held


def _next_manifest(manifest: Manifest, deleted: set[str], loaded: list[Loaded],
                   held: dict[str, list]) -> Manifest:
    """Unchanged files keep their entries; read files get new ones unless rejected. It
    remembers which rows it changed, so that writing it does not compare a million."""
    entries = dict(manifest.files)  # one copy in C; a comprehension took 1.8 s at 1M
    for rel in deleted:
        entries.pop(rel, None)
    changed = set()
    for item in loaded:
        if item.drafts is not None or (item.problem is None and item.rel in entries):
            if entries.get(item.rel) != item.entry:  # a racy file read again: the same
                changed.add(item.rel)
            entries[item.rel] = item.entry
    for rel in held:  # rejected, but the index keeps its records: the manifest must say so
        if rel not in entries:
            entries[rel] = dict(HELD)
            changed.add(rel)
    out = Manifest(entries)
    out.rows_changed, out.rows_gone = changed, deleted - set(held)
    return out


def _drafts_by_id(loaded: Iterable[Loaded]) -> dict[str, list[str]]:
    """Every draft (as JSON) by the id of the record it is a draft of; frees them from `loaded`."""
    by_id: dict[str, list[str]] = {}
    for item in loaded:
        for rid, draft in item.drafts:
            by_id.setdefault(rid, []).append(draft)
        item.drafts = []
    return by_id


def _stored_records(searcher, tokens: set[str], new_drafts: dict) -> dict[str, Stored]:
    """Every record the files with these source tokens fed, and every record a new draft names."""
    found: dict[str, Stored] = {}
    for token in tokens:
        for docnum in searcher.document_numbers(sources=token):
            fields = searcher.stored_fields(docnum)
            found[fields["id"]] = Stored(docnum, fields)
    for rid in new_drafts:
        if rid not in found:
            docnum = searcher.document_number(id=rid)
            if docnum is not None:
                found[rid] = Stored(docnum, searcher.stored_fields(docnum))
    return found
