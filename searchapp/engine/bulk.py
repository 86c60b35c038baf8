"""Writing a whole new segment at once: postings gathered in arrays, sorted, and handed to
Whoosh's codec term by term, a block at a time.

Whoosh's own writer pushes every posting through its pool as a tuple, pickles them to
sorted runs on disk, merges the runs through `heapq`, and then looks up each posting's field
length again; with its analysers, that was ~70% of a full build. Here a document is cut
into words once (by the plain functions the caller gives for the fields it knows, or by the
field's own `index` otherwise), each posting is four numbers appended to arrays, and a
sorted run is written as blocks of up to 128 postings through the codec's postings writer.
What comes out is the segment Whoosh would have written from the same documents (a test
compares every term, posting, statistic, stored field, column and vector).

Memory is bounded by `run_postings`: when a run holds that many postings it is sorted and
spilled to a file beside the index, and the runs are merged term by term at commit. The
documents of a later run all come after those of an earlier one, so a term's postings are
its postings from each run, one after another.
"""

from __future__ import annotations

import heapq
import itertools
import shutil
import tempfile
from array import array
from pathlib import Path
from typing import Callable

import numpy as np
from whoosh import formats
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import NO_MERGE

from .codec import ArrayCodec, layout
from .shards import KeepingWriter

Cut = Callable[[str], list[tuple[str, int]]]

# Postings in memory before a run is spilled: ~30 bytes each with their values and terms,
# twice that while a run is sorted (at 4M, ~250 MB at the peak; a shard of 500k news
# records has ~30M postings, so 8 runs).
RUN_POSTINGS = 4_000_000
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)
_CHUNK = 1 << 20  # items read from a spilled run at a time


class BulkWriter(KeepingWriter):
    """A writer for a new segment only: `add_document`, then `commit`. It merges nothing
    and deletes nothing (a full build's shards start empty)."""

    def __init__(self, ix, cuts: dict[str, Cut], run_postings: int = RUN_POSTINGS, **kwargs):
        super().__init__(ix, **kwargs)
        self._cuts = cuts
        self._run_postings = run_postings
        indexed = sorted(name for name, field in self.schema.items() if field.indexed)
        if len(indexed) > 255:
            raise ValueError("more indexed fields than a one-byte field number holds")
        self._fields = indexed
        self._number = {name: bytes([i]) for i, name in enumerate(indexed)}
        # One length byte per document for each scored field, as the per-document writer
        # stores it: the codec's block statistics are of these, not of the exact lengths.
        self._lengths = {name: array("B") for name in indexed if self.schema[name].scorable}
        self._run = _Run()
        self._spilled: list[_SpilledRun] = []
        self._spill_dir: Path | None = None
        # Our array codec takes a term's postings as arrays: a Positions value is then kept
        # as its positions (little-endian u4), not pickled to be unpickled again at commit.
        self._arrays = isinstance(self.codec, ArrayCodec)

    def add_reader(self, reader):
        raise NotImplementedError("the bulk writer writes new documents only")

    def delete_document(self, docnum, delete=True):
        raise NotImplementedError("the bulk writer writes new documents only")

    def add_document(self, **fields):
        self._check_state()
        schema = self.schema
        pdw = self.perdocwriter
        docnum = self.docnum
        names = sorted(name for name in fields if not name.startswith("_"))
        if len(names) != len(fields):
            raise ValueError("the bulk writer takes no boosts or alternative stored values")
        self._check_fields(schema, names)
        run = self._run  # its arrays, appended to for each posting (a method call each was slow)
        terms, values = run.terms, run.values
        add_term, add_doc = run.term.append, run.doc.append
        add_weight, add_value_end = run.weight.append, run.value_end.append
        pdw.start_doc(docnum)
        try:
            lengths = dict.fromkeys(self._lengths, 0)
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    cut = self._cuts.get(name)
                    if cut is not None and isinstance(value, str):
                        words = cut(value)
                        items = _word_values(field.format, words, raw=self._arrays)
                    else:
                        words = None
                        items = field.index(value)
                        if self._arrays:
                            items = _raw_values(field.format, items)
                    number = self._number[name]
                    for tbytes, freq, weight, vbytes in items:
                        length += freq
                        key = number + tbytes
                        term = terms.get(key)
                        if term is None:
                            term = terms[key] = len(terms)
                        add_term(term)
                        add_doc(docnum)
                        add_weight(weight)
                        if vbytes:
                            values += vbytes
                        add_value_end(len(values))
                    if not field.scorable:
                        length = 0
                    if field.vector:
                        if words is None:
                            vitems = field.vector.word_values(value, field.analyzer, mode="index")
                        else:
                            vitems = _word_values(field.vector, words, encode_words=False)
                        pdw.add_vector_items(name, field, sorted(
                            (text, weight, vbytes) for text, _, weight, vbytes in vitems))
                    if name in lengths:
                        lengths[name] = length
                pdw.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        for name, length in lengths.items():
            self._lengths[name].append(length_to_byte(length) if length else 0)
        self._added = True
        self.docnum += 1
        if len(run) >= self._run_postings:
            self._spill()

    def commit(self, mergetype=None, optimize=None, merge=None):
        super().commit(mergetype=NO_MERGE)

    def cancel(self):
        try:
            super().cancel()
        finally:
            self._remove_spills()

    def _spill(self) -> None:
        if self._spill_dir is None:
            self._spill_dir = Path(tempfile.mkdtemp(prefix=".bulk-", dir=self.storage.folder))
        path = self._spill_dir / f"run-{len(self._spilled)}"
        self._spilled.append(self._run.sort().save(path))
        self._run = _Run()

    def _remove_spills(self) -> None:
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._spill_dir = None

    def _flush_segment(self):
        """The postings of every run, term by term in order, through the codec."""
        self.perdocwriter.close()
        try:
            runs = [*self._spilled, self._run.sort()]
            self._run = _Run()
            self._write_postings(runs)
        finally:
            self._remove_spills()
        self.fieldwriter.close()

    def _write_postings(self, runs) -> None:
        if self._arrays:
            return self._write_arrays(runs)
        fw = self.fieldwriter
        lengths = {name: _BYTE_TO_LENGTH[np.frombuffer(a, dtype=np.uint8)]
                   for name, a in self._lengths.items()}
        current = None
        blocklimit = self.codec._blocklimit
        for key, group in _merged(runs):
            number = key[0]
            if number != current:
                if current is not None:
                    fw.finish_field()
                current = number
                name = self._fields[number]
                fw.start_field(name, self.schema[name])
                field_lengths = lengths.get(name)
            docs, weights, values = _gather(group)
            fw.start_term(key[1:])
            _add_postings(fw._postwriter, docs, weights, values,
                          None if field_lengths is None else field_lengths[docs], blocklimit)
            fw.finish_term()
        if current is not None:
            fw.finish_field()


    def _write_arrays(self, runs) -> None:
        """The postings of every run through the array codec's field writer, a term's
        postings at once as arrays."""
        fw = self.fieldwriter
        lengths = {name: _BYTE_TO_LENGTH[np.frombuffer(a, dtype=np.uint8)]
                   for name, a in self._lengths.items()}
        current = None
        for key, group in _merged(runs):
            number = key[0]
            if number != current:
                if current is not None:
                    fw.finish_field()
                current = number
                name = self._fields[number]
                field = self.schema[name]
                fw.start_field(name, field)
                kind = layout.format_kind(field.format)
                field_lengths = lengths.get(name)
            docs, weights, values = _gather(group)
            blob = b"".join(values)
            positions = None
            if kind == layout.POSITIONS_KIND:
                counts = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) // 4
                positions = np.frombuffer(blob, dtype="<u4")
            elif kind == layout.FREQUENCY:
                counts = np.frombuffer(blob, dtype=">u4")  # Whoosh's pack_uint
            else:
                counts = np.ones(len(docs), dtype=np.uint32)
            fw.start_term(key[1:])
            fw.add_arrays(docs, weights, counts, positions,
                          np.zeros(len(docs), np.int64) if field_lengths is None else field_lengths[docs])
            fw.finish_term()
        if current is not None:
            fw.finish_field()


