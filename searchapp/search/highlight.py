"""Marking the query's words in a title or excerpt, and the best fragments of a body (or all
of it, on the record page): `<mark>` and escaped text, nothing else.

A text short enough to show whole (most titles and excerpts) is marked here, word by word,
with each word's index term remembered: Whoosh's highlighter builds a token object per word
and runs the analyser's filter chain on each, ~0.25 ms per text, a quarter of a keystroke's
time at 20 hits. Words are cut by the index's own pattern and made terms by its own
analyser (analysis.stem_word), so what is marked is what matched; a test holds it to
Whoosh's highlighter. Longer texts go to Whoosh, which picks the best passages. The words
to mark are the index terms the expanded query stands for (`highlight_terms`).
"""

from __future__ import annotations

import html
import re
import threading

from bleach.sanitizer import Cleaner
from whoosh import highlight as wh
from whoosh import query as wq

from ..engine import shapes
from ..engine.highlight import EscapingFormatter
from ..reader import Snapshot, analysis
from .query import ParsedQuery

ALLOWED_TAGS = frozenset({"mark"})


class _MarkFormatter(EscapingFormatter):
    """Wraps matched words in <mark>, escaping everything, matched or not."""

    between = " … "

    def format_token(self, text, token, replace=False) -> str:
        return f"<mark>{html.escape(wh.get_text(text, token, replace), quote=False)}</mark>"


_FORMATTER = _MarkFormatter()
_CONTEXT = wh.ContextFragmenter(maxchars=320, surround=80, charlimit=None)


_STEMMED = analysis.per_thread(analysis.stemmed)
_WORD = re.compile(analysis.WORD_PATTERN)
_TERMS: dict[str, str | None] = {}  # a word as written -> its index term (None: a stop word)
_TERMS_KEPT = 200_000


def mark(text: str, terms: frozenset[str], exact: frozenset[str] = frozenset(),
         long_after: int = 600) -> str:
    """`text` as safe HTML with the stemmed index `terms` marked; escaped plain text when none
    match (longer than `long_after`: its best passages, or its start). A stem listed in
    `exact` as `stem=word` marks only those words as written (folded)."""
    if not text:
        return ""
    out = ""
    if terms and len(text) <= long_after:
        out = _mark_whole(text, terms, exact)
    elif terms:
        out = wh.highlight(text, terms, _STEMMED(), _CONTEXT, _FORMATTER, top=2, minscore=1)
    if not out:
        out = html.escape(text if len(text) <= long_after else text[:long_after] + " …", quote=False)
    return sanitize(out)


FRAGMENTS = 2  # of a body, at most, on a hit
FRAGMENT_CHARS = 240  # about, cut at words
SCANNED_CHARS = 200_000  # of a body, looked through for a hit's fragments
WINDOWS = 2_000  # matched words a passage may start at (the first ones)
MARKED = 4_000  # matched words the record page marks (the first ones; it says so)


def matched_spans(text: str, terms: frozenset[str], exact: frozenset[str] = frozenset(),
                  limit: int | None = None) -> list[tuple[int, int]]:
    """Where in `text` (up to `limit` characters) the words whose index terms are `terms`
    stand, as (start, end), in order."""
    restricted = {e.split("=", 1)[0] for e in exact}
    spans = []
    for found in _WORD.finditer(text, 0, len(text) if limit is None else min(limit, len(text))):
        term = _term(found.group())
        if term in terms and (term not in restricted
                              or f"{term}={analysis.fold_word(found.group())}" in exact):
            spans.append(found.span())
    return spans


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int,
            anchor: str | None = None, first: int = 0) -> str:
    """`text[start:end]` escaped, the `spans` within it in <mark> (numbered `anchor`-N from
    `first` when an anchor is asked for)."""
    parts, done = [], start
    for n, (a, b) in enumerate(spans, start=first):
        if a < start or b > end:
            continue
        tag = f'<mark id="{anchor}-{n + 1}">' if anchor else "<mark>"
        parts += [html.escape(text[done:a], quote=False), tag,
                  html.escape(text[a:b], quote=False), "</mark>"]
        done = b
    parts.append(html.escape(text[done:end], quote=False))
    return "".join(parts)


