"""Writing an array segment: what Whoosh's per-document writer and field writer are handed,
kept in arrays and written out flat when the segment is closed.

Whoosh's writers hand values over encoded (a position list pickled, a count packed): they
are decoded once here, on the writing side, so that nothing on the reading side unpickles.
"""

from __future__ import annotations

from array import array
from collections import defaultdict

import numpy as np
from whoosh import columns
from whoosh.codec import base
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import layout as L

NO_ID = 0xFFFFFFFF


def _decoder(kind: str, fmt):
    """(vbytes) -> (count, positions or None) for a field's format."""
    if kind == L.POSITIONS_KIND:
        return lambda v: (None, fmt.decode_positions(v))
    if kind == L.FREQUENCY:
        return lambda v: (fmt.decode_frequency(v), None)
    return lambda v: (1, None)


# -- per-document values ---------------------------------------------------------------------

class _NumericColumn:
    """A NumericColumn's values as one little-endian array (the default where none given)."""

    def __init__(self, column: columns.NumericColumn):
        self.typecode, self.default = column._typecode, column._default
        self.values = array(self.typecode)

    def add(self, docnum: int, value) -> None:
        self.fill(docnum)
        self.values.append(value)

    def fill(self, docnum: int) -> None:
        if len(self.values) < docnum:
            self.values.extend([self.default] * (docnum - len(self.values)))

    def truncate(self, docnum: int) -> None:
        del self.values[docnum:]

    def save(self, out: L.ContainerWriter, fieldname: str, doccount: int) -> dict:
        self.fill(doccount)
        dtype = np.dtype(self.typecode).newbyteorder("<")
        out.add(L.column_part(fieldname, "num"), np.frombuffer(self.values, dtype=self.typecode),
                dtype)
        return {"kind": "numeric", "dtype": dtype.str, "default": self.default}


class _BytesColumn:
    """A VarBytesColumn's values as one blob and the ends of its pieces (b"" where none)."""

    def __init__(self):
        self.blob = bytearray()
        self.ends = array("Q", [0])

    def add(self, docnum: int, value: bytes) -> None:
        self.fill(docnum)
        self.blob += value
        self.ends.append(len(self.blob))

    def fill(self, docnum: int) -> None:
        if len(self.ends) - 1 < docnum:
            self.ends.extend([len(self.blob)] * (docnum - len(self.ends) + 1))

    def truncate(self, docnum: int) -> None:
        if len(self.ends) - 1 > docnum:
            del self.blob[self.ends[docnum]:]
            del self.ends[docnum + 1:]

    def save(self, out: L.ContainerWriter, fieldname: str, doccount: int) -> dict:
        self.fill(doccount)
        out.add(L.column_part(fieldname, "blob"), self.blob)
        out.add(L.column_part(fieldname, "ends"), np.frombuffer(self.ends, dtype=np.uint64),
                L.OFFSETS)
        return {"kind": "bytes"}


class _WhooshColumn:
    """Any other column type, in Whoosh's own layout for it, in a file of its own."""

    def __init__(self, storage, segment, fieldname: str, column):
        self._file = storage.create_file(segment.make_filename(L.column_file(fieldname)))
        self._writer = column.writer(self._file)

    def add(self, docnum: int, value) -> None:
        self._writer.add(docnum, value)

    def truncate(self, docnum: int) -> None:
        pass  # Whoosh's column writers cannot take a value back

    def save(self, out: L.ContainerWriter, fieldname: str, doccount: int) -> dict:
        self._writer.finish(doccount)
        self._file.close()
        return {"kind": "whoosh"}


def _column_writer(storage, segment, fieldname: str, column):
    if type(column) is columns.NumericColumn and column._typecode in "bBhHiIlLqQfd":
        return _NumericColumn(column)
    if type(column) is columns.VarBytesColumn:
        return _BytesColumn()
    return _WhooshColumn(storage, segment, fieldname, column)


