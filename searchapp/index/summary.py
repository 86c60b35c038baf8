"""What one run of the indexer did, in counts and in the line `searchapp index` prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ingest.problems import Problem


@dataclass
class Summary:
    seen: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    rejected: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0
    full: bool = False
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        return (f"{'full rebuild' if self.full else 'indexed'}: {self.seen} files seen, "
                f"{self.new} new, {self.changed} changed, {self.deleted} deleted, "
                f"{self.rejected} rejected; records {self.added} added, {self.updated} updated, "
                f"{self.removed} removed; {self.seconds:.2f} s")

    @property
    def ok(self) -> bool:
        return self.rejected == 0
