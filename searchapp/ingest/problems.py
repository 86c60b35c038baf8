"""What is wrong with a seed file, said as `file:line: reason` with the name made safe to print.

Kept apart from the parser (seeds.py, which loads ftfy and PyYAML) because the read side
says these too (the status page, `check`), and importing the search code must not load
the parser.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """Something wrong with a seed file, said as `file:line: reason`."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{shown(self.path)}:{self.line}" if self.line else shown(self.path)
        return f"{where}: {self.message}"


def shown(name: str) -> str:
    """A file name as printed: a newline or escape code in a name must not make lines that
    look like the indexer's own, and bytes that are not UTF-8 show as `\\xe9`."""
    if name.isprintable() and "\\" not in name:
        return name
    out = []
    for ch in name:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)
