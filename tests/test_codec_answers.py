"""The answers test of the array codec: the same records indexed with Whoosh's W3 codec and
with ours (engine/codec) give the same ids in the same order, scores within 1e-6, the same
facet counts, highlights and phrase matches; through Whoosh's own searcher and through our
array scorer, for the bench's search mix over real news records and for random corpora.

Both indexes are written by Whoosh's own SegmentWriter (three commits, then deletions), so
they hold the same documents under the same numbers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from whoosh import highlight, index, query as wq, sorting
from whoosh.codec.whoosh3 import W3Codec

from searchapp.engine import segments
from searchapp.engine.cache import PostingCache
from searchapp.engine.codec import ArrayCodec, ArraySegment
from searchapp.engine.scoring import ArrayScorer
from searchapp.index import writing
from searchapp.index.schema import FACET_COLUMNS, build_schema
from searchapp.search.query.language import parse_user_query

from conftest import ROOT, SEEDS, whoosh_documents, write_generated




def write_index(folder: Path, codec, docs: list[dict], deletes: int = 0):
    """`docs` in three commits (three segments), then every `deletes`-th record deleted."""
    folder.mkdir(parents=True)
    ix = index.create_in(str(folder), build_schema())
    cuts = [0, len(docs) // 2, len(docs) * 5 // 6, len(docs)]
    for a, b in zip(cuts, cuts[1:]):
        w = ix.writer(codec=codec())
        for d in docs[a:b]:
            w.add_document(**d)
        w.commit(merge=False)
    if deletes:
        w = ix.writer(codec=codec())
        for d in docs[::deletes]:
            w.delete_by_term("id", d["id"])
        w.commit(merge=False)
    return index.open_dir(str(folder))


class Side:
    """One index with a Whoosh searcher and our array scorer over it."""

    def __init__(self, ix):
        self.ix = ix
        self.searcher = ix.searcher()
        leaves = segments.leaves(self.searcher)
        alive = segments.alive(leaves, self.searcher.reader().doc_count_all())
        self.scorer = ArrayScorer(self.searcher, leaves, alive, PostingCache())
        self.ids = [self.searcher.stored_fields(d).get("id")
                    for d in range(self.searcher.doc_count_all())]

    def whoosh(self, q, **kwargs):
        r = self.searcher.search(q, limit=None, **kwargs)
        return [(h["id"], h.score) for h in r]

    def arrays(self, q):
        found = self.scorer.run(q)
        order = np.lexsort((found.docs, -found.scores))
        return [(self.ids[d], s) for d, s in zip(found.docs[order].tolist(),
                                                 found.scores[order].tolist())]

    def close(self):
        self.searcher.close()


def assert_same(want, got, q):
    assert [i for i, _ in got] == [i for i, _ in want], q
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-6, abs=1e-9), q


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    base = tmp_path_factory.mktemp("answers")
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    generate.write_seeds(base / "seeds" / "bench", 1500)
    write_generated(base / "seeds" / "generated", 200)
    docs = whoosh_documents(SEEDS, base / "seeds")
    w3 = Side(write_index(base / "w3", W3Codec, docs, deletes=37))
    arrays = Side(write_index(base / "arrays", ArrayCodec, docs, deletes=37))
    assert all(isinstance(s, ArraySegment) for s in arrays.ix._segments())
    yield w3, arrays
    w3.close()
    arrays.close()


def mix() -> list[tuple[str, str, bool]]:
    """(label, query, typing) of bench/run.py's search mix, plus phrases and field syntax."""
    sys.path.insert(0, str(ROOT / "bench"))
    import generate
    import user_mix

    out = [(label, text, label == "typed a letter at a time") for label, text, _ in user_mix.cases()]
    rows = generate.corpus()[0]
    for title, _ in rows[:400:40]:  # phrases of real titles: the records with these words in order
        words = [w for w in title.split() if w.isalpha()][:3]
        if len(words) >= 2:
            out.append(("phrase", '"' + " ".join(words) + '"', False))
    out += [("syntax", q, False) for q in (
        'police -court', 'title:police', 'topic:privacy OR topic:ai', '"police camera"~3',
        'source:reuters', 'excerpt:market*', '=banned', 'oil AND (price OR prices)',
        'NOT market', 'kind:article', 'category:business', 'e-mail', "o'brien")]
    return out


MIX = mix()


@pytest.mark.parametrize("label,text,typing", MIX, ids=[f"{n}-{c[0]}" for n, c in enumerate(MIX)])
def test_the_search_mix_answers_alike(sides, label, text, typing):
    w3, arrays = sides
    q = parse_user_query(text, "all", typing=typing).query
    if q is None or q is wq.NullQuery:
        return
    assert_same(w3.whoosh(q), arrays.whoosh(q), text)
    assert_same(w3.arrays(q), arrays.arrays(q), text)


def test_the_mix_finds_things(sides):
    """The mix is not vacuous: most of its searches match records."""
    w3, _ = sides
    found = 0
    for _, text, typing in MIX:
        q = parse_user_query(text, "all", typing=typing).query
        found += bool(q is not None and q is not wq.NullQuery and w3.whoosh(q))
    assert found >= len(MIX) * 0.6


