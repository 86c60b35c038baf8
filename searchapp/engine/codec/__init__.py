"""Our own segment format inside Whoosh: postings, lengths, vectors, stored fields and
columns as flat little-endian arrays, memory-mapped and read with `numpy.frombuffer`.

`ArrayCodec` is a `whoosh.codec.base.Codec`: `ix.writer(codec=ArrayCodec())` (or a
`SegmentWriter` given it) writes a segment of these files, the table of contents records
the codec with the segment, and `whoosh.index.open_dir` reads it back through Whoosh's own
searcher, matchers, highlighter and more-like-this. Nothing on the reading side unpickles
or decompresses: the kernel's page cache is the only cache, shared by every process.

A segment is two files, `<segment id>.arrterms` and `<segment id>.arrdocs`, each a
container (layout.py): `SAARRAY1`, the parts one after another, each at a multiple of 64
bytes, a JSON directory (part -> offset, size; and the file's metadata), and a footer (the
directory's offset and size, `SAARRAY1`). One map per file, two descriptors per segment.
(n documents, p postings, t terms, b blocks of up to 128 postings of a term, v vector
postings, F fields with lengths.)

| file: part | what | layout |
|---|---|---|
| terms: (metadata) | each field's first and end row of terms, its value layout | JSON |
| terms: `terms` | one row per term, in (field, bytes) order | `layout.TERM` x t: start, size, df, weight, maxweight, min/max length byte, min/max id, first posting, first position, first block |
| terms: `tblob` | every term's bytes | bytes |
| terms: `docs` `weights` `counts` | the postings, term after term | `<u4`, `<f4`, `<u4` x p |
| terms: `positions` | each posting's positions, in posting order | `<u4` x sum(counts) |
| terms: `blocks` | per 128 postings of a term: max weight, min/max length byte | `layout.BLOCK_STATS` x b |
| docs: (metadata) | document count, fields with lengths, vector fields, columns, total lengths | JSON |
| docs: `lenbytes` | each document's field length as the byte Whoosh scores with | `u1` x (F, n) |
| docs: `lengths` | each document's field length, exact | `<u4` x (F, n) |
| docs: `vspans` | each document's vector postings [start, end) per vector field | `<u8` x (fields, n, 2) |
| docs: `vblob` `vends` | vector terms' bytes; the end of each | bytes; `<u8` x (v + 1) |
| docs: `vweights` `vcounts` `vposstart` `vpositions` | vector postings | `<f4`, `<u4`, `<u8` x v; `<u4` |
| docs: `stored` `storedends` | each document's stored fields as one JSON object | bytes; `<u8` x (n + 1) |
| docs: `apart` `apartends` | its KeptApart fields (no search reads them): one JSON object, zlib'd with the document's `stored` piece as the preset dictionary | bytes; `<u8` x (n + 1) |
| docs: `col_num_<field>` | a NumericColumn's values (its default where none) | its type, little-endian, x n |
| docs: `col_blob_<field>` `col_ends_<field>` | a VarBytesColumn's values | bytes; `<u8` x (n + 1) |
| `.col_<field>` (a file) | any other column type, in Whoosh's own layout for it | Whoosh's |

Deleted documents live in the segment object in the table of contents, as W3's do.
"""

from __future__ import annotations

from whoosh import fields
from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Segment

from . import layout
from .reading import ArrayMatcher, ArrayPerDocReader, ArrayTermsReader
from .writing import ArrayFieldWriter, ArrayPerDocWriter

__all__ = ["ArrayCodec", "ArraySegment", "ArrayMatcher", "ArrayPerDocReader",
           "ArrayTermsReader", "KeptApart", "layout", "searched_fields"]


class KeptApart(fields.STORED):
    """A stored field no search reads (the indexer's own bookkeeping): an array segment keeps
    it compressed apart from the fields a search reads (layout.apart_bytes), so that a
    search never inflates it and the index stays small. Other codecs store it as any."""

    kept_apart = True


def searched_fields(reader, docnum: int) -> dict:
    """The stored fields of a document (a global number of `reader`) that a search reads:
    from an array segment without the KeptApart ones, so nothing is inflated or unpickled."""
    for leaf, offset in reader.leaf_readers():
        if offset <= docnum < offset + leaf.doc_count_all():
            perdoc = getattr(leaf, "_perdoc", None)
            if isinstance(perdoc, ArrayPerDocReader):
                return perdoc.searched_fields(docnum - offset)
            return leaf.stored_fields(docnum - offset)
    raise IndexError(f"no document {docnum}")


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

    def files(self) -> list[str]:
        """The names of the segment's files: its two containers and a file of each column
        kept in Whoosh's own layout (what a check of the index expects to find)."""
        return [self.make_filename(L) for L in (layout.TERMS_FILE, layout.DOCS_FILE)] + \
            [self.make_filename(layout.column_file(name))
             for name in getattr(self, "whoosh_columns", ())]
