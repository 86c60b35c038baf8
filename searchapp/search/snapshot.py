"""Where `Snapshot` and `Generation` were, before the read side got a package of its own
(reader/generation.py): kept for the modules that still import them from here."""

from ..reader import Generation, Snapshot

__all__ = ["Generation", "Snapshot"]
