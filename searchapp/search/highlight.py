"""Marking the query's words in a title or excerpt: `<mark>` and escaped text, nothing else."""

from __future__ import annotations

import html
import threading

from bleach.sanitizer import Cleaner
from whoosh import highlight as wh

ALLOWED_TAGS = frozenset({"mark"})


class _MarkFormatter(wh.Formatter):
    """Wraps matched words in <mark>, escaping everything, matched or not."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text, token, replace=False) -> str:
        return f"<mark>{html.escape(wh.get_text(text, token, replace), quote=False)}</mark>"


_FORMATTER = _MarkFormatter()
_WHOLE = wh.WholeFragmenter(charlimit=None)
_CONTEXT = wh.ContextFragmenter(maxchars=320, surround=80, charlimit=None)


def mark(text: str, terms: frozenset[str], analyzer, long_after: int = 600) -> str:
    """`text` as safe HTML with the analysed `terms` marked; escaped plain text when none match."""
    if not text:
        return ""
    out = ""
    if terms:
        fragmenter = _WHOLE if len(text) <= long_after else _CONTEXT
        out = wh.highlight(text, terms, analyzer, fragmenter, _FORMATTER, top=2, minscore=1)
    if not out:
        out = html.escape(text if len(text) <= long_after else text[:long_after] + " …", quote=False)
    return sanitize(out)


_CLEANERS = threading.local()  # a Cleaner keeps parser state: one per thread, made once


def sanitize(fragment: str) -> str:
    """The last gate before a template: only <mark>, no attributes, everything else escaped.

    What `mark` makes is escaped text with bare `<mark>` tags: once those are taken out, no
    `<` may be left, and such a fragment is already what bleach would return. Anything else
    goes through bleach. (Bleach parses HTML and was a third of a results page's time.)
    """
    if "<" not in fragment.replace("<mark>", "").replace("</mark>", "") \
            and fragment.count("<mark>") == fragment.count("</mark>"):
        return fragment
    cleaner = getattr(_CLEANERS, "cleaner", None)
    if cleaner is None:
        cleaner = _CLEANERS.cleaner = Cleaner(tags=ALLOWED_TAGS, attributes={}, strip=True)
    return cleaner.clean(fragment)