def fragments(text: str, terms: frozenset[str], exact: frozenset[str] = frozenset(),
              count: int = FRAGMENTS, size: int = FRAGMENT_CHARS, shown: str = "") -> list[str]:
    """The best `count` passages of a long text (a body) with the query's words marked, as
    safe HTML, in the text's order: those with the most different words of the query, then
    the most words; none when no word of the query is in it. Where the body begins with what
    `shown` (the hit's excerpt) says already, passages come from after it: a Reuters story's
    excerpt is its first lines, and a passage repeating them tells the reader nothing."""
    if not text or not terms:
        return []
    after = _said_already(text, shown)
    spans = [s for s in matched_spans(text, terms, exact, SCANNED_CHARS) if s[0] >= after]
    if not spans:
        return []
    windows, j = [], 0
    for i, (a, _) in enumerate(spans[:WINDOWS]):
        j = max(j, i + 1)
        while j < len(spans) and spans[j][1] <= a + size:
            j += 1
        inside = spans[i:j]
        kinds = {_term(text[x:y]) for x, y in inside}
        windows.append((-len(kinds), -len(inside), a, inside[-1][1]))
    chosen: list[tuple[int, int]] = []
    for _, _, a, b in sorted(windows):
        if all(b < x or a > y for x, y in chosen):
            chosen.append((a, b))
        if len(chosen) == count:
            break
    out = []
    for a, b in sorted(chosen):
        start, end = _around(text, a, b, size)
        if start < after:
            start = after + len(text[after:a]) - len(text[after:a].lstrip())
        out.append(sanitize(("… " if start else "") + _marked(text, spans, start, end)
                            + (" …" if end < len(text) else "")))
    return out


def _said_already(body: str, excerpt: str) -> int:
    """Where the body goes past its opening words that `excerpt` repeats, word for word
    (an excerpt cut from the body, maybe ending in "…"); 0 when it does not begin so."""
    said = _WORD.findall(excerpt or "")
    if len(said) < 3:
        return 0
    if excerpt.rstrip().endswith(("…", "...")):
        said = said[:-1]  # the last word may be cut
    end = 0
    for word, found in zip(said, _WORD.finditer(body)):
        if found.group() != word:
            return 0
        end = found.end()
    return end


