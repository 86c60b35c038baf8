"""Reading an array segment through Whoosh's reader interfaces: the terms reader and its
cursor, a matcher over a term's arrays, and the per-document reader (stored fields,
lengths, vectors, columns). Everything is a view of a memory-mapped file; nothing is
unpickled or decompressed.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np
from whoosh import columns
from whoosh.codec import base
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.reading import TermInfo, TermNotFound
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length

from . import layout as L

NO_ID = 0xFFFFFFFF


class MissingTerm(TermNotFound, KeyError):
    """A term the segment lacks: Whoosh's readers catch KeyError in some places and
    TermNotFound in others (W3 raises each where they are caught)."""


class _Terms:
    """The term table of a segment, searched by bisection within a field's rows."""

    def __init__(self, storage, segment):
        self.container = c = L.Container(storage, segment.make_filename(L.TERMS_FILE))
        self.fields: dict[str, tuple[int, int, str]] = {
            name: (lo, hi, kind) for name, (lo, hi, kind) in c.meta["fields"].items()}
        self.order = sorted(self.fields, key=lambda name: self.fields[name][0])
        self.rows = c.array(L.TERMS, L.TERM)
        self._start = self.rows["start"]
        self._size = self.rows["size"]
        self.blob = c.bytes(L.TBLOB)
        self.docs = c.array(L.P_DOCS, L.DOCS)
        self.weights = c.array(L.P_WEIGHTS, L.WEIGHTS)
        self.counts = c.array(L.P_COUNTS, L.COUNTS)
        self.positions = c.array(L.P_POSITIONS, L.POSITIONS)
        self.blocks = c.array(L.P_BLOCKS, L.BLOCK_STATS)

    def text(self, row: int) -> bytes:
        start = int(self._start[row])
        return bytes(self.blob[start:start + int(self._size[row])])

    def closest(self, fieldname: str, btext: bytes) -> int:
        """The first row of `fieldname` at or after `btext` (the field's end if none)."""
        lo, hi, _ = self.fields[fieldname]
        return bisect_left(range(lo, hi), btext, key=self.text) + lo

    def find(self, fieldname: str, btext: bytes) -> int:
        """The row of a term, or -1."""
        self.container.verify()
        if fieldname not in self.fields:
            return -1
        row = self.closest(fieldname, btext)
        return row if row < self.fields[fieldname][1] and self.text(row) == btext else -1

    def field_of(self, row: int) -> str:
        for name in self.order:
            lo, hi, _ = self.fields[name]
            if lo <= row < hi:
                return name
        raise IndexError(row)

    def info(self, row: int) -> TermInfo:
        # One conversion of the row to Python numbers (a NumPy scalar per field was most of
        # the time of walking a field's terms)
        _, _, df, weight, maxweight, minlen, maxlen, _, minid, maxid, _, _, _ = \
            self.rows[row].item()
        return TermInfo(weight=weight, df=df, minlength=byte_to_length(minlen),
                        maxlength=byte_to_length(maxlen), maxweight=maxweight,
                        minid=None if minid == NO_ID else minid,
                        maxid=None if maxid == NO_ID else maxid)

    def field_terms(self, fieldname: str) -> tuple[list[bytes], np.ndarray]:
        """Every term of a field (bytes, in order) and its document frequency, at once: a
        field's terms are one run of rows and one run of the term blob."""
        lo, hi, _ = self.fields.get(fieldname, (0, 0, None))
        if hi <= lo:
            return [], np.zeros(0, dtype=np.uint32)
        rows = self.rows[lo:hi]
        starts = rows["start"].astype(np.int64)
        ends = starts + rows["size"].astype(np.int64)
        first = int(starts[0])
        blob = bytes(self.blob[first:int(ends[-1])])
        return ([blob[a:b] for a, b in zip((starts - first).tolist(), (ends - first).tolist())],
                rows["df"].astype(np.uint32))

    def postings(self, row: int):
        """(docs, weights, counts, first position of each posting, block stats) of a term."""
        r = self.rows[row]
        a, n = int(r["post"]), int(r["df"])
        counts = self.counts[a:a + n]
        starts = np.empty(n, dtype=np.int64)
        if n:
            starts[0] = 0
            np.cumsum(counts[:-1], out=starts[1:])
        starts += int(r["pos"])
        b = int(r["block"])
        return (self.docs[a:a + n], self.weights[a:a + n], counts, starts,
                self.blocks[b:b + (n + L.BLOCK - 1) // L.BLOCK])


class ArrayCursor(base.FieldCursor):
    """A field's terms in order, as Whoosh's cursors walk them (`find` goes to the first term
    at or after the one given)."""

    def __init__(self, terms: _Terms, fieldname: str, fieldobj):
        self._terms, self._fieldobj = terms, fieldobj
        self._lo, self._hi, _ = terms.fields[fieldname]
        self._at = self._lo
        self._row = None
        self.next()

    def first(self):
        self._at = self._lo
        return self.next()

    def find(self, term):
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._at = bisect_left(range(self._lo, self._hi), term, key=self._terms.text) + self._lo
        return self.next()

    def next(self):
        if self._at is not None and self._at < self._hi:
            self._row = self._at
            self._at += 1
            self._text = self._fieldobj.from_bytes(self._terms.text(self._row))
            return self._text
        self._row = self._at = self._text = None
        return None

    def text(self):
        return self._text

    def term_info(self):
        return None if self._row is None else self._terms.info(self._row)

    def is_valid(self):
        return self._row is not None


class ArrayTermsReader(base.TermsReader):
    def __init__(self, codec, storage, segment):
        self._codec = codec
        self._t = _Terms(storage, segment)

    def _row(self, fieldname, btext) -> int:
        row = self._t.find(fieldname, btext)
        if row < 0:
            raise MissingTerm(f"No term {fieldname}:{btext!r}")
        return row

    def __contains__(self, term):
        return self._t.find(*term) >= 0

    def cursor(self, fieldname, fieldobj):
        self._t.container.verify()
        if fieldname not in self._t.fields:
            return base.EmptyCursor()
        return ArrayCursor(self._t, fieldname, fieldobj)

    def indexed_field_names(self):
        return list(self._t.order)

    def _rows_from(self, fieldname, prefix):
        """(fieldname, row) from the first term at or after (fieldname, prefix) to the end,
        over the later fields too, as W3's `keys_from` goes."""
        t = self._t
        if fieldname not in t.fields:
            return
        first = True
        for name in t.order[t.order.index(fieldname):]:
            lo, hi, _ = t.fields[name]
            start = t.closest(name, prefix) if first else lo
            first = False
            for row in range(start, hi):
                yield name, row

    def terms(self):
        t = self._t
        for name in t.order:
            lo, hi, _ = t.fields[name]
            for row in range(lo, hi):
                yield name, t.text(row)

    def terms_from(self, fieldname, prefix):
        return ((name, self._t.text(row)) for name, row in self._rows_from(fieldname, prefix))

    def items(self):
        t = self._t
        for name in t.order:
            lo, hi, _ = t.fields[name]
            for row in range(lo, hi):
                yield (name, t.text(row)), t.info(row)

    def items_from(self, fieldname, prefix):
        t = self._t
        return (((name, t.text(row)), t.info(row)) for name, row in self._rows_from(fieldname, prefix))

    def term_info(self, fieldname, text):
        return self._t.info(self._row(fieldname, text))

    def frequency(self, fieldname, text):
        return float(self._t.rows["weight"][self._row(fieldname, text)])

    def doc_frequency(self, fieldname, text):
        return int(self._t.rows["df"][self._row(fieldname, text)])

    def matcher(self, fieldname, text, format_, scorer=None):
        t = self._t
        row = self._row(fieldname, text)
        docs, weights, counts, starts, blocks = t.postings(row)
        return ArrayMatcher(docs, weights, counts, starts, t.positions, t.fields[fieldname][2],
                            format_, blocks=blocks, term=(fieldname, text), scorer=scorer,
                            terminfo=t.info(row))

    def has_positions(self, fieldname: str) -> bool:
        """Whether the segment keeps positions for a field (a field it lacks keeps none)."""
        found = self._t.fields.get(fieldname)
        return found is not None and found[2] == L.POSITIONS_KIND

    def field_terms(self, fieldname: str) -> tuple[list[bytes], np.ndarray]:
        """(every term of a field as bytes, in order; each one's document frequency)."""
        self._t.container.verify()
        return self._t.field_terms(fieldname)

    def postings_arrays(self, fieldname: str, btext: bytes):
        """(docs, weights, counts, first positions, positions) of a term as arrays, for
        readers that want them whole (None if the segment lacks the term)."""
        t = self._t
        row = t.find(fieldname, btext)
        if row < 0:
            return None
        docs, weights, counts, starts, _ = t.postings(row)
        return docs, weights, counts, starts, t.positions

    def close(self):
        self._t = self._t  # the maps close when the last array over them is let go of


class ArrayMatcher(LeafMatcher):
    """A posting list over arrays: ids (document numbers, or a vector's terms), weights,
    counts, and where each posting's positions start in a positions array."""

    def __init__(self, ids, weights, counts, starts, positions, kind, format_, blocks=None,
                 term=None, scorer=None, terminfo=None, at=0):
        self._ids_array, self._weights_array = ids, weights
        self._counts, self._starts, self._positions = counts, starts, positions
        self._kind, self.format, self._blocks = kind, format_, blocks
        self._term, self.scorer, self._terminfo = term, scorer, terminfo
        self._n = len(ids)
        self._i = at
        self._ids = ids if isinstance(ids, list) else None
        self._weights = None

    def _id_list(self):
        if self._ids is None:
            self._ids = self._ids_array.tolist()
        return self._ids

    def __repr__(self):
        return f"{self.__class__.__name__}({self._term!r}, {self._i}/{self._n})"

    def copy(self):
        m = ArrayMatcher(self._ids_array, self._weights_array, self._counts, self._starts,
                         self._positions, self._kind, self.format, self._blocks, self._term,
                         self.scorer, self._terminfo, self._i)
        m._ids, m._weights = self._ids, self._weights
        return m

    def is_active(self):
        return self._i < self._n

    def reset(self):
        self._i = 0

    def id(self):
        ids = self._id_list()
        # Past the end, the last id: Whoosh's AndNot asks an exhausted matcher for its id
        # (W3's matcher answers with a stale one of its last block).
        return ids[self._i] if self._i < self._n else ids[-1]

    def all_ids(self):
        ids = self._id_list()[self._i:]
        self._i = self._n
        return iter(ids)

    def next(self):
        if self._i >= self._n:
            raise ReadTooFar
        self._i += 1

    def skip_to(self, target):
        if not self.is_active():
            raise ReadTooFar
        ids = self._id_list()
        if target <= ids[self._i]:
            return
        self._i = bisect_left(ids, target, self._i)

    def weight(self):
        if self._weights is None:
            self._weights = self._weights_array.tolist()
        return self._weights[self._i]

    def count(self) -> int:
        return int(self._counts[self._i])

    def positions(self) -> list[int]:
        start = int(self._starts[self._i])
        return self._positions[start:start + int(self._counts[self._i])].tolist()

    def value(self):
        """The posting's value encoded as Whoosh's format encodes it (only for callers that
        ask for the raw bytes; `value_as` reads the arrays)."""
        if self._kind == L.POSITIONS_KIND:
            return self.format.encode(self.positions())
        if self._kind == L.FREQUENCY:
            return pack_uint(self.count())
        return b""

    def value_as(self, astype):
        if astype == "positions" and self._kind == L.POSITIONS_KIND:
            return self.positions()
        if astype == "frequency" and self._kind != L.EXISTENCE:
            return self.count()
        if astype == "weight":
            return self.weight()
        return self.format.decoder(astype)(self.value())

    def all_items(self):
        while self.is_active():
            yield self.id(), self.value()
            self.next()

    # -- block statistics, for Whoosh's skipping of blocks that cannot reach the top N ------

    def supports_block_quality(self):
        return self._blocks is not None and bool(self.scorer) and \
            self.scorer.supports_block_quality()

    def _block(self) -> int:
        return self._i // L.BLOCK

    def block_min_id(self):
        return self._id_list()[self._block() * L.BLOCK]

    def block_max_id(self):
        return self._id_list()[min(self._n, (self._block() + 1) * L.BLOCK) - 1]

    def block_max_weight(self):
        return float(self._blocks["maxweight"][self._block()])

    def block_min_length(self):
        return byte_to_length(int(self._blocks["minlen"][self._block()]))

    def block_max_length(self):
        return byte_to_length(int(self._blocks["maxlen"][self._block()]))

    def skip_to_quality(self, minquality):
        skipped = 0
        while self.is_active() and self.block_quality() <= minquality:
            self._i = (self._block() + 1) * L.BLOCK
            skipped += 1
        return skipped


# -- per-document values ---------------------------------------------------------------------

class ArrayColumnReader(columns.ColumnReader):
    """A numeric column's values (or a field's length bytes) as one array."""

    def __init__(self, values: np.ndarray, default=0):
        self._values, self._default = values, default
        self._doccount = len(values)
        self._reverse = False

    def __getitem__(self, docnum):
        return self._values[docnum].item()

    def sort_key(self, docnum):
        key = self[docnum]
        return 0 - key if self._reverse else key

    def __iter__(self):
        return iter(self._values.tolist())

    def load(self):
        return self._values.tolist()

    def set_reverse(self):
        self._reverse = True

    def array(self) -> np.ndarray:
        return self._values


class BytesColumnReader(columns.ColumnReader):
    """A bytes column: a blob cut by an array of ends."""

    reversible = False

    def __init__(self, blob, ends: np.ndarray):
        self._blob, self._ends = blob, ends
        self._doccount = len(ends) - 1

    def __getitem__(self, docnum):
        return bytes(self._blob[int(self._ends[docnum]):int(self._ends[docnum + 1])])

    def pieces(self):
        """(the blob, the ends of its pieces: n + 1 of them), for readers that want them whole."""
        return self._blob, self._ends

    def __iter__(self):
        blob, ends = bytes(self._blob), self._ends.tolist()
        return (blob[a:b] for a, b in zip(ends, ends[1:]))

    def set_reverse(self):
        raise NotImplementedError("a bytes column does not sort in reverse")


class ArrayPerDocReader(base.PerDocumentReader):
    def __init__(self, storage, segment):
        self._storage, self._segment = storage, segment
        self._c = c = L.Container(storage, segment.make_filename(L.DOCS_FILE))
        meta = c.meta
        self._doccount = segment.doc_count_all()
        self._columns = meta["columns"]
        self._length_row = {name: i for i, name in enumerate(meta["lengths"])}
        n = meta["doccount"]
        self._length_bytes = c.array(L.LENGTH_BYTES, "u1").reshape(-1, n) \
            if n else np.zeros((len(self._length_row), 0), np.uint8)
        self._exact = c.array(L.EXACT_LENGTHS, "<u4").reshape(-1, n) \
            if n else np.zeros((len(self._length_row), 0), np.uint32)
        self._stored = c.bytes(L.STORED)
        self._stored_ends = c.array(L.STORED_ENDS, L.OFFSETS)
        self._apart = c.bytes(L.APART) if L.APART in c.parts else None
        self._apart_ends = c.array(L.APART_ENDS, L.OFFSETS) if L.APART in c.parts else None
        self._vector_row = {name: i for i, name in enumerate(meta["vectors"])}
        self._vectors = None
        self._column_readers: dict = {}

    def close(self):
        pass  # the maps close when the last array over them is let go of

    def doc_count(self):
        return self._doccount - self._segment.deleted_count()

    def doc_count_all(self):
        return self._doccount

    def has_deletions(self):
        return self._segment.has_deletions()

    def is_deleted(self, docnum):
        return self._segment.is_deleted(docnum)

    def deleted_docs(self):
        return self._segment.deleted_docs()

    # columns

    def supports_columns(self):
        return True

    def has_column(self, fieldname):
        return fieldname in self._columns or _length_field(fieldname) in self._length_row

    def list_columns(self):
        return list(self._columns)

    def column_reader(self, fieldname, column):
        self._c.verify()
        lengthfield = _length_field(fieldname)
        if fieldname not in self._columns and lengthfield in self._length_row:
            return ArrayColumnReader(self.length_bytes(lengthfield))
        info = self._columns[fieldname]
        kind, c = info["kind"], self._c
        if kind == "numeric":
            return ArrayColumnReader(c.array(L.column_part(fieldname, "num"), info["dtype"]),
                                     info["default"])
        if kind == "bytes":
            return BytesColumnReader(c.bytes(L.column_part(fieldname, "blob")),
                                     c.array(L.column_part(fieldname, "ends"), L.OFFSETS))
        name = self._segment.make_filename(L.column_file(fieldname))
        return column.reader(self._storage.open_file(name), 0,
                             self._storage.file_length(name), self._doccount)

    # lengths

    def length_bytes(self, fieldname: str) -> np.ndarray | None:
        """Each document's length byte for a field (what Whoosh scores with), or None."""
        self._c.verify()
        row = self._length_row.get(fieldname)
        return None if row is None else self._length_bytes[row]

    def exact_lengths(self, fieldname: str) -> np.ndarray | None:
        """Each document's length in a field, exactly (up to 2**32 - 1), or None."""
        row = self._length_row.get(fieldname)
        return None if row is None else self._exact[row]

    def doc_field_length(self, docnum, fieldname, default=0):
        row = self._length_row.get(fieldname)
        if row is None:
            return default
        b = int(self._length_bytes[row, docnum])
        return byte_to_length(b) if b else default

    def doc_field_length_reader(self, fieldname, default=0):
        self._c.verify()
        row = self._length_row.get(fieldname)
        if row is None:
            return lambda docnum: default
        lengths = self._length_bytes[row]
        return lambda docnum: byte_to_length(int(lengths[docnum])) if lengths[docnum] else default

    def field_length(self, fieldname):
        return self._segment._fieldlengths.get(fieldname, 0)

    def min_field_length(self, fieldname):
        row = self._length_row.get(fieldname)
        return 0 if row is None or not self._doccount else \
            byte_to_length(int(self._length_bytes[row].min()))

    def max_field_length(self, fieldname):
        row = self._length_row.get(fieldname)
        return 0 if row is None or not self._doccount else \
            byte_to_length(int(self._length_bytes[row].max()))

    # vectors

    def _vector_arrays(self):
        if self._vectors is None:
            c, n = self._c, len(self._vector_row)
            spans = c.array(L.V_SPANS, "<u8")
            self._vectors = (
                spans.reshape(n, self._doccount, 2) if n and self._doccount else spans,
                c.bytes(L.V_BLOB), c.array(L.V_ENDS, L.OFFSETS),
                c.array(L.V_WEIGHTS, L.WEIGHTS), c.array(L.V_COUNTS, L.COUNTS),
                c.array(L.V_POSITIONS, L.POSITIONS), c.array(L.V_POSSTART, L.OFFSETS))
        return self._vectors

    def _vector_span(self, docnum, fieldname):
        self._c.verify()
        row = self._vector_row.get(fieldname)
        if row is None:
            return 0, 0
        spans = self._vector_arrays()[0]
        a, b = spans[row, docnum].tolist()
        return a, b

    def has_vector(self, docnum, fieldname):
        a, b = self._vector_span(docnum, fieldname)
        return b > a

    def vector_terms(self, docnum: int, fieldname: str) -> list[bytes]:
        """The terms of a document's vector in a field, as bytes, in order."""
        a, b = self._vector_span(docnum, fieldname)
        blob, ends = self._vector_arrays()[1:3]
        cut = ends[a:b + 1].tolist()
        data = bytes(blob[cut[0]:cut[-1]]) if b > a else b""
        base_ = cut[0]
        return [data[x - base_:y - base_] for x, y in zip(cut, cut[1:])]

    def vector(self, docnum, fieldname, format_):
        a, b = self._vector_span(docnum, fieldname)
        if b <= a:
            raise Exception(f"Field {fieldname!r} has no vector in docnum {docnum}")
        _, _, _, weights, counts, positions, posstart = self._vector_arrays()
        texts = [t.decode("utf-8") for t in self.vector_terms(docnum, fieldname)]
        return ArrayMatcher(texts, weights[a:b], counts[a:b], posstart[a:b], positions,
                            L.format_kind(format_), format_)

    # stored fields

    def stored_fields(self, docnum):
        """Every stored field of a document, those kept apart too (inflated: Whoosh's API
        and the indexer ask for these; a search asks for `searched_fields`)."""
        self._c.verify()
        a, b = self._stored_ends[docnum:docnum + 2].tolist()
        piece = bytes(self._stored[a:b])
        fields = L.stored_fields(piece) if b > a else {}
        if self._apart is not None:
            x, y = self._apart_ends[docnum:docnum + 2].tolist()
            if y > x:
                fields.update(L.apart_fields(bytes(self._apart[x:y]), piece))
        return fields

    def searched_fields(self, docnum) -> dict:
        """A document's stored fields but those kept apart: one JSON object, nothing
        inflated."""
        self._c.verify()
        a, b = self._stored_ends[docnum:docnum + 2].tolist()
        return L.stored_fields(bytes(self._stored[a:b])) if b > a else {}


def _length_field(name: str) -> str | None:
    """The field of a W3 length column's name (`_title_len` -> `title`), else None."""
    if name.startswith("_") and name.endswith("_len"):
        return name[1:-4]
    return None