@pytest.mark.parametrize("column", FACET_COLUMNS)
def test_facet_counts_are_the_same(sides, column):
    w3, arrays = sides
    for text in ("oil", "police OR market", "*ing", None):
        q = wq.Every() if text is None else parse_user_query(text).query
        counts = []
        for side in (w3, arrays):
            groups = side.searcher.search(q, limit=None, groupedby=sorting.FieldFacet(column)).groups()
            counts.append({k: len(v) for k, v in groups.items()})
        assert counts[1] == counts[0] and counts[0], (column, text)


def test_newest_first_is_the_same(sides):
    w3, arrays = sides
    for text in ("oil", "police OR market"):
        q = parse_user_query(text).query
        want = w3.searcher.search(q, limit=50, sortedby=sorting.FieldFacet("c_date", reverse=True))
        got = arrays.searcher.search(q, limit=50, sortedby=sorting.FieldFacet("c_date", reverse=True))
        assert [h["id"] for h in got] == [h["id"] for h in want] and len(want)


def highlights(side, q) -> list[tuple[str, str, str]]:
    r = side.searcher.search(q, limit=15, terms=True)
    r.formatter = highlight.UppercaseFormatter()
    out = []
    for hit in r:
        record = json.loads(hit["data"])
        out.append((hit["id"], hit.highlights("title", text=record.get("title", "")),
                    hit.highlights("excerpt", text=record.get("excerpt", ""))))
    return out


def test_highlights_are_the_same(sides):
    w3, arrays = sides
    marked = 0
    for label, text, typing in MIX[::3]:
        q = parse_user_query(text, "all", typing=typing).query
        if q is None or q is wq.NullQuery:
            continue
        want = highlights(w3, q)
        assert highlights(arrays, q) == want, text
        marked += sum(1 for _, a, b in want if a or b)
    assert marked > 20


def test_phrase_matches_are_the_same(sides):
    """Which records hold a phrase, and where: the phrase's spans in every matching record,
    segment by segment."""
    w3, arrays = sides
    matched = 0
    for label, text, _ in MIX:
        q = parse_user_query(text).query
        if q is None or q is wq.NullQuery:
            continue
        phrases = [leaf for leaf in q.leaves() if isinstance(leaf, wq.Phrase)]
        spans = []
        for side in (w3, arrays):
            found = {}
            for phrase in phrases:
                for sub, offset in side.searcher.leaf_searchers():
                    m = phrase.matcher(sub)
                    while m.is_active():
                        found.setdefault((phrase.fieldname, side.ids[offset + m.id()]), []).append(
                            [(x.start, x.end) for x in m.spans()])
                        m.next()
            spans.append(found)
        assert spans[1] == spans[0], text
        matched += len(spans[0])
    assert matched > 20


# -- random corpora --------------------------------------------------------------------------

VOCAB = ["police", "policing", "camera", "cameras", "council", "privacy", "vote", "voted",
         "court", "data", "drone", "ban", "banned", "market", "energy", "café", "naïve", "ai",
         "facial", "recognition", "the", "of"]
texts = st.lists(st.sampled_from(VOCAB), min_size=0, max_size=14).map(" ".join)
providers = st.sampled_from(["Reuters", "BBC News", "Le Monde", "The Guardian"])
random_records = st.lists(st.tuples(texts, texts, providers, st.sampled_from(["AI", "Privacy", "Policing"]),
                                    st.integers(0, 10**9)), min_size=1, max_size=30)
words = st.sampled_from([w for w in VOCAB if w not in ("the", "of")])
user_queries = st.one_of(
    words, st.tuples(words, words).map(" ".join), st.tuples(words, words).map(lambda p: f'"{p[0]} {p[1]}"'),
    st.tuples(words, words).map(lambda p: f"{p[0]} OR {p[1]}"),
    st.tuples(words, words).map(lambda p: f"{p[0]} -{p[1]}"),
    words.map(lambda w: w[:3] + "*"), words.map(lambda w: "*" + w[-3:]), words.map(lambda w: w + "~"),
    words.map(lambda w: f"title:{w}"), providers.map(lambda p: f'source:"{p}"'))


def random_document(n: int, row) -> dict:
    title, excerpt, provider, topic, date = row
    return {"id": f"{n:016x}", "title": title, "excerpt": excerpt, "written": f"{title} {excerpt}",
            "source": provider, "topic": topic, "kind": "article", "category": "news",
            "c_provider": provider.encode(), "c_topic": topic.encode(), "c_kind": b"article",
            "c_date": date, "c_idkey": n, "data": json.dumps({"title": title})}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(random_records, st.lists(user_queries, min_size=1, max_size=6))
