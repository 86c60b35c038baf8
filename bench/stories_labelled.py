"""Labelled pairs of news records, for measuring story grouping: copies of one story, and
look-alikes that are different stories.

Why: `searchapp.index.stories` gives near-duplicate records (one wire story run by several
outlets, lightly edited) a shared story id. Whether it groups the right records can only be
measured on pairs whose answer is known. The corpora in ../shared/corpora/news/ are
research-use and are never committed, so this module holds no text: it rebuilds every pair
from the corpora at run time, as the (title, excerpt) that convert_news.py makes of each
record (its own readers and `excerpt`: the first 320 characters, cut at a word, " …").

Kinds of pair, and how each was checked (reading, by the author of this file, Dec 2026):

same story (edited copies of one article)
  reuters_resend     Reuters records with one title, filed at most 24 hours apart, whose
                     texts differ (corrected re-sends: typos, ticker tags, a figure, a
                     sentence). Rule below; all 153 candidates were read; one is left out
                     (a body that is line noise), and titles of recurring reports (money
                     market, spreads, price tables) are never taken, as two of them on one
                     day are different reports. A fixed sample is kept for balance.
  reuters_retitled   Reuters re-sends under a reworded headline ("(CORRECTED) -", a ticker
                     tag, "U.S." dropped, a word changed). Listed by newid; each read.
  bbc_retitled       BBC News records with (nearly) one body under two headlines. Listed;
                     each read.
  ag_syndicated      AG News records that are one wire story as two feeds ran it: "(AP)"
                     in the headline or not, "Reuters -" or "OAKLAND (Reuters) -", a
                     dateline, ticker links, a clause cut, an "Update 1:" headline. Listed
                     by line number; each read. Two reports of one event written apart are
                     not here: they are not copies.
  ag_bbc             AG News records that are BBC stories (the standfirst or the first
                     paragraph) beside the BBC record. Listed; each read.
  edit:<how>         Syndication edits made here, deterministically (seeded), of real
                     records: a rewritten headline (words dropped, an outlet prefix or
                     suffix, case), the excerpt cut at another length, a dateline or
                     "(Reuters) -" added or removed, a sentence dropped, a few words
                     changed (said/says, pct/percent, US/UK spelling), quotes and case, and
                     two or three of these at once. The edits are printed by __main__.
  exact_copy         The same (title, excerpt) twice (a few; they are trivially found).

different stories (look-alikes)
  reuters_periodic   Recurring Reuters reports of one kind on different days with different
                     figures (Fed repurchases, Treasury balances at the Fed, U.K. money
                     market shortages and help, weekly money supply, electric output,
                     jobless claims, slaughter guesstimates, ...). Rule below: one family of
                     headline, different calendar days, and different numbers (a re-send
                     keeps its figures); the most alike pairs first, each sharing at least
                     a quarter of its shingles. All were read; none was one story.
  reuters_template   Template briefs of different companies or banks: earnings ("Shr ...
                     vs ..."), dividends, prime rate cuts, crude postings, bond issues.
                     Rule below: one family of headline, filed within a day, and no
                     distinctive word of one's name in the other's headline. All were read.
                     Earnings briefs of two companies share few 3-shingles (their figures
                     differ), so they are taken from a Jaccard of 0.1 up, the others 0.25.
  same_title         One headline over different stories (AG's "Today's schedule", HuffPost's
                     weekly "Funniest Tweets" and Netflix lists). Listed; each read.
  boilerplate        Different stories whose excerpt is mostly the same boilerplate a feed
                     put first (ZDNet's "This fourth priority's main focus...", a Washington
                     Post font tag, Reuters quote links). Listed; each read.
  lookalike          The most alike pairs (high word-shingle Jaccard, mined over all 41k
                     records) that reading shows to be different stories: a company's
                     results and its share fall the next day, a bid and the sale, a preview
                     and the decision. Listed; each read. Pairs left unsure were left out.

Dates: each pair carries the publication time of its two records (seconds since the epoch,
UTC; None where the corpus has none), as the index sees it: the publishedDateTime that
convert_news's own readers give the record (Reuters: its DATE to the second, UTC; HuffPost:
the day, at midnight UTC; AG News and BBC: none), read as schema.timestamp reads it. An
edit:* copy is given its source record's date moved by a fixed (seeded by the record) 0 to
12 hours, as an outlet runs a wire story some hours later; an undated source stays undated.
So a publication window (stories.alike's `dates`) can be judged on the pairs; it can help
only where both records are dated (Reuters, HuffPost, edits of Reuters records).

    .venv/bin/python bench/stories_labelled.py [--corpora ../shared/corpora/news] [--examples 2]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert_news  # noqa: E402

DEFAULT_CORPORA = convert_news.DEFAULT_CORPORA


@dataclass(frozen=True)
class Pair:
    a_title: str
    a_excerpt: str
    b_title: str
    b_excerpt: str
    same: bool
    kind: str
    source: str  # the records' ids ("reuters:4669 reuters:4704"), and the edit if made here
    a_date: int | None = None  # publication time, seconds since the epoch (UTC); None: undated
    b_date: int | None = None
    a_id: str | None = None  # the records in the corpus ("reuters:4669"); None: an edit made here
    b_id: str | None = None
    a_body: str = ""  # the text after the front matter convert_news writes ("": none)
    b_body: str = ""

    @property
    def dates(self) -> tuple[int | None, int | None]:
        """For stories.alike(..., dates=...)."""
        return self.a_date, self.b_date

    @property
    def dated(self) -> bool:
        """Both records dated: only then can a publication window keep them apart."""
        return self.a_date is not None and self.b_date is not None


# -- the records -----------------------------------------------------------------------------

@dataclass
class Corpus:
    """Every record as convert_news makes it, by id ("reuters:12", "bbc:tech/048", "ag:4553",
    "huffpost:8745": Reuters newid, BBC id, line numbers), and the raw rows edits start from."""

    seeds: dict[str, tuple[str, str]]
    dates: dict[str, int | None]  # publication time as the index stores it (None: undated)
    bodies: dict[str, str]  # the body convert_news writes after the front matter ("": none)
    reuters: dict[int, dict]
    bbc: dict[str, dict]
    ag: dict[int, str]  # the description as convert_news repairs it, before the excerpt cut

    def text(self, rid: str) -> tuple[str, str]:
        return self.seeds[rid]

    def date(self, rid: str) -> int | None:
        return self.dates[rid]


def timestamp(iso: str | None) -> int | None:
    """A seed's publishedDateTime as the index keeps it (schema.timestamp; None: no date)."""
    return int(datetime.fromisoformat(iso).timestamp()) if iso else None


def load(corpora: Path) -> Corpus:
    """Read the four corpora through convert_news's own readers."""
    seeds: dict[str, tuple[str, str]] = {}
    dates: dict[str, int | None] = {}
    bodies: dict[str, str] = {}
    prefix = {"reuters": "reuters", "huffpost": "huffpost", "ag_news": "ag", "bbc": "bbc"}
    for name, reader in convert_news.SOURCES:
        for rel, seed in reader(corpora / name, Counter(), []):
            folder, file = rel.split("/")
            stem = file[:-len(".txt")]
            rid = stem.replace("-", "/", 1) if folder == "bbc" else str(int(stem))
            seeds[f"{prefix[folder]}:{rid}"] = (seed["title"], seed["excerpt"])
            dates[f"{prefix[folder]}:{rid}"] = timestamp(seed.get("publishedDateTime"))
            bodies[f"{prefix[folder]}:{rid}"] = seed.get("body") or ""
    reuters = {row["newid"]: row for row in map(json.loads, (corpora / "reuters21578.jsonl").open())}
    bbc = {row["id"]: row for row in map(json.loads, (corpora / "bbc.jsonl").open())}
    ag = {}
    for rel, seed in convert_news.ag_news(corpora / "ag_news" / "test.csv", Counter(), []):
        ag[int(rel.split("/")[1][:-4])] = seed  # excerpt only; descriptions are short
    return Corpus(seeds, dates, bodies, reuters, bbc, {n: s["excerpt"] for n, s in ag.items()})


