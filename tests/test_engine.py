"""The engine's fence around Whoosh: every private name it relies on still exists, and every
fast path built on them is really taken. An upgrade of Whoosh that moves one fails here, by
name, instead of quietly falling back to the slow path."""

from __future__ import annotations

import ast
import importlib
import mmap
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from whoosh import query as wq


from searchapp.engine import WHOOSH_PRIVATE, columns, lexicon, postings
from searchapp.engine.expand import BoundedPrefix, BoundedWildcard
from searchapp.engine.codec import ArrayTermsReader
from searchapp.search import SearchIndex, SearchRequest, answer
from searchapp.index import store, writing
from searchapp.search.query import parse_user_query
from conftest import ROOT, build, write_generated


@pytest.mark.parametrize("module,name", WHOOSH_PRIVATE, ids=lambda v: str(v))
def test_every_private_name_the_engine_relies_on_exists(module, name):
    found = importlib.import_module(module)
    for part in name.split("."):
        found = getattr(found, part)  # AttributeError names what went missing
    # What the engine does with it: two values it reads, the rest it calls or subclasses.
    if name == "_INT_SIZE":  # the width of a count the postings reader slices off
        assert isinstance(found, int) and found > 0, found
    elif name == "LENGTHS_COLUMN":  # the column the lengths reader opens
        from whoosh.columns import Column
        assert isinstance(found, Column), found
    elif name.endswith(".has_text"):  # whether the parser reads a tagged node's text
        assert found is False, found  # (a node that has one says so)
    else:
        assert callable(found), f"{module}.{name} is {found!r}, which the engine calls"


@pytest.fixture(scope="module")
def big_index(tmp_path_factory):
    """Enough records that common words have postings in blocks (more than 128 of them)."""
    root = tmp_path_factory.mktemp("engine")
    write_generated(root / "seeds", 600)
    build(root / "seeds", root / "index")
    index = SearchIndex(root / "index")
    yield index
    index.close()


def test_postings_lengths_and_vectors_are_read_as_the_arrays_of_the_file_and_not_cached(big_index):
    postings.PATHS.clear()
    big_index.forget_recent()
    result = big_index.search(SearchRequest(q="police OR camera", typing=False))
    assert result.total > 128
    assert postings.PATHS["postings: arrays"] > 0
    assert postings.PATHS["lengths: arrays"] > 0
    assert postings.PATHS["vectors: arrays"] > 0  # the distinctive words
    assert sum(n for path, n in postings.PATHS.items()
               if path.endswith(("blocks", "one read", "one at a time"))) == 0
    assert postings.PATHS["cache: passed by"] > 0
    with big_index.using() as snap:
        # The page cache is the only cache of an array segment's postings: none are copied.
        assert snap.scorer.cache.bytes == 0 and len(snap.scorer.cache) == 0
        leaf = snap.columns.leaves[0][0]
        docs, weights = postings.postings(leaf, "title", b"police")
        assert len(docs) and docs.base is not None and not docs.flags.writeable
    with big_index.using() as snap:  # the same words as Whoosh's own reading gives
        reader = snap.searcher.reader()
        for docnum in snap.columns.all_docs[:50].tolist():
            mine = snap.scorer.vector_terms(int(docnum), "written").tolist()
            assert mine == [w.encode() for w, _ in reader.vector_as("frequency", docnum, "written")]


def test_postings_of_many_blocks_are_what_whoosh_reads(tmp_path):
    write_generated(tmp_path / "seeds", 700, word="everywhere")  # a word in every title
    build(tmp_path / "seeds", tmp_path / "index", shards=1)
    index = SearchIndex(tmp_path / "index")
    longest = 0
    with index.using() as snap:
        for leaf, _, _ in snap.columns.leaves:
            for field in ("title", "excerpt", "written", "source"):
                for word in list(leaf.lexicon(field))[:30] + [b"everywher", b"everywhere", b"polic"]:
                    if (field, word) not in leaf:
                        continue
                    ids, weights = postings.postings(leaf, field, word)
                    m = postings._unfiltered(leaf.postings(field, word))
                    want = []
                    while m.is_active():
                        want.append((m.id(), m.weight()))
                        m.next()
                    assert list(zip(ids.tolist(), weights.tolist())) == want, (field, word)
                    longest = max(longest, len(want))
        # A long list of an array segment is a view of its file, no read to stop: a passed
        # deadline still gets it whole (only a W3 segment's decoding stops, with TimeUp).
        ids, _ = postings.postings(snap.columns.leaves[0][0], "written", b"everywhere",
                                   deadline=0.0)
        assert len(ids) > 5 * 128
    index.close()
    assert longest > 5 * 128  # lists of several blocks, the last one short


