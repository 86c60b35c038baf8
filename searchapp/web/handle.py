"""The app's resources a request reaches: its one Settings object and its one SearchIndex
(made on first use, shared by every request and thread, closed at exit)."""

from __future__ import annotations

import threading

from flask import current_app

from ..search import SearchIndex
from ..settings import Settings

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
