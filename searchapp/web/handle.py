"""The app's resources a request reaches: its one Settings object, its one SearchIndex
(made on first use, shared by every request and thread, closed at exit) and its workspace
(none on a read-only site)."""

from __future__ import annotations

import threading

from flask import current_app

from ..search import SearchIndex
from ..settings import Settings
from ..workspace import Workspace, folder_of

_MAKING = threading.Lock()


def settings() -> Settings:
    """The settings the app was made with: every limit a page honours is read here."""
    return current_app.config["SEARCHAPP"]


def search_index() -> SearchIndex:
    """The app's one SearchIndex, made on first use and shared by every request and thread."""
    ext = current_app.extensions
    index = ext.get("searchapp.index")
    if index is None:
        with _MAKING:
            index = ext.get("searchapp.index")
            if index is None:
                index = ext["searchapp.index"] = SearchIndex.from_settings(
                    settings()).close_at_exit()
    return index


def workspace() -> Workspace | None:
    """The app's workspace (opened on first use by each thread), or None on a read-only
    site."""
    if settings().read_only:
        return None
    ext = current_app.extensions
    found = ext.get("searchapp.workspace")
    if found is None:
        with _MAKING:
            found = ext.get("searchapp.workspace")
            if found is None:
                found = ext["searchapp.workspace"] = Workspace(folder_of(settings()))
    return found