WORD = re.compile(r"\w+")
NUMBER = re.compile(r"\d[\d,./-]*")


def shingles(title: str, excerpt: str, k: int = 3) -> set[tuple[str, ...]]:
    """Word k-shingles of a record's text, to rank candidate pairs (not the measured rule)."""
    words = WORD.findall(f"{title} {excerpt}".lower())
    return {tuple(words[i:i + k]) for i in range(max(1, len(words) - k + 1))}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _when(row: dict) -> datetime | None:
    m = re.match(r"\s*(\d{1,2}-[A-Z]{3}-\d{4})\s+(\d{1,2}):(\d{2})", row.get("date") or "")
    if not m:
        return None
    try:
        return datetime.strptime(f"{m.group(1)} {m.group(2)}:{m.group(3)}", "%d-%b-%Y %H:%M")
    except ValueError:
        return None


def _pair(corpus: Corpus, a: str, b: str, same: bool, kind: str, note: str = "") -> Pair:
    (ta, ea), (tb, eb) = corpus.text(a), corpus.text(b)
    return Pair(ta, ea, tb, eb, same, kind, f"{a} {b}" + (f" ({note})" if note else ""),
                corpus.date(a), corpus.date(b), a, b, corpus.bodies.get(a, ""),
                corpus.bodies.get(b, ""))


# -- same story: Reuters re-sends under one title -------------------------------------------

# Headlines of recurring reports: two under one title on one day are two reports (a morning
# and an afternoon money market, 10:00 and 11:00 spreads), not a re-send.
RECURRING = re.compile(
    r"^FED (ADDS|DRAINS|SETS|SAYS|EXPECTED)|TREASURY BALANCES AT FED|MONEY MARKET|MONEY SUPPLY"
    r"|SLAUGHTER GUESSTIMATES|^CBT .*SPREADS|^CASH WHOLESALE|FHLBB CHANGES|FREDDIE MAC ADJUSTS"
    r"|PROPOSED OFFERINGS|NATIONAL AVERAGE PRICES|FEEDLOT|^WALL STREET STOCKS|RAPESEED"
    r"|GRAIN SHIPS|BANK OF JAPAN TO SELL|TURKISH CENTRAL BANK SETS|^USDA |ASCS TERMINAL"
    r"|COFFEE RAINFALL|INTERVENTION B(OAR)?D|TAP ISSUE|IN BILLS$|EXPORT BIDS|SUGAR TENDER"
    r"|LEVIES|MCAS TO BE|PORT BALANCE|GREEN COFFEE|BUNDESBANK|WEEKLY|JOBLESS CLAIMS"
    r"|BUSINESS LOANS|OIL DEMAND|T-BILL|HOGS|CATTLE|DELIVERABLE|GRAIN FUTURES|COMEX"
    r"|EURO ?DEPOSITS|EURODOLLAR|RUBBER|BANGKOK|LONDON (SEEDS|OILS|METAL|COCOA|COFFEE|SUGAR)"
    r"|EXCHS|HONG KONG GOLD|PARIS COCOA|NEWS HIGHLIGHTS|STERLING INDEX|\d{1,2}[:.]\d\d")
RESEND_LEFT_OUT = {
    (13926, 13929): "the second record's body is line noise from a metals table",
}
RESEND_KEEP = 60  # of the 152 that pass, for a balance of kinds


def reuters_resend(corpus: Corpus) -> list[Pair]:
    """Same title, filed at most 24 hours apart, texts not identical."""
    by_title = defaultdict(list)
    for n, row in sorted(corpus.reuters.items()):
        if row.get("title") and row.get("body") and _when(row) and not RECURRING.search(row["title"]):
            by_title[row["title"]].append(n)
    found = []
    for ids in by_title.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                hours = abs((_when(corpus.reuters[a]) - _when(corpus.reuters[b])).total_seconds()) / 3600
                ra, rb = f"reuters:{a}", f"reuters:{b}"
                if hours <= 24 and corpus.text(ra) != corpus.text(rb) and (a, b) not in RESEND_LEFT_OUT:
                    found.append(_pair(corpus, ra, rb, True, "reuters_resend", f"{hours:.1f} h apart"))
    random.Random("reuters_resend").shuffle(found)
    return found[:RESEND_KEEP]


def exact_copies(corpus: Corpus) -> list[Pair]:
    """A few records whose (title, excerpt) is another's, from Reuters (re-sent the same
    hour) and BBC (one file twice)."""
    out = []
    for prefix, keep in (("reuters:", 8), ("bbc:", 8)):
        seen: dict[tuple[str, str], str] = {}
        for rid, text in corpus.seeds.items():
            if not rid.startswith(prefix) or len(text[1]) < 200:
                continue
            if text in seen and len([p for p in out if p.source.startswith(prefix)]) < keep:
                out.append(_pair(corpus, seen[text], rid, True, "exact_copy"))
            seen.setdefault(text, rid)
    return out


# -- same story: hand-checked lists ---------------------------------------------------------

