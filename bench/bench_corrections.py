"""Spelling corrections scored on typos made from the news index's own words: how often the
word meant is what the search corrects to, and how often a word spelt right is "corrected".

    .venv/bin/python bench/bench_corrections.py --index DIR --seeds DIR [--save FILE]
        [--before FILE] [--per-kind 80]

Why: a correction is a guess, and one wrong guess ("Showing results for being" for Bejing)
costs the user more than none. No list of known typos is used (it would be tuned to): the
typos are made, repeatably (seeded), from the index's frequent words, one slip each, of five
kinds: two letters swapped, one dropped, one doubled, one key's neighbour typed for it, and
(for names: words the excerpts write with a capital mid-sentence) a sound-alike spelling
(c for k, f for ph, y for i, a double letter single, ...). A typo that is itself a word of
the index is left out (a real-word error is another problem). Each is searched as the server
searches it (SearchIndex.search, `typing=0`), and the correction is what the page shows
("Showing results for ...") or else offers ("Did you mean ..."). The correct words are
index words held by 3 to 49 records (a search finding 50 or more is never corrected).

"Before" is this script run by the code before the change over an index that code built:

    mkdir /tmp/before && git archive e419e7b | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before .venv/bin/python bench/bench_corrections.py \
        --index OLD_INDEX --seeds SEEDS --save /tmp/before.json
    .venv/bin/python bench/bench_corrections.py --index NEW_INDEX --seeds SEEDS \
        --before /tmp/before.json

The typos are drawn from the index's words, which both indexes share, so both runs score
the same list. SQLite FTS5 has no spelling correction to set beside this (its spellfix1
extension is not built into Python's sqlite3).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from searchapp.index import analysis, store  # noqa: E402
from searchapp.search import SearchIndex, SearchRequest  # noqa: E402
from searchapp.search.request import DEFAULT_LIMITS  # noqa: E402
from searchapp.settings import Settings  # noqa: E402

FIELD = "written"  # the words as written (titles and excerpts), as the spelling index reads them
# The issue's own cases (issue 30), and twenty slips of common news words chosen by hand.
ISSUE = ["Bejing", "tarrifs", "kadafi", "gadhafi", "tarriffs"]
CHOSEN = ["goverment", "parliment", "recieved", "seperate", "buisness", "elction", "presidnet",
          "minsiter", "Washingon", "Pakistn", "Isreal", "Kremlim", "techonology", "Afganistan",
          "ilegal", "honr", "stod", "Sowiet", "Filippine", "gneva"]
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Spellings that sound the same: what a name heard, not read, is typed as.
SOUNDS = [("ph", "f"), ("f", "ph"), ("ck", "k"), ("c(?=[aou])", "k"), ("k", "c"), ("q", "k"),
          ("ee", "ea"), ("ie", "ei"), ("ei", "ie"), ("y", "i"), ("i(?=[aeou])", "y"),
          (r"([bcdfglmnprstz])\1", r"\1"), ("([bdfglmnprt])(?=[aeiouy])", r"\1\1"),
          ("dh", "d"), ("z", "s"), ("s(?=[aeiou])", "z"), ("x", "ks"), ("ou", "u"), ("oo", "u"),
          ("gh", "g"), ("kh", "k"), ("th", "t"), ("w(?=[aeiou])", "v"), ("v", "w"), ("j", "dj")]


def neighbours(c: str) -> list[str]:
    """The keys touching `c` on a QWERTY keyboard."""
    at = {k: (r, i + (0, 0.25, 0.75)[r]) for r, row in enumerate(ROWS) for i, k in enumerate(row)}
    if c not in at:
        return []
    r, x = at[c]
    return [k for k, (r2, x2) in at.items() if k != c and
            ((r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) < 1))]


def slip(word: str, kind: str, rnd: random.Random) -> str | None:
    """One typo of `kind` in `word` (never in its first letter), or None."""
    i = rnd.randrange(1, len(word) - 1)
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:] if word[i] != word[i + 1] else None
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "key":
        near = neighbours(word[i])
        return word[:i] + rnd.choice(near) + word[i + 1:] if near else None
    rules = [(a, b) for a, b in SOUNDS if re.search(a, word)]
    if not rules:
        return None
    a, b = rnd.choice(rules)
    spots = list(re.finditer(a, word))
    m = rnd.choice(spots)
    return word[:m.start()] + m.expand(b) + word[m.end():]


def vocabulary(index: Path) -> dict[str, int]:
    """Every word of the titles and excerpts as written, with the records holding it."""
    with store.open_live(index).searcher() as s:
        r = s.reader()
        return {(t.decode() if isinstance(t, bytes) else t): i.doc_frequency()
                for t, i in r.iter_field(FIELD)}


def names(seeds: Path, vocab: dict[str, int], sample: int = 12000) -> set[str]:
    """Words the excerpts write with a capital in mid-sentence nearly always: names."""
    capital, other = Counter(), Counter()
    files = sorted(seeds.rglob("*.txt"))
    for path in random.Random(30).sample(files, min(sample, len(files))):
        m = re.search(r"^excerpt: (.*)$", path.read_text(encoding="utf-8", errors="replace"), re.M)
        for prev, word in re.findall(r"(\S?)\s+([A-Za-z]+)", m.group(1) if m else ""):
            if prev in ".!?\"'":
                continue
            (capital if word[0].isupper() and not word.isupper() else other)[word.lower()] += 1
    return {w for w, n in capital.items() if n >= 5 and n >= 9 * other[w] and len(w) >= 5
            and w.isascii() and vocab.get(w, 0) >= 10}


def typos(vocab: dict[str, int], named: set[str], per_kind: int) -> list[tuple[str, str, str]]:
    """(kind, typo, word meant), `per_kind` of each kind, repeatable."""
    rnd = random.Random(30)
    common = sorted(w for w, n in vocab.items() if n >= 30 and len(w) >= 5 and w.isalpha()
                    and w.isascii() and w not in analysis.NOISE)
    out = []
    for kind in ("swap", "drop", "double", "key", "sound"):
        pool, made = sorted(named) if kind == "sound" else common, set()
        for _ in range(per_kind * 50):
            if len(made) >= per_kind:
                break
            word = rnd.choice(pool)
            typo = slip(word, kind, rnd)
            if typo and typo != word and typo not in vocab and typo not in made:
                made.add(typo)
                out.append((kind, typo, word))
    return out


def correct_words(vocab: dict[str, int], count: int) -> list[str]:
    """Words spelt right that a search would look for a better spelling of."""
    rare = sorted(w for w, n in vocab.items() if 3 <= n < 50 and len(w) >= 4 and w.isalpha()
                  and w.isascii() and w not in analysis.NOISE)
    return random.Random(31).sample(rare, min(count, len(rare)))


def corrected(index: SearchIndex, q: str) -> tuple[str | None, str]:
    """(what the search corrects `q` to, how: shown / offered / ''), as the page would."""
    req = SearchRequest.from_params({"q": [q], "typing": ["0"]}, DEFAULT_LIMITS)
    result = index.search(req, terms=False, hits=False)
    if result.showing:
        return result.showing, "shown"
    if result.suggestion:
        return result.suggestion, "offered"
    return None, ""


def also(index: SearchIndex, q: str) -> str:
    """The other spellings the page lists for `q` (after the change only)."""
    req = SearchRequest.from_params({"q": [q], "typing": ["0"]}, DEFAULT_LIMITS)
    result = index.search(req, terms=False, hits=False)
    spelled = getattr(result, "spellings", None) or []
    return "; ".join(", ".join(f"{w} ({n})" for w, n, _ in s.others) for s in spelled)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--per-kind", type=int, default=80)
    ap.add_argument("--correct", type=int, default=200)
    ap.add_argument("--save", type=Path, help="write this run's corrections as JSON")
    ap.add_argument("--before", type=Path, help="a --save of the code before, printed beside")
    args = ap.parse_args()
    vocab = vocabulary(args.index)
    listed = typos(vocab, names(args.seeds, vocab), args.per_kind)
    right = correct_words(vocab, args.correct)
    index = SearchIndex.from_settings(Settings(index=args.index, seeds=args.seeds), recent=False)
    started = time.perf_counter()
    try:
        got = {q: corrected(index, q) for q in [*ISSUE, *CHOSEN, *(t for _, t, _ in listed),
                                                 *right]}
        spelled = {q: also(index, q) for q in [*ISSUE, *CHOSEN]}
    finally:
        index.close()
    took = time.perf_counter() - started
    if args.save:
        args.save.write_text(json.dumps({q: list(v) for q, v in got.items()}), encoding="utf-8")
    before = ({q: tuple(v) for q, v in json.loads(args.before.read_text()).items()}
              if args.before else {})

    def hit(table: dict, typo: str, meant: str) -> bool:
        fixed = table.get(typo, (None, ""))[0]
        return fixed is not None and analysis.fold_word(fixed) == meant

    print(f"{len(listed)} generated typos from {len(vocab):,} index words; "
          f"{len(got)} searches in {took:.1f} s")
    print(f"{'kind':8} {'typos':>5} {'before':>8} {'after':>8}   "
          "(share corrected to the word meant)")
    for kind in ("swap", "drop", "double", "key", "sound", "all"):
        rows = [(t, w) for k, t, w in listed if kind in (k, "all")]
        b = f"{sum(hit(before, t, w) for t, w in rows) / len(rows):8.1%}" if before else "       -"
        a = sum(hit(got, t, w) for t, w in rows) / len(rows)
        print(f"{kind:8} {len(rows):5} {b} {a:8.1%}")
    wrong = [q for q in right if got[q][0] is not None]
    wrong_b = [q for q in right if before.get(q, (None,))[0] is not None] if before else []
    print(f"correct words 'corrected' (of {len(right)} held by 3-49 records): "
          f"before {len(wrong_b) if before else '-'}, after {len(wrong)}"
          + (f"  e.g. {', '.join(f'{q}->{got[q][0]}' for q in wrong[:8])}" if wrong else ""))
    print(f"\n{'typed':14} {'before':24} {'after':24} also spelled (after)")
    for q in [*ISSUE, *CHOSEN]:
        b = before.get(q, (None, ""))
        a = got[q]
        show = lambda v: f"{v[0]} ({v[1]})" if v[0] else "-"  # noqa: E731
        print(f"{q:14} {show(b) if before else '?':24} {show(a):24} {spelled.get(q, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
