"""The array codec (engine/codec) through Whoosh's public API only: a segment written by
`writer(codec=ArrayCodec())` reopened by `open_dir`, searched by Whoosh's own searcher with
every query type, highlighted, more-like-this'd, sorted and faceted, merged, updated and
deleted from, and holding what the W3 codec holds for the same documents."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from whoosh import columns, fields, highlight, index, qparser, query as wq, sorting
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import RamStorage

from searchapp.engine.codec import ArrayCodec, ArrayMatcher, ArraySegment
from searchapp.engine.codec import layout

WORDS = ("police camera council privacy vote court data school budget drone hospital ban "
         "report market energy facial recognition city street law").split()


def schema() -> fields.Schema:
    s = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=True, phrase=True, sortable=True),
        body=fields.TEXT(vector=True, phrase=False),
        quote=fields.TEXT(phrase=True, vector=True),
        tags=fields.KEYWORD(lowercase=True, commas=True, scorable=True),
        kind=fields.ID(),
        n=fields.NUMERIC(stored=True, sortable=True),
        price=fields.NUMERIC(float, sortable=True),
        when=fields.DATETIME(stored=True, sortable=True),
        c_bytes=fields.COLUMN(columns.VarBytesColumn()),
        c_ref=fields.COLUMN(columns.RefBytesColumn()),
        c_num=fields.COLUMN(columns.NumericColumn("q", default=-7)),
        note=fields.STORED(),
    )
    return s


def doc(n: int) -> dict:
    w = WORDS
    title = " ".join(w[(n * k) % len(w)] for k in (1, 3, 7)) + f" item{n}"
    body = " ".join(w[(n + k * k) % len(w)] for k in range(n % 9 + 1))
    d = dict(id=f"d{n:04d}", title=title, body=body,
             quote=f"{w[n % 20]} {w[(n + 1) % 20]} and {w[(n + 2) % 20]}",
             tags=",".join({w[n % 5], w[(n * 3) % 7]}), kind=("a", "b", "c")[n % 3],
             n=n, price=n * 1.25, when=dt.datetime(2020, 1 + n % 12, 1 + n % 28),
             c_bytes=f"v{n % 4}".encode(), c_ref=f"r{n % 3}".encode(),
             note=f"note {n} é")
    if n % 5 == 0:
        d["c_num"] = n * 10
    if n % 11 == 0:
        del d["body"]  # a document without the field: no length, no vector
    return d


def build(folder, codec, batches, deletes=(), optimize=False):
    """An index of several commits (segments), then deletions, then perhaps a merge."""
    folder.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(folder), schema())
    for batch in batches:
        w = ix.writer(codec=codec())
        for n in batch:
            w.add_document(**doc(n))
        w.commit(merge=False)
    if deletes:
        w = ix.writer(codec=codec())
        for n in deletes:
            w.delete_by_term("id", f"d{n:04d}")
        w.commit(merge=False)
    if optimize:
        w = ix.writer(codec=codec())
        w.commit(optimize=True)
    return index.open_dir(str(folder))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(W3 index, array index) of the same documents, written the same way."""
    base = tmp_path_factory.mktemp("codec")
    batches = [range(0, 140), range(140, 300), range(300, 310)]
    deletes = (3, 150, 151, 305)
    w3 = build(base / "w3", W3Codec, batches, deletes)
    arrays = build(base / "arrays", ArrayCodec, batches, deletes)
    yield w3, arrays


def test_segments_are_written_by_our_codec_and_reopened_by_open_dir(pair):
    _, ix = pair
    segments = ix._segments()
    assert len(segments) == 3 and all(isinstance(s, ArraySegment) for s in segments)
    assert all(isinstance(s.codec(), ArrayCodec) for s in segments)
    files = ix.storage.list()
    assert not any(f.endswith(".seg") for f in files)  # flat files, never a compound one
    for segment in segments:  # two files each (a third only for a column type of Whoosh's own)
        own = sorted(f[len(segment.segment_id()):] for f in files
                     if f.startswith(segment.segment_id() + "."))
        assert own == sorted([layout.DOCS_FILE, layout.TERMS_FILE, ".col_c_ref"])
    with ix.searcher() as s:
        assert s.doc_count() == 310 - 4 and s.doc_count_all() == 310


