"""Every text analyser searchapp uses, built here and nowhere else.

Index time and query time must cut and normalise words the same way, or queries silently
miss: the query analysers below are the index analysers with one difference each, said
where it is made (a test checks that plain words come out the same both ways). Whoosh
pickles the index analysers into the index, so they are built from Whoosh's own classes,
the stemmer a module-level function of this module (pickled by its name); any change to
what they produce bumps `schema.FORMAT`.
"""

from __future__ import annotations

import re
import threading
from typing import Callable, TypeVar

import simplemma
from whoosh.analysis import (STOP_WORDS as WHOOSH_STOP_WORDS, CharsetFilter, Filter,
                             LowercaseFilter, RegexTokenizer, StemFilter, StopFilter)
from whoosh.lang import stemmer_for_language
from whoosh.support.charset import accent_map

# The stemmer of the title and excerpt: English lemmas (simplemma, a maintained lemmatiser
# with its dictionary in the package): inflections are one word (prices -> price, ran ->
# run, policies -> policy), words of different families are not (Porter2 made federal,
# Federer and federated all `feder`). Measured against Porter2, an S-stemmer and Krovetz's
# stemmer on Cranfield and CISI (docs/benchmarks.md, "Stemmers"; `bench/relevance.py
# --stemmer NAME`): Porter2 ranks a little better on Cranfield, by merging families.
STEMMER = "lemma"

# Words too common in news prose to carry meaning; short on purpose (see docs/architecture.md).
STOP_WORDS = frozenset("""a an and are as at be but by for from has have in is it its of on or
s t that the their this to was were will with""".split())

# Words common in any news prose: left out of distinctive words, where they would only be
# distinctive by accident.
NOISE = frozenset(WHOOSH_STOP_WORDS | STOP_WORDS | set(
    """about after against also been before being can could did does had he her his how i
    into just like may many
    more most much new not now one only other our over said says she so some than them
    then there these they those through two up us use used using very was we what when
    where which while who why would year years you your""".split()))

STEM_CACHE = 100_000
STEMMED_FIELDS = ("title", "excerpt", "body")  # analysed by `stemmed()`; the schema says so too
T = TypeVar("T")


def per_thread(make: Callable[[], T]) -> Callable[[], T]:
    """One `make()` per thread: a stemmer's cache is not safe to share between threads, and
    searches run side by side."""
    local = threading.local()

    def get() -> T:
        value = getattr(local, "value", None)
        if value is None:
            value = local.value = make()
        return value

    return get


# A word, or words joined by `.` or `&` with nothing between: `U.S.` is `u.s`, `AT&T` is
# `at&t` and `example.com` one word, where `at` and `t` alone would be stop words. Hyphens
# and apostrophes split (`e-mail` is `e` `mail`); the query parser searches such a word as
# the phrase it became.
WORD_PATTERN = r"\w+(?:[.&]\w+)*"


def _folding():
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


# -- index time -------------------------------------------------------------------------------

def porter2(word: str) -> str:
    """Snowball's English stemmer (Porter2): strong, merging families (federal, Federer)."""
    return _PORTER2(word)


_PORTER2 = stemmer_for_language("en")