def _raw_values(fmt, items):
    """Whoosh's (text, freq, weight, value) items with a Positions value as raw positions."""
    if type(fmt) is not formats.Positions:
        return items
    return [(text, freq, weight, np.asarray(fmt.decode_positions(v), dtype="<u4").tobytes())
            for text, freq, weight, v in items]


def _word_values(fmt, words: list[tuple[str, int]], encode_words: bool = True,
                 raw: bool = False):
    """What `fmt.word_values` gives for these words, for the formats our fields use
    (Positions, Frequency, Existence; each word's boost is 1); `raw`: a Positions value as
    the positions themselves (little-endian u4), for the array codec."""
    kind = type(fmt)  # exactly: a subclass (Characters, PositionBoosts) encodes otherwise
    positions: dict[str, list[int]] = {}
    for word, pos in words:
        found = positions.get(word)
        if found is None:
            positions[word] = [pos]
        else:
            found.append(pos)
    boost = fmt.field_boost
    out = []
    for word, poslist in positions.items():
        text = word.encode("utf-8") if encode_words else word
        count = len(poslist)
        if kind is formats.Positions:
            value = array("I", poslist).tobytes() if raw else fmt.encode(poslist)
            out.append((text, count, float(count) * boost, value))
        elif kind is formats.Frequency:
            out.append((text, count, float(count) * boost, pack_uint(count)))
        elif kind is formats.Existence:
            out.append((text, 1, boost, b""))
        else:
            raise TypeError(f"no bulk path for the {kind.__name__} format")
    return out


def _add_postings(pw, docs, weights, values, lengths, blocklimit: int) -> None:
    """One term's postings as the codec's postings writer buffers them, a block at a time
    (the last block is written by `finish_postings`, as after `add_posting`)."""
    count = len(docs)
    for start in range(0, count, blocklimit):
        end = min(start + blocklimit, count)
        if start:
            pw._write_block()
        ids = array("I")
        ids.frombytes(docs[start:end].astype(np.uint32).tobytes())
        block_weights = array("f")
        block_weights.frombytes(weights[start:end].astype(np.float32).tobytes())
        pw._ids = ids
        pw._weights = block_weights
        pw._values = [v for v in values[start:end] if v]
        pw._maxweight = max(0.0, max(block_weights))
        if lengths is None:
            pw._minlength, pw._maxlength = None, 0
        else:
            block = lengths[start:end]
            nonzero = block[block > 0]
            pw._minlength = int(nonzero.min()) if len(nonzero) else None
            pw._maxlength = int(block.max())


