"""Repairing text and URLs from seed files before anything indexes or shows them."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ftfy

# Characters that reorder or hide text: right-to-left overrides and isolates can disguise a
# title or a link; direction marks (LRM, RLM, the Arabic letter mark), zero-width spaces,
# word joiners, invisible operators, byte-order marks and soft hyphens split words, so they
# neither match nor read as what they are. A direction mark may have put a number or a stop
# in its place in a right-to-left title; losing that is the lesser harm than a word that
# search cannot find.
_INVISIBLE = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                                    "\u200e\u200f\u061c"
                                    "\u200b\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"), None)
# The joiners (ZWNJ, ZWJ, the Mongolian vowel separator) shape the letters of Persian,
# Arabic, the Indic scripts, Mongolian and emoji sequences, so they stay between two such
# characters; beside ASCII, a space or an end of the text they only split a word.
_STRAY_JOINER = re.compile("(?<![^\x00-\x7f])[\u200c\u200d\u180e]"
                           "|[\u200c\u200d\u180e](?![^\x00-\x7f])")
# Tag characters spell a region's flag after a black flag (England's, Scotland's);
# anywhere else they are text no one sees (a way to hide words in a title).
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]")
_LOOKS_LIKE_HTML = re.compile(r"<[a-zA-Z/!?]")
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, unescape_html=False)
_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid)$", re.I)
MAX_URL_LENGTH = 2048


# Real HTML (and SVG/MathML roots) only: news text also uses angle brackets as text, as
# Reuters does for company names (`<CONSOLIDATED PLANTATIONS BHD>`), and those must stay.
HTML_TAGS = frozenset("""a abbr acronym address applet area article aside audio b base basefont
bdi bdo big blink blockquote body br button canvas caption center cite code col colgroup data
datalist dd del details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer
form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd
keygen label legend li link main map mark marquee math menu meta meter nav noembed noframes
noscript object ol optgroup option output p param picture plaintext portal pre progress q rp rt
ruby s samp script search section select slot small source span strike strong style sub summary
sup svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video
wbr xmp image""".split())


class _TextOnly(HTMLParser):
    """Keeps the text of an HTML fragment and drops its tags (script bodies stay, as text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs) -> None:
        # A <br> or <p> separates words; `<ACME CORP>` is text that looks like a tag.
        self.parts.append(" " if tag in HTML_TAGS else self.get_starttag_text())

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag) -> None:
        self.parts.append(" " if tag in HTML_TAGS else f"</{tag}>")


def clean_text(value: str) -> str:
    """Fix mojibake, decode entities, strip tags and collapse whitespace in one text field."""
    # Mojibake needs non-ASCII bytes; ftfy is the slowest step of parsing, so skip it on ASCII.
    text = value if value.isascii() else ftfy.fix_text(value, _FTFY)
    if not _LOOKS_LIKE_HTML.search(text):
        text = html.unescape(text)
    # Twice: entity-encoded tags (`&lt;script&gt;`) decode into tags on the first pass.
    for _ in range(2):
        if not _LOOKS_LIKE_HTML.search(text):
            break
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
    # Entities can themselves hide mojibake (`&acirc;&#128;&#153;`), so fix once more.
    if not text.isascii():
        text = visible(ftfy.fix_text(text, _FTFY))
    return " ".join(text.split())


def visible(text: str) -> str:
    """`text` without the characters that hide or reorder it where they mean nothing."""
    text = _STRAY_JOINER.sub("", text.translate(_INVISIBLE))
    if text and max(text) >= "\U000e0000":
        text = _TAGS.sub(lambda m: m.group(1) or "", text)
    return text


_NOT_IN_URL = re.compile(r"[\s\x00-\x1f]")  # `\s` is str.isspace's set


def clean_url(value: object) -> str | None:
    """Return the URL when it is a plain http(s) link, None for anything else."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL_LENGTH or _NOT_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def canonical_url(url: str) -> str:
    """The form two links to one article share: no scheme, www., fragment, tracking or trailing slash."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING_PARAMS.match(k)])
    path = parts.path.rstrip("/") or ""
    return urlunsplit(("", host, path, query, ""))[2:]