def s_stem(word: str) -> str:
    """Harman's S-stemmer: plurals only (`policies` -> `policy`, `prices` -> `price`)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def lemma(word: str) -> str:
    """simplemma's English lemma (`ran` -> `run`, `prices` -> `price`) when it begins with the
    word's first letter; a word with digits or joined by `.` or `&` (`u.s`, `at&t`, `2021`) is
    its own lemma."""
    if not _lemmas_loaded:
        ready()
    if not word.isalpha():
        return word
    found = simplemma.lemmatize(word, lang="en").lower()
    # A lemma that does not begin as the word does is another word's (`ai` -> `be`, `us` ->
    # `we`, `lay` -> `lie`): searching AI must not find every record saying "been".
    return found if found[:1] == word[:1] else word


_LEMMAS_LOADING = threading.Lock()
_lemmas_loaded = False


def ready() -> None:
    """The lemmatiser's dictionary loaded now, once per process. Its first use decompresses
    it (0.15 s of CPU), and simplemma's cache lets every thread that arrives meanwhile do the
    same: twenty searches at once in a new server process each paid it in full and ran out
    of their time budget with 0 results. A serving process calls this before its first search."""
    global _lemmas_loaded
    with _LEMMAS_LOADING:
        if not _lemmas_loaded:
            simplemma.lemmatize("ready", lang="en")
            _lemmas_loaded = True


def _krovetz_stemmer():
    import krovetzstemmer  # measured only (bench/relevance.py --stemmer krovetz): not a dependency
    return krovetzstemmer.Stemmer()


_KROVETZ = per_thread(_krovetz_stemmer)


def krovetz(word: str) -> str:
    """Krovetz's stemmer (`prices` -> `price`, `federally` -> `federal`, `Federer` stays), for
    the comparison only: its package (krovetzstemmer) is unmaintained and not a dependency."""
    return _KROVETZ().stem(word) if word.isalpha() else word


STEMMERS = {"porter2": porter2, "s": s_stem, "lemma": lemma, "krovetz": krovetz}


def stemmed():
    """English words, lower-cased, accents folded, stemmed: `Cafés` and `cafe` match (title, excerpt)."""
    return _folding() | StopFilter(stoplist=STOP_WORDS, minsize=1) | StemFilter(
        STEMMERS[STEMMER], cachesize=STEM_CACHE)


def folded():
    """Lower-cased and accent-folded but not stemmed (source and topic names; prefixes)."""
    return _folding()


def written():
    """Title and excerpt as written (folded, not stemmed, stop words out): term vectors for
    distinctive words, and the words spelling suggestions come from."""
    return _folding() | StopFilter(stoplist=STOP_WORDS, minsize=2)


# -- query time -------------------------------------------------------------------------------

class StemUnlessPattern(Filter):
    """Stems words but leaves prefix and wildcard patterns alone (`fles*` must not become `fle*`)."""

    def __init__(self, cachesize: int = STEM_CACHE):
        self.stemmer = StemFilter(STEMMERS[STEMMER], cachesize=cachesize)

    def __eq__(self, other):
        return type(other) is type(self)

    def __call__(self, tokens):
        for t in tokens:
            if "*" in t.text or "?" in t.text:
                yield t
            else:
                yield from self.stemmer(iter((t,)))


def query_stemmed():
    """`stemmed()` for the query parser: the same, except that patterns are not stemmed."""
    return _folding() | StopFilter(stoplist=STOP_WORDS, minsize=1) | StemUnlessPattern()


def query_folded():
    """`folded()` for the query parser, plus the stop words: a word that no field a bare word
    is looked for in keeps drops out of the query, where one that some field kept would be
    required (and `the` would have to be in a source's name)."""
    return _folding() | StopFilter(stoplist=STOP_WORDS, minsize=1)


_FOLD = _folding()


def fold_pattern(text: str) -> str:
    """A prefix or pattern as typed, lower-cased and accent-folded but not cut into words."""
    return "".join(t.text for t in _FOLD(text, tokenize=False, mode="query"))


def fold_word(word: str) -> str:
    """A word of the query as the unstemmed fields store it (`Don't` -> `dont`), for
    distinctive words and spelling suggestions."""
    return "".join(t.text for t in _FOLD(word))


_STEM = per_thread(stemmed)


def stem_word(word: str) -> str | None:
    """One word as the stemmed fields store it (None for a stop word)."""
    found = [t.text for t in _STEM()(word, mode="query")]
    return found[0] if found else None


# -- index time, without Whoosh's token objects ---------------------------------------------

_WORDS = re.compile(WORD_PATTERN)  # RegexTokenizer compiles it the same way (re.UNICODE)


def _cut_folded(text: str) -> list[tuple[str, int]]:
    return [(w.lower().translate(accent_map), i) for i, w in enumerate(_WORDS.findall(text))]


def _renumbered(words: list[tuple[str, int]], minsize: int) -> list[tuple[str, int]]:
    """StopFilter(renumber=True): the first word kept keeps its position and the others
    follow it one by one, as if the stop words had never been there."""
    kept = [w for w, _ in words if len(w) >= minsize and w not in STOP_WORDS]
    if not kept:
        return []
    first = next(i for w, i in words if len(w) >= minsize and w not in STOP_WORDS)
    return [(w, first + n) for n, w in enumerate(kept)]


def index_words(analyzer) -> Callable[[str], list[tuple[str, int]]] | None:
    """A plain function giving the (word, position) pairs `analyzer` gives at index time,
    or None for an analyser it does not know.

    Whoosh's analysers pass a token object through a chain of generators, a Python call
    per word per filter: a quarter of a full build's time. The bulk writer
    (engine/bulk.py) cuts with these instead; a test holds each to its analyser."""
    if analyzer == folded():
        return _cut_folded
    if analyzer == written():
        return lambda text: _renumbered(_cut_folded(text), 2)
    if analyzer == stemmed():
        stem = _memo(analyzer.items[-1].stemfn)
        return lambda text: [(stem(w), i) for w, i in _renumbered(_cut_folded(text), 1)]
    return None


def _memo(stem: Callable[[str], str]) -> Callable[[str], str]:
    """`stem` remembering its answers in a plain dict (Whoosh's cache is a Python-level
    wrapper: a tenth of a build's time), forgetting them all when it holds too many."""
    known: dict[str, str] = {}

    def cached(word: str) -> str:
        found = known.get(word)
        if found is None:
            if len(known) >= STEM_CACHE * 4:
                known.clear()
            found = known[word] = stem(word)
        return found

    return cached