REUTERS_RETITLED = [  # (newid, newid, what differs); each pair read
    (656, 688, "(RPT) re-send"),
    (16483, 16597, "(CORRECTED) re-send"),
    (9915, 10038, "(CORRECTED) re-send"),
    (5168, 5192, "(CORRECTED) re-send, COCOA dropped from the headline"),
    (8896, 9043, "CORRECTED re-send: 'was' -> 'is' in the body"),
    (12319, 12373, "CORRECTED re-send with a shorter headline"),
    (3676, 4239, "CORRECTED re-send of an earnings brief: 'includes' -> 'excludes'"),
    (4239, 4292, "RPT of the corrected earnings brief"),
    (15122, 15210, "CORRECTED re-send with a shorter headline"),
    (11320, 11633, "CORRECTED earnings brief"),
    (16211, 16409, "(CORRECTED) re-send, DEFENSIVE dropped"),
    (2188, 2249, "CORRECTED earnings brief"),
    (8457, 8899, "CORRECTED earnings brief, a day later"),
    (900, 901, "CORRECTED re-send"),
    (1159, 1209, "CORRECTED re-send, headline reworded"),
    (18947, 18958, "CORRECTED re-send, BY MOODY'S dropped"),
    (13044, 13091, "CORRECTED re-send, IN FIRE dropped"),
    (19581, 19638, "CORRECTED re-send: company name misspelt in the first"),
    (9330, 9390, "(CORRECTED) re-send, FIRST QTR 1987 dropped"),
    (10492, 10571, "CORRECTED re-send: the ticker"),
    (8854, 8877, "CORRECTED re-send: a ticker dropped"),
    (1618, 1637, "ticker tag dropped from the headline"),
    (8875, 8900, "ticker tag dropped from the headline"),
    (1704, 1712, "ticker tag dropped from the headline"),
    (17831, 17838, "ticker tag dropped from the headline"),
    (3987, 4001, "ticker tag dropped from the headline"),
    (16379, 16519, "ticker tag added to the headline"),
    (11627, 11638, "ticker tag added to the headline"),
    (13101, 13107, "ticker tag dropped; 'the' -> 'its' in the body"),
    (9298, 9323, "ticker tag dropped; a typo fixed in the body"),
    (20556, 20575, "headline typo (SVEECO) fixed"),
    (18748, 18753, "headline typo (VaALIAN) fixed"),
    (3484, 3583, "headline typo (}O) fixed"),
    (13534, 13627, "headline typo (OPNION) fixed"),
    (3708, 3723, "headline typo (HOSUING) fixed"),
    (6862, 6864, "headline typo (STCOK) fixed"),
    (12588, 12593, "headline in capitals"),
    (20072, 20084, "headline in capitals"),
    (18066, 18108, "U.S. dropped from the headline"),
    (10942, 11013, "U.S. dropped from the headline"),
    (7537, 7633, "U.S. dropped from the headline"),
    (4625, 4727, "BUDGET dropped from the headline"),
    (2973, 3048, "FOUR -> 4 in the headline"),
    (10776, 10806, "HIKE -> RISE in the headline"),
    (9149, 9213, "DOLLAR -> DLR in the headline"),
    (5180, 5278, "SOVIET UNION -> SOVIETS in the headline"),
    (3594, 3609, "DEPUTY MINISTER -> OFFICIAL in the headline"),
    (6606, 6746, "U.S ENERGY SECRETARY -> DOE SECRETARY in the headline"),
    (12650, 12653, "EYSKENS -> BELGIUM in the headline"),
    (9690, 9798, "headline reworded (TREASURY'S BAKER), 12 hours later"),
    (9693, 9813, "headline reworded, 10 hours later"),
    (1979, 2018, "MICHIGAN added to the headline"),
    (14839, 14957, "BUT NSW PORTS HIT dropped from the headline"),
    (11605, 11626, "INTO FIFTH DAY added to the headline"),
    (12683, 12692, "17 NORANDA -> SEVENTEEN ... COPPER in the headline"),
    (12053, 12068, "headline reworded"),
    (6624, 6634, "CHICAGO BOARD -> CBT, TO CFTC added"),
    (3577, 3589, "headline reworded, ticker dropped"),
    (4963, 4981, "AGRICULTURAL RESEARCH dropped from the headline; a ticker in the body"),
    (19685, 19694, "headline reworded"),
    (3574, 3646, "ONTARIO added, ticker dropped"),
    (4926, 4942, "STARTS MINE added to the headline"),
    (18580, 18586, "headline reworded around the yield"),
    (12642, 12656, "headline reworded"),
    (17754, 17756, "headline reworded"),
    (12641, 12651, "headline reworded"),
    (11935, 11958, "headline reworded"),
    (930, 945, "headline reworded"),
    (2040, 2051, "headline reworded"),
    (9969, 9996, "headline reworded"),
    (4593, 4689, "BRAZIL -> PETROBRAS in the headline, 12 hours later"),
    (21484, 21485, "headline reworded and in lower case"),
    (19722, 19728, "DROPPING IN 3RD QTR -> FALLING IN THIRD QUARTER"),
    (5684, 5692, "RISES -> DOUBLED in the headline"),
    (19031, 19124, "PLACED UNDER -> IN in the headline"),
    (14056, 14087, "headline reworded"),
    (16732, 16741, "headline reworded"),
    (1081, 1202, "CORRECTED re-send under a shorter headline: five-fold dropped"),
    (3573, 4167, "AGAIN dropped from the headline, a day later"),
    (7505, 7634, "(CORRECTED) earnings brief"),
    (13266, 13291, "headline reworded, same IEA report"),
    (9524, 9533, "DEBT added to the headline"),
    (11821, 11825, "headline reworded"),
    (13452, 13557, "headline reworded"),
    (15932, 15988, "headline reworded"),
    (16589, 16604, "ticker tag dropped"),
    (18411, 18414, "ticker tag dropped, LEAD-ZINC added"),
    (17654, 17714, "headline reworded"),
    (2936, 2942, "SOME -> URANIUM in the headline"),
    (16217, 16556, "(CORRECTED) re-send, LEAVES -> OFF"),
    (11289, 11295, "CORRECTED re-send: 36 -> 46 dlrs a share"),
    (10201, 10207, "CORRECTED re-send: QTLY -> ANNUAL"),
]

BBC_RETITLED = [  # (id, id, what differs); each pair read
    ("sport/425", "sport/433", "headline: 'Dogged' added"),
    ("tech/048", "tech/342", "a full stop added"),
    ("tech/061", "tech/321", "headline: 'Consumer' added"),
    ("tech/153", "tech/185", "headline: 'Nintendo' added"),
    ("politics/081", "politics/299", "headline: Tory -> Conservative"),
    ("entertainment/058", "entertainment/348", "headline: hails -> celebrates"),
    ("sport/385", "sport/387", "headline: stars -> winners"),
    ("tech/037", "tech/333", "headline: 'ink' added"),
    ("sport/328", "sport/329", "headline: '\"fearsome\"' added"),
    ("politics/236", "politics/343", "headline reworded"),
    ("politics/077", "politics/354", "'about' added in the body"),
    ("tech/287", "tech/372", "headline: 'again' added"),
    ("sport/469", "sport/470", "headline: after -> at"),
    ("tech/146", "tech/158", "headline: takes on -> challenges"),
    ("politics/082", "politics/383", "headline: 'accused of' added"),
    ("politics/110", "politics/367", "headline reworded"),
    ("tech/007", "tech/060", "headline: 'bumper' dropped"),
    ("sport/427", "sport/509", "headline: 'in San Jose' added"),
    ("sport/444", "sport/458", "headline: 'in Adelaide' added"),
    ("tech/127", "tech/172", "headline: season -> Christmas"),
    ("business/286", "business/493", "headline: breakneck -> rapid"),
    ("tech/130", "tech/178", "headline reworded"),
    ("tech/116", "tech/290", "headline: bugs -> viruses"),
    ("sport/478", "sport/479", "headline reworded"),
    ("tech/150", "tech/392", "headline: change -> expression"),
    ("politics/125", "politics/286", "headline: 'in probe' added"),
    ("tech/045", "tech/341", "'UK' added in the body"),
    ("business/254", "business/447", "one word changed in the body"),
    ("politics/004", "politics/330", "headline reworded"),
    ("sport/289", "sport/406", "insisted -> said"),
    ("entertainment/051", "entertainment/069", "headline reworded"),
    ("sport/312", "sport/416", "headline: a score line instead"),
    ("entertainment/062", "entertainment/370", "headline reworded"),
    ("sport/489", "sport/490", "headline reworded"),
    ("sport/302", "sport/314", "headline: a score line instead"),
    ("sport/112", "sport/121", "headline reworded"),
    ("sport/467", "sport/471", "headline reworded"),
    ("politics/212", "politics/329", "headline reworded"),
    ("sport/049", "sport/088", "headline reworded"),
    ("politics/196", "politics/297", "headline reworded"),
    ("business/290", "business/438", "headline reworded"),
    ("politics/111", "politics/293", "tense and a comma changed in the body"),
    ("politics/067", "politics/390", "headline reworded"),
    ("tech/049", "tech/340", "headline reworded; Electronic -> Engineering in the body"),
    ("entertainment/179", "entertainment/216", "BBC Two -> BBC2, a sentence changed"),
    ("politics/175", "politics/349", "the same speech story re-edited sentence by sentence"),
    ("sport/424", "sport/511", "headline reworded; a quote replaces the second paragraph"),
    ("tech/019", "tech/329", "new first sentence, the rest the same"),
    ("business/209", "business/229", "the noon version and the close version of one story"),
]