class _Vectors:
    """The term vectors of every document: postings whose ids are the terms' bytes."""

    def __init__(self):
        self.spans: dict[str, array] = {}  # field -> (start, end) per document, flattened
        self.blob = bytearray()
        self.ends = array("Q", [0])
        self.weights = array("f")
        self.counts = array("I")
        self.positions = array("I")
        self.posstart = array("Q")

    def add(self, fieldname: str, docnum: int, items) -> None:
        spans = self.spans.setdefault(fieldname, array("Q"))
        if len(spans) < 2 * docnum:
            spans.extend([0] * (2 * docnum - len(spans)))
        start = len(self.weights)
        for text, weight, count, poslist in items:
            self.blob += text.encode("utf-8") if isinstance(text, str) else text
            self.ends.append(len(self.blob))
            self.weights.append(weight)
            self.posstart.append(len(self.positions))
            if poslist is not None:
                self.positions.extend(poslist)
                count = len(poslist)
            self.counts.append(count)
        spans.extend((start, len(self.weights)))

    def truncate(self, docnum: int, size: int) -> None:
        for spans in self.spans.values():
            del spans[2 * docnum:]
        if len(self.weights) > size:
            del self.blob[self.ends[size]:]
            del self.ends[size + 1:]
            del self.positions[self.posstart[size]:]
            for a in (self.weights, self.counts, self.posstart):
                del a[size:]

    def save(self, out: L.ContainerWriter, doccount: int) -> list[str]:
        names = sorted(self.spans)
        table = np.zeros((len(names), doccount, 2), dtype=np.uint64)
        for row, name in enumerate(names):
            spans = np.frombuffer(self.spans[name], dtype=np.uint64).reshape(-1, 2)
            table[row, :len(spans)] = spans
        out.add(L.V_SPANS, table, "<u8")
        out.add(L.V_BLOB, self.blob)
        out.add(L.V_ENDS, np.frombuffer(self.ends, np.uint64), L.OFFSETS)
        out.add(L.V_WEIGHTS, np.frombuffer(self.weights, np.float32), L.WEIGHTS)
        out.add(L.V_COUNTS, np.frombuffer(self.counts, np.uint32), L.COUNTS)
        out.add(L.V_POSITIONS, np.frombuffer(self.positions, np.uint32), L.POSITIONS)
        out.add(L.V_POSSTART, np.frombuffer(self.posstart, np.uint64), L.OFFSETS)
        return names


