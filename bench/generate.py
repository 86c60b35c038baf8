"""Write synthetic seed files that look like the real ones, for benchmarks at any size.

Why: the project ships five real seeds, far too few to time indexing or searching. These
files have the real shape (YAML front matter with provider, topics, images, related), real
English words (from the news corpora in /work/shared/corpora/news, read at run time, never
copied into the repo) and the skews that matter to a search engine: a few providers and
topics are common and most are rare, and related articles are cited by several seeds, some
of them being other seeds (so records merge, as they do with real data).

Every article is drawn from its own random.Random keyed by (--seed, kind, number), so file
number i is the same whichever call writes it: `--count 10000` then `--count 100
--start-index 10001` gives the same folder as one `--count 10100` call.

    generate.py OUT_DIR --count N [--seed S] [--start-index K] [--body-words W]

With --body-words, each file also holds an article's text of about W words after its front
matter (paragraphs of remixed corpus sentences, drawn from a generator of its own, so the
front matter is the same with and without).
"""

from __future__ import annotations

import argparse
import base64
import csv
import itertools
import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import yaml

CORPORA = Path("/work/shared/corpora/news")
PROVIDERS = 2000
POOL = 20000  # related articles seeds may cite; picked with a Zipf-like skew
SEED_CITES_SEED = 0.1  # share of related entries that are another seed's article
START = datetime(2019, 1, 1, tzinfo=timezone.utc)
SPAN_SECONDS = int(timedelta(days=5 * 365).total_seconds())
TOPICS = """AI; Computer Vision; Natural Language Processing; Robotics; Privacy; Surveillance;
Cybersecurity; Climate; Energy; Oil and Gas; Elections; Courts; Policing; Immigration;
Health; Vaccines; Mental Health; Education; Housing; Transport; Aviation; Space; Sports;
Football; Tennis; Music; Film; Television; Books; Markets; Banking; Crypto; Retail; Jobs;
Trade; Agriculture; Wildlife; Oceans; Religion; Social Media""".replace("\n", " ").split("; ")
PAPER_WORDS = ("Times", "Post", "Herald", "News", "Daily", "Journal", "Tribune", "Gazette",
               "Observer", "Review", "Chronicle", "Wire", "Report", "Today", "Online", "Insider")
TLDS = ("com", "com", "com", "org", "net", "co.uk", "com.au", "ca", "in", "ie", "news")
FALLBACK_TEXT = """Police say the new camera system will help officers find suspects faster,
but privacy groups warn that facial recognition technology is often wrong. The city council
voted on the budget after a long debate about schools, housing and public transport. Oil
prices rose as markets reacted to the central bank decision on interest rates. Scientists
found that the climate is warming faster than expected, with floods and fires in many
regions. The team won the final after a late goal, and fans celebrated in the streets."""


@lru_cache(maxsize=1)
def corpus() -> tuple[list[tuple[str, str]], list[str]]:
    """(title, description) rows and every word in them (repeats kept, so common words stay common)."""
    rows: list[tuple[str, str]] = []
    ag = CORPORA / "ag_news" / "test.csv"
    if ag.is_file():
        with ag.open(encoding="utf-8", newline="") as f:
            rows += [(r[1], r[2]) for r in csv.reader(f) if len(r) >= 3]
    huff = CORPORA / "huffpost_head10k.jsonl"
    if huff.is_file():
        with huff.open(encoding="utf-8") as f:
            for line in f:
                item = json.loads(line)
                rows.append((item.get("headline", ""), item.get("short_description", "")))
    if not rows:  # no corpora on this machine: sentences of the built-in text
        sentences = [s.strip() for s in " ".join(FALLBACK_TEXT.split()).split(".") if s.strip()]
        rows = [(s, t) for s, t in itertools.permutations(sentences, 2)]
    rows = [(_tidy(t), _tidy(d)) for t, d in rows]
    rows = [(t, d) for t, d in rows if t]
    words = [w for t, d in rows for w in (t + " " + d).split() if w.isalpha()]
    return rows, words


def _tidy(text: str) -> str:
    """AG News escapes `$` as `#36;` and breaks lines with backslashes."""
    return " ".join(text.replace("#36;", "$").replace("\\", " ").split())


def _remix(rng: random.Random, text: str, share: float = 0.3) -> str:
    """A real sentence with about `share` of its words swapped for other corpus words."""
    words = corpus()[1]
    return " ".join(rng.choice(words) if w.isalpha() and rng.random() < share else w
                    for w in text.split())


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "story"


@lru_cache(maxsize=8)
def providers(seed: int) -> list[dict[str, str]]:
    """About 2,000 distinct outlets: a corpus word plus a newspaper word, and a domain."""
    rng = random.Random(f"{seed}:providers")
    names = sorted({w.capitalize() for w in corpus()[1] if len(w) > 3}) or ["Local"]
    out, seen = [], set()
    while len(out) < PROVIDERS:
        name = f"{rng.choice(names)} {rng.choice(PAPER_WORDS)}"
        domain = f"{_slug(name, 40).replace('-', '')}.{rng.choice(TLDS)}"
        if name not in seen and domain not in seen:
            seen |= {name, domain}
            out.append({"name": name, "domain": domain})
    return out