AG_SYNDICATED = [  # (line, line, what differs); each pair read
    (4553, 4561, "headline case; '-' -> '--'"),
    (4629, 4631, "'Baseball-' prefix on the headline"),
    (4960, 4962, "'Update 1:' headline in title case"),
    (2995, 2996, "headline case; dateline dropped"),
    (3030, 3038, "'(Reuters)' headline; 'Reuters -' vs 'OAKLAND (Reuters) -'"),
    (610, 611, "'(Reuters)' headline; 'Reuters -' vs 'TORONTO (Reuters) -'"),
    (5549, 5555, "'(Reuters)' headline; 'Reuters -' vs 'CHICAGO (Reuters) -'"),
    (692, 693, "'(Reuters)' headline; 'Reuters -' vs 'NEW YORK (Reuters) -'"),
    (1520, 1522, "'(AP)' headline; 'AP -' vs 'TOKYO -'"),
    (1412, 1417, "'slightly' dropped"),
    (2185, 2204, "'(AP)' headline; 'WASHINGTON -' vs 'AP -'"),
    (5224, 5226, "'(Reuters)' headline; 'Reuters -' vs 'NEW YORK (Reuters) -'"),
    (1590, 1596, "'(AP)' headline; 'SEOUL, South Korea -' vs 'AP -'"),
    (1862, 1876, "dateline and '(Reuters) -' dropped, U.S. -> US"),
    (4016, 4039, "'(AP)' headline; 'BAGHDAD, Iraq -' vs 'AP -'"),
    (3547, 3606, "dateline dropped, cut shorter"),
    (4048, 4360, "'(AP)' headline; 'AP -' vs a dated dateline"),
    (1811, 1949, "'(AP)' headline; 'LOS ANGELES -' vs 'AP -'"),
    (729, 730, "dateline dropped, U.S. -> US, \"It 's\""),
    (729, 731, "headline rewritten: Economy Shrunk -> U.S. Growth Slowed"),
    (730, 731, "headline rewritten, dateline added"),
    (3650, 3655, "Govt. -> Government, 'on' added"),
    (910, 917, "headline reworded: House Price Declines -> Home Price Drop"),
    (195, 199, "headline reworded; amid -> on"),
    (2993, 3008, "'Baseball-' vs \"Mariners'\" headline; dateline; equal -> tie"),
    (7016, 7203, "'(AFP)' headline; 'AFP -' dropped"),
    (6592, 6594, "quote-link debris vs a dateline"),
    (6183, 6902, "headline case; dateline dropped, 'on' added"),
    (6170, 6174, "'(Reuters)' headline; 'Reuters -' vs 'WASHINGTON (Reuters) -'"),
    (1591, 1646, "headline rewritten, same text"),
    (510, 511, "'(PC World)' headline; 'PC World -' added"),
    (2676, 2685, "headline shortened; the sentence ends differently"),
    (3082, 3084, "'(AP)' vs 'Update 2:' headline"),
    (3411, 3416, "headline rewritten; 'SINGAPORE (Reuters) -' vs 'Reuters -'"),
    (1953, 1971, "'UPDATE 1-' headline rewritten; dateline dropped"),
    (267, 299, "headline reworded; seize -> win"),
    (2396, 2414, "headline rewritten; rose -> inched higher"),
    (3831, 3836, "a phrase or two cut"),
    (5541, 5555, "ticker link dropped"),
    (5541, 5549, "ticker link dropped; 'Reuters -'"),
    (538, 573, "headline rewritten; dateline added"),
    (2709, 2733, "headline rewritten; '(AP)' and the ticker dropped"),
    (4194, 4225, "headline: a score line instead"),
    (1548, 1566, "headline rewritten; 'AP -' vs a dateline; Saturday -> yesterday"),
    (3320, 3325, "headline rewritten; 'new' dropped"),
    (7042, 7077, "headline shortened; AFP dateline cut; 'yesterday' added"),
    (365, 389, "headline case; dateline dropped; U.S. -> US"),
    (5611, 5645, "headline rewritten; on Friday -> yesterday"),
    (4993, 5009, "headline rewritten; case of ministry names"),
    (6259, 6266, "a clause moved and cut"),
    (4558, 4572, "headline rewritten; a clause moved"),
    (4347, 4452, "AT T vs AT &T; Friday -> yesterday; a font tag dropped"),
    (3105, 3122, "dateline extended; federal -> U.S.; a few words"),
    (789, 865, "headline rewritten; next -> this week"),
    (2968, 2976, "first sentence cut"),
    (5764, 5776, "'Reuters -' vs a dateline and a ticker link"),
    (5310, 5334, "headline rewritten; the settlement sum added"),
    (1893, 1897, "a few words changed"),
    (7339, 7341, "headline rewritten; 'AP -' vs 'LOS ANGELES --'"),
    (3300, 3330, "headline rewritten; 'new' dropped, sentence completed"),
    (4790, 4795, "headline rewritten; the second sentence cut"),
    (4084, 4196, "headline rewritten; Corp./Inc. dropped; Tuesday -> next week"),
    (4443, 4504, "I.B.M. -> IBM; 'on Monday' added"),
    (1921, 1930, "headline rewritten; 'AP -' vs 'WASHINGTON -'"),
    (7498, 7505, "headline rewritten; the sentence completed"),
    (6014, 6031, "headline rewritten; the lead condensed"),
    (1663, 1679, "headline rewritten; dateline dropped; price added"),
    (4085, 4153, "headline rewritten; AMD's full name dropped"),
    (7315, 7363, "headline rewritten; the sentence completed"),
    (4084, 4106, "an IDG dateline added; a few words"),
    (1035, 1041, "headline: score line vs 'O's Stuff Devil Rays'; tense"),
    (1765, 1769, "dateline and the casualty source updated"),
    (2171, 2246, "headline rewritten; 'AP -' dropped; a few words"),
    (3097, 3099, "a clause added; the ending changed"),
    (3584, 3593, "'UPDATE 1-' headline; ticker link style"),
    (4268, 4278, "headline rewritten; the lead reworded"),
    (2425, 2502, "headline rewritten; 'Reuters -' vs 'BERLIN:'"),
    (384, 464, "headline case; 'Reuters Athens Aug 23:'; meters -> metres"),
    (3529, 3534, "the toll updated from 10 to 11 in an AP re-write"),
    (5701, 5716, "headline rewritten; the name of the group moved"),
    (3857, 3858, "headline rewritten; the lead reworded"),
    (6811, 6815, "headline rewritten; Britain's biggest / UKs largest"),
    (5884, 5908, "'Update 8:' headline; first sentence dropped"),
    (4435, 4462, "headline rewritten; 'AP -' vs a dateline"),
    (3827, 3946, "headline case; a dated REUTERS dateline"),
    (5985, 5992, "headline rewritten; the place and source reworded"),
    (6747, 6748, "headline rewritten; 'AP -' dropped; cut shorter"),
    (1300, 1317, "the toll updated from 34 to 36"),
    (5501, 5521, "headline rewritten; the last clause changed"),
    (1695, 1700, "ticker link dropped"),
]

AG_BBC = [  # (AG line, BBC id, what differs); each read
    (6841, "tech/159", "AG holds the first two sentences"),
    (6841, "tech/147", "AG holds the first two sentences"),
    (7485, "sport/493", "AG holds the first paragraph, spaced apostrophes"),
    (5139, "tech/173", "AG holds the first paragraph, a few words changed"),
    (6751, "entertainment/015", "AG holds the first sentence"),
    (6720, "entertainment/160", "AG holds the standfirst, reworded slightly"),
]


