"""Our own segment format inside Whoosh: postings, lengths, vectors, stored fields and
columns as flat little-endian arrays, memory-mapped and read with `numpy.frombuffer`.

`ArrayCodec` is a `whoosh.codec.base.Codec`: `ix.writer(codec=ArrayCodec())` (or a
`SegmentWriter` given it) writes a segment of these files, the table of contents records
the codec with the segment, and `whoosh.index.open_dir` reads it back through Whoosh's own
searcher, matchers, highlighter and more-like-this. Nothing on the reading side unpickles
or decompresses: the kernel's page cache is the only cache, shared by every process.

Files of a segment (`<segment id><ext>`; n documents, p postings, t terms, b blocks):

| ext | what | layout |
|---|---|---|
| `.meta_terms` | fields: first and end row of each field's terms, its value layout | JSON |
| `.terms` | one row per term, by (field, bytes) | `layout.TERM` x t (start, size, df, weight, maxweight, min/max length byte, min/max id, first posting, first position, first block) |
| `.tblob` | every term's bytes | bytes |
| `.docs` `.weights` `.counts` | each term's postings, one term after another | `<u4`, `<f4`, `<u4` x p |
| `.positions` | each posting's positions, in posting order | `<u4` |
| `.blocks` | per 128 postings of a term: max weight, min/max length byte | `layout.BLOCK_STATS` x b |
| `.meta_docs` | document count, fields with lengths, vectors, columns, total lengths | JSON |
| `.lenbytes` | each document's field length as the byte Whoosh scores with | `u1` x (fields, n) |
| `.lengths` | each document's field length, exact | `<u4` x (fields, n) |
| `.vspans` | each document's vector postings per vector field | `<u8` x (fields, n, 2) |
| `.vblob` `.vends` | vector terms' bytes, and the end of each | bytes; `<u8` x (v + 1) |
| `.vweights` `.vcounts` `.vposstart` `.vpositions` | vector postings | `<f4`, `<u4`, `<u8`, `<u4` |
| `.stored` `.storedends` | each document's stored fields as a JSON object | bytes; `<u8` x (n + 1) |
| `.col_num_<field>` | a NumericColumn's values (its default where none) | its type, little-endian, x n |
| `.col_blob_<field>` `.col_ends_<field>` | a VarBytesColumn's values | bytes; `<u8` x (n + 1) |
| `.col_whoosh_<field>` | any other column type, in Whoosh's layout for it | Whoosh's |

Deleted documents live in the segment object in the table of contents, as W3's do.
"""

from __future__ import annotations

from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Segment

from . import layout
from .reading import ArrayMatcher, ArrayPerDocReader, ArrayTermsReader
from .writing import ArrayFieldWriter, ArrayPerDocWriter

__all__ = ["ArrayCodec", "ArraySegment", "ArrayMatcher", "ArrayPerDocReader",
           "ArrayTermsReader", "layout"]


class ArrayCodec(base.Codec):
    """Whoosh's codec interface over the array files above."""

    length_stats = True

    def per_document_writer(self, storage, segment):
        return ArrayPerDocWriter(self, storage, segment)

    def field_writer(self, storage, segment):
        return ArrayFieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        raise NotImplementedError("the array codec writes postings through its field writer")

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        raise NotImplementedError("the array codec reads postings through its terms reader")

    def terms_reader(self, storage, segment):
        return ArrayTermsReader(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return ArrayPerDocReader(storage, segment)

    def supports_columns(self):
        return True

    def new_segment(self, storage, indexname):
        return ArraySegment(self, indexname)


class ArraySegment(W3Segment):
    """A segment of array files: never assembled into one compound file, so each file is
    mapped on its own. Deletions and totals as W3's segments keep them."""

    def should_assemble(self):
        return False
