"""Convert the real news corpora in ../shared/corpora/news/ into seed files.

Reuters-21578, HuffPost (first 10k), AG News (test split) and BBC News 2004-05: ~41k real
records, mapped onto the seed fields (title, excerpt, provider, topics, category,
publishedDateTime, webUrl), with the article's whole text after the front matter (its body:
Reuters' and BBC's stories, AG News' and HuffPost's descriptions where the excerpt cuts
them), so the corpora are a full-text benchmark. Each corpus has real quirks (no URLs, no
dates, entity debris, a malformed date); what could not be mapped is counted and reported,
never guessed.

What each field holds, the same way in every corpus:
- provider: the outlet that published it. Reuters and BBC News are their own; HuffPost is
  HuffPost; an AG News record names its outlet in its description, after a dateline in
  brackets (`NEW YORK (Reuters) - `) or first (`AP - `), or at the end of its title (`(AP)`).
  A dateline (`NEW YORK - `, `BAGHDAD, Iraq - `) is a place, not an outlet: a record that
  names no outlet has none, counted in the report with the commonest such openings.
- category: the section, one vocabulary for all four (World, Politics, Business, Sport,
  Technology, Science, Entertainment, U.S. News, and HuffPost's own other sections): AG's
  `Sports` and BBC's `sport` are both Sport, `Sci/Tech` and `tech` both Technology. Reuters-
  21578 is a financial newswire: Business.
- topics: Reuters' own topic codes, named (`earn` -> Earnings; a code without a name here is
  kept as written and counted); for the others, their section.

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
AG_CLASSES = {"1": "World", "2": "Sport", "3": "Business", "4": "Technology"}
# The sections of BBC News and HuffPost in that vocabulary (others: HuffPost's own, cased).
SECTIONS = {"sport": "Sport", "sports": "Sport", "business": "Business", "money": "Business",
            "politics": "Politics", "tech": "Technology", "entertainment": "Entertainment",
            "world news": "World", "the worldpost": "World", "worldpost": "World",
            "science": "Science", "u.s. news": "U.S. News"}
REUTERS_TOPICS = {
    "earn": "Earnings", "acq": "Acquisitions", "money-fx": "Foreign exchange",
    "crude": "Crude oil", "grain": "Grain", "trade": "Trade", "interest": "Interest rates",
    "wheat": "Wheat", "ship": "Shipping", "corn": "Corn", "dlr": "US dollar",
    "oilseed": "Oilseeds", "money-supply": "Money supply", "sugar": "Sugar", "gnp": "GNP",
    "coffee": "Coffee", "veg-oil": "Vegetable oil", "gold": "Gold", "nat-gas": "Natural gas",
    "soybean": "Soybeans", "bop": "Balance of payments", "livestock": "Livestock",
    "cpi": "Consumer prices", "reserves": "Reserves", "copper": "Copper", "cocoa": "Cocoa",
    "jobs": "Jobs", "carcass": "Meat", "iron-steel": "Iron and steel", "rice": "Rice",
    "cotton": "Cotton", "ipi": "Industrial production", "gas": "Gasoline", "alum": "Aluminium",
    "barley": "Barley", "meal-feed": "Animal feed", "rubber": "Rubber", "sorghum": "Sorghum",
    "tin": "Tin", "silver": "Silver", "zinc": "Zinc", "strategic-metal": "Strategic metals",
    "wpi": "Wholesale prices", "pet-chem": "Petrochemicals", "orange": "Orange juice",
    "fuel": "Fuel oil", "heat": "Heating oil", "lead": "Lead", "housing": "Housing",
    "retail": "Retail sales", "income": "Personal income", "lei": "Leading indicators",
    "hog": "Hogs", "tea": "Tea", "lumber": "Lumber", "yen": "Yen", "dmk": "Deutsche mark",
    "instal-debt": "Consumer credit", "platinum": "Platinum", "nickel": "Nickel",
    "propane": "Propane", "jet": "Jet fuel", "potato": "Potatoes", "l-cattle": "Live cattle",
    "oat": "Oats", "rapeseed": "Rapeseed", "palm-oil": "Palm oil", "soy-oil": "Soy oil",
    "soy-meal": "Soy meal", "sun-oil": "Sunflower oil", "groundnut": "Groundnuts",
    "coconut-oil": "Coconut oil", "naphtha": "Naphtha", "cpu": "Capacity utilisation",
}
# An AG News description's outlet: in brackets after a dateline (`NEW YORK (Reuters) - `),
# or first (`AP - `, `washingtonpost.com - `); a title's, at its end (`... (AP)`).
AG_BRACKETED = re.compile(r"^.{0,60}?\(([^()]{2,40})\)\s*(?:-|--)\s")
AG_FIRST = re.compile(r"^([^-\\]{1,40}?)\s+-\s+")
AG_TITLE = re.compile(r"\(([^()]{2,40})\)\s*$")
# Outlets AG News names, by their names as written lower-cased, each with the one way it is
# written here (REUTERS / Reuters, COMPUTERWORLD / Computerworld are one outlet); a name
# that is a domain (`SPACE.com`) is an outlet too. Anything else first is a dateline.
AG_OUTLETS = {n.lower(): n for n in (
    "AP", "Reuters", "AFP", "Canadian Press", "CP", "NewsFactor", "USATODAY.com",
    "washingtonpost.com", "SPACE.com", "PC World", "InfoWorld", "SiliconValley.com",
    "Ziff Davis", "FT.com", "MacCentral", "Forbes.com", "TechWeb", "The Motley Fool",
    "TheDeal.com", "Sports Network", "CBS.MW", "Ticker", "IDG News Service", "Computerworld",
    "CNN/Money", "newratings.com", "New Ratings", "Xinhuanet", "dpa", "Itar-Tass", "KRT",
    "PTI", "IRNA", "Billboard", "CBC Sports Online", "Interfax", "AFX", "U-WIRE",
    "Techworld.com", "Mineweb.com", "Investor's Business Daily", "Los Angeles Times",
    "BusinessWeek Online", "CWNews.com", "MNA", "CNS", "AGI", "DowJonesAP")}
AG_OUTLETS.update({"xinhaunet": "Xinhuanet",  # as misspelt once
                   "cp": "Canadian Press", "new ratings": "newratings.com"})
_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)*\.(com|net|org|co\.uk)$", re.I)


def whole_text(text: str | None) -> str:
    """A description as a body when the excerpt had to be cut from it (else the excerpt says
    it all, and a body repeating it would count each of its words twice)."""
    text = " ".join((text or "").split())
    return text if len(text) > EXCERPT_CHARS else ""


def excerpt(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


def reuters_text(body: str | None) -> str:
    """A Reuters story as paragraphs: its lines are wrapped at 65 columns and a paragraph
    starts on an indented line; the closing signature (`Reuter`, ^C) goes."""
    paragraphs: list[list[str]] = []
    for line in (body or "").replace("\x03", "").splitlines():
        if not line.strip():
            continue
        if line[:1].isspace() or not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    text = "\n\n".join(" ".join(p) for p in paragraphs)
    return re.sub(r"\s*\bReuters?\s*$", "", text)


def reuters(path: Path, report: Counter, notes: list[str]):
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        report["reuters: records"] += 1
        report["reuters: no URL (none in the source)"] += 1
        codes = row.get("topics") or []
        unnamed = [c for c in codes if c not in REUTERS_TOPICS]
        if unnamed:
            report["reuters: topic codes without a name here (kept as written)"] += 1
        seed = {"title": " ".join((row.get("title") or "").split()),
                "excerpt": excerpt(row.get("body")),
                "provider": {"name": "Reuters", "domain": "reuters.com"},
                "topics": [REUTERS_TOPICS.get(c, c) for c in codes], "category": "Business",
                "type": "article", "body": reuters_text(row.get("body"))}
        if not codes:
            report["reuters: no topic codes"] += 1
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
        section = _section(row.get("category"))
        seed = {"title": row.get("headline") or "", "excerpt": excerpt(row.get("short_description")),
                "provider": {"name": "HuffPost", "domain": host or "huffpost.com"},
                "topics": [section] if section else [],
                "category": section, "type": "article", "webUrl": link or None,
                "publishedDateTime": f"{row['date']}T00:00:00Z" if row.get("date") else None,
                "body": whole_text(row.get("short_description"))}
        if not section:
            report["huffpost: no category"] += 1
        if not row.get("authors"):
            report["huffpost: no authors (not a seed field anyway)"] += 1
        if not seed["title"]:
            report["huffpost: no headline (file skipped)"] += 1
            continue
        yield f"huffpost/{n:05d}.txt", {k: v for k, v in seed.items() if v}


def ag_news(path: Path, report: Counter, notes: list[str]):
    def repair(text: str) -> str:
        text = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)  # "#36;" -> "$"
        text = re.sub(r"(?<![&\w])(quot|amp|lt|gt|apos);", r"&\1;", text)  # "quot;" debris
        return html.unescape(text.replace("\\", " "))

    unnamed: Counter = Counter()
    with path.open(encoding="utf-8", newline="") as f:
        for n, (cls, title, description) in enumerate(csv.reader(f), start=1):
            report["ag_news: records"] += 1
            report["ag_news: no date, no URL (none in the source)"] += 1
            description = repair(description)
            title = repair(title)
            outlet = ag_outlet(title, description)
            provider = {"name": outlet or "", "domain": outlet.lower() if outlet and
                        _DOMAIN.match(outlet) else ""}
            if not outlet:
                report["ag_news: no outlet named (left empty)"] += 1
                first = AG_FIRST.match(description)
                unnamed[first.group(1) if first else "(nothing before a dash)"] += 1
            section = AG_CLASSES.get(cls, cls)
            yield f"ag_news/{n:05d}.txt", {
                "title": title, "excerpt": excerpt(description), "provider": provider,
                "topics": [section], "category": section, "type": "article",
                "body": whole_text(description)}
    notes.append("ag_news: openings not taken for outlets (datelines and the like): "
                 + ", ".join(f"{k} {v}" for k, v in unnamed.most_common(12)))


def ag_outlet(title: str, description: str) -> str | None:
    """The outlet an AG News record names (see the module's docstring), None if none."""
    for found in (AG_BRACKETED.match(description), AG_FIRST.match(description),
                  AG_TITLE.search(title)):
        name = " ".join(found.group(1).split()) if found else ""
        if name.lower() in AG_OUTLETS:
            return AG_OUTLETS[name.lower()]
        if _DOMAIN.match(name):
            return name
    return None


def _section(label: str | None) -> str:
    """A section in the shared vocabulary (`SPORTS` -> Sport), else its own name, cased."""
    if not label:
        return ""
    key = " ".join(label.split()).lower()
    return SECTIONS.get(key) or " ".join(w if w == "&" else w.capitalize() for w in key.split())


def bbc(path: Path, report: Counter, notes: list[str]):
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        report["bbc: records"] += 1
        report["bbc: no date, no URL (none in the source)"] += 1
        section = _section(row.get("category"))
        yield f"bbc/{row['id'].replace('/', '-')}.txt", {
            "title": row.get("title") or "", "excerpt": excerpt(row.get("body")),
            "provider": {"name": "BBC News", "domain": "bbc.co.uk"},
            "topics": [section] if section else [], "category": section, "type": "article",
            "body": "\n\n".join(" ".join(p.split()) for p in (row.get("body") or "").split("\n\n")
                                if p.strip())}


SOURCES = (("reuters21578.jsonl", reuters), ("huffpost_head10k.jsonl", huffpost),
           ("ag_news/test.csv", ag_news), ("bbc.jsonl", bbc))


def convert(corpora: Path, out: Path, only: set[str] | None = None, bodies: bool = True
            ) -> tuple[int, Counter, list[str]]:
    """Write the seed files of every corpus (or of those whose file name is in `only`), each
    with its body after the front matter unless `bodies` is False."""
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
            body = seed.pop("body", "") if bodies else seed.pop("body", "") and ""
            front = yaml.dump(seed, Dumper=dumper, sort_keys=False, allow_unicode=True,
                              width=1000)
            target.write_text(f"---\n{front}---\n{body}\n" if body else f"---\n{front}---\n",
                              encoding="utf-8")
            written += 1
    return written, report, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write seed files into")
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--no-bodies", action="store_true",
                        help="front matter only, as before seeds had bodies")
    args = parser.parse_args(argv)
    written, report, notes = convert(args.corpora, args.out, bodies=not args.no_bodies)
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