def listed(corpus: Corpus) -> list[Pair]:
    out = [_pair(corpus, f"reuters:{a}", f"reuters:{b}", True, "reuters_retitled", why)
           for a, b, why in REUTERS_RETITLED]
    out += [_pair(corpus, f"bbc:{a}", f"bbc:{b}", True, "bbc_retitled", why) for a, b, why in BBC_RETITLED]
    out += [_pair(corpus, f"ag:{a}", f"ag:{b}", True, "ag_syndicated", why) for a, b, why in AG_SYNDICATED]
    out += [_pair(corpus, f"ag:{a}", f"bbc:{b}", True, "ag_bbc", why) for a, b, why in AG_BBC]
    out += [_pair(corpus, a, b, False, kind, why) for kind, rows in DIFFERENT_LISTS.items()
            for a, b, why in rows]
    return out


# -- different stories: hand-checked lists ----------------------------------------------------

def _tweets(lines: list[tuple[int, int]], what: str) -> list[tuple[str, str, str]]:
    return [(f"huffpost:{a}", f"huffpost:{b}", what) for a, b in lines]


DIFFERENT_LISTS: dict[str, list[tuple[str, str, str]]] = {
    "same_title": [
        ("ag:1615", "ag:5906", "'Today's schedule': soccer listings vs hockey listings"),
        ("ag:1615", "ag:3426", "'Today's schedule': college soccer vs a baseball series"),
        ("ag:4734", "ag:5906", "'Today's schedule': field hockey vs hockey"),
        ("ag:3426", "ag:4734", "'Today's schedule': baseball vs field hockey"),
        ("ag:2816", "ag:3322", "'Around The Region': airline offices vs an Enron ruling"),
        ("ag:355", "ag:7596", "'Around the world': a UN office bombing vs Yushchenko's poisoning"),
        ("ag:1490", "ag:1778", "'SportsNetwork Game Preview': two different games"),
        ("ag:387", "ag:1310", "'SI.com': two different games"),
        ("ag:3047", "ag:3155", "'ESPN.com news services': Astros vs Pippen"),
        ("ag:1516", "ag:3047", "ESPN news services: Galaxy signing vs Astros"),
        ("ag:5757", "ag:7228", "'Econ Edge: The Economic Week': two different weeks"),
        ("ag:2537", "ag:5714", "'NFL Game Summary': two different games"),
        ("ag:4027", "ag:4159", "'... Profit Falls on Higher Costs': Kraft vs Colgate"),
        ("ag:195", "ag:4149", "'... Quarterly Earnings Rise': Medtronic vs Motorola"),
        ("ag:4751", "ag:7406", "bankruptcy filings: ATA vs Yukos"),
        ("ag:2632", "ag:6529", "'Redskins ... Underway': two different games"),
        ("ag:6619", "bbc:sport/460", "'... puts retirement on hold': Chirac vs Davenport"),
        *_tweets([(8745, 9848), (8745, 9463), (9463, 9848), (8745, 9106), (9106, 9848),
                  (9106, 9463), (1949, 4078), (1992, 4116), (614, 3667), (508, 1992),
                  (1796, 3912), (1828, 4813)], "'Funniest Tweets From Women': two weeks"),
        *_tweets([(2147, 4279), (504, 4979), (2106, 2147), (689, 2190), (651, 2147),
                  (4079, 5955), (541, 1514)], "'Funniest Tweets From Parents': two weeks"),
        *_tweets([(868, 2828), (868, 2785), (2785, 2828), (2663, 2827), (1697, 2827),
                  (868, 2370), (1354, 2828), (1354, 2785), (1697, 2663), (2370, 2828),
                  (2370, 2785), (8972, 9688), (8972, 9306), (4887, 5131), (3618, 5047),
                  (4682, 5047)], "a Netflix list of another week or month"),
        *_tweets([(3406, 3407), (3616, 3618)], "Netflix lists of one date: shows vs movies"),
        *_tweets([(4463, 4466)], "subscription round-ups: razors vs vitamins"),
    ],
    "boilerplate": [
        ("ag:1891", "ag:2288", "ZDNet lead boilerplate: AOL antispam vs Yahoo withdrawal"),
        ("ag:2288", "ag:2791", "ZDNet lead boilerplate: Yahoo vs Salesforce"),
        ("ag:2146", "ag:2288", "ZDNet lead boilerplate: PeopleSoft vs Yahoo"),
        ("ag:1891", "ag:2791", "ZDNet lead boilerplate: AOL vs Salesforce"),
        ("ag:1891", "ag:2146", "ZDNet lead boilerplate: AOL vs PeopleSoft"),
        ("ag:2288", "ag:3271", "ZDNet lead boilerplate: Yahoo vs CA/Netegrity"),
        ("ag:2146", "ag:2791", "ZDNet lead boilerplate: PeopleSoft vs Salesforce"),
        ("ag:2791", "ag:3271", "ZDNet lead boilerplate: Salesforce vs CA"),
        ("ag:2288", "ag:2543", "ZDNet boilerplate: Yahoo vs Half.com"),
        ("ag:1511", "ag:2288", "ZDNet boilerplate: antipiracy technology vs Yahoo"),
        ("ag:2543", "ag:3146", "ZDNet boilerplate: Half.com vs Xamlon"),
        ("ag:1511", "ag:3146", "ZDNet boilerplate: antipiracy vs Xamlon"),
        ("ag:2116", "ag:2761", "one security-survey lead: viruses vs a JPEG exploit"),
        ("ag:4624", "ag:4979", "'The Fine Print' boilerplate: DMCA ruling vs Ingres"),
        ("ag:2556", "ag:4722", "Washington Post font tag: MedImmune CEO vs contractors"),
        ("ag:1107", "ag:2556", "Washington Post font tag: Md. election board vs MedImmune"),
        ("ag:1107", "ag:4722", "Washington Post font tag: election board vs contractors"),
        ("ag:2556", "ag:3035", "Washington Post font tag: MedImmune vs PC security"),
        ("ag:1107", "ag:3035", "Washington Post font tag: election board vs PC security"),
        ("ag:2587", "ag:5182", "advert markup: McData router vs Symantec services"),
        ("ag:4264", "ag:5310", "Microsoft ticker link: quarterly profit vs antitrust settlement"),
        ("ag:4264", "ag:5334", "Microsoft ticker link: profit vs Novell settlement"),
        ("ag:257", "ag:4159", "Colgate ticker link: job cuts vs quarterly profit"),
        ("ag:427", "ag:4015", "Kmart ticker link: stores sold to Home Depot vs a new CEO"),
        ("ag:3863", "ag:5541", "Delta ticker link: a loss forecast vs the pilots' concessions"),
        ("ag:3855", "ag:5118", "Pfizer ticker link: Bextra warning vs Celebrex safe"),
        ("ag:5118", "ag:7548", "Pfizer ticker link: Celebrex safe vs Celebrex trial sinks the Dow"),
        ("ag:3855", "ag:7548", "Pfizer ticker link: Bextra warning vs the Dow falls"),
        ("ag:1959", "ag:6725", "Ford ticker link: forecast raised vs sales fall"),
        ("ag:1959", "ag:2938", "Ford ticker link: forecast raised vs September sales"),
        ("ag:2938", "ag:6725", "Ford ticker link: September sales vs a later month's"),
        ("ag:453", "ag:5205", "Wal-Mart ticker link: a market report vs the November outlook"),
    ],
    "lookalike": [
        ("ag:5205", "ag:6851", "Wal-Mart: November outlook kept (Saturday) vs December raised"),
        ("ag:453", "ag:6851", "blue chips weighed by Wal-Mart vs Wal-Mart brightens December"),
        ("ag:195", "ag:6016", "Medtronic: results vs shares sink on downgrades next day"),
        ("ag:199", "ag:6016", "Medtronic: results vs shares sink on downgrades next day"),
        ("ag:5366", "ag:5916", "dollar holds above its record low vs dives to a new one"),
        ("ag:2836", "ag:7027", "jobless claims of two different weeks"),
        ("ag:2930", "ag:3121", "SpaceShipOne ready for the X Prize vs wins it"),
        ("bbc:business/119", "bbc:business/137", "Bank of England: rates held vs set to be held"),
        ("bbc:business/100", "bbc:business/246", "Ebbers denies the fraud vs a witness says he knew"),
        ("bbc:politics/154", "bbc:politics/186", "Livingstone won't retract vs Blair says apologise"),
        ("bbc:business/418", "bbc:business/510", "US firm bids for Lacroix vs the label bought"),
        ("reuters:13694", "reuters:14499", "Magma raises copper price vs lowers it"),
        ("reuters:14558", "reuters:15038", "Sun raises heating oil barge price vs cuts it"),
        ("reuters:6302", "reuters:6828", "defence contracts: Chevron unit vs Texaco"),
        ("reuters:6302", "reuters:6307", "defence contracts: Chevron unit vs Pride Refining"),
        ("reuters:3339", "reuters:3340", "CCC export bonus cattle: Morocco vs Canary Islands"),
        ("reuters:15070", "reuters:15243", "earnings flash: Raytheon vs General Electric"),
        ("reuters:21418", "reuters:21457", "earnings flash: Unisys vs CMS Energy"),
        ("reuters:20329", "reuters:21231", "earnings flash: Banc One vs Federal-Mogul"),
        ("reuters:20227", "reuters:20359", "earnings flash: Dominion Resources vs Scott Paper"),
        ("reuters:690", "reuters:700", "Franklin payouts: Insured Tax-Free vs Puerto Rico fund"),
        ("reuters:16468", "reuters:16473", "Franklin payouts: Massachusetts vs California fund"),
        ("reuters:690", "reuters:701", "Franklin payouts: Insured vs Ohio Insured fund"),
        ("reuters:16470", "reuters:16472", "Franklin payouts: Insured vs Puerto Rico fund"),
        ("reuters:512", "reuters:513", "Franklin payouts: Federal vs New York fund"),
        ("reuters:691", "reuters:692", "Franklin payouts: Minnesota vs Michigan fund"),
        ("reuters:3087", "reuters:3088", "base rate cuts: Barclays vs Midland"),
        ("reuters:14448", "reuters:14467", "deliverable soybean stocks: Chicago vs Toledo"),
        ("reuters:14444", "reuters:14457", "deliverable wheat stocks: Chicago vs Toledo"),
        ("reuters:15910", "reuters:15914", "USDA supply/demand: corn vs coarse grain"),
        ("reuters:15922", "reuters:15923", "USDA supply/demand: soybean meal vs soybean oil"),
        ("reuters:7419", "reuters:7971", "business loans: New York banks vs all U.S. banks"),
    ],
}


