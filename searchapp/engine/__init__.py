"""Our driver for Whoosh: the only code that touches Whoosh's private parts.

Reading segments by position, never mapped or copied (zerocopy), postings and field
lengths as NumPy arrays (postings), scoring whole queries over those arrays (scoring; the set
algebra of scored matches: scored) with the ranking model (ranking), the query shapes the
scorer knows and the one walk over them (shapes), which records have a word in a field at
all (presence: `title:*`), the shapes left to Whoosh, stopped at the deadline (fallback),
bounded expansion of prefixes, wildcards and fuzzy terms (expand), the hook a long piece of
work uses to let others run (pause), words the query parser tags for us (syntax),
highlighting with everything escaped (highlight), column values as arrays kept beside their
segments (columns), a segment's words (lexicon), segments, live documents and the merge
policy (segments), shards read as one index (shards), a new segment written from arrays
instead of Whoosh's posting pool (bulk), byte-bounded caches (cache), and a segment format of
our own, flat arrays read in place (codec; what every writer of the index writes). It knows nothing of
seeds, our schema or the web. `WHOOSH_PRIVATE` lists every private name of Whoosh used here;
a test checks each one still exists and that every fast path built on them is taken, so an
upgrade of Whoosh fails loudly in this one place instead of slowing down silently.
"""

# (module, dotted name within it) of every Whoosh internal the engine relies on.
WHOOSH_PRIVATE = (
    ("whoosh.codec.whoosh3", "W3LeafMatcher._read_ids"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher._read_data"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher._read_weights"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher._next_block"),
    ("whoosh.codec.whoosh3", "W3LeafMatcher._read_values"),
    ("whoosh.formats", "_INT_SIZE"),
    ("whoosh.codec.whoosh3", "_lenfield"),
    ("whoosh.codec.whoosh3", "LENGTHS_COLUMN"),
    ("whoosh.matching.wrappers", "FilterMatcher"),
    ("whoosh.util.numeric", "byte_to_length"),
    ("whoosh.filedb.compound", "CompoundStorage.__init__"),
    ("whoosh.filedb.compound", "CompoundStorage.open_file"),
    ("whoosh.filedb.compound", "CompoundStorage.close"),
    ("whoosh.filedb.compound", "CompoundStorage.range"),
    ("whoosh.query", "Prefix._btexts"),
    ("whoosh.query", "Wildcard._btexts"),
    ("whoosh.query", "Wildcard._get_pattern"),
    ("whoosh.query", "Wildcard._find_prefix"),
    ("whoosh.query", "FuzzyTerm._btexts"),
    ("whoosh.qparser", "PrefixPlugin.PrefixNode"),
    ("whoosh.qparser", "WildcardPlugin.WildcardNode"),
    ("whoosh.qparser", "WildcardPlugin.do_wildcards"),
    ("whoosh.writing", "SegmentWriter._commit_toc"),
    ("whoosh.index", "TOC._latest_generation"),
    ("whoosh.index", "TOC._pattern"),
    ("whoosh.index", "TOC._segment_pattern"),
    ("whoosh.index", "TOC._filename"),
    ("whoosh.writing", "SegmentWriter._flush_segment"),
    ("whoosh.writing", "SegmentWriter._check_fields"),
    ("whoosh.writing", "SegmentWriter._check_state"),
    ("whoosh.codec.whoosh3", "W3PostingsWriter._write_block"),
    ("whoosh.highlight", "Formatter._text"),
    ("whoosh.qparser", "FuzzyTermPlugin.FuzzyTermNode"),
    ("whoosh.qparser", "FuzzyTermPlugin.FuzzyTermNode.query"),
    ("whoosh.qparser.syntax", "SyntaxNode"),
    ("whoosh.qparser.syntax", "SyntaxNode.has_text"),
    ("whoosh.qparser.syntax", "SyntaxNode.r"),
    ("whoosh.qparser.syntax", "SyntaxNode.query"),
)
# Instance attributes read at run time (not checkable on the classes): W3LeafMatcher's
# `_ids`, `_weights`, `_values`, `_data`, `_maxid` and `_byteids`, a segment reader's
# `_perdoc`, a length column reader's `_dbfile`, `_basepos` and `_count`, a column reader's
# `_typecode`, `_lengths` and `_offsets`, the `_MAIN_*.toc` file names, and Whoosh deleting
# `<segment id>.*` files with their segment; the bulk writer's `_postwriter` of a field
# writer, `_blocklimit` of the codec and a postings writer's block buffer (`_ids`,
# `_weights`, `_values`, `_maxweight`, `_minlength`, `_maxlength`); the fast-path tests and
# the bulk writer's byte-for-byte test cover them. The array codec (codec/) reads a
# NumericColumn's `_typecode` and `_default`, and postings.py a segment reader's `_terms`
# (to find an array segment); tests/test_codec*.py cover them.