def _around(text: str, a: int, b: int, size: int) -> tuple[int, int]:
    """A passage of about `size` characters holding text[a:b], a little before it, cut at
    spaces (and never across a paragraph)."""
    room = max(size - (b - a), 0)
    start = max(text.rfind("\n", 0, a) + 1, a - room // 3)
    end = min(len(text), b + room - (a - start))
    paragraph_end = text.find("\n", b)
    if paragraph_end != -1:
        end = min(end, paragraph_end)
    if start > 0 and text[start - 1] not in "\n":
        space = text.find(" ", start, a)
        start = space + 1 if space != -1 else start
    if end < len(text) and text[end] not in "\n":
        space = text.rfind(" ", b, end)
        end = space if space != -1 else end
    return start, end


def marked_paragraphs(text: str, terms: frozenset[str], exact: frozenset[str] = frozenset(),
                      anchor: str = "match") -> tuple[list[str], int]:
    """A whole body as safe HTML paragraphs, the words of the query (the first MARKED of
    them) in a <mark> numbered `anchor`-1, -2, ... in reading order (the record page's "next
    match"), and how many are marked."""
    spans = (matched_spans(text, terms, exact) if terms else [])[:MARKED]
    paragraphs, at, first = [], 0, 0
    for paragraph in text.split("\n\n"):
        end = at + len(paragraph)
        upto = first
        while upto < len(spans) and spans[upto][0] < end:
            upto += 1
        paragraphs.append(sanitize(_marked(text, spans[first:upto], at, end, anchor, first)))
        first = upto
        at = end + 2
    return paragraphs, len(spans)


def _mark_whole(text: str, terms: frozenset[str], exact: frozenset[str]) -> str:
    parts, done = [], 0
    restricted = {e.split("=", 1)[0] for e in exact}
    for found in _WORD.finditer(text):
        term = _term(found.group())
        if term in terms and (term not in restricted
                              or f"{term}={analysis.fold_word(found.group())}" in exact):
            start, end = found.span()
            parts += [html.escape(text[done:start], quote=False), "<mark>",
                      html.escape(text[start:end], quote=False), "</mark>"]
            done = end
    if not parts:
        return ""
    parts.append(html.escape(text[done:], quote=False))
    return "".join(parts)


def _term(word: str) -> str | None:
    try:
        return _TERMS[word]
    except KeyError:
        if len(_TERMS) >= _TERMS_KEPT:  # plenty for a language's words; names come and go
            _TERMS.clear()
        found = _TERMS[word] = analysis.stem_word(word)
        return found


_CLEANERS = threading.local()  # a Cleaner keeps parser state: one per thread, made once


_NUMBERED_MARK = re.compile(r'<mark id="match-[0-9]+">')  # the record page's, in order


def sanitize(fragment: str) -> str:
    """The last gate before a template: only <mark> (with no attribute but the record page's
    `id="match-N"`), everything else escaped.

    What `mark` makes is escaped text with bare `<mark>` tags: once those are taken out, no
    `<` may be left, and such a fragment is already what bleach would return. Anything else
    goes through bleach. (Bleach parses HTML and was a third of a results page's time.)
    """
    opened = fragment.count("<mark>")
    if "<mark id=" in fragment:
        fragment_bare, numbered = _NUMBERED_MARK.subn("", fragment)
        opened += numbered
    else:
        fragment_bare = fragment
    if "<" not in fragment_bare.replace("<mark>", "").replace("</mark>", "") \
            and opened == fragment.count("</mark>"):
        return fragment
    cleaner = getattr(_CLEANERS, "cleaner", None)
    if cleaner is None:
        cleaner = _CLEANERS.cleaner = Cleaner(tags=ALLOWED_TAGS, attributes={}, strip=True)
    return cleaner.clean(fragment)


def highlight_terms(snap: Snapshot, parsed: ParsedQuery) -> dict[str, frozenset[str]]:
    """The index terms of the query in titles, excerpts and bodies: what `mark` and
    `fragments` look for; under
    "exact", the stems that only `=word` asked for, each as `stem=word` with the words as
    written it may mark (`=banned` marks banned, not ban)."""
    found: dict[str, set[str]] = {"title": set(), "excerpt": set(), "body": set()}
    exact: dict[str, set[str]] = {}
    plain: set[str] = set()
    if parsed.query is not None and parsed.query is not wq.NullQuery:
        reader = snap.searcher.reader()
        for leaf, within_exact in shapes.leaves(parsed.query, narrow=_exact_words):
            # Not Query.existing_terms: its loop variable shadows its `fieldname` argument,
            # so after the first term it skips every leaf of another field.
            for fieldname, text in leaf.expanded_terms(reader, phrases=True):
                if fieldname in found:
                    term = shapes.text_of(text)
                    found[fieldname].add(term)
                    if within_exact is None:
                        plain.add(term)
                    else:
                        exact.setdefault(term, set()).update(within_exact)
    out = {k: frozenset(v) for k, v in found.items()}
    out["exact"] = frozenset(f"{stem}={word}" for stem, words in exact.items() if stem not in plain
                             for word in words)
    return out


def _exact_words(q) -> set[str]:
    """The words of an `=word`'s exact side (its terms in the unstemmed `written` field)."""
    return {t.text for t in q.leaves() if isinstance(t, wq.Term)
            and t.fieldname in ("written", "written_body")}