# -- different stories: rules over Reuters templates ----------------------------------------

PERIODIC = [  # families of recurring reports
    r"^FED (ADDS|DRAINS) RESERVES", r"^FED (SETS|SAYS IT SETS)", r"TREASURY BALANCES AT FED",
    r"U\.K\. MONEY MARKET (DEFICIT|SHORTAGE)", r"U\.K\. MONEY MARKET (GIVEN|OFFERED)",
    r"CANADIAN MONEY SUPPLY", r"U\.S\. M-1 MONEY SUPPLY|U\.S\. MONEY SUPPLY", r"WEEKLY ELECTRIC OUTPUT",
    r"OIL DEMAND .*FROM YEAR AGO", r"JOBLESS CLAIMS", r"BUSINESS LOANS", r"FRENCH 13-WEEK T-BILL",
    r"U\.S\. (TO SELL|SELLING) .* BILLS", r"SLAUGHTER GUESSTIMATES", r"BANK OF FRANCE",
    r"^BUNDESBANK", r"WEEKLY SOYBEAN CRUSH", r"SHIPS WAITING AT PANAMA CANAL",
    r"DISCOUNT BORROWINGS", r"FREE RESERVES",
    r"PROPOSED OFFERINGS", r"BANK OF JAPAN TO SELL", r"FHLBB CHANGES", r"CANADA 91-DAY T-BILLS",
    r"NATIONAL AVERAGE PRICES", r"GRAIN SHIPS LOADING", r"EXPORTERS REPORT .* CORN",
    r"INTERVENTION B(OAR)?D", r"TURKISH CENTRAL BANK SETS", r"ONTARIO TREASURY BILL",
]
PERIODIC_PER_FAMILY = 6
TEMPLATES = {  # families of briefs about one company or bank each, and their headline word
    "earnings": r"\b(\d(ST|ND|RD|TH) QTR|YEAR|NINE MTHS|QTR)\b.*\b(NET|LOSS|PROFIT)\b",
    "dividend": r"\b(SETS|DECLARES|REGULAR|QTLY|QUARTERLY|INITIAL)\b.*\b(QUARTERLY|DIVIDEND|DIV|PAYOUT)\b",
    "prime rate": r"\b(CUTS|RAISES|LOWERS)\b.*\b(PRIME|BASE) (LENDING )?RATE",
    "crude price": r"\b(RAISES|RAISED|CUTS|LOWERS)\b.*\bCRUDE\b",
    "bond issue": r"\b(ISSUES|LAUNCHES|SELLS)\b.*\b(EUROBOND|BOND|NOTES|DEBENTURES|CONVERTIBLE)",
}
TEMPLATE_PER_FAMILY = {"earnings": 30, "dividend": 20, "prime rate": 12, "crude price": 12,
                       "bond issue": 20}
GENERIC = set("INC CORP CO LTD PLC GROUP THE OF AND BANK BANKS INTERNATIONAL INT'L AMERICAN "
              "NATIONAL FIRST U.S. US CORPORATION HOLDINGS INDUSTRIES UNIT SAYS SAID CANADA "
              "CANADIAN NEW TRUST FINANCIAL SAVINGS BANCORP SYSTEMS ENERGY".split())


def _numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _ranked(corpus: Corpus, pairs: list[tuple[int, int]], keep: int, used: Counter,
            kind: str, note, floor: float = 0.25) -> list[Pair]:
    """The `keep` most alike of `pairs` (3-shingle Jaccard), each record in at most two."""
    cache: dict[int, set] = {}

    def sh(n: int) -> set:
        if n not in cache:
            cache[n] = shingles(*corpus.text(f"reuters:{n}"))
        return cache[n]
    scored = sorted(((jaccard(sh(a), sh(b)), a, b) for a, b in pairs), reverse=True)
    out = []
    for score, a, b in scored:
        if len(out) == keep:
            break
        if score < floor:
            break
        if used[a] >= 2 or used[b] >= 2 or score == 1.0:
            continue
        used[a] += 1
        used[b] += 1
        out.append(_pair(corpus, f"reuters:{a}", f"reuters:{b}", False, kind, note(a, b)))
    return out