def test_distinctive_words_read_words_beyond_ascii(tmp_path):
    write_generated(tmp_path / "seeds", 40)
    for n in range(5):  # distinctive.MIN_MATCHES: fewer set no word apart
        (tmp_path / "seeds" / f"accents{n}.txt").write_text(
            f'---\ntitle: "Ünïcode ½ naïve résumé {n}"\nexcerpt: "Zürich straße café ½"\n---\n',
            encoding="utf-8")
    build(tmp_path / "seeds", tmp_path / "index")
    index = SearchIndex(tmp_path / "index")
    result = index.search(SearchRequest(q="resume", typing=False))  # was a 500 in /api/search
    assert result.total == 5
    assert result.terms is not None and result.terms.sample_size == 5
    with index.using() as snap:
        reader = snap.searcher.reader()
        for docnum in answer.matching(snap, answer.parse(snap, SearchRequest(q="resume"), index.limits),
                                      SearchRequest(q="resume")).final.tolist():
            mine = snap.scorer.vector_terms(docnum, "written").tolist()
            assert mine == [w.encode() for w, _ in reader.vector_as("frequency", docnum, "written")]
    index.close()


def test_positions_are_read_a_block_at_a_time_as_whoosh_reads_them(tmp_path):
    write_generated(tmp_path / "seeds", 300)
    far = " ".join(f"filler{n}" for n in range(400))  # gaps of 256 and more: the other path
    (tmp_path / "seeds" / "long.txt").write_text(
        f'---\ntitle: "police police"\nexcerpt: "police {far} police camera {far} police"\n---\n',
        encoding="utf-8")
    build(tmp_path / "seeds", tmp_path / "index")
    postings.PATHS.clear()
    index = SearchIndex(tmp_path / "index")
    with index.using() as snap:
        for leaf, _, _ in snap.columns.leaves:
            for field in ("title", "excerpt"):
                for word in (b"polic", b"camera", b"vote", b"filler7"):
                    docs, where = postings.positions(leaf, field, word)
                    want = [(m_id, p) for m_id, ps in _whoosh_positions(leaf, field, word)
                            for p in ps]
                    assert list(zip(docs.tolist(), where.tolist())) == want, (field, word)
    index.close()
    assert postings.PATHS["positions: arrays"] > 0
    assert postings.PATHS["positions: blocks"] == postings.PATHS["positions: one at a time"] == 0


def _whoosh_positions(leaf, field, word):
    if (field, word) not in leaf:
        return []
    m = postings._unfiltered(leaf.postings(field, word))
    out = []
    while m.is_active():
        out.append((m.id(), m.value_as("positions")))
        m.next()
    return out


def test_facet_columns_are_read_as_whoosh_reads_them_and_kept_beside_their_segments(tmp_path):
    """The indexer enumerates each segment's facet columns after its commit; a search
    process loads them, and rebuilds a damaged one, with the values Whoosh itself reads."""
    write_generated(tmp_path / "seeds", 300)
    (tmp_path / "seeds" / "odd.md").write_text(
        '---\ntitle: "No provider"\nprovider: {name: "Caf\u00e9 \u00e9t\u00e9"}\n---\n', encoding="utf-8")
    build(tmp_path / "seeds", tmp_path / "index")
    kept = sorted((tmp_path / "index").glob("build-*/shard-*/MAIN_*.c_provider.npz"))
    assert kept, "the indexer keeps the enumerated columns"
    kept[0].write_bytes(b"damaged")
    columns.PATHS.clear()
    index = SearchIndex(tmp_path / "index")
    with index.using() as snap:
        for leaf, _, segment_id in snap.columns.leaves:
            for name in ("c_provider", "c_topic", "c_kind"):
                values, ordinals = columns.enumerated(leaf, segment_id, name, kept[0].parent)
                want = [v.decode("utf-8") for v in leaf.column_reader(name, translate=False)]
                assert [values[i] for i in ordinals.tolist()] == want
            dates = columns.numbers(leaf, "c_date", -1)
            assert dates.tolist() == list(leaf.column_reader("c_date", translate=False))
    index.close()
    assert columns.PATHS["enumerated: kept"] > 0
    assert columns.PATHS["enumerated: arrays"] > 0  # the damaged file, read again
    assert columns.PATHS["enumerated: one at a time"] == columns.PATHS["enumerated: one read"] == 0
    assert columns.PATHS["numbers: arrays"] > 0 and columns.PATHS["numbers: one at a time"] == 0
    assert kept[0].read_bytes() != b"damaged"  # and written anew


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_facets_first_values_are_the_same_counted_in_full_or_cut_short(big_index, data):
    """Counting only the first `limit` values (and the selected ones) gives exactly the head
    of the full count, ties at the cut included."""
    with big_index.using() as snap:
        cols = snap.columns
        docs = np.array(sorted(data.draw(st.sets(st.sampled_from(cols.all_docs.tolist()), max_size=300))),
                        dtype=np.int64)
        for facet in ("provider", "topic", "category", "type", "kind"):
            full = cols.count(facet, docs)
            limit = data.draw(st.integers(1, 12))
            also = data.draw(st.lists(st.sampled_from([v for v, _ in full] or ["x"]), max_size=3))
            cut = cols.count(facet, docs, limit, also)
            assert cut[:limit] == full[:limit], facet
            assert set(cut) >= {vc for vc in full if vc[0] in also}


