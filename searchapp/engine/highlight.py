"""Whoosh's highlighter with everything escaped: the text around the matches as well.

Whoosh's formatters pass the text between matches through a private hook (`_text`), which
the base class leaves as it is; the formatter here overrides it, so that this is where an
upgrade of Whoosh that renames it breaks. How a match itself is marked is the subclass's
(the public `format_token`).
"""

from __future__ import annotations

import html

from whoosh import highlight as wh


class EscapingFormatter(wh.Formatter):
    """A formatter whose text between the matches is HTML-escaped (quotes left as written)."""

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)