def reuters_periodic(corpus: Corpus) -> list[Pair]:
    """Recurring reports of one family on different days, with different figures."""
    out, used = [], Counter()
    for family in PERIODIC:
        pattern = re.compile(family)
        members = [n for n, row in sorted(corpus.reuters.items())
                   if row.get("title") and row.get("body") and _when(row) and pattern.search(row["title"])]
        pairs = []
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                wa, wb = _when(corpus.reuters[a]), _when(corpus.reuters[b])
                ta, tb = corpus.text(f"reuters:{a}"), corpus.text(f"reuters:{b}")
                if wa.date() != wb.date() and abs((wa - wb).total_seconds()) >= 20 * 3600 \
                        and _numbers(ta[1]) != _numbers(tb[1]):
                    pairs.append((a, b))
        out += _ranked(corpus, pairs, PERIODIC_PER_FAMILY, used, "reuters_periodic",
                       lambda a, b: f"{corpus.reuters[a]['date'][:11].strip()} vs "
                                    f"{corpus.reuters[b]['date'][:11].strip()}")
    return out


def _entity(title: str, family: re.Pattern) -> tuple[set[str], set[str]]:
    """(distinctive words of the name before the family's words, ticker symbols)."""
    found = family.search(title)
    name = title[:found.start()] if found else title
    tickers = {t.split(".")[0] for t in re.findall(r"<([A-Za-z.]+)>", title)}
    words = {w for w in re.findall(r"[A-Z][A-Z'&.-]*", re.sub(r"<[^>]*>", " ", name))
             if w not in GENERIC and len(w) > 1}
    return words, tickers


def reuters_template(corpus: Corpus) -> list[Pair]:
    """Template briefs of one family, filed within a day, naming different companies."""
    out, used = [], Counter()
    for family, expression in TEMPLATES.items():
        pattern = re.compile(expression)
        members = []
        for n, row in sorted(corpus.reuters.items()):
            title = row.get("title") or ""
            if row.get("body") and _when(row) and pattern.search(title) and not RECURRING.search(title):
                words, tickers = _entity(title, pattern)
                if words:
                    members.append((n, _when(row), words, tickers))
        pairs = []
        for i, (a, wa, na, ka) in enumerate(members):
            for b, wb, nb, kb in members[i + 1:]:
                if abs((wa - wb).total_seconds()) > 24 * 3600 or na & nb or (ka & kb):
                    continue
                ta, tb = corpus.text(f"reuters:{a}")[0].upper(), corpus.text(f"reuters:{b}")[0].upper()
                if any(w in tb for w in na) or any(w in ta for w in nb):
                    continue
                pairs.append((a, b))
        out += _ranked(corpus, pairs, TEMPLATE_PER_FAMILY[family], used, "reuters_template",
                       lambda a, b, f=family: f, floor=0.1 if family == "earnings" else 0.25)
    return out


# -- same story: syndication edits made here -----------------------------------------------

PREFIXES = ["UPDATE 1-", "UPDATE 2-", "RPT-", "WRAPUP 1-", "Update 1: ", "CORRECTED-"]
SUFFIXES = [" | Express & Star", " - Reuters", " (Reuters)", " - The Star Online",
            " | Business Recorder", " - Yahoo News", " (AP)", " | Reuters.com"]
SWAPS = [("said", "says"), ("pct", "percent"), ("percent", "pct"), ("mln", "million"),
         ("million", "mln"), ("dlrs", "dollars"), ("billion", "bln"), ("U.S.", "US"),
         ("company", "firm"), ("told reporters", "said"), ("organisation", "organization"),
         ("programme", "program"), ("centre", "center"), ("labour", "labor"),
         ("yesterday", "on Monday"), ("today", "on Tuesday"), ("also", ""), ("Corp", "Corporation"),
         ("would", "will"), ("about", "around"), ("per cent", "%"), ("%", " per cent")]
EDITS = ("headline", "recut", "dateline", "sentence", "words", "quotes_case", "combined")
PER_EDIT = 12
EDIT_LAG_HOURS = 12  # an edited copy runs 0 to this many hours after its source
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
AG_DATELINE = re.compile(  # "OAKLAND (Reuters) - ", "Reuters - "
    r"^([A-Z][A-Za-z.,' ]{1,40}\s)?\((Reuters|AP|AFP)\)\s+-+\s+|^(Reuters|AP|AFP)\s+-\s+")


def _cut(text: str, chars: int) -> str:
    """convert_news.excerpt at another length (an outlet that runs a longer or shorter lead)."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + " …"


def _headline(title: str, rng: random.Random) -> tuple[str, str]:
    words = title.split()
    how = rng.choice(["drop", "prefix", "suffix", "case", "reorder"])
    if how == "drop" and len(words) > 4:
        for _ in range(rng.choice([1, 2])):
            del words[rng.randrange(1, len(words))]
        return " ".join(words), "words dropped from the headline"
    if how == "prefix":
        return rng.choice(PREFIXES) + title, "outlet prefix on the headline"
    if how == "reorder" and re.search(r" - |: |, ", title):
        left, sep, right = re.split(r"( - |: |, )", title, maxsplit=1)
        return f"{right}{sep}{left}", "headline halves swapped"
    if how == "case":
        cased = title.title() if title.isupper() else title.upper()
        return cased, "headline case changed"
    return title + rng.choice(SUFFIXES), "outlet suffix on the headline"


def _words(text: str, rng: random.Random) -> tuple[str, int]:
    changed = 0
    for old, new in rng.sample(SWAPS, len(SWAPS)):
        pattern = re.compile(rf"(?<!\w){re.escape(old)}(?!\w)")
        if pattern.search(text) and changed < 4:
            text = pattern.sub(new, text, count=1)
            changed += 1
    return re.sub(r"\s{2,}", " ", text), changed


def _quotes_case(title: str, text: str) -> tuple[str, str]:
    text = re.sub(r'"([^"]*)"', "“\\1”", text).replace("'", "’")
    return (title.capitalize() if title.isupper() else title.upper()), text


def _dateline(rid: str, corpus: Corpus, body: str) -> tuple[str, str] | None:
    if rid.startswith("ag:"):
        stripped = AG_DATELINE.sub("", body)
        if stripped != body:
            return stripped, "dateline and source dropped"
        return None
    if not rid.startswith("reuters:"):
        return None
    row = corpus.reuters[int(rid.split(":")[1])]
    place = (row.get("dateline") or "").strip().rstrip("-").strip()
    if not place:
        return None
    return f"{place} (Reuters) - {body}", "Reuters dateline added"


def _edit(rid: str, corpus: Corpus, how: str, rng: random.Random
          ) -> tuple[str, str, str, str] | None:
    """(title, excerpt, what was done, body) of one syndication edit of a record, or None. The
    body is the source's text with the same edit (an AG item's: its excerpt's text, edited,
    when the source has a body at all); the edits draw on `rng` as before bodies were kept, so
    the pairs' titles and excerpts are as they were."""
    title = corpus.text(rid)[0]
    result = _edited(rid, corpus, how, rng, title)
    if result is None:
        return None
    title, excerpt, note, body = result
    if not corpus.bodies.get(rid):
        body = ""
    elif rid.startswith("reuters:"):
        body = re.sub(r"\s*\bReuters?\s*$", "", body.replace("\x03", ""))  # as reuters_text
    return title, excerpt, note, body


