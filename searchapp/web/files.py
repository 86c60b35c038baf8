"""Files a page hands out: the attachment response, and file names that say what they hold
(two downloads of one query with different filters are two files)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import Response


def download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = attachment(filename)
    return response


def attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def slug(text: str, most: int) -> str:
    """Text as a file-name part: lower-case letters and digits joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:most].strip("-") or "all"


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d")


def filters_named(filters: dict[str, tuple[str, ...]], date_from, date_to) -> list[str]:
    """A search's filters and dates as words of a file name (`source sky`, `2021 to end`)."""
    parts = [f"{'source' if f == 'provider' else f} {v}"
             for f, values in sorted(filters.items()) for v in values]
    if date_from or date_to:
        parts.append(f"{date_from or 'start'} to {date_to or 'end'}")
    return parts