def _zipf_weights(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1 / (i + 1) ** s for i in range(n)))


PROVIDER_CUM = _zipf_weights(PROVIDERS, 0.9)
TOPIC_CUM = _zipf_weights(len(TOPICS), 0.8)
POOL_CUM = _zipf_weights(POOL, 0.6)


@lru_cache(maxsize=50000)
def article(seed: int, kind: str, number: int) -> dict:
    """The article `kind` ("seed" or "pool") number `number`, the same on every call."""
    rng = random.Random(f"{seed}:{kind}:{number}")
    rows = corpus()[0]
    title_row, text_row = rng.choice(rows), rng.choice(rows)
    title = _remix(rng, title_row[0])
    excerpt = _remix(rng, title_row[1] or text_row[1] or text_row[0])
    provider = rng.choices(providers(seed), cum_weights=PROVIDER_CUM)[0]
    when = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    path = "news" if kind == "pool" else when.strftime("%Y/%m")
    url = f"https://{provider['domain']}/{path}/{_slug(title)}-{kind[0]}{number}"
    return {"title": title, "excerpt": excerpt,
            "publishedDateTime": when.strftime("%Y-%m-%dT%H:%M:00Z"),
            "webUrl": url, "type": "video" if rng.random() < 0.05 else "article",
            "provider": dict(provider), "quality": rng.randint(0, 100),
            "images": [{"url": f"https://{provider['domain']}/images/{_slug(title, 30)}.jpg",
                        "width": rng.choice((640, 1120, 1280, 2560)),
                        "height": rng.choice((360, 630, 720, 1707)), "isCached": True}]}


def seed_document(seed: int, number: int) -> dict:
    """The front matter of seed file `number`: its article, topics and 0-4 related entries."""
    art = article(seed, "seed", number)
    rng = random.Random(f"{seed}:file:{number}")
    topics = list(dict.fromkeys(rng.choices(TOPICS, cum_weights=TOPIC_CUM, k=rng.randint(1, 3))))
    related = []
    for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))):
        if rng.random() < SEED_CITES_SEED and number > 1:  # an earlier seed's article
            other = article(seed, "seed", rng.randint(1, number - 1))
        else:
            other = article(seed, "pool", rng.choices(range(POOL), cum_weights=POOL_CUM)[0])
        if other["webUrl"] != art["webUrl"]:
            related.append({k: other[k] for k in ("title", "excerpt", "publishedDateTime",
                                                  "webUrl", "type", "provider", "quality",
                                                  "images")})
    secured = base64.b64encode(rng.randbytes(256)).decode() + ";" + \
        base64.b64encode(rng.randbytes(16)).decode()
    return {"category": "news", "title": art["title"], "excerpt": art["excerpt"],
            "publishedDateTime": art["publishedDateTime"], "originalUrl": art["webUrl"],
            "webUrl": art["webUrl"], "type": art["type"], "quality": art["quality"],
            "heat": -1 if rng.random() < 0.8 else rng.randint(0, 100),
            "published": rng.random() < 0.3, "provider": art["provider"], "topics": topics,
            "images": art["images"], "related": related, "secured": secured}


def body_text(seed: int, number: int, words: int) -> str:
    """About `words` words of article text in paragraphs of two to five remixed sentences."""
    rng = random.Random(f"{seed}:body:{number}")
    rows = corpus()[0]
    paragraphs, said = [], 0
    while said < words:
        sentences = [_remix(rng, rng.choice(rows)[1] or rng.choice(rows)[0])
                     for _ in range(rng.randint(2, 5))]
        paragraph = " ".join(s if s.endswith((".", "!", "?")) else s + "." for s in sentences)
        paragraphs.append(paragraph)
        said += len(paragraph.split())
    return "\n\n".join(paragraphs)


def render(doc: dict, body: str = "") -> str:
    # safe_dump quotes whatever YAML would read as something else (dates, `yes`, `: `, `#`).
    front = "---\n" + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10**6) + "---\n"
    return front + body + "\n" if body else front


def write_seeds(out_dir: Path, count: int, seed: int = 1, start_index: int = 1,
                body_words: int = 0) -> list[Path]:
    """Write seed files start_index .. start_index+count-1 into out_dir (each with a body of
    about `body_words` words when it is not 0); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(start_index, start_index + count):
        path = out_dir / f"gen_{number:06d}.txt"
        tmp = path.with_name(f".{path.name}.tmp")  # hidden while half written
        body = body_text(seed, number, body_words) if body_words else ""
        tmp.write_text(render(seed_document(seed, number), body), encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", type=Path, help="folder to write gen_NNNNNN.txt files into")
    ap.add_argument("--count", type=int, required=True, help="how many seed files to write")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--start-index", type=int, default=1,
                    help="number of the first file, to add files to an existing folder")
    ap.add_argument("--body-words", type=int, default=0,
                    help="write an article's text of about this many words after the front matter")
    args = ap.parse_args(argv)
    if args.count < 0 or args.start_index < 1:
        ap.error("--count must be >= 0 and --start-index >= 1")
    paths = write_seeds(args.out_dir, args.count, args.seed, args.start_index, args.body_words)
    print(f"wrote {len(paths)} seed files to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