def _edited(rid: str, corpus: Corpus, how: str, rng: random.Random, title: str
            ) -> tuple[str, str, str, str] | None:
    if rid.startswith("reuters:"):
        body = " ".join(corpus.reuters[int(rid.split(":")[1])]["body"].split())
    elif rid.startswith("bbc:"):
        body = " ".join(corpus.bbc[rid.split(":", 1)[1]]["body"].split())
    else:
        body = corpus.ag[int(rid.split(":")[1])].removesuffix(" …")
    excerpt = convert_news.excerpt
    if how == "headline":
        new, note = _headline(title, rng)
        return new, excerpt(body), note, body
    if how == "recut":
        chars = rng.choice([160, 200, 240, 420, 480])
        if len(body) <= min(chars, 320):
            return None
        return title, _cut(body, chars), f"excerpt cut at {chars} characters", body
    if how == "dateline":
        found = _dateline(rid, corpus, body)
        return (title, excerpt(found[0]), found[1], found[0]) if found else None
    if how == "sentence":
        parts = SENTENCE.split(body)
        if len(parts) < 3:
            return None
        drop = rng.choice([0, 1]) if len(parts) > 3 else 1
        kept = " ".join(parts[:drop] + parts[drop + 1:])
        return title, excerpt(kept), f"sentence {drop + 1} dropped", kept
    if how == "words":
        start = excerpt(body).removesuffix(" …")
        new, changed = _words(start, rng)
        if changed < 2:
            return None
        return title, excerpt(new), f"{changed} words changed", new + body[len(start):]
    if how == "quotes_case":
        new_title, new_body = _quotes_case(title, body)
        return new_title, excerpt(new_body), "curly quotes and headline case", new_body
    steps = rng.sample(["headline", "recut", "dateline", "sentence", "words"], rng.choice([2, 3]))
    if "headline" not in steps:
        steps[0] = "headline"
    notes = []
    for step in steps:
        if step == "headline":
            title, note = _headline(title, rng)
        elif step == "dateline":
            found = _dateline(rid, corpus, body)
            if not found:
                continue
            body, note = found
        elif step == "sentence":
            parts = SENTENCE.split(body)
            if len(parts) < 3:
                continue
            body, note = " ".join(parts[:1] + parts[2:]), "sentence 2 dropped"
        elif step == "words":
            body, changed = _words(body, rng)
            if not changed:
                continue
            note = f"{changed} words changed"
        else:
            continue
        notes.append(note)
    chars = rng.choice([240, 420]) if "recut" in steps else 320
    if chars != 320:
        notes.append(f"excerpt cut at {chars} characters")
    if len(notes) < 2:
        return None
    return title, _cut(body, chars), "; ".join(notes), body


def _edit_sources(corpus: Corpus) -> list[str]:
    """Records a wire story could come from: Reuters articles (no tables, no earnings briefs),
    BBC stories and AG items with a full description, in a fixed shuffled order."""
    reuters = [f"reuters:{n}" for n, row in sorted(corpus.reuters.items())
               if row.get("text_type") == "NORM" and len(row.get("body") or "") > 600
               and len(NUMBER.findall(row["body"][:400])) < 8 and len((row.get("title") or "").split()) >= 5
               and not RECURRING.search(row.get("title") or "")]
    bbc = [f"bbc:{i}" for i in sorted(corpus.bbc)]
    ag = [f"ag:{n}" for n, text in sorted(corpus.ag.items()) if len(text) > 150]
    rng = random.Random("edit sources")
    for group in (reuters, bbc, ag):
        rng.shuffle(group)
    mixed = []
    for i in range(max(len(reuters), len(bbc), len(ag))):
        for group, share in ((reuters, 2), (bbc, 1), (ag, 1)):
            mixed += group[i * share:(i + 1) * share]
    return mixed


def edited(corpus: Corpus) -> list[Pair]:
    """PER_EDIT pairs of each kind of edit: a real record beside its edited copy."""
    out = []
    sources = iter(_edit_sources(corpus))
    for how in EDITS:
        rng = random.Random(f"edit {how}")
        made = 0
        while made < PER_EDIT:
            rid = next(sources)
            if how == "dateline" and rid.startswith("bbc:"):
                continue
            result = _edit(rid, corpus, how, rng)
            if result is None or (result[0], result[1]) == corpus.text(rid):
                continue
            title, excerpt, note, body = result
            ta, ea = corpus.text(rid)
            when = corpus.date(rid)
            lag = random.Random(f"edit lag {rid}").randint(0, EDIT_LAG_HOURS * 3600)
            if when is not None:
                note += f"; {lag / 3600:.1f} h later"
            out.append(Pair(ta, ea, title, excerpt, True, f"edit:{how}", f"{rid} ({note})",
                            when, None if when is None else when + lag, rid, None,
                            corpus.bodies.get(rid, ""), body))
            made += 1
    return out


# -- all of it ------------------------------------------------------------------------------

def pairs(corpora: Path = DEFAULT_CORPORA, corpus: Corpus | None = None) -> list[Pair]:
    """Every labelled pair, rebuilt from the corpora (a few seconds)."""
    corpus = corpus or load(corpora)
    return (reuters_resend(corpus) + listed(corpus) + exact_copies(corpus) + edited(corpus)
            + reuters_periodic(corpus) + reuters_template(corpus))


def periodic_near(corpus: Corpus, hours: float = 72) -> list[Pair]:
    """Every pair of recurring reports of one family (PERIODIC) filed on different calendar
    days at most `hours` apart, with different figures: the next day's report, which a
    publication window does not keep apart. Not a sample and not in `pairs()` (the labelled
    reuters_periodic pairs are the most alike of any days apart, mostly a week or more): a
    check of what a window leaves to the shingles. Same rule as reuters_periodic, unread."""
    out = []
    for family in PERIODIC:
        pattern = re.compile(family)
        members = [n for n, row in sorted(corpus.reuters.items())
                   if row.get("title") and row.get("body") and _when(row)
                   and corpus.date(f"reuters:{n}") is not None and pattern.search(row["title"])]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                ra, rb = f"reuters:{a}", f"reuters:{b}"
                if abs(corpus.date(ra) - corpus.date(rb)) > hours * 3600 \
                        or _when(corpus.reuters[a]).date() == _when(corpus.reuters[b]).date() \
                        or _numbers(corpus.text(ra)[1]) == _numbers(corpus.text(rb)[1]):
                    continue
                out.append(_pair(corpus, ra, rb, False, "reuters_periodic_near", family))
    return out


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _day(when: int | None) -> str:
    return "undated" if when is None else \
        datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--examples", type=int, default=2, help="pairs shown per kind")
    parser.add_argument("--kind", help="show every pair of this kind (for checking by reading)")
    args = parser.parse_args(argv)
    found = pairs(args.corpora)
    kinds = Counter((p.same, p.kind) for p in found)
    dated = Counter((p.same, p.kind) for p in found if p.dated)
    for same in (True, False):
        print("same story" if same else "different stories", "(pairs, of them both dated)")
        for (s, kind), n in sorted(kinds.items()):
            if s == same:
                print(f"  {n:5} {dated[(s, kind)]:5}  {kind}")
        print(f"  {sum(n for (s, _), n in kinds.items() if s == same):5} "
              f"{sum(n for (s, _), n in dated.items() if s == same):5}  in all")
    for (same, kind) in sorted(kinds):
        shown = [p for p in found if p.kind == kind]
        if args.kind:
            if kind != args.kind:
                continue
        else:
            shown = shown[:args.examples]
        print(f"\n== {kind} ({'same' if same else 'different'})")
        for p in shown:
            print(f"  [{p.source}]  {_day(p.a_date)} | {_day(p.b_date)}")
            print(f"    A: {_short(p.a_title, 90)} :: {_short(p.a_excerpt, 160)}")
            print(f"    B: {_short(p.b_title, 90)} :: {_short(p.b_excerpt, 160)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