def test_words_are_listed_per_segment_and_completed_by_their_record_counts(tmp_path):
    """Each segment's words, kept beside it, are its own lexicon with its counts; the
    completions over several segments are the words most records hold, summed over them."""
    write_generated(tmp_path / "seeds", 200)
    build(tmp_path / "seeds", tmp_path / "index")
    for n in range(3):  # more segments
        write_generated(tmp_path / "seeds", 5, start=1000 + 10 * n, word=f"zebrafinch{n}")
        build(tmp_path / "seeds", tmp_path / "index")
    lexicon.PATHS.clear()
    index = SearchIndex(tmp_path / "index")
    with index.using() as snap:
        reader = snap.searcher.reader()
        assert len(snap.columns.leaves) > 1
        words = snap.words("written")
        assert lexicon.PATHS["words: kept"] > 0 and lexicon.PATHS["words: read"] == 0
        for leaf, _, sid in snap.columns.leaves:
            listed, df = lexicon.words(leaf, sid, "written", None)
            assert listed == [w.decode() for w in leaf.lexicon("written")]
            assert df.tolist() == [leaf.doc_frequency("written", w) for w in listed]
        for prefix in ("zebrafinch", "po", "c", "fa"):
            everything = [w.decode() for w in reader.expand_prefix("written", prefix)]
            want = sorted(everything, key=lambda w: (-reader.doc_frequency("written", w), w))[:5]
            got = words.completions(prefix, 5)
            assert [reader.doc_frequency("written", w) for w in got] == \
                [reader.doc_frequency("written", w) for w in want], prefix
        assert sorted(words.matching("zebrafinch?", 10)) == ["zebrafinch0", "zebrafinch1", "zebrafinch2"]
    index.close()


def test_kept_columns_go_with_their_segments(tmp_path):
    write_generated(tmp_path / "seeds", 20)
    build(tmp_path / "seeds", tmp_path / "index")
    for n in range(12):  # small segments, merged by Whoosh on the way
        write_generated(tmp_path / "seeds", 1, start=100 + n)
        build(tmp_path / "seeds", tmp_path / "index")
    folder = next((tmp_path / "index").glob("build-*"))
    live = {p.stem for p in folder.glob("shard-*/MAIN_*.arrterms")}
    kept = {p.name.split(".")[0] for p in folder.glob("shard-*/MAIN_*.npz")}
    assert kept == live
    assert not list(folder.glob("shard-*/.*.tmp"))


def test_segments_are_read_in_place(big_index):
    """An array segment's two containers are mapped, read-only; nothing is copied out."""
    with big_index.using() as snap:
        for leaf, _, _ in snap.columns.leaves:
            assert isinstance(leaf._terms, ArrayTermsReader)
            assert isinstance(leaf._terms._t.container._buf, mmap.mmap)
            assert isinstance(leaf._perdoc._c._buf, mmap.mmap)


def test_prefixes_and_wildcards_are_bounded_and_not_stemmed():
    q = parse_user_query("flies* AND c?mera", typing=False).query
    leaves = list(q.leaves())
    prefixes = [leaf for leaf in leaves if isinstance(leaf, BoundedPrefix)]
    wildcards = [leaf for leaf in leaves if isinstance(leaf, BoundedWildcard)]
    assert {p.text for p in prefixes} == {"flies"}  # not `fli`, the stem
    assert {w.text for w in wildcards} == {"c?mera"}


def test_the_typed_word_expands_to_its_most_frequent_completions_only(big_index):
    with big_index.using() as snap:
        parsed = answer.parse(snap, SearchRequest(q="so"), big_index.limits)  # too short: a word
        assert not any(isinstance(n, wq.ConstantScoreQuery) for n in parsed.query.children())
        parsed = answer.parse(snap, SearchRequest(q="hosp"), big_index.limits)
        expanded = {n.text for n in parsed.query.leaves() if isinstance(n, wq.Term)}
        assert expanded and all(t.startswith("hosp") for t in expanded)


