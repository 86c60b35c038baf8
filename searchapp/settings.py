"""Every setting searchapp reads, declared once with its type, default and help.

Values come, lowest priority first, from the defaults below, a YAML config file
(`searchapp.yaml` in the working directory, or the file named by `--config` /
`SEARCHAPP_CONFIG`), environment variables (`SEARCHAPP_<NAME>` in upper case) and
finally explicit overrides (command-line flags, or the mapping a test passes to
`create_app`). docs/settings.md documents each setting; a test keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from .ingest.safe_yaml import SafeLoader


def _path(value: Any) -> Path:
    return Path(os.path.expanduser(str(value)))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


_CONVERT: dict[Any, Callable[[Any], Any]] = {Path: _path, bool: _bool, int: int, float: float,
                                             str: str}


def _setting(default: Any, help: str) -> Any:
    """A declared setting: its default (shown as written in docs/settings.md) and its help."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    seeds: Path = _setting("seeds", "Folder of seed files to index.")
    index: Path = _setting("index", "Folder the index lives in (created when missing).")
    host: str = _setting("127.0.0.1", "Address `searchapp serve` binds to.")
    port: int = _setting(5000, "Port `searchapp serve` listens on.")
    workers: int = _setting(0, "Processes `searchapp serve` answers with (0: one per core).")
    threads: int = _setting(8, "Threads of each serving process.")
    streams: int = _setting(
        4, "Exports and batches one serving process streams at once (each holds one of its "
           "threads until its client has it all); more are refused with 503 and a time to "
           "try again, so searches always find a thread free.")
    slow_client_s: float = _setting(
        30.0, "Seconds a client may take to send a whole request, or go without taking any "
              "of a response it asked for, before the server lets it go (an idle connection "
              "closes after as long).")
    max_connections: int = _setting(
        1200, "Connections one serving process holds at once (clients past it wait to be "
              "accepted).")
    max_seed_bytes: int = _setting(
        4 * 1024 * 1024, "Seed files whose front matter is larger than this many bytes are "
                         "rejected (a body after it is bounded by `max_body_bytes`).")
    max_body_bytes: int = _setting(
        1_000_000, "The most of an article's text (the body after the front matter) that is "
                   "kept, in bytes of UTF-8; a longer body is cut there, at a line's end, with "
                   "a warning naming the file, and the record kept.")
    max_yaml_nodes: int = _setting(
        20000, "Front matter with more YAML nodes than this (counting aliases expanded) is "
               "rejected.")
    lock_timeout: float = _setting(
        10.0, "Seconds a second indexer waits for the index lock before giving up.")
    shards: int = _setting(
        0, "Shards a full build splits the index into, each written by a process of its own "
           "(0: one per core, at most 8). An incremental run keeps the index's own count.")
    watch: bool = _setting(
        True, "Make `searchapp serve` (and so `make run`) keep the index up to date by watching "
              "the seeds folder, as `searchapp index --watch` does (`--no-watch`, or false here, "
              "for a read-only deployment).")
    watch_polling: bool = _setting(
        False, "Make `searchapp index --watch` scan the seeds folder every `watch_interval` "
               "seconds instead of waiting for file-system events (for network mounts, where "
               "events do not arrive).")
    watch_interval: float = _setting(
        1.0, "Seconds between scans of the seeds folder when `watch_polling` is on.")
    watch_settle: float = _setting(
        2.0, "When `watch_polling` is on: seconds the seeds folder must stay unchanged before "
             "a change is indexed (events say when a file is written; a scan cannot).")
    watch_max_wait: float = _setting(
        10.0, "When `watch_polling` is on: seconds after a change is first seen by which it is "
              "indexed even if files keep arriving (the folder never settles).")
    parse_workers: int = _setting(
        0, "Processes that parse seed files in parallel (0: one per core, for runs of 2,000 "
           "files or more).")
    story_threshold: float = _setting(
        0.5, "How alike two records' titles and excerpts must be (the estimated share of their "
             "three-word runs they have in common, 0 to 1) to be grouped as copies of one "
             "story. A change regroups every record at the next run.")
    story_window_hours: float = _setting(
        36.0, "Copies of one story are published within this many hours of each other (records "
              "without a date are within any window; 0: no window). A change regroups every "
              "record at the next run.")
    base_url: str = _setting(
        "", "The site's address as its readers reach it (`https://search.example.org`): the "
            "links of feeds are made from it, never from the request (empty: "
            "`http://<host>:<port>`).")
    per_page: int = _setting(20, "Results per page when the request does not say.")
    max_per_page: int = _setting(100, "Largest page size a request may ask for.")
    max_page: int = _setting(500, "Highest page number a request may ask for.")
    max_query_length: int = _setting(
        10000, "Longest query, in characters, that is searched; longer text is cut, with a "
               "notice.")
    max_wildcard_terms: int = _setting(512,
                                       "Most index terms one prefix or wildcard may expand to.")
    search_budget_ms: int = _setting(
        500, "Milliseconds one search may spend matching; past them it answers with what it "
             "found, and says so (0: no limit).")
    facet_size: int = _setting(10, "Facet values shown before \"more\".")
    facet_max: int = _setting(500, "Most values of one facet the API lists.")
    facet_page_max: int = _setting(
        100, "Most values of one facet the page lists (under \"more\", loaded when opened).")
    max_facet_values: int = _setting(
        50, "Most values of one facet a request may select (more answer 400).")
    posting_cache_mb: int = _setting(
        192, "Memory, in MB, for term postings kept as arrays between searches.")
    recent_cache_mb: int = _setting(
        64, "Memory, in MB, for the matches and counts of recent searches (typing repeats "
            "prefixes; paging repeats a search).")
    cluster: str = _setting(
        "", "A Ray cluster to search and build on (`searchapp[cluster]`): its address "
            "(`HOST:PORT`, as `ray start --head` prints it), `auto` to start one on this "
            "machine, or empty for none. `--cluster` sets it for one command.")
    cluster_timeout_ms: int = _setting(
        3000, "Milliseconds past a search's own budget a shard of a cluster may take to answer; "
              "a shard later than that is left out of the answer, which says so.")
    cluster_unbudgeted_s: float = _setting(
        90.0, "Seconds a shard of a cluster may take over its part of a request without a "
               "search's time budget (an export, a batch) before it is taken to be lost and "
               "the request answers 503.")
    freeze_gc: bool = _setting(
        False, "Take what a serving process holds for the live index out of the garbage "
               "collector's full passes, which would otherwise scan it in the middle of "
               "searches (`searchapp serve` turns it on: its processes only serve; it freezes "
               "every object of the process, so it is off elsewhere).")
    workspace: str = _setting(
        "", "Folder of the workspace: saved searches, history, collections, tags and notes, "
            "in a SQLite database of its own, shared by everyone who can reach the site "
            "(empty: `workspace/` inside the index folder, beside its builds, never in one).")
    read_only: bool = _setting(
        False, "Serve search without the workspace: no saving, history, collections, tags or "
               "notes, and no route that writes (the setting for a public mirror).")
    history: bool = _setting(
        True, "Keep the last searches run (settled ones, not keystrokes) in the workspace's "
              "history (false: keep none).")
    history_size: int = _setting(150, "Most searches the history keeps (the oldest go).")
    collect_max: int = _setting(
        2500, "Most hits of one search that \"add every hit\" puts in a collection at once, "
              "and most lines of a pasted list of URLs or ids.")
    debug: bool = _setting(False, "Run Flask in debug mode (development only).")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # defaults are written as in docs/settings.md
            object.__setattr__(self, f.name, _CONVERT[_type(f)](getattr(self, f.name)))

    @property
    def request_line_bytes(self) -> int:
        """The longest request line a server reads: the longest query we search, every
        character percent-encoded UTF-8 (up to 12 bytes each), and room for the filters."""
        return 12 * self.max_query_length + 16 * 1024

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Setting:
    """One row of the settings table (as docs/settings.md shows it)."""

    name: str
    default: Any
    help: str
    convert: Callable[[Any], Any]


