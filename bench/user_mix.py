"""What researchers actually type, for bench/run.py: real corpus words typed a letter at a
time, typos that find little, prefixes that find nothing, wildcards in every position, ORs of
many words, and pasted paragraphs; each with what SQLite FTS5 is asked in the same run.

FTS5 has no infix or suffix wildcards and no typo tolerance: where searchapp is asked
`*ment` or `m?rket`, the peer is asked the nearest thing it can answer (the literal word,
or a prefix), which flatters the peer.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from generate import corpus

STOP = set("""a an and are as at be but by for from has have in is it its of on or s t that the
their this to was were will with he she they his her after over new says said""".split())


def common_words(n: int, min_length: int = 5) -> list[str]:
    counts = Counter(w.lower() for w in corpus()[1] if len(w) >= min_length)
    return [w for w, _ in counts.most_common(n * 3) if w not in STOP][:n]


def typo(word: str, rng: random.Random) -> str:
    """One slip: two letters swapped, one dropped, or one doubled."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def fts_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+", text.lower()) if w not in STOP]


def cases(seed: int = 7) -> list[tuple[str, str, str]]:
    """(label, what searchapp is asked, the FTS5 MATCH the peer is asked)."""
    rng = random.Random(seed)
    words = common_words(60)
    rows = corpus()[0]
    out: list[tuple[str, str, str]] = []
    for phrase in (f"{words[0]} {words[7]}", words[3], f"{words[12]} {words[20]}", words[30]):
        for end in range(1, len(phrase) + 1):
            typed = phrase[:end]
            parts = typed.split()
            match = " ".join(parts) if typed.endswith(" ") else \
                " ".join(parts[:-1] + [f'"{parts[-1]}"*'])
            out.append(("typed a letter at a time", typed, match))
    for word in words[:10]:
        wrong = typo(word, rng)
        out.append(("typo", wrong, f'"{wrong}"'))
    for n, word in enumerate(words[10:30]):  # `word~` (one edit) and `word~2` on a slip
        out.append(("fuzzy", f"{typo(word, rng)}~{2 if n % 4 == 3 else ''}", f'"{word}"'))
    for junk in ("xqzv", "zzyqk", "qwxj", "vvkzq"):
        out.append(("prefix finding nothing", junk, f'"{junk}"*'))
    for word in words[:6]:
        out += [("wildcard: suffix", f"*{word[-4:]}", f'"{word}"'),
                ("wildcard: infix", f"{word[:2]}*{word[-2:]}", f'"{word[:2]}"*'),
                ("wildcard: one letter", word[:2] + "?" + word[3:], f'"{word}"')]
    ors = words[:20]
    out.append(("OR of 20 words", " OR ".join(ors), " OR ".join(f'"{w}"' for w in ors)))
    out.append(("OR of 20 wildcards", " OR ".join(f"*{w[1:4]}*" for w in ors),
                " OR ".join(f'"{w}"' for w in ors)))
    for title, description in rng.sample(rows, 4):
        text = f"{title}. {description} {description}"
        out.append(("pasted paragraph", text, " OR ".join(f'"{w}"' for w in dict.fromkeys(fts_words(text)))))
    return out


def heavy(cases_: list[tuple[str, str, str]]) -> list[str]:
    """The heaviest shapes of the mix: what others type while a light search must answer."""
    return [q for label, q, _ in cases_ if label in ("OR of 20 wildcards", "OR of 20 words",
                                                      "pasted paragraph")]