class ArrayPerDocWriter(base.PerDocWriterWithColumns):
    """Stored fields (JSON, one record a piece; KeptApart ones compressed apart), field lengths (a byte as Whoosh scores with,
    and the exact count), term vectors and columns, each as arrays."""

    def __init__(self, codec, storage, segment):
        self._codec, self._storage, self._segment = codec, storage, segment
        self._docnum = None
        self._doccount = 0
        self._indoc = False
        self.is_closed = False
        self._stored = bytearray()
        self._stored_ends = array("Q", [0])
        self._apart = bytearray()
        self._apart_ends = array("Q", [0])
        self._fields: dict = {}
        self._apart_fields: dict = {}
        self._length_bytes: dict[str, array] = {}
        self._exact: dict[str, array] = {}
        self._fieldlengths: dict[str, int] = defaultdict(int)
        self._doclengths: dict[str, int] = {}
        self._columns: dict = {}
        self._vectors = _Vectors()
        self._vector_size = 0

    # columns (PerDocWriterWithColumns)
    def _has_column(self, fieldname):
        return fieldname in self._columns

    def _create_column(self, fieldname, column):
        self._columns[fieldname] = _column_writer(self._storage, self._segment, fieldname, column)

    def _get_column(self, fieldname):
        return self._columns[fieldname]

    def start_doc(self, docnum):
        if self._indoc:
            raise Exception("Called start_doc when already in a doc")
        if docnum != self._doccount:
            raise Exception(f"Called start_doc({docnum!r}) was expecting {self._doccount!r}")
        self._docnum = docnum
        self._doccount += 1
        self._fields = {}
        self._apart_fields = {}
        self._doclengths = {}
        self._vector_size = len(self._vectors.weights)
        self._indoc = True

    def add_field(self, fieldname, fieldobj, value, length):
        if value is not None:
            kept = self._apart_fields if getattr(fieldobj, "kept_apart", False) else self._fields
            kept[fieldname] = value
        if length:
            for table, typecode, v in ((self._length_bytes, "B", length_to_byte(length)),
                                       (self._exact, "I", min(length, 0xFFFFFFFF))):
                a = table.setdefault(fieldname, array(typecode))
                if len(a) < self._docnum:
                    a.extend([0] * (self._docnum - len(a)))
                a.append(v)
            self._fieldlengths[fieldname] += length
            self._doclengths[fieldname] = length

    def add_vector_items(self, fieldname, fieldobj, items):
        decode = _decoder(L.format_kind(fieldobj.vector), fieldobj.vector)
        rows = []
        for text, weight, vbytes in items:
            count, poslist = decode(vbytes)
            rows.append((text, weight, count, poslist))
        if rows:
            self._vectors.add(fieldname, self._docnum, rows)

    def add_vector_matcher(self, fieldname, fieldobj, vmatcher):
        from .reading import ArrayMatcher

        if not isinstance(vmatcher, ArrayMatcher):
            return super().add_vector_matcher(fieldname, fieldobj, vmatcher)
        rows = []
        while vmatcher.is_active():  # our own vectors (a merge): no values encoded and decoded
            poslist = vmatcher.value_as("positions") if vmatcher._kind == L.POSITIONS_KIND else None
            rows.append((vmatcher.id(), vmatcher.weight(), vmatcher.count(), poslist))
            vmatcher.next()
        if rows:
            self._vectors.add(fieldname, self._docnum, rows)

    def finish_doc(self):
        try:
            piece = L.stored_bytes(self._fields) if self._fields else b""
            apart = L.apart_bytes(self._apart_fields, piece) if self._apart_fields else b""
        except TypeError:
            self.cancel_doc()  # the writer goes on without this document
            raise
        self._stored += piece
        self._stored_ends.append(len(self._stored))
        self._apart += apart
        self._apart_ends.append(len(self._apart))
        self._indoc = False

    def cancel_doc(self):
        docnum = self._docnum
        for table in (self._length_bytes, self._exact):
            for a in table.values():
                del a[docnum:]
        for name, length in self._doclengths.items():
            self._fieldlengths[name] -= length
        for col in self._columns.values():
            col.truncate(docnum)
        self._vectors.truncate(docnum, self._vector_size)
        self._doccount -= 1
        self._indoc = False

    def close(self):
        if self._indoc:
            self.finish_doc()
        storage, segment, n = self._storage, self._segment, self._doccount
        segment._fieldlengths = dict(self._fieldlengths)
        out = L.ContainerWriter(storage, segment.make_filename(L.DOCS_FILE))
        out.add(L.STORED, self._stored)
        out.add(L.STORED_ENDS, np.frombuffer(self._stored_ends, np.uint64), L.OFFSETS)
        out.add(L.APART, self._apart)
        out.add(L.APART_ENDS, np.frombuffer(self._apart_ends, np.uint64), L.OFFSETS)
        names = sorted(self._length_bytes)
        lbytes = np.zeros((len(names), n), dtype=np.uint8)
        exact = np.zeros((len(names), n), dtype=np.uint32)
        for row, name in enumerate(names):
            b = np.frombuffer(self._length_bytes[name], dtype=np.uint8)
            lbytes[row, :len(b)] = b
            e = np.frombuffer(self._exact[name], dtype=np.uint32)
            exact[row, :len(e)] = e
        out.add(L.LENGTH_BYTES, lbytes, "u1")
        out.add(L.EXACT_LENGTHS, exact, "<u4")
        vector_fields = self._vectors.save(out, n)
        cols = {name: col.save(out, name, n) for name, col in self._columns.items()}
        segment.whoosh_columns = sorted(name for name, info in cols.items()
                                        if info["kind"] == "whoosh")
        out.close({"version": L.VERSION, "doccount": n, "lengths": names,
                   "vectors": vector_fields, "columns": cols,
                   "fieldlengths": dict(self._fieldlengths)})
        self.is_closed = True