def test_nothing_is_unpickled_while_searching(pair, monkeypatch):
    """Once a searcher is open (the table of contents, Whoosh's own, is a pickle), searching,
    reading stored fields and more-like-this unpickle nothing."""
    _, ix = pair
    parser = qparser.QueryParser("title", ix.schema)
    qs = [parser.parse(t) for t in ("police", '"facial recognition"', "pol*", "c?urt", "tags:data")]
    with ix.searcher() as s:
        def refuse(*args, **kwargs):
            raise AssertionError("unpickled on a search path")
        import whoosh.formats
        monkeypatch.setattr(pickle, "loads", refuse)
        monkeypatch.setattr(whoosh.formats, "loads", refuse)
        for q in qs:
            assert s.search(q, limit=None, terms=True) is not None
        assert s.stored_fields(5)["id"] == "d0005"
        assert list(s.more_like(5, "body"))


def every_query(schema_) -> list[wq.Query]:
    qs = [wq.Term("title", "police"), wq.Term("body", "camera"), wq.Term("tags", "data"),
          wq.Term("kind", "b"), wq.Phrase("title", ["police", "data"]),
          wq.Phrase("quote", ["privacy", "vote"]), wq.Phrase("quote", ["vote", "court"], slop=3),
          wq.Prefix("title", "po"), wq.Prefix("body", "c"), wq.Wildcard("title", "*o*"),
          wq.Wildcard("body", "c?urt"), wq.FuzzyTerm("title", "polise"),
          wq.FuzzyTerm("body", "hospitl", maxdist=2), wq.TermRange("title", "court", "energy"),
          wq.NumericRange("n", 20, 80), wq.NumericRange("price", 10.0, 30.5),
          wq.DateRange("when", dt.datetime(2020, 3, 1), dt.datetime(2020, 6, 1)),
          wq.And([wq.Term("title", "police"), wq.Term("body", "data")]),
          wq.Or([wq.Term("title", "police"), wq.Term("body", "drone"), wq.Term("quote", "ban")]),
          wq.AndNot(wq.Term("body", "data"), wq.Term("title", "school")),
          wq.Not(wq.Term("title", "police")), wq.Every(), wq.Every("body"),
          wq.Term("title", "nosuchword"), wq.Term("nosuchfield", "x")]
    parser = qparser.MultifieldParser(["title", "body", "quote"], schema_)
    parser.add_plugin(qparser.FuzzyTermPlugin())
    parser.add_plugin(qparser.GtLtPlugin())
    for text in ("police camera", "police OR drone -court", 'title:"facial recognition"~2', "pol*",
                 "*ital", "hospitl~2", "title:[c TO f]", "n:>250", "when:[20200301 TO 20200601]",
                 "tags:(data OR vote) AND NOT kind:a", "c*rt street"):
        qs.append(parser.parse(text))
    return qs


def answers(ix, q, **kwargs):
    with ix.searcher() as s:
        r = s.search(q, limit=None, **kwargs)
        return [(hit["id"], hit.score) for hit in r], len(r)


def assert_same_answers(w3, ix, q, **kwargs):
    """The same ids in the same order, the same count, scores within 1e-6."""
    want, got = answers(w3, q, **kwargs), answers(ix, q, **kwargs)
    assert [i for i, _ in got[0]] == [i for i, _ in want[0]], q
    assert got[1] == want[1]
    for (_, a), (_, b) in zip(got[0], want[0]):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-9), q


@pytest.mark.parametrize("number", range(len(every_query(schema()))))
def test_every_query_type_answers_as_on_w3(pair, number):
    w3, ix = pair
    assert_same_answers(w3, ix, every_query(ix.schema)[number])


