"""Convert the real news corpora in ../shared/corpora/news/ into seed files.

Reuters-21578, HuffPost (first 10k), AG News (test split) and BBC News 2004-05: ~41k real
records, mapped onto the seed fields (title, excerpt, provider, topics, category,
publishedDateTime, webUrl). Each corpus has real quirks (no URLs, no dates, entity debris,
a malformed date); what could not be mapped is counted and reported, never guessed.

    .venv/bin/python bench/convert_news.py OUT_DIR [--corpora ../shared/corpora/news]
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = ROOT.parent / "shared" / "corpora" / "news"
EXCERPT_CHARS = 320
AG_CLASSES = {"1": "World", "2": "Sports", "3": "Business", "4": "Sci/Tech"}
AG_SOURCE = re.compile(r"^([A-Z][\w.&' ]{1,30}?)\s+-\s+")  # "AP - ...", "Reuters - ..."


def excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


def reuters(path: Path, report: Counter, notes: list[str]):
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        report["reuters: records"] += 1
        report["reuters: no URL (none in the source)"] += 1
        seed = {"title": " ".join((row.get("title") or "").split()),
                "excerpt": excerpt(row.get("body")),
                "provider": {"name": "Reuters", "domain": "reuters.com"},
                "topics": row.get("topics") or [], "category": "news", "type": "article"}
        if not row.get("body"):
            report["reuters: title-only brief (no excerpt)"] += 1
        moment = _reuters_date(row.get("date") or "")
        if moment:
            seed["publishedDateTime"] = moment
        else:
            report["reuters: unparseable date (left out)"] += 1
            notes.append(f"reuters newid {row.get('newid')}: date {row.get('date')!r} not mapped")
        if not seed["title"]:
            words = (row.get("body") or "").split()
            if not words:
                report["reuters: no title and no body (file skipped)"] += 1
                continue
            seed["title"] = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
            report["reuters: no title (made from the body's first words)"] += 1
        yield f"reuters/{row['newid']:05d}.txt", seed


def _reuters_date(text: str) -> str | None:
    """`26-FEB-1987 15:01:01.79`, often with stray letters after it (`...13RM`)."""
    m = re.match(r"\s*(\d{1,2}-[A-Z]{3}-\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})", text)
    if not m:
        return None
    try:
        day = datetime.strptime(m.group(1), "%d-%b-%Y")
        moment = day.replace(hour=int(m.group(2)), minute=int(m.group(3)), second=int(m.group(4)),
                             tzinfo=timezone.utc)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def huffpost(path: Path, report: Counter, notes: list[str]):
    for n, line in enumerate(path.open(encoding="utf-8"), start=1):
        row = json.loads(line)
        report["huffpost: records"] += 1
        link = row.get("link") or ""
        host = (urlsplit(link).hostname or "").removeprefix("www.")
        seed = {"title": row.get("headline") or "", "excerpt": excerpt(row.get("short_description")),
                "provider": {"name": "HuffPost", "domain": host or "huffpost.com"},
                "topics": [row["category"].title()] if row.get("category") else [],
                "category": "news", "type": "article", "webUrl": link or None,
                "publishedDateTime": f"{row['date']}T00:00:00Z" if row.get("date") else None}
        if not row.get("authors"):
            report["huffpost: no authors (not a seed field anyway)"] += 1
        if not seed["title"]:
            report["huffpost: no headline (file skipped)"] += 1
            continue
        yield f"huffpost/{n:05d}.txt", {k: v for k, v in seed.items() if v is not None}


def ag_news(path: Path, report: Counter, notes: list[str]):
    def repair(text: str) -> str:
        text = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)  # "#36;" -> "$"
        text = re.sub(r"(?<![&\w])(quot|amp|lt|gt|apos);", r"&\1;", text)  # "quot;" debris
        return html.unescape(text.replace("\\", " "))

    with path.open(encoding="utf-8", newline="") as f:
        for n, (cls, title, description) in enumerate(csv.reader(f), start=1):
            report["ag_news: records"] += 1
            report["ag_news: no date, no URL (none in the source)"] += 1
            description = repair(description)
            source = AG_SOURCE.match(description)
            provider = {"name": source.group(1), "domain": ""} if source else {"name": "", "domain": ""}
            if not source:
                report["ag_news: no source named in the description"] += 1
            yield f"ag_news/{n:05d}.txt", {
                "title": repair(title), "excerpt": excerpt(description), "provider": provider,
                "topics": [AG_CLASSES.get(cls, cls)], "category": "news", "type": "article"}


def bbc(path: Path, report: Counter, notes: list[str]):
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        report["bbc: records"] += 1
        report["bbc: no date, no URL (none in the source)"] += 1
        yield f"bbc/{row['id'].replace('/', '-')}.txt", {
            "title": row.get("title") or "", "excerpt": excerpt(row.get("body")),
            "provider": {"name": "BBC News", "domain": "bbc.co.uk"},
            "topics": [row["category"].title()] if row.get("category") else [],
            "category": "news", "type": "article"}


SOURCES = (("reuters21578.jsonl", reuters), ("huffpost_head10k.jsonl", huffpost),
           ("ag_news/test.csv", ag_news), ("bbc.jsonl", bbc))


def convert(corpora: Path, out: Path, only: set[str] | None = None
            ) -> tuple[int, Counter, list[str]]:
    """Write the seed files of every corpus (or of those whose file name is in `only`)."""
    report: Counter = Counter()
    notes: list[str] = []
    written = 0
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's: ten times quicker
    for name, reader in SOURCES:
        if only is not None and name not in only:
            continue
        path = corpora / name
        if not path.exists():
            notes.append(f"{path}: missing, skipped")
            continue
        for rel, seed in reader(path, report, notes):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            front = yaml.dump(seed, Dumper=dumper, sort_keys=False, allow_unicode=True,
                              width=1000)
            target.write_text(f"---\n{front}---\n", encoding="utf-8")
            written += 1
    return written, report, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write seed files into")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = parser.parse_args(argv)
    written, report, notes = convert(args.corpora, args.out)
    for key, value in sorted(report.items()):
        print(f"{value:8,}  {key}")
    for note in notes[:10]:
        print(f"note: {note}", file=sys.stderr)
    if len(notes) > 10:
        print(f"note: … and {len(notes) - 10} more", file=sys.stderr)
    print(f"{written:8,}  seed files written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