# -- postings ---------------------------------------------------------------------------------

# What each length byte stands for, ascending: `length_to_byte` is the first byte whose
# length is at least the length given (255 from 106,374 on), as in Whoosh.
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """`length_to_byte` of each length (0 for 0)."""
    return np.minimum(np.searchsorted(_LENGTH_OF_BYTE, lengths, side="left"), 255).astype(np.uint8)


def block_statistics(weights: np.ndarray, lengths: np.ndarray):
    """(per-block stats, total weight, max weight, min length byte, max length byte) of one
    term's postings, as W3's postings writer and term info add them up: each block's max
    weight (at least 0), shortest and longest non-zero field length."""
    n = len(weights)
    if not n:
        return np.zeros(0, dtype=L.BLOCK_STATS), 0.0, 0.0, 0, 0
    starts = np.arange(0, n, L.BLOCK)
    block_max = np.maximum(np.maximum.reduceat(weights, starts), 0.0)
    total = 0.0
    for block_sum in np.add.reduceat(weights, starts).tolist():
        total += block_sum
    present = lengths > 0
    big = np.iinfo(np.int64).max
    block_min_len = np.minimum.reduceat(np.where(present, lengths, big), starts)
    block_max_len = np.maximum.reduceat(np.where(present, lengths, 0), starts)
    stats = np.zeros(len(starts), dtype=L.BLOCK_STATS)
    stats["maxweight"] = block_max
    stats["minlen"] = np.where(block_min_len == big, 0, length_bytes(np.where(block_min_len == big, 0, block_min_len)))
    stats["maxlen"] = length_bytes(block_max_len)
    term_min = lengths[present].min() if present.any() else 0
    return (stats, total, float(block_max.max()), int(length_bytes(np.array([term_min]))[0]),
            int(length_bytes(np.array([block_max_len.max()]))[0]))


# -- the field writer --------------------------------------------------------------------------------

class _Stream:
    """An array written a term at a time, to a file of its own until the segment is closed."""

    def __init__(self, storage, name: str):
        self.name = name
        self._file = storage.create_file(name)
        self.size = 0

    def add(self, values: array) -> None:
        if len(values):
            self._file.write(values.tobytes())  # `array` is machine order: little-endian here
        self.size += len(values)

    def close(self) -> None:
        self._file.close()


