"""The read side of one index generation: the only door from the search package to the index.

`Reader` (snapshots.py) keeps one generation of the live index open and shared, reopens it
when a reindex commits, gives each thread a snapshot of its own (generation.py) and tells a
damaged file from a failing search (damage.py); `Columns` (columns.py) is the generation's
column store: dates, ids, stories, first-seen times, facet ordinals and the orders built on
them; words.py lists the words of a field for completions and patterns; scorer.py is the
`Scorer` protocol a snapshot searches through, which the cluster implements; state.py is
what an index says about itself for `/status`.

What the search package needs of the write side (the schema's names, the analysers that
queries must share with the index, the spelling index, the index's errors) is re-exported
here, so that search/ imports none of index/'s modules.
"""

from ..index import analysis
from ..index.schema import FACETS, NO_DATE, WORD_FIELDS, WORDS_AS_WRITTEN
from ..index.spelling import FIELD as SPELLING_FIELD, Speller, distance, sound_key
from ..index.store import IndexDamaged, IndexProblem, Live, NoIndex, ShardsMissing
from .columns import NONE, Columns, SegmentCache
from .generation import Generation, Snapshot
from .scorer import Cluster, Layout, RemoteScorer, Scorer, Shard
from .snapshots import Reader
from .state import IndexState, index_state
from .words import Words, WordCache

__all__ = [
    "FACETS", "NONE", "NO_DATE", "SPELLING_FIELD", "WORDS_AS_WRITTEN", "WORD_FIELDS",
    "Cluster", "Columns", "Generation", "IndexDamaged", "IndexProblem", "IndexState", "Layout",
    "Live", "NoIndex", "Reader", "RemoteScorer", "Scorer", "SegmentCache", "Shard",
    "ShardsMissing", "Snapshot", "Speller", "WordCache", "Words", "analysis", "distance",
    "index_state", "sound_key",
]