# -- runs ------------------------------------------------------------------------------------

class _Run:
    """Postings in the order documents were added: a term number, a document number, a
    weight and a value (bytes) each."""

    def __init__(self):
        self.terms: dict[bytes, int] = {}
        self.term = array("I")
        self.doc = array("I")
        self.weight = array("f")
        self.value_end = array("Q")
        self.values = bytearray()

    def __len__(self) -> int:
        return len(self.doc)

    def sort(self) -> "_SortedRun":
        keys = sorted(self.terms)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[np.fromiter((self.terms[k] for k in keys), dtype=np.int64, count=len(keys))] = \
            np.arange(len(keys))
        ranks = rank[np.frombuffer(self.term, dtype=np.uint32)]
        order = np.argsort(ranks, kind="stable")  # documents stay in order within a term
        counts = np.bincount(ranks, minlength=len(keys))
        ends = np.frombuffer(self.value_end, dtype=np.uint64).astype(np.int64)
        starts = np.empty_like(ends)
        starts[:1] = 0
        starts[1:] = ends[:-1]
        blob = bytes(self.values)
        self.values = bytearray()
        return _SortedRun(keys, counts,
                          np.frombuffer(self.doc, dtype=np.uint32)[order],
                          np.frombuffer(self.weight, dtype=np.float32)[order],
                          starts[order], ends[order], blob)


class _SortedRun:
    """A run in term order, in memory."""

    def __init__(self, keys, counts, docs, weights, starts, ends, blob):
        self.keys, self.counts = keys, counts
        self.docs, self.weights = docs, weights
        self.starts, self.ends, self.blob = starts, ends, blob
        self._at = 0

    def take(self, count: int):
        a, b = self._at, self._at + count
        self._at = b
        blob = self.blob
        values = [blob[s:e] for s, e in zip(self.starts[a:b].tolist(), self.ends[a:b].tolist())]
        return self.docs[a:b], self.weights[a:b], values

    def save(self, path: Path) -> "_SpilledRun":
        path.mkdir()
        self.docs.astype(np.uint32).tofile(path / "docs")
        self.weights.astype(np.float32).tofile(path / "weights")
        (self.ends - self.starts).astype(np.uint32).tofile(path / "lengths")
        with open(path / "values", "wb") as f:
            blob = self.blob
            step = 1 << 16
            starts, ends = self.starts, self.ends
            for i in range(0, len(starts), step):
                f.write(b"".join([blob[s:e] for s, e in zip(starts[i:i + step].tolist(),
                                                            ends[i:i + step].tolist())]))
        return _SpilledRun(path, self.keys, self.counts)


class _SpilledRun:
    """A sorted run on disk, read front to back a chunk at a time (reading it whole, or
    mapped, would count its size against the process's memory again)."""

    def __init__(self, path: Path, keys, counts):
        self.keys, self.counts = keys, counts
        self._docs = _Stream(path / "docs", np.uint32)
        self._weights = _Stream(path / "weights", np.float32)
        self._lengths = _Stream(path / "lengths", np.uint32)
        self._values = open(path / "values", "rb")

    def take(self, count: int):
        lengths = self._lengths.take(count)
        blob = self._values.read(int(lengths.sum()))
        ends = np.cumsum(lengths).tolist()
        values = [blob[s:e] for s, e in zip([0, *ends[:-1]], ends)]
        return self._docs.take(count), self._weights.take(count), values


class _Stream:
    def __init__(self, path: Path, dtype):
        self._file = open(path, "rb")
        self._dtype = np.dtype(dtype)
        self._buffer = np.empty(0, dtype=dtype)
        self._at = 0

    def take(self, count: int) -> np.ndarray:
        if self._at + count > len(self._buffer):
            rest = self._buffer[self._at:]
            more = np.frombuffer(self._file.read(max(count, _CHUNK) * self._dtype.itemsize),
                                 dtype=self._dtype)
            self._buffer = np.concatenate([rest, more])
            self._at = 0
        out = self._buffer[self._at:self._at + count]
        self._at += count
        return out


def _merged(runs):
    """(key, [(run, count), ...]) for every key of any run, in key order."""
    streams = [zip(run.keys, itertools.repeat(index), run.counts.tolist())
               for index, run in enumerate(runs)]
    current, group = None, []
    for key, index, count in heapq.merge(*streams):
        if key != current:
            if group:
                yield current, group
            current, group = key, []
        group.append((runs[index], count))
    if group:
        yield current, group


def _gather(group):
    if len(group) == 1:
        run, count = group[0]
        return run.take(count)
    parts = [run.take(count) for run, count in group]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            [v for p in parts for v in p[2]])