class ArrayFieldWriter(base.FieldWriter):
    """Each term's postings appended to flat arrays (documents, weights, counts, positions,
    block statistics), and a row of the term table pointing into them."""

    def __init__(self, codec, storage, segment):
        import sys

        if sys.byteorder != "little":
            raise RuntimeError("the array codec writes little-endian machines' arrays")
        self._codec, self._storage, self._segment = codec, storage, segment
        f = segment.make_filename
        self._docs = _Stream(storage, f(".tmp_" + L.P_DOCS))
        self._weights = _Stream(storage, f(".tmp_" + L.P_WEIGHTS))
        self._counts = _Stream(storage, f(".tmp_" + L.P_COUNTS))
        self._positions = _Stream(storage, f(".tmp_" + L.P_POSITIONS))
        self._stats: list[tuple] = []  # one per block
        self._nblocks = 0
        self._rows: list[tuple] = []  # one per term
        self._tblob = bytearray()
        self._fields: dict[str, list] = {}
        self._fieldname = None
        self._btext = None
        self.is_closed = False

    def start_field(self, fieldname, fieldobj):
        self._fieldname = fieldname
        self._kind = L.format_kind(fieldobj.format)
        self._decode = _decoder(self._kind, fieldobj.format)
        self._fields[fieldname] = [len(self._rows), len(self._rows), self._kind]

    def start_term(self, btext):
        if self._fieldname is None:
            raise Exception("Called start_term before start_field")
        self._btext = btext
        self._ids = array("I")
        self._tweights = array("f")
        self._tcounts = array("I")
        self._tpositions = array("I")
        self._lengths: list = []
        self._length_arrays: list = []

    def add(self, docnum, weight, vbytes, length):
        count, poslist = self._decode(vbytes)
        if poslist is not None:
            self._tpositions.extend(poslist)
            count = len(poslist)
        self._ids.append(docnum)
        self._tweights.append(weight)
        self._tcounts.append(count)
        self._lengths.append(length or 0)

    def add_arrays(self, docs, weights, counts, positions, lengths) -> None:
        """A term's postings at once (document numbers ascending), for writers that have them
        as arrays: `positions` all of them in posting order, `lengths` each document's
        (quantised) field length."""
        self._ids.frombytes(np.ascontiguousarray(docs, dtype=np.uint32).tobytes())
        self._tweights.frombytes(np.ascontiguousarray(weights, dtype=np.float32).tobytes())
        self._tcounts.frombytes(np.ascontiguousarray(counts, dtype=np.uint32).tobytes())
        if positions is not None:
            self._tpositions.frombytes(np.ascontiguousarray(positions, dtype=np.uint32).tobytes())
        if self._lengths:
            self._length_arrays.append(np.asarray(self._lengths, dtype=np.int64))
            self._lengths = []
        self._length_arrays.append(np.asarray(lengths, dtype=np.int64))

    def finish_term(self):
        ids = self._ids
        n = len(ids)
        lengths = self._lengths
        if self._length_arrays:
            lengths = np.concatenate(self._length_arrays + [np.asarray(lengths, dtype=np.int64)])
        if n <= L.BLOCK:  # one block: most terms are rare, and plain Python is quicker here
            weights = self._tweights.tolist()
            lengths = lengths.tolist() if isinstance(lengths, np.ndarray) else lengths
            total = sum(weights)
            term_max = max(0.0, max(weights)) if weights else 0.0
            present = [x for x in lengths if x]
            minlen = length_to_byte(min(present)) if present else 0
            maxlen = length_to_byte(max(present)) if present else 0
            if n:
                self._stats.append((term_max, minlen, maxlen, 0))
        else:
            stats, total, term_max, minlen, maxlen = block_statistics(
                np.frombuffer(self._tweights, dtype=np.float32).astype(np.float64),
                np.asarray(lengths, dtype=np.int64))
            self._stats.extend(stats.tolist())
        self._rows.append((len(self._tblob), len(self._btext), n, total, term_max, minlen, maxlen,
                           0, ids[0] if n else NO_ID, ids[-1] if n else NO_ID,
                           self._docs.size, self._positions.size, self._nblocks))
        self._nblocks += (n + L.BLOCK - 1) // L.BLOCK
        self._tblob += self._btext
        self._docs.add(ids)
        self._weights.add(self._tweights)
        self._counts.add(self._tcounts)
        self._positions.add(self._tpositions)
        self._fields[self._fieldname][1] = len(self._rows)

    def finish_field(self):
        if self._fieldname is None:
            raise Exception("Called finish_field before start_field")
        self._fieldname = None

    def close(self):
        out = L.ContainerWriter(self._storage, self._segment.make_filename(L.TERMS_FILE))
        out.add(L.TERMS, np.array(self._rows, dtype=L.TERM).tobytes())
        out.add(L.TBLOB, self._tblob)
        out.add(L.P_BLOCKS, np.array(self._stats, dtype=L.BLOCK_STATS).tobytes())
        for part, stream in ((L.P_DOCS, self._docs), (L.P_WEIGHTS, self._weights),
                             (L.P_COUNTS, self._counts), (L.P_POSITIONS, self._positions)):
            stream.close()
            out.add_from(part, stream.name)
        out.close({"version": L.VERSION, "fields": self._fields})
        self.is_closed = True