def test_top_n_skipping_blocks_finds_the_same_top_ten(pair):
    """Whoosh's top-N collector skips blocks by their quality: our block statistics must
    never skip a document that belongs in the top."""
    w3, ix = pair
    for q in (wq.Or([wq.Term("body", w) for w in WORDS[:8]]), wq.Term("title", "police")):
        with w3.searcher() as a, ix.searcher() as b:
            want = [(h["id"], h.score) for h in a.search(q, limit=10)]
            got = [(h["id"], h.score) for h in b.search(q, limit=10)]
        assert [i for i, _ in got] == [i for i, _ in want]


def test_sorting_and_facets_answer_as_on_w3(pair):
    w3, ix = pair
    q = wq.Term("body", "data")
    for kwargs in ({"sortedby": "n", "reverse": True}, {"sortedby": "when"},
                   {"sortedby": "price"}, {"sortedby": "title"},
                   {"sortedby": [sorting.FieldFacet("c_num"), sorting.FieldFacet("n")]}):
        assert answers(ix, q, **kwargs) == answers(w3, q, **kwargs), kwargs
    facets = {"kind": sorting.FieldFacet("kind"), "n": sorting.FieldFacet("n"),
              "bytes": sorting.FieldFacet("c_bytes"), "ref": sorting.FieldFacet("c_ref"),
              "num": sorting.FieldFacet("c_num")}
    for name, facet in facets.items():
        with w3.searcher() as a, ix.searcher() as b:
            want = a.search(wq.Every(), groupedby=facet).groups()
            got = b.search(wq.Every(), groupedby=facet).groups()
        assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}, name


def test_highlights_are_the_same(pair):
    w3, ix = pair
    parser = qparser.QueryParser("title", ix.schema)
    for text in ("police", "pol*", '"camera privacy"', "c?urt OR market"):
        q = parser.parse(text)
        out = []
        for each in (w3, ix):
            with each.searcher() as s:
                r = s.search(q, limit=None, terms=True)
                r.formatter = highlight.UppercaseFormatter()
                out.append([(h["id"], h.highlights("title"), sorted(h.matched_terms())) for h in r])
        assert out[1] == out[0] and any(hl for _, hl, _ in out[1]), text


def test_more_like_this_and_key_terms_are_the_same(pair):
    w3, ix = pair
    for docnum in (1, 7, 200):
        out = []
        for each in (w3, ix):
            with each.searcher() as s:
                hits = s.more_like(docnum, "body", top=8)
                out.append(([h["id"] for h in hits], [round(h.score, 6) for h in hits],
                            s.key_terms([docnum], "body", numterms=5)))
        assert out[1] == out[0]
        assert out[1][0]


def test_what_the_reader_holds_is_what_w3_holds(pair):
    """Every term with its statistics and postings, every stored field, length, vector and
    column value: the two codecs hold the same index."""
    w3, ix = pair
    with w3.reader() as a, ix.reader() as b:
        assert list(a.all_terms()) == list(b.all_terms())
        assert a.doc_count() == b.doc_count()
        for field, text in a.all_terms():
            x, y = a.term_info(field, text), b.term_info(field, text)
            assert (y.weight(), y.doc_frequency(), y.min_length(), y.max_length(),
                    y.max_weight(), y.min_id(), y.max_id()) == \
                   (x.weight(), x.doc_frequency(), x.min_length(), x.max_length(),
                    x.max_weight(), x.min_id(), x.max_id()), (field, text)
            fmt = a.schema[field].format
            ma, mb = a.postings(field, text), b.postings(field, text)
            kinds = [k for k in ("positions", "frequency") if fmt.supports(k)]
            assert [(i, w, [v for v in vs]) for i, w, vs in _walk(mb, kinds)] == \
                   [(i, w, [v for v in vs]) for i, w, vs in _walk(ma, kinds)], (field, text)
        for name in ("title", "body", "quote", "tags"):
            assert a.field_length(name) == b.field_length(name)
            assert a.max_field_length(name) == b.max_field_length(name)
        for d in range(a.doc_count_all()):
            assert a.stored_fields(d) == b.stored_fields(d)
            for name in ("title", "body", "quote", "tags"):
                assert a.doc_field_length(d, name) == b.doc_field_length(d, name) or \
                    not a.doc_field_length(d, name)
            for name in ("body", "quote"):
                assert a.has_vector(d, name) == b.has_vector(d, name)
                if a.has_vector(d, name):
                    assert list(a.vector_as("weight", d, name)) == list(b.vector_as("weight", d, name))
        for name in ("n", "when", "title", "c_bytes", "c_ref", "c_num", "price"):
            assert list(a.column_reader(name)) == list(b.column_reader(name)), name