@pytest.mark.parametrize("q", ["title:1*", "title:1?3", "title:*3"])
def test_prefixes_and_wildcards_expand_to_at_most_the_set_number_of_terms(big_index, q):
    index = SearchIndex(big_index.root, max_wildcard_terms=3)
    with index.using() as snap:
        parsed = answer.parse(snap, SearchRequest(q=q, typing=False), index.limits)
        terms = [n for n in parsed.query.leaves() if isinstance(n, wq.Term)]
    index.close()
    assert len(terms) == 3  # the generated titles end in numbers: far more than 3 match


def test_a_phrase_is_found_wherever_its_words_stand(tmp_path):
    """Positions are read back as written, at every position (whoosh-ng 5.4 mistakes a
    position value ending in byte 46 for a pickle and fails; see docs/whoosh-notes.md)."""
    from conftest import build
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    filler = " ".join(f"w{i}" for i in range(45))
    (seeds / "a.txt").write_text(f'---\ntitle: "Late phrase"\nexcerpt: "{filler} alpha beta"\n'
                                 'webUrl: "https://example.org/a"\n---\n', encoding="utf-8")
    build(seeds, tmp_path / "index")
    index = SearchIndex(tmp_path / "index")
    try:
        assert index.search(SearchRequest(q='"alpha beta"', typing=False)).total == 1
        assert index.search(SearchRequest(q='"w44 alpha"', typing=False)).total == 1
    finally:
        index.close()


def test_incremental_runs_do_not_pile_up_segments(tmp_path):
    """Whoosh's own merge policy left one more segment for every run of a few records."""
    write_generated(tmp_path / "seeds", 400)
    build(tmp_path / "seeds", tmp_path / "index")
    counts = []
    for n in range(24):
        write_generated(tmp_path / "seeds", 6, start=1000 + 10 * n)
        build(tmp_path / "seeds", tmp_path / "index")
        with store.open_live(tmp_path / "index").searcher() as s:
            folders = Counter(leaf.kept_folder for leaf, _ in s.reader().leaf_readers())
        counts.append(max(folders.values()))
    # Runs merge nothing until a shard holds MAX_SEGMENTS; the next one merges the ladder.
    assert max(counts) <= writing.MAX_SEGMENTS + 1, counts
    build(tmp_path / "seeds", tmp_path / "fresh")
    totals = []
    for folder in ("index", "fresh"):
        index = SearchIndex(tmp_path / folder)
        totals.append(index.search(SearchRequest(q="police", typing=False)).total)
        index.close()
    assert totals[0] == totals[1] > 0


def test_a_run_with_nothing_new_keeps_what_an_older_index_lacks(tmp_path):
    """An index written before columns and words were kept beside segments gets them from
    the next `searchapp index`, even when no seed changed."""
    write_generated(tmp_path / "seeds", 50)
    build(tmp_path / "seeds", tmp_path / "index")
    folder = next((tmp_path / "index").glob("build-*"))
    for kept in folder.glob("shard-*/MAIN_*.npz"):
        kept.unlink()
    build(tmp_path / "seeds", tmp_path / "index")
    names = {p.name.split(".", 1)[1] for p in folder.glob("shard-*/MAIN_*.npz")}
    assert names == {"c_topic.npz", "c_provider.npz", "c_category.npz", "c_type.npz",
                     "c_kind.npz", "w_written.npz", "w_source.npz", "w_topic.npz", "w_written_body.npz"}


def _whoosh_subclasses(path):
    """(class, base, its private methods) of each class in `path` made from a class of
    Whoosh's or of the engine's (which stand for Whoosh's)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = set()  # names that stand for Whoosh or the engine in this module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (
                (node.module or "").startswith("whoosh") or
                (node.level and (node.module or "").startswith("engine"))):
            bound.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            bound.update(a.asname or a.name for a in node.names if a.name.startswith("whoosh"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for base in node.bases:
            root = base
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                private = [f.name for f in node.body if isinstance(f, ast.FunctionDef)
                           and f.name.startswith("_") and not f.name.startswith("__")]
                yield node.name, ast.unparse(base), private


def test_outside_the_engine_no_class_reaches_into_whooshs_private_parts():
    """Overriding a private hook (a formatter's `_text`) or building on Whoosh's parser
    internals (`qparser.syntax`) is touching them too: the engine does it, listed in
    WHOOSH_PRIVATE, and the rest builds on what it offers."""
    package = ROOT / "searchapp"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).parts[0] == "engine":
            continue
        for name, base, private in _whoosh_subclasses(path):
            if private or ".syntax." in f".{base}.":
                found.append(f"{path.relative_to(package)}: {name}({base}) {private}")
    assert found == []
