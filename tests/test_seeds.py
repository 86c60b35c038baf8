"""Parsing seed files: the real ones, and every kind of bad input, each named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.ingest.seeds import SeedLimits, SeedRejected, parse_file
from searchapp.settings import Settings
from conftest import FIXTURES, SEEDS

LIMITS = SeedLimits.of(Settings())  # as `searchapp index` reads files by default

BAD = FIXTURES / "bad"


@pytest.mark.parametrize("path", sorted(SEEDS.iterdir()), ids=lambda p: p.name)
def test_every_real_seed_parses_with_its_related_articles(path):
    parsed = parse_file(path, path.name, LIMITS)
    seed = parsed.drafts[0]
    assert seed.kind == "seed" and seed.fields["title"]
    assert seed.fields["published"].endswith("Z")
    assert seed.fields["provider"]["name"] and seed.fields["topics"]
    assert all(d.kind == "related" and d.fields["title"] for d in parsed.drafts[1:])
    assert seed.related == [d.id for d in parsed.drafts[1:]]
    assert parsed.warnings == []


def test_mojibake_in_a_related_title_is_repaired():
    parsed = parse_file(SEEDS / "004_b5ab22eff5a58556.txt", "004.txt", LIMITS)
    titles = [d.fields["title"] for d in parsed.drafts]
    assert "Banning facial recognition technology: Baltimore’s bad idea | COMMENTARY" in titles


def test_mojibake_quotes_in_an_excerpt_are_repaired():
    parsed = parse_file(SEEDS / "002_2aecd8ef6c2bfcb0.txt", "002.txt", LIMITS)
    excerpt = next(d.fields["excerpt"] for d in parsed.drafts if "Hamden" in d.fields["title"])
    assert "ordinance “is the right thing" in excerpt and "â€" not in excerpt


def test_secured_blob_is_never_part_of_a_draft():
    text = repr(parse_file(SEEDS / "000_9bbfbf767327a7e8.txt", "000.txt", LIMITS))
    assert "secured" not in text and "DLTkRwzMiVojmyMc" not in text


def test_ids_are_stable_and_shared_by_the_same_url_in_two_files():
    a = parse_file(SEEDS / "001_fb559b05b6f8c451.txt", "001.txt", LIMITS)
    b = parse_file(SEEDS / "002_2aecd8ef6c2bfcb0.txt", "002.txt", LIMITS)
    cited = {d.id for d in a.drafts[1:]}
    assert b.drafts[0].id in cited  # 002's seed is a related entry of 001
    assert parse_file(SEEDS / "002_2aecd8ef6c2bfcb0.txt", "002.txt", LIMITS).drafts[0].id == b.drafts[0].id


BAD_CASES = [
    ("empty.txt", None, "empty file"),
    ("no_front_matter.txt", 1, "no front matter"),
    ("unterminated.txt", 1, "never closed"),
    ("invalid_yaml.txt", 4, "invalid YAML"),
    ("python_tag.txt", 2, "YAML construct not allowed"),
    ("binary.txt", None, "binary file"),
    ("missing_title.txt", None, "missing title (is 'tittle' a misspelling?)"),
    ("topics_number.txt", 4, "topics must be a list of strings, got a number"),
    ("related_not_list.txt", 4, "related must be a list, got text"),
    ("bad_date.txt", 4, "is not a date"),
    ("alias_bomb.txt", 7, "alias bomb"),
    ("oversized.txt", None, "over the 65,536-byte limit"),
]


@pytest.mark.parametrize("name,line,reason", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_seed_is_rejected_with_file_line_and_reason(name, line, reason):
    with pytest.raises(SeedRejected) as caught:
        parse_file(BAD / name, f"seeds/{name}", SeedLimits(64 * 1024, LIMITS.max_nodes, LIMITS.max_body_bytes))
    message = str(caught.value)
    assert message.startswith(f"seeds/{name}:{line}: " if line else f"seeds/{name}: ")
    assert reason in message


def test_yaml_tags_never_run_anything(tmp_path):
    marker = Path("/tmp/searchapp-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(SeedRejected):
        parse_file(BAD / "python_tag.txt", "python_tag.txt", LIMITS)
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly():
    """Refused for what it is, before it is expanded: counted in nodes, never built (a bomb
    that were expanded would take minutes and gigabytes; speed itself is the bench's)."""
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(SeedRejected) as caught:
            parse_file(BAD / "alias_bomb.txt", "alias_bomb.txt", LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "expands to more than 20000 nodes (an alias bomb?); refused" in str(caught.value)
    assert peak < 16 * 1024 * 1024, f"{peak:,} bytes: the bomb was expanded"  # it takes ~50 KB


def test_windows_1252_file_is_decoded_with_a_warning():
    parsed = parse_file(FIXTURES / "latin1.txt", "latin1.txt", LIMITS)
    assert parsed.drafts[0].fields["title"] == "Café owners protest “facial recognition” cameras"
    assert [str(w) for w in parsed.warnings] == ["latin1.txt:2: not valid UTF-8; decoded as Windows-1252"]


def test_hostile_seed_keeps_text_drops_tags_and_non_http_links():
    parsed = parse_file(FIXTURES / "hostile" / "hostile.txt", "hostile.txt", LIMITS)
    seed, related = parsed.drafts
    assert seed.fields["title"] == "alert(1) Hostile headline about facial recognition"
    assert "<" not in seed.fields["excerpt"] and "\u202e" not in seed.fields["excerpt"]
    assert seed.fields["urls"] == {}
    assert seed.fields["images"] == []
    assert seed.fields["provider"]["name"] == "Evil Source"
    assert seed.fields["topics"] == ["Computer Vision"]
    assert related.fields["title"] == "Related entry"
    warnings = " ".join(str(w) for w in parsed.warnings)
    assert "hostile.txt:6: webUrl dropped: only http(s) links are kept" in warnings
    assert "originalUrl dropped" in warnings
    assert "SECRET-BLOB" not in repr(parsed)


def test_unknown_field_is_reported_with_a_suggestion(tmp_path):
    f = tmp_path / "typo.txt"
    f.write_text('---\ntitle: "A"\nexcerp: "typo"\n---\n', encoding="utf-8")
    parsed = parse_file(f, "typo.txt", LIMITS)
    assert [str(w) for w in parsed.warnings] == [
        "typo.txt:3: unknown field 'excerp' ignored (did you mean 'excerpt'?)"]


def test_lone_topic_string_is_accepted(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text('---\ntitle: "A"\ntopics: Privacy\n---\n', encoding="utf-8")
    assert parse_file(f, "one.txt", LIMITS).drafts[0].fields["topics"] == ["Privacy"]


def test_angle_brackets_that_are_not_html_are_kept_as_text(tmp_path):
    # Reuters marks company names so: they are text, not tags to strip.
    f = tmp_path / "reuters.txt"
    f.write_text('---\ntitle: "<CONSOLIDATED PLANTATIONS BHD> results"\n'
                 'excerpt: "Shares of <SHCO.L> rose <b>sharply</b>"\n---\n', encoding="utf-8")
    fields = parse_file(f, "reuters.txt", LIMITS).drafts[0].fields
    assert fields["title"] == "<CONSOLIDATED PLANTATIONS BHD> results"
    assert fields["excerpt"] == "Shares of <SHCO.L> rose sharply"


def test_enormous_title_is_shortened_with_a_warning():
    parsed = parse_file(FIXTURES / "hostile" / "hostile2.txt", "hostile2.txt", LIMITS)
    title = parsed.drafts[0].fields["title"]
    assert len(title) <= 602 and title.endswith(" …")
    assert "\u202e" not in title and "\u200b" not in title
    assert "hostile2.txt:2: title is 40,435 characters; shortened to 600" in map(str, parsed.warnings)


def test_dates_far_outside_news_are_left_out_with_a_warning(tmp_path):
    f = tmp_path / "far.txt"
    f.write_text('---\ntitle: "From the far future"\npublishedDateTime: 9999-12-31T23:59:59Z\n---\n',
                 encoding="utf-8")
    parsed = parse_file(f, "far.txt", LIMITS)
    assert parsed.drafts[0].fields["published"] is None
    assert "far.txt:3: publishedDateTime 9999-12-31 23:59:59+00:00 is outside 1800-2200 (in UTC); left out" \
        in map(str, parsed.warnings)


def test_invisible_direction_and_format_marks_leave_text_and_real_text_stays(tmp_path):
    """A right-to-left mark inside a word (pasted from a bidirectional page) split it in
    two, so searching for the word missed the record; the marks every script needs stay."""
    from conftest import build
    from searchapp.search import SearchIndex, SearchRequest
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "marks.txt").write_text(
        '---\ntitle: "Council ba\u200fns poli\u200ece dro\u061cnes\u200f"\n'
        'excerpt: "\u200f\u2066Zero\u200dwidth\u2069 tri\u2062cks, hid\U000e0041\U000e0042den '
        'tags; \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 and \u0915\u094d\u200d\u0937 '
        'keep their joiners, as do \U0001f468\u200d\U0001f469\u200d\U0001f467 and '
        '\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"\n---\n',
        encoding="utf-8")
    fields = parse_file(seeds / "marks.txt", "marks.txt", LIMITS).drafts[0].fields
    assert fields["title"] == "Council bans police drones"
    assert fields["excerpt"] == (
        "Zerowidth tricks, hidden tags; \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 and "
        "\u0915\u094d\u200d\u0937 keep their joiners, as do "
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 and "
        "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f")
    build(seeds, tmp_path / "index")
    index = SearchIndex(tmp_path / "index")
    try:
        for word in ("bans", "police", "drones", "hidden", "tricks"):
            found = index.search(SearchRequest(q=word), terms=False)
            assert [h.record["title"] for h in found.hits] == ["Council bans police drones"], word
    finally:
        index.close()