def test_random_corpora_answer_alike(tmp_path_factory, rows, texts_):
    base = tmp_path_factory.mktemp("random")
    docs = [random_document(n, row) for n, row in enumerate(rows)]
    w3 = Side(write_index(base / "w3", W3Codec, docs, deletes=7))
    arrays = Side(write_index(base / "arrays", ArrayCodec, docs, deletes=7))
    try:
        for text in texts_:
            q = parse_user_query(text).query
            if q is None or q is wq.NullQuery:
                continue
            assert_same(w3.whoosh(q), arrays.whoosh(q), text)
            assert_same(w3.arrays(q), arrays.arrays(q), text)
            facet = sorting.FieldFacet("c_provider")
            assert w3.searcher.search(q, groupedby=facet).groups() == \
                arrays.searcher.search(q, groupedby=facet).groups()
    finally:
        w3.close()
        arrays.close()


def test_the_array_scorer_reads_array_segments_as_arrays(sides):
    """On array segments the scorer's postings, positions, lengths and vectors are read from
    the arrays (engine/postings.py), never a posting at a time through Whoosh's matchers."""
    from searchapp.engine import postings as post

    _, arrays = sides
    before = post.PATHS.copy()
    fresh = Side(arrays.ix)
    try:
        for text in ('"police camera"', "police OR market", "oil prices", 'title:"stock market"'):
            fresh.arrays(parse_user_query(text).query)
        for docnum in range(0, fresh.searcher.doc_count_all(), 97):
            fresh.scorer.vector_terms(docnum, "written")
    finally:
        fresh.close()
    taken = post.PATHS - before
    assert taken["postings: arrays"] and taken["positions: arrays"] and taken["lengths: arrays"]
    assert taken["vectors: arrays"]
    assert not any(taken[k] for k in taken if k.endswith("one at a time") or k.endswith("blocks"))


def test_vector_terms_are_the_same(sides):
    w3, arrays = sides
    compared = 0
    for docnum in range(0, w3.searcher.doc_count_all(), 53):
        mine = arrays.scorer.vector_terms(docnum, "written").tolist()
        assert mine == w3.scorer.vector_terms(docnum, "written").tolist()
        compared += bool(mine)
    assert compared > 10


# -- the bulk writer (a full build's) writing the array codec ----------------------------------

def assert_same_index(ra, rb):
    """Every term with its statistics, postings and positions; every stored field, length,
    vector and column value."""
    assert list(ra.all_terms()) == list(rb.all_terms())
    for field, text in ra.all_terms():
        x, y = ra.term_info(field, text), rb.term_info(field, text)
        assert (y.weight(), y.doc_frequency(), y.min_length(), y.max_length(), y.max_weight(),
                y.min_id(), y.max_id()) == (x.weight(), x.doc_frequency(), x.min_length(),
                                            x.max_length(), x.max_weight(), x.min_id(),
                                            x.max_id()), (field, text)
        kinds = [k for k in ("positions", "frequency") if ra.schema[field].format.supports(k)]
        walks = []
        for r in (ra, rb):
            m, out = r.postings(field, text), []
            while m.is_active():
                out.append((m.id(), m.weight(), [m.value_as(k) for k in kinds]))
                m.next()
            walks.append(out)
        assert walks[1] == walks[0], (field, text)
    scored = [n for n, f in ra.schema.items() if f.scorable]
    for d in range(ra.doc_count_all()):
        assert rb.stored_fields(d) == ra.stored_fields(d)
        for name in scored:
            assert (rb.doc_field_length(d, name) or 0) == (ra.doc_field_length(d, name) or 0)
        assert rb.has_vector(d, "written") == ra.has_vector(d, "written")
        if ra.has_vector(d, "written"):
            assert list(rb.vector_as("weight", d, "written")) == list(ra.vector_as("weight", d, "written"))
    for name in scored:
        assert rb.field_length(name) == ra.field_length(name)
    for name, field in ra.schema.items():
        if field.column_type:
            assert list(rb.column_reader(name)) == list(ra.column_reader(name)), name


@pytest.mark.parametrize("run_postings", [None, 1_000])
def test_the_bulk_writer_writes_the_array_codec(tmp_path, run_postings):
    """A full build's writer (engine/bulk.py) given the array codec writes the index Whoosh's
    own writer writes with W3, whether its runs spill to disk or not; no positions pickled."""
    from searchapp.engine import bulk, shards

    generated = tmp_path / "generated"
    write_generated(generated, 250)
    docs = whoosh_documents(SEEDS, generated)
    theirs, ours = tmp_path / "w3", tmp_path / "arrays"
    shards.create(theirs, build_schema())
    w = shards.writer(theirs)
    for d in docs:
        w.add_document(**d)
    w.commit()
    shards.create(ours, build_schema())
    kwargs = {} if run_postings is None else {"run_postings": run_postings}
    w = bulk.BulkWriter(shards.open_index(ours), writing.index_cuts(build_schema()),
                        codec=ArrayCodec(), **kwargs)
    for d in docs:
        w.add_document(**d)
    w.commit()
    a, b = shards.open_index(theirs), shards.open_index(ours)
    assert all(isinstance(s, ArraySegment) for s in b._segments())
    with a.reader() as ra, b.reader() as rb:
        assert_same_index(ra, rb)
    assert not any(p.name.startswith(".bulk-") for p in ours.iterdir())