def _walk(m, kinds):
    while m.is_active():
        yield m.id(), m.weight(), [m.value_as(k) for k in kinds]
        m.next()


def test_a_merge_of_array_segments_holds_the_same(tmp_path):
    """`optimize` reads our segments back through the codec and writes one of them."""
    batches = [range(0, 60), range(60, 130)]
    a = build(tmp_path / "w3", W3Codec, batches, deletes=(5, 70), optimize=True)
    b = build(tmp_path / "arrays", ArrayCodec, batches, deletes=(5, 70), optimize=True)
    assert len(b._segments()) == 1 and isinstance(b._segments()[0], ArraySegment)
    for q in every_query(b.schema):
        assert_same_answers(a, b, q)
    with a.reader() as ra, b.reader() as rb:
        assert [ra.stored_fields(d) for d in range(ra.doc_count_all())] == \
               [rb.stored_fields(d) for d in range(rb.doc_count_all())]
        assert list(ra.vector_as("weight", 3, "body")) == list(rb.vector_as("weight", 3, "body"))
    # files of the merged-away segments are gone (Whoosh deletes `<segment id>.*`)
    live = {s.segment_id() for s in b._segments()}
    segment_files = [n for n in b.storage.list() if re.match(r"MAIN_[0-9a-z]+\.", n)]
    assert segment_files and all(n.split(".")[0] in live for n in segment_files)


def test_update_document_replaces_the_record(tmp_path):
    ix = index.create_in(str(tmp_path), schema())
    with ix.writer(codec=ArrayCodec()) as w:
        for n in range(20):
            w.add_document(**doc(n))
    w = ix.writer(codec=ArrayCodec())
    changed = doc(4) | {"title": "entirely different words"}
    w.update_document(**changed)
    w.commit(merge=False)
    with ix.searcher() as s:
        assert [h["id"] for h in s.search(wq.Term("title", "entirely"))] == ["d0004"]
        assert s.document(id="d0004")["title"] == "entirely different words"
        assert s.doc_count() == 20


def test_a_storage_without_files_works_too():
    ix = RamStorage().create_index(schema())
    with ix.writer(codec=ArrayCodec()) as w:
        for n in range(30):
            w.add_document(**doc(n))
    with ix.searcher() as s:
        assert len(s.search(wq.Term("title", "police"), limit=None)) > 0
        assert s.stored_fields(3)["note"] == "note 3 é"


def test_a_value_that_json_cannot_hold_is_refused_with_the_reason(tmp_path):
    s = fields.Schema(id=fields.ID(stored=True), blob=fields.STORED())
    ix = index.create_in(str(tmp_path), s)
    w = ix.writer(codec=ArrayCodec())
    with pytest.raises(TypeError, match="JSON"):
        w.add_document(id="x", blob={1, 2})
    w.add_document(id="y", blob=[1, 2])
    w.commit()
    with ix.searcher() as s:
        assert [s.stored_fields(d) for d in range(s.doc_count_all())] == [{"id": "y", "blob": [1, 2]}]


def test_a_format_without_an_array_layout_is_refused_by_name(tmp_path):
    s = fields.Schema(t=fields.TEXT(chars=True))
    ix = index.create_in(str(tmp_path), s)
    w = ix.writer(codec=ArrayCodec())
    w.add_document(t="hello there")
    with pytest.raises(TypeError, match="Characters"):
        w.commit()


