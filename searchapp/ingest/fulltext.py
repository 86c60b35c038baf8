"""An article's own text, the part of a seed file after its front matter: its kind told
(HTML, Markdown or plain), reduced to plain paragraphs, repaired as the other fields are.

How a body's kind is told, in this order:
- HTML: it has a tag of real HTML (`<p>`, `<div>`, `<br>`, ... : `clean.HTML_TAGS`), so
  Reuters' `<ACME CORP>` stays text;
- Markdown: a line starts with a heading (`# `), a list item (`- `, `* `, `1. `), a quote
  (`> `) or a code fence (```), or the text has a link (`[words](http...)`), an image or
  `**strong**` words;
- otherwise plain text.
Paragraphs are kept (a blank line between them, or a block of HTML); the words are what a
reader sees: script and style contents, tags, link targets and Markdown's markup are not.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import ftfy

from .clean import HTML_TAGS, visible

KINDS = ("html", "markdown", "plain")
_HTML_TAG = re.compile(r"</?(" + "|".join(sorted(HTML_TAGS, key=len, reverse=True))
                       + r")\b[^<>]*>", re.I)
_MARKDOWN = re.compile(r"(?m)^(?:#{1,6}[ \t]|[ \t]{0,3}(?:[-*+]|\d{1,3}[.)])[ \t]+\S|>[ \t]?\S|```|~~~)"
                       r"|!?\[[^\]\n]+\]\((?:https?://|/|#)[^)\s]*\)|\*\*[^*\n]+\*\*")
# Tags that end a paragraph; anything inside the dropped ones is not text a reader sees.
_BLOCKS = frozenset("""address article aside blockquote br dd div dl dt figcaption figure footer
form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr
ul""".split())
_DROPPED = frozenset("script style template noscript iframe object embed svg math head title "
                     "select textarea button".split())
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, unescape_html=False)
# C0 and C1 controls but tab and newline (a NUL is counted and said before this).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PARAGRAPH = "\n\n"


def kind_of(text: str) -> str:
    """`html`, `markdown` or `plain`: how a body is read (see the module's docstring)."""
    if _HTML_TAG.search(text):
        return "html"
    if _MARKDOWN.search(text):
        return "markdown"
    return "plain"


def to_text(raw: str) -> tuple[str, str]:
    """(the body's paragraphs as plain text, a blank line between them; its kind)."""
    kind = kind_of(raw)
    if kind == "html":
        text = _from_html(raw)
        if _MARKDOWN.search(text):  # Markdown with HTML in it: its markup goes too
            text = _from_markdown(text)
    elif kind == "markdown":
        text = html.unescape(_from_markdown(raw))
    else:
        text = html.unescape(raw)
    if not text.isascii():
        text = visible(ftfy.fix_text(text, _FTFY))
    text = _CONTROLS.sub(" ", text)
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return PARAGRAPH.join(p for p in paragraphs if p), kind


class _HtmlText(HTMLParser):
    """The text of an HTML body as a reader sees it, a paragraph break at each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped = 0  # how deep inside script, style and the like

    def handle_starttag(self, tag, attrs) -> None:
        if tag in _DROPPED:
            self.dropped += 1
        elif tag in _BLOCKS:
            self.parts.append(PARAGRAPH)
        elif tag in HTML_TAGS:
            self.parts.append(" " if tag in ("img", "wbr") else "")
        elif not self.dropped:
            self.parts.append(self.get_starttag_text())  # `<ACME CORP>` is text

    def handle_startendtag(self, tag, attrs) -> None:
        if tag not in _DROPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag) -> None:
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
        elif tag in _BLOCKS:
            self.parts.append(PARAGRAPH)

    def handle_data(self, data: str) -> None:
        if not self.dropped:  # (a blank line in it still parts paragraphs, as in plain text)
            self.parts.append(data)


def _from_html(raw: str) -> str:
    parser = _HtmlText()
    parser.feed(raw)
    parser.close()
    return "".join(parser.parts)


_MD_FENCE = re.compile(r"(?m)^[ \t]{0,3}(```|~~~).*$")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_REFERENCE = re.compile(r"(?m)^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$")
_MD_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
# A heading or a list item is a paragraph of its own; a quote's mark just goes.
_MD_BLOCK_START = re.compile(r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,3}[.)][ \t]+)")
_MD_QUOTE = re.compile(r"(?m)^[ \t]{0,3}>[ \t]?")
_MD_RULE = re.compile(r"(?m)^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_MD_HEADING_END = re.compile(r"(?m)[ \t]+#+[ \t]*$")
# (`_` only at a word's edges: snake_case_names stay one word)
_MD_EMPHASIS = re.compile(r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)")
_MD_CODE = re.compile(r"`+([^`\n]+)`+")
_MD_TABLE = re.compile(r"(?m)^[ \t]*\|?([ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$|\|")
_MD_UNDERLINE = re.compile(r"(?m)^[ \t]{0,3}(=+|-+)[ \t]*$")
_INLINE_TAG = re.compile(r"<[^<>\n]*>")


def _from_markdown(raw: str) -> str:
    """Markdown's words without its markup: headings, lists, quotes, emphasis, code marks,
    link targets, reference definitions, rules and table pipes go; link and image text stays."""
    text = _MD_FENCE.sub("", raw)
    text = _MD_REFERENCE.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _MD_RULE.sub("", text)
    text = _MD_UNDERLINE.sub("", text)
    text = _MD_HEADING_END.sub("", text)
    text = _MD_BLOCK_START.sub("\n\n", text)
    text = _MD_QUOTE.sub("", text)
    text = _MD_TABLE.sub(" ", text)
    text = _MD_CODE.sub(r"\1", text)
    for _ in range(2):  # `***both***`, then what was inside
        text = _MD_EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
    # Markdown may hold inline HTML (`<sup>`); a body with real block HTML was read as HTML.
    return _INLINE_TAG.sub(lambda m: "" if _HTML_TAG.fullmatch(m.group(0)) else m.group(0),
                           text)