def _type(f: dataclasses.Field) -> type:
    return {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}[f.type] \
        if isinstance(f.type, str) else f.type


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"], _CONVERT[_type(f)])
    for f in dataclasses.fields(Settings))
_BY_NAME = {s.name: s for s in SETTINGS}
CONFIG_FILE = "searchapp.yaml"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names where it came from."""


def load(overrides: Mapping[str, Any] | None = None, config_file: str | os.PathLike | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from defaults, config file, environment and overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    _apply(values, _read_config(config_file or environ.get("SEARCHAPP_CONFIG")), "config file")
    _apply(values, {s.name: environ[_env_name(s.name)] for s in SETTINGS
                    if _env_name(s.name) in environ}, "environment")
    _apply(values, {k: v for k, v in (overrides or {}).items() if v is not None}, "overrides")
    return Settings(**values)


def _env_name(name: str) -> str:
    return "SEARCHAPP_" + name.upper()


def _read_config(path: str | os.PathLike | None) -> dict[str, Any]:
    explicit = path is not None
    file = Path(path) if explicit else Path(CONFIG_FILE)
    if not file.exists():
        if explicit:
            raise SettingsError(f"{file}: config file not found")
        return {}
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{file}: expected a mapping of setting: value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _apply(values: dict[str, Any], source: Mapping[str, Any], where: str) -> None:
    for name, value in source.items():
        if name not in _BY_NAME:
            raise SettingsError(f"{where}: unknown setting {name!r}")
        try:
            _BY_NAME[name].convert(value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{where}: setting {name!r}: {exc}") from None
        values[name] = value