def test_posting_arrays_are_views_of_the_mapped_files(pair):
    _, ix = pair
    with ix.reader() as r:
        leaf, _ = r.leaf_readers()[0]
        docs, weights, counts, starts, positions = leaf._terms.postings_arrays("title", b"privacy")
        assert docs.dtype == np.dtype("<u4") and not docs.flags.owndata
        m = leaf.postings("title", b"privacy")  # deleted documents filtered by Whoosh
        assert isinstance(m.child, ArrayMatcher)
        assert list(m.all_ids()) == [d for d in docs.tolist() if not leaf.is_deleted(d)]
        assert 3 in docs.tolist() and leaf.is_deleted(3)


# -- random documents and queries ------------------------------------------------------------

VOCAB = WORDS[:10]
texts = st.lists(st.sampled_from(VOCAB), min_size=0, max_size=12).map(" ".join)
records = st.lists(st.tuples(texts, texts, st.integers(0, 50)), min_size=1, max_size=40)
leaf_queries = st.one_of(
    st.builds(wq.Term, st.sampled_from(["title", "body"]), st.sampled_from(VOCAB)),
    st.builds(lambda a, b, s: wq.Phrase("title", [a, b], slop=s),
              st.sampled_from(VOCAB), st.sampled_from(VOCAB), st.integers(1, 3)),
    st.builds(wq.Prefix, st.sampled_from(["title", "body"]), st.sampled_from(["c", "p", "da", "b"])),
    st.builds(lambda a: wq.NumericRange("n", a, a + 15), st.integers(0, 50)))
queries = st.recursive(leaf_queries, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3).map(wq.And),
    st.lists(inner, min_size=1, max_size=3).map(wq.Or),
    st.builds(wq.AndNot, inner, inner)), max_leaves=5)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records, st.lists(queries, min_size=1, max_size=5), st.integers(0, 3))
def test_random_corpora_answer_as_on_w3(tmp_path_factory, rows, qs, split):
    base = tmp_path_factory.mktemp("random")
    s = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT(phrase=True),
                      body=fields.TEXT(phrase=False, vector=True), n=fields.NUMERIC(sortable=True))
    out = []
    for name, codec in (("w3", W3Codec), ("arrays", ArrayCodec)):
        (base / name).mkdir()
        ix = index.create_in(str(base / name), s)
        cut = len(rows) * split // 4
        for part in (rows[:cut], rows[cut:]):
            if part:
                with ix.writer(codec=codec()) as w:
                    w.merge = False
                    for i, (title, body, n) in enumerate(part, start=0 if part is rows[:cut] else cut):
                        w.add_document(id=str(i), title=title, body=body, n=n)
        with ix.searcher() as searcher:
            out.append([_search(searcher, q) for q in qs])
    for q, want, got in zip(qs, *out):
        if want is None:
            continue  # Whoosh's AndNot failed on W3 (asks an exhausted matcher for its id)
        assert [i for i, _ in got] == [i for i, _ in want], q
        assert [x for _, x in got] == pytest.approx([x for _, x in want], rel=1e-6), q


def _search(searcher, q):
    try:
        return [(h["id"], h.score) for h in searcher.search(q, limit=None)]
    except IndexError:
        return None


