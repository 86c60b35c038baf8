"""The workspace: what researchers keep and mark (saved searches, the history of settled
searches, collections, tags and notes on records), in a SQLite database of its own beside
the index, never inside a build, keyed by record id, so no rebuild or repair touches it."""

from __future__ import annotations

from pathlib import Path

from .store import (DATABASE, MARK_KINDS, Kept, MarkState, Workspace, WorkspaceDamaged,
                    WorkspaceProblem, check, valid_name)

__all__ = ["DATABASE", "MARK_KINDS", "Kept", "MarkState", "Workspace", "WorkspaceDamaged",
           "WorkspaceProblem", "check", "folder_of", "valid_name"]


def folder_of(settings) -> Path:
    """Where the workspace of `settings` lives: the `workspace` setting, or `workspace/`
    inside the index folder (beside its builds; store.py removes only `build-…` folders)."""
    return Path(settings.workspace) if settings.workspace else Path(settings.index) / "workspace"
