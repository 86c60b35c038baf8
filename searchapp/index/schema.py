"""The Whoosh schema: which record fields are searched, which are counted, and how text is
analysed; and how an id or a seed path is written as a term or a number.

Whoosh pickles the schema into the index, so everything here must stay importable under
the same names; any change to fields or analysis bumps FORMAT: a reader refuses an index of
another format with a message to rebuild it, and the indexer rebuilds it.
"""

from __future__ import annotations

import hashlib

from whoosh import columns, fields

from ..engine.codec import KeptApart
from ..engine.ranking import AS_WRITTEN, BODY_AS_WRITTEN
from . import analysis

FORMAT = 10  # 4: `AT&T` is one word; 5: shards, and the id as a number (c_idkey);
# 6: story signatures (c_minhash) and first-seen times (c_seen); 7: title and excerpt
# lemmatised (analysis.STEMMER), no longer Porter2-stemmed; 8: a lemma keeps the word's
# first letter (`ai` was `be`); 9: the article's text (`body`, lemmatised, with positions),
# and the title and excerpt as written renamed `written` (it was `body`); the body as
# written (`written_body`); 10: segments written in our array codec (engine/codec), no
# longer Whoosh's W3; the drafts kept apart, compressed (KeptApart)

# Facets counted from columns. The key is the name the web and the API use.
FACETS = ("topic", "provider", "category", "type", "year", "kind")
# One stored value per document for each facet; topics join with this separator.
TOPIC_SEPARATOR = "\x1f"
NO_DATE = -(2**62)  # sorts before every real date; a record without one is in any story window
# Fields stemmed at index time, and the field holding their words as written: a prefix or
# wildcard is matched against the words as written (`recogniti*` finds `recognition`, though
# the stem is `recognit`), then searched as the stems those words make.
# The body's words as written are a field of their own (`written_body`): in `written` they
# would swamp the distinctive words, more like this and spelling, made for titles and excerpts.
WORDS_AS_WRITTEN = {"title": AS_WRITTEN, "excerpt": AS_WRITTEN, "body": BODY_AS_WRITTEN}


def build_schema() -> fields.Schema:
    stemmed = analysis.stemmed()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=stemmed, phrase=True),
        excerpt=fields.TEXT(analyzer=stemmed, phrase=True),
        # The article's own text after the front matter (ingest/fulltext.py), kept in the
        # record (`data`); searched as `body:` and, weighted below them, with title and excerpt.
        body=fields.TEXT(analyzer=stemmed, phrase=True),
        source=fields.TEXT(analyzer=analysis.folded(), phrase=True),
        topic=fields.TEXT(analyzer=analysis.folded(), phrase=True),
        # Title and excerpt as written (not stemmed): term vectors give the distinctive
        # terms, and its words the spelling suggestions.
        written=fields.TEXT(analyzer=analysis.written(), vector=True, phrase=False),
        # The body as written: the word as typed, `=word`, completions and patterns in bodies.
        written_body=fields.TEXT(analyzer=analysis.written(), phrase=False),
        category=fields.KEYWORD(lowercase=True, commas=True),
        type=fields.KEYWORD(lowercase=True, commas=True),
        kind=fields.ID(),
        sources=fields.KEYWORD(),
        c_topic=fields.COLUMN(columns.VarBytesColumn()),
        c_provider=fields.COLUMN(columns.VarBytesColumn()),
        c_category=fields.COLUMN(columns.VarBytesColumn()),
        c_type=fields.COLUMN(columns.VarBytesColumn()),
        c_kind=fields.COLUMN(columns.VarBytesColumn()),
        c_date=fields.COLUMN(columns.NumericColumn("q", default=NO_DATE)),
        c_quality=fields.COLUMN(columns.NumericColumn("i", default=0)),
        # The id as a number in the id's order: ties are broken by it, whichever shard or
        # segment holds the record (a document number depends on both).
        c_idkey=fields.COLUMN(columns.NumericColumn("q", default=0)),
        # The record's MinHash signature, which groups copies of one story (index/stories.py).
        c_minhash=fields.COLUMN(columns.VarBytesColumn()),
        # When the record first entered the index (seconds): feeds list new matches by it.
        c_seen=fields.COLUMN(columns.NumericColumn("q", default=0)),
        seen=fields.STORED(),
        data=fields.STORED(),
        # Read back by incremental runs only: kept apart, compressed (engine/codec.KeptApart).
        drafts=KeptApart(),
        hash=fields.STORED(),
    )


# The facet columns, values as bytes: enumerated once per segment and kept beside it
# (engine/columns.py), by the indexer after each commit.
FACET_COLUMNS = ("c_topic", "c_provider", "c_category", "c_type", "c_kind")
# The fields whose words are completed and matched against patterns, as written: kept beside
# each segment too (engine/lexicon.py).
WORD_FIELDS = ("written", "source", "topic", "written_body")


def source_token(rel: str) -> str:
    """A seed path as one index term (paths may hold spaces or commas)."""
    return hashlib.sha1(rel.encode("utf-8")).hexdigest()[:16]


def id_key(record_id: str) -> int:
    """A signed 64-bit number ordered as the ids are. Ids are 16 hex digits (a SHA-1
    prefix), so this is exact; any other id gets a number from its hash."""
    try:
        value = int(record_id, 16) if len(record_id) == 16 else None
    except ValueError:
        value = None
    if value is None:
        value = int(hashlib.sha1(record_id.encode("utf-8")).hexdigest()[:16], 16)
    return value - 2**63


def key_id(key: int) -> str:
    """The id whose `id_key` this is (ids are 16 hex digits)."""
    return format(key + 2**63, "016x")