def test_a_file_truncated_under_an_open_searcher_fails_the_search_not_the_process(tmp_path):
    """Reading a map past its file's new end is SIGBUS: the readers check the file's size
    first and raise the engine's Shrunk (an OSError), which the server answers with 503.
    Run in a child process, so a SIGBUS could not take pytest down with it."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from whoosh import index, query as wq
        from searchapp.engine.codec import ArrayCodec, layout
        from searchapp.engine.zerocopy import Shrunk
        from test_codec import doc, schema
        ix = index.create_in({str(tmp_path)!r}, schema())
        with ix.writer(codec=ArrayCodec()) as w:
            for n in range(300):
                w.add_document(**doc(n))
        for ext in (layout.TERMS_FILE, layout.DOCS_FILE):
            s = ix.searcher()
            assert s.search(wq.Term("title", "police"))
            (name,) = [n for n in os.listdir({str(tmp_path)!r}) if n.endswith(ext)]
            path = os.path.join({str(tmp_path)!r}, name)
            data = open(path, "rb").read()
            os.truncate(path, len(data) // 3)
            try:
                r = s.search(wq.Term("title", "privacy"), limit=None)
                [h.fields() for h in r]
                print(ext, "answered")
            except Shrunk as e:
                print(ext, "shrunk:", e)
            open(path, "wb").write(data)
            s.close()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=str(Path(__file__).resolve().parent.parent), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"{layout.TERMS_FILE} shrunk", f"{layout.DOCS_FILE} shrunk"], done.stdout
    assert "the file shrank after it was opened" in lines[0]


def test_w3_segments_merged_into_an_array_segment_answer_as_before(tmp_path):
    """An index of W3 segments that an array-codec writer adds to, deletes from and merges
    (an old index taken over by the new writer): one array segment, answering as the same
    steps with W3 throughout do."""
    out = {}
    for name, codec in (("w3", W3Codec), ("mixed", ArrayCodec)):
        ix = build(tmp_path / name, W3Codec, [range(0, 80), range(80, 150)])
        w = ix.writer(codec=codec())
        for n in range(150, 170):
            w.add_document(**doc(n))
        for n in (7, 90):
            w.delete_by_term("id", f"d{n:04d}")
        w.commit(optimize=True)
        out[name] = index.open_dir(str(tmp_path / name))
    assert [type(s) for s in out["mixed"]._segments()] == [ArraySegment]
    for q in every_query(out["mixed"].schema):
        assert_same_answers(out["w3"], out["mixed"], q)
    with out["w3"].reader() as a, out["mixed"].reader() as b:
        assert a.doc_count_all() == b.doc_count_all() == 168
        assert [a.stored_fields(d) for d in range(168)] == [b.stored_fields(d) for d in range(168)]


def test_a_field_kept_apart_is_stored_compressed_and_read_by_no_search(tmp_path):
    """A KeptApart field (the indexer's drafts) comes back with the other stored fields
    through Whoosh's API and after a merge, costs a fraction of its JSON when it repeats the
    other fields, and `searched_fields` (what a search reads) leaves it out, inflating nothing."""
    import zlib

    from searchapp.engine.codec import KeptApart, searched_fields

    kept = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT(), data=fields.STORED(),
                         drafts=KeptApart())
    ix = index.create_in(str(tmp_path), kept)
    records = [json.dumps({"title": f"record {n} " + "words of the text " * 40, "n": n})
               for n in range(30)]
    for batch in (range(0, 15), range(15, 30)):
        with ix.writer(codec=ArrayCodec()) as w:
            for n in batch:
                w.add_document(id=f"d{n:04d}", title=f"record {n}", data=records[n],
                               drafts=json.dumps([{"source": f"{n}.txt", "record": records[n]}]))
    ix.writer(codec=ArrayCodec()).commit(optimize=True)  # merged: the drafts read back and kept apart again
    (segment,) = ix._segments()
    with ix.searcher() as s:
        for n in range(30):
            docnum = s.document_number(id=f"d{n:04d}")
            whole = s.stored_fields(docnum)
            assert json.loads(whole["drafts"])[0]["record"] == whole["data"] == records[n]
            inflated = []
            original = zlib.decompressobj

            def counted(*args, **kwargs):
                inflated.append(1)
                return original(*args, **kwargs)
            zlib.decompressobj = counted
            try:
                searched = searched_fields(s.reader(), docnum)
            finally:
                zlib.decompressobj = original
            assert searched == {"id": f"d{n:04d}", "data": records[n]} and not inflated
        perdoc = s.reader().leaf_readers()[0][0]._perdoc if hasattr(s.reader(), "leaf_readers") \
            else s.reader()._perdoc
        apart = perdoc._c.parts[layout.APART][1]
    drafts_json = sum(len(json.dumps([{"source": f"{n}.txt", "record": r}])) for n, r in enumerate(records))
    assert apart < drafts_json / 10, (apart, drafts_json)
