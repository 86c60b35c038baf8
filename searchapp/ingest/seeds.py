"""Reading one seed file into drafts of the articles it describes, or a clear reason it can't be.

A seed file is YAML front matter between `---` lines, then, optionally, the article's own
text (its body: plain text, Markdown or HTML, read by `fulltext`). It describes one article
(the seed) and the articles it cites (`related`). Each becomes a `Draft`; `records` merges the drafts of
all files into index records. Nothing here knows about the index or the web.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from . import fulltext, safe_yaml
from .clean import canonical_url, clean_text, clean_url
from .problems import Problem

KNOWN_FIELDS = (
    "category", "title", "excerpt", "publishedDateTime", "originalUrl", "webUrl", "ampWebUrl",
    "cdnAmpWebUrl", "type", "quality", "heat", "published", "provider", "topics", "images",
    "related", "secured",
)
URL_FIELDS = (("web", "webUrl"), ("original", "originalUrl"), ("amp", "ampWebUrl"))
MIN_YEAR, MAX_YEAR = 1800, 2200  # news dates; far outside are typos (and break date arithmetic)
MAX_TITLE = 600  # characters; longer ones are shortened with a warning
MAX_EXCERPT = 6000


class SeedRejected(Exception):
    """The file cannot be indexed; `problem` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Draft:
    """One article as one seed file describes it, before merging with other files."""

    id: str
    kind: str  # "seed" or "related"
    source: str  # the seed file's path, relative to the seeds folder
    position: int  # 0 for the seed itself, 1.. for its related entries in order
    fields: dict[str, Any]
    related: list[str] = field(default_factory=list)


@dataclass
class ParsedSeed:
    path: str
    drafts: list[Draft]
    warnings: list[Problem]


@dataclass(frozen=True)
class SeedLimits:
    """How large a seed file may be: the `max_seed_bytes`, `max_yaml_nodes` and
    `max_body_bytes` settings."""

    max_bytes: int
    max_nodes: int
    max_body_bytes: int

    @classmethod
    def of(cls, settings) -> "SeedLimits":
        """The limits `settings` (settings.Settings) set."""
        return cls(settings.max_seed_bytes, settings.max_yaml_nodes, settings.max_body_bytes)

    @property
    def read_bytes(self) -> int:
        """The most of a file that is read: its front matter, then a body as long as kept
        (and a little more, to know it was longer)."""
        return self.max_bytes + self.max_body_bytes + 1


@dataclass
class Read:
    """A seed file's bytes as read (at most `SeedLimits.read_bytes` of them), with the whole
    file's size and SHA-1 (what the manifest compares)."""

    data: bytes
    size: int
    sha1: str


HASH_CHUNK = 1 << 20


def read_file(file: Path, limits: SeedLimits) -> Read:
    """A seed file's first `limits.read_bytes` bytes, hashed whole (a 50 MB file is read
    through once, never held)."""
    with open(file, "rb") as f:
        data = f.read(limits.read_bytes)
        digest = hashlib.sha1(data)
        size = len(data)
        for chunk in iter(lambda: f.read(HASH_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return Read(data, size, digest.hexdigest())


def parse_file(file: Path, rel: str, limits: SeedLimits) -> ParsedSeed:
    """Parse one seed file; raise SeedRejected naming the file (and line) when it can't be used."""
    try:
        read = read_file(file, limits)
    except OSError as exc:
        _reject(rel, None, f"cannot read file: {exc.strerror or exc}")
    return parse_bytes(read.data, rel, limits, size=read.size)


def parse_bytes(data: bytes, rel: str, limits: SeedLimits, size: int | None = None
                ) -> ParsedSeed:
    """Parse a seed file's bytes (`size`: the whole file's, when `data` is the first of them)."""
    warnings: list[Problem] = []
    size = len(data) if size is None else size
    text = _decode(data, rel, warnings, cut=size > len(data))
    try:
        yaml_text, first_line, body_at = _front_matter(text, rel)
    except SeedRejected:
        if size > len(data):  # never closed in all that was read
            _reject(rel, None, f"file is {size:,} bytes, and its front matter over the "
                               f"{limits.max_bytes:,}-byte limit")
        raise
    if len(yaml_text.encode("utf-8")) > limits.max_bytes:
        _reject(rel, None, f"file is {size:,} bytes, and its front matter over the "
                           f"{limits.max_bytes:,}-byte limit")
    if "\x00" in yaml_text:
        _reject(rel, None, "binary file (contains NUL bytes), not a seed")
    try:
        node = safe_yaml.compose(yaml_text, limits.max_nodes)
    except safe_yaml.TooLarge as exc:
        _reject(rel, _line(exc.line, first_line), str(exc))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        _reject(rel, _line(mark.line if mark else None, first_line),
                f"invalid YAML: {exc.problem or exc.context}")
    except (yaml.YAMLError, RecursionError) as exc:
        _reject(rel, None, f"invalid YAML: {exc.__class__.__name__}")
    if not isinstance(node, yaml.MappingNode):
        _reject(rel, first_line, "front matter must be a mapping of field: value")
    try:
        data_map = safe_yaml.construct(node)
    except safe_yaml.BadValue as exc:
        _reject(rel, _line(exc.line, first_line), str(exc))
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        _reject(rel, _line(mark.line if mark else None, first_line),
                f"YAML construct not allowed: {exc.problem}")
    except (yaml.YAMLError, TypeError, ValueError, RecursionError) as exc:
        _reject(rel, None, f"invalid YAML: {exc}")
    lines = {_key_text(k): _line(k.start_mark.line, first_line) for k, _ in node.value}
    item_lines = _related_item_lines(node, first_line)
    parsed = _SeedReader(rel, data_map, lines, item_lines, warnings).read()
    body = _body(text[body_at:], rel, text.count("\n", 0, body_at) + 1, size, limits,
                 warnings)
    if body:  # a seed without one is the record it always was
        parsed.drafts[0].fields["body"] = body
    return parsed


def _body(raw: str, rel: str, line: int, size: int, limits: SeedLimits,
          warnings: list[Problem]) -> str:
    """The text after the front matter, as `fulltext` reads it: NUL bytes taken out and a
    body longer than `max_body_bytes` cut, each with a warning naming the file."""
    if not raw.strip():
        return ""
    nuls = raw.count("\x00")
    if nuls:
        raw = raw.replace("\x00", "")
        warnings.append(Problem(rel, line, f"body: {nuls:,} NUL byte(s) removed"))
    encoded = raw.encode("utf-8")
    if len(encoded) > limits.max_body_bytes:
        raw = encoded[:limits.max_body_bytes].decode("utf-8", errors="ignore")
        cut = raw.rfind("\n", len(raw) // 2)
        raw = raw[:cut] if cut > 0 else raw
        warnings.append(Problem(rel, line, f"body is over {limits.max_body_bytes:,} bytes "
                                           f"(the file is {size:,}); kept its first "
                                           f"{limits.max_body_bytes:,}"))
    text, _kind = fulltext.to_text(raw)
    return text


def _reject(rel: str, line: int | None, message: str):
    raise SeedRejected(Problem(rel, line, message))


def _line(mark_line: int | None, first_line: int) -> int | None:
    return None if mark_line is None else first_line + mark_line


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


def _related_item_lines(node: yaml.MappingNode, first_line: int) -> list[int | None]:
    for key, value in node.value:
        if _key_text(key) == "related" and isinstance(value, yaml.SequenceNode):
            return [_line(item.start_mark.line, first_line) for item in value.value]
    return []


def _decode(data: bytes, rel: str, warnings: list[Problem], cut: bool = False) -> str:
    if not data.strip():
        _reject(rel, None, "empty file")
    # A NUL before any front matter is a binary file; one in a body is taken out (`_body`).
    if b"\x00" in data[:8192] and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"---"):
        _reject(rel, None, "binary file (contains NUL bytes), not a seed")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:  # a character cut where reading stopped
            return data[:exc.start].decode("utf-8-sig")
        line = data[: exc.start].count(b"\n") + 1
        warnings.append(Problem(rel, line, "not valid UTF-8; decoded as Windows-1252"))
        return data.decode("cp1252", errors="replace")


def _front_matter(text: str, rel: str) -> tuple[str, int, int]:
    """Return the YAML between the `---` lines, the file line it starts on, and where in
    `text` the body after them begins."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].rstrip() != "---":
        _reject(rel, (start or 0) + 1, "no front matter: a seed file starts with a '---' line")
    offset = sum(map(len, lines[:start + 1]))
    for end in range(start + 1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            body_at = offset + len(lines[end])
            yaml_lines = (line.splitlines()[0] if line.strip("\r\n") else "" for line in
                          lines[start + 1:end])
            return "\n".join(yaml_lines), start + 2, body_at
        offset += len(lines[end])
    _reject(rel, start + 1, "front matter is never closed: no '---' line after it")


class _SeedReader:
    """Turns the front matter of one file into drafts, collecting warnings as it goes."""

    def __init__(self, rel: str, data: dict, lines: dict[str, int | None],
                 item_lines: list[int | None], warnings: list[Problem]):
        self.rel, self.data, self.lines, self.item_lines = rel, data, lines, item_lines
        self.warnings = warnings

    def read(self) -> ParsedSeed:
        self._check_field_names()
        if "title" not in self.data:
            near = difflib.get_close_matches("title", [str(k) for k in self.data], n=1)
            hint = f" (is '{near[0]}' a misspelling?)" if near else ""
            self._reject(None, f"missing title{hint}")
        fields = self._article(self.data, self._at)
        if not fields["title"]:
            self._reject("title", "title is empty")
        fields["topics"] = self._topics(self.data.get("topics"))
        related_raw = self.data.get("related")
        if related_raw is not None and not isinstance(related_raw, list):
            self._reject("related", f"related must be a list, got {_kind(related_raw)}")
        seed = Draft(_record_id(fields, self.rel), "seed", self.rel, 0, fields)
        drafts = [seed]
        for number, entry in enumerate(related_raw or [], start=1):
            draft = self._related(number, entry)
            if draft is not None and draft.id != seed.id:
                drafts.append(draft)
                seed.related.append(draft.id)
        seed.related = list(dict.fromkeys(seed.related))
        return ParsedSeed(self.rel, drafts, self.warnings)

    def _check_field_names(self) -> None:
        for key in self.data:
            if key not in KNOWN_FIELDS:
                near = difflib.get_close_matches(str(key), KNOWN_FIELDS, n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                self._warn(self.lines.get(str(key)), f"unknown field '{key}' ignored{hint}")

    def _at(self, name: str) -> int | None:
        return self.lines.get(name)

    def _warn(self, line: int | None, message: str) -> None:
        self.warnings.append(Problem(self.rel, line, message))

    def _reject(self, name: str | None, message: str):
        _reject(self.rel, self.lines.get(name) if name else None, message)

    def _related(self, number: int, entry: Any) -> Draft | None:
        line = self.item_lines[number - 1] if number - 1 < len(self.item_lines) else None
        if not isinstance(entry, dict):
            self._warn(line, f"related entry {number} is not a mapping; skipped")
            return None
        try:
            fields = self._article(entry, lambda _name: line, f"related entry {number}: ")
        except SeedRejected as exc:
            self._warn(line, f"{exc.problem.message}; entry skipped")
            return None
        if not fields["title"]:
            self._warn(line, f"related entry {number} has no title; skipped")
            return None
        fields["topics"] = []
        key = _record_id(fields, f"{self.rel}#related-{fields['title']}")
        return Draft(key, "related", self.rel, number, fields)

    def _article(self, raw: dict, line_of, prefix: str = "") -> dict[str, Any]:
        """The fields a seed and a related entry share, cleaned."""
        def text(name: str) -> str:
            value = raw.get(name)
            if value is None:
                return ""
            if isinstance(value, (dict, list)):
                _reject(self.rel, line_of(name), f"{prefix}{name} must be text, got {_kind(value)}")
            return clean_text(str(value))

        urls = {}
        for short, name in URL_FIELDS:
            value = raw.get(name)
            if value is None or value == "":
                continue
            url = clean_url(value)
            if url is None:
                self._warn(line_of(name), f"{prefix}{name} dropped: only http(s) links are kept")
            else:
                urls[short] = url
        return {
            "title": self._capped(text("title"), MAX_TITLE, "title", line_of("title"), prefix),
            "excerpt": self._capped(text("excerpt"), MAX_EXCERPT, "excerpt", line_of("excerpt"),
                                    prefix),
            "category": text("category"),
            "type": text("type"),
            "provider": self._provider(raw.get("provider"), line_of("provider"), prefix),
            "published": self._date(raw.get("publishedDateTime"), line_of("publishedDateTime"), prefix),
            "quality": self._number(raw, "quality", line_of, prefix),
            "heat": self._number(raw, "heat", line_of, prefix),
            "published_flag": raw.get("published") if isinstance(raw.get("published"), bool) else None,
            "urls": urls,
            "images": self._images(raw.get("images"), line_of("images"), prefix),
        }

    def _capped(self, value: str, limit: int, name: str, line: int | None, prefix: str) -> str:
        """Shorten a runaway field at a word boundary, so one file cannot swamp a page."""
        if len(value) <= limit:
            return value
        self._warn(line, f"{prefix}{name} is {len(value):,} characters; shortened to {limit:,}")
        cut = value[:limit]
        return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2:] else cut) + " …"

    def _provider(self, value: Any, line: int | None, prefix: str) -> dict[str, str]:
        if value is None:
            return {"name": "", "domain": ""}
        if isinstance(value, str):
            return {"name": clean_text(value), "domain": ""}
        if not isinstance(value, dict):
            _reject(self.rel, line, f"{prefix}provider must be a mapping with name and domain, "
                                    f"got {_kind(value)}")
        name, domain = value.get("name"), value.get("domain")
        return {"name": clean_text(str(name)) if isinstance(name, (str, int, float)) else "",
                "domain": clean_text(str(domain)).lower() if isinstance(domain, str) else ""}

    def _topics(self, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            self._reject("topics", f"topics must be a list of strings, got {_kind(value)}")
        topics = [clean_text(t) for t in value]
        return list(dict.fromkeys(t for t in topics if t))

    def _date(self, value: Any, line: int | None, prefix: str) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                _reject(self.rel, line, f"{prefix}publishedDateTime {value!r} is not a date "
                                        "(expected ISO 8601, e.g. 2021-09-01T10:21:00Z)")
        else:
            _reject(self.rel, line, f"{prefix}publishedDateTime must be a date, got {_kind(value)}")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        try:  # the range is of the date as stored (in UTC), not as written
            moment = moment.astimezone(timezone.utc)
        except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
            moment = None
        if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
            self._warn(line, f"{prefix}publishedDateTime {value!s} is outside {MIN_YEAR}-"
                             f"{MAX_YEAR} (in UTC); left out")
            return None
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _number(self, raw: dict, name: str, line_of, prefix: str) -> int | None:
        value = raw.get(name)
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            self._warn(line_of(name), f"{prefix}{name} {value!r} is not a number; ignored")
            return None

    def _images(self, value: Any, line: int | None, prefix: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self._warn(line, f"{prefix}images must be a list; ignored")
            return []
        images = []
        for item in value:
            url = clean_url(item.get("url")) if isinstance(item, dict) else None
            if url is None:
                self._warn(line, f"{prefix}an image without an http(s) url was dropped")
                continue
            size = {k: item[k] for k in ("width", "height")
                    if isinstance(item.get(k), int) and not isinstance(item.get(k), bool)}
            images.append({"url": url, **size})
        return images


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _record_id(fields: dict[str, Any], fallback: str) -> str:
    """Stable id: from the canonical URL, else from where the article was found."""
    url = fields["urls"].get("web") or fields["urls"].get("original")
    basis = "url:" + canonical_url(url) if url else "path:" + fallback
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]
