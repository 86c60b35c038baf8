"""The site in a real browser: Debian's chromium driven by Playwright against a live waitress server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def only_local(page, live_site):
    outside = [u for u in page.requests_seen if not u.startswith(live_site.url)]
    assert outside == [], outside


def count(page):
    return page.locator(".summary .count")


def test_typing_updates_results_without_a_page_load(page, live_site, screenshots):
    page.goto(live_site.url + "/")
    expect(count(page)).to_contain_text(re.compile(r"\b28 (results?|records?)\b"))
    page.evaluate("window.__samePage = true")
    page.locator("#q").press_sequentially("baltim", delay=60)
    expect(count(page)).to_contain_text("1 result for “baltim”")
    expect(page.locator(".hit-title mark")).to_have_text("Baltimore")
    # The research views are folded until asked for; opened, the distinctive words arrive
    # after the results, in their own request: of one result, none (a word of a single
    # record stands out by being in it).
    expect(page.locator(".terms-body")).to_have_count(0)
    page.locator("details.research > summary").click()
    expect(page.locator(".terms-body")).to_contain_text("Too few results to tell which words")
    assert page.evaluate("window.__samePage") is True  # swapped in place, not reloaded
    expect(page).to_have_url(re.compile(r"/search\?q=baltim&typing=1$"))  # a keystroke says so
    page.screenshot(path=screenshots / "typing-results.png")
    only_local(page, live_site)


def test_back_button_restores_the_previous_results(page, live_site):
    page.goto(live_site.url + "/search?q=police")
    expect(count(page)).to_contain_text(re.compile(r"(results?|stor(y|ies))\s+for “police”"))
    police = re.sub(r"\s+in [\d.]+ ms", "", " ".join(count(page).inner_text().split()))
    page.locator("#q").fill("baltimore")
    expect(count(page)).to_contain_text("1 result for “baltimore”")
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=police"))
    expect(count(page)).to_contain_text(police)
    expect(page.locator("#q")).to_have_value("police")
    page.go_forward()
    expect(count(page)).to_contain_text("1 result for “baltimore”")


def test_clicking_a_facet_filters_and_other_counts_update(page, live_site, screenshots):
    page.goto(live_site.url + "/search?q=facial")
    expect(count(page)).to_contain_text(re.compile(r"\b22 (results?|records?)\b"))
    kinds = page.locator('[data-facet="kind"] a')
    expect(kinds.first).to_contain_text("related")
    page.evaluate("window.__samePage = true")
    sources = page.locator('[data-facet="provider"]')
    sources.get_by_placeholder("Filter sources…").fill("sky")  # sources run long: filter them
    expect(sources.locator("li:visible")).to_have_count(1)
    sources.get_by_role("button", name=re.compile(r"^Sky \d")).click()
    expect(count(page)).to_contain_text("1 result for “facial”")
    expect(page.locator(".chips")).to_contain_text("Sources: Sky")
    expect(page).to_have_url(re.compile(r"provider=Sky"))
    assert page.evaluate("window.__samePage") is True
    # Other sources keep their counts; other facets narrow to the selection.
    expect(page.locator('[data-facet="provider"] a.selected')).to_contain_text("Sky")
    expect(page.locator('[data-facet="provider"]')).to_contain_text("Forbes")
    expect(page.locator('[data-facet="kind"] a')).to_have_count(1)
    page.screenshot(path=screenshots / "facet-selected.png", full_page=True)
    # Typing more keeps the filter.
    page.locator("#q").click()
    page.keyboard.press("End")
    page.locator("#q").press_sequentially(" parliament", delay=40)
    expect(count(page)).to_contain_text("1 result for “facial parliament”")
    expect(page.locator(".chips")).to_contain_text("Sources: Sky")
    page.get_by_role("link", name="Remove filter Sources: Sky").click()
    expect(page.locator(".chips")).to_have_count(0)
    only_local(page, live_site)


def test_opening_a_record_shows_its_related_articles(page, live_site, screenshots):
    page.goto(live_site.url + "/search?q=%22PI+and+30+CSOs%22&kind=seed")
    page.locator(".hit-title a").first.click()
    expect(page.locator("h1")).to_have_text(
        "PI and 30 CSOs unite against use of live facial recognition technology")
    expect(page.locator("body")).to_contain_text("Related articles (5)")
    expect(page.locator("body")).to_contain_text("Cited by (1)")
    page.screenshot(path=screenshots / "record.png", full_page=True)
    page.get_by_role("link", name="Campaigners call for ban on use of facial recognition tech in UK").click()
    expect(page.locator("h1")).to_have_text("Campaigners call for ban on use of facial recognition tech in UK")
    only_local(page, live_site)


def test_slash_focuses_the_search_box_and_keyboard_reaches_facets(page, live_site):
    page.goto(live_site.url + "/search?q=ban")
    page.locator("body").click(position={"x": 5, "y": 880})
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    for _ in range(90):  # the filters follow the hits, which come first
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('[data-facet]') !== null"):
            break
    else:
        pytest.fail("no facet link is reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".chips")).to_be_visible()


def test_page_works_with_javascript_off(browser, live_site, screenshots):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_site.url + "/")
    page.locator("#q").fill("surveillance")
    page.locator("#q").press("Enter")
    expect(page).to_have_url(re.compile(r"q=surveillance"))
    expect(count(page)).to_contain_text("results for “surveillance”")
    page.locator('[data-facet="kind"] a', has_text="seed").click()
    expect(page.locator(".chips")).to_contain_text("Record kind: seed")
    page.screenshot(path=screenshots / "no-javascript.png", full_page=True)
    context.close()


def test_hostile_seed_runs_no_script_and_calls_nowhere(page, live_site, screenshots):
    page.goto(live_site.url + "/search?q=hostile")
    expect(page.locator(".hit-title")).to_contain_text("alert(1) Hostile headline")
    page.locator(".hit-title a").first.click()
    expect(page.locator("h1")).to_contain_text("Hostile headline")
    page.mouse.move(200, 300)
    page.wait_for_timeout(300)
    assert page.dialogs_seen == []
    assert page.locator("script:not([src])").count() == 0
    page.screenshot(path=screenshots / "hostile-record.png", full_page=True)
    only_local(page, live_site)


def test_phone_width_layout(browser, live_site, screenshots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_site.url + "/search?q=facial+recognition")
    expect(count(page)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=screenshots / "phone.png", full_page=False)
    context.close()


def test_front_page_screenshot(page, live_site, screenshots):
    page.goto(live_site.url + "/")
    expect(count(page)).to_contain_text(re.compile(r"\b28 (results?|records?)\b"))
    page.screenshot(path=screenshots / "front-page.png")
    only_local(page, live_site)


def test_clicking_a_timeline_bar_narrows_the_results(page, live_site, screenshots):
    page.goto(live_site.url + "/search?q=facial+recognition")
    expect(count(page)).to_contain_text(re.compile(r"\b22 (results?|records?)\b"))
    page.locator("details.research > summary").click()  # folded until asked for
    page.locator(".timeline .chart").screenshot(path=screenshots / "timeline-chart.png")
    page.evaluate("window.__samePage = true")
    bar = page.locator('svg a.bar[data-start="2021-08-23"]')
    bar.click()
    expect(page).to_have_url(re.compile(r"from=2021-08-23&to=2021-08-23"))
    expect(count(page)).to_contain_text(re.compile(r"\b8 (results?|records?)\b"))
    expect(page.locator(".chips")).to_contain_text("Dates: 2021-08-23 – 2021-08-23")
    assert page.evaluate("window.__samePage") is True
    for date in page.locator(".hit > .meta time").all_inner_texts():
        assert date == "2021-08-23"
    only_local(page, live_site)


def test_dragging_across_bars_picks_a_range(page, live_site):
    page.goto(live_site.url + "/search?q=facial+recognition")
    page.locator("details.research > summary").click()  # folded until asked for
    start = page.locator('svg a.bar[data-start="2021-08-22"]').bounding_box()
    end = page.locator('svg a.bar[data-start="2021-08-24"]').bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] - 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 2, steps=5)
    page.mouse.up()
    expect(page).to_have_url(re.compile(r"from=2021-08-22&to=2021-08-24"))
    expect(page.locator(".chips")).to_contain_text("Dates: 2021-08-22 – 2021-08-24")


def test_compare_page(page, live_site, screenshots):
    page.goto(live_site.url + "/compare")
    inputs = page.locator(".compare-form input[type=search]")
    inputs.nth(0).fill("facial recognition ban")
    inputs.nth(1).fill("live facial recognition police")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".compare-table")).to_contain_text("Matching records")
    expect(page.locator("svg.chart polyline")).to_have_count(2)
    page.screenshot(path=screenshots / "compare.png", full_page=True)
    page.get_by_role("link", name="live facial recognition police").first.click()
    expect(count(page)).to_contain_text("results for “live facial recognition police”")
    only_local(page, live_site)


def test_hostile_corpus_in_a_real_browser(page, live_site, screenshots):
    """Styles, scripts, links and an enormous title from seed files: shown as text, inert."""
    for url in ["/search?q=enormous", "/search?q=sneaky", "/search?q=alert", "/search?q=aliased"]:
        page.goto(live_site.url + url)
        expect(count(page)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, url
        assert page.locator("body").is_visible()  # no injected style hid the page
    page.goto(live_site.url + "/search?q=enormous")
    page.screenshot(path=screenshots / "hostile-enormous.png")
    page.locator(".hit-title a").first.click()
    expect(page.locator("h1")).to_contain_text("Enormous")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=screenshots / "hostile-enormous-record.png")
    assert page.dialogs_seen == []
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("img").count() == 0
    only_local(page, live_site)


def test_typing_a_phrase_letter_by_letter_never_shows_zero_results(page, live_site):
    """Every keystroke's answer, from the third letter on, finds the records the whole words
    find: a half-typed word is matched against words as written, not against their stems."""
    page.goto(live_site.url + "/")
    box = page.locator("#q")
    box.click()
    typed = ""
    for char in "facial recognition":
        typed += char
        page.keyboard.type(char)
        if len(typed) < 3:
            continue
        expect(count(page)).to_contain_text(f"for “{typed}”")
        total = int(count(page).locator("strong").first.inner_text().replace(",", ""))
        assert total > 0, typed


def test_a_misspelt_query_shows_the_correction_and_the_words_as_typed_on_request(page, live_site):
    page.goto(live_site.url + "/")
    page.locator("#q").press_sequentially("facial recogniton ", delay=30)
    note = page.locator(".suggestion")
    expect(note).to_contain_text("Showing results for facial recognition")
    # The count is the words' as written; the correction's results are listed, counted apart.
    assert int(count(page).locator("strong").first.inner_text()) == 0
    assert int(re.search(r"\(([\d,]+) results?\)", note.inner_text()).group(1).replace(",", "")) > 0
    expect(page.locator(".hit-title mark").first).to_be_visible()
    note.get_by_role("link", name="facial recogniton").click()
    expect(page).to_have_url(re.compile(r"literal=1"))
    expect(page.locator(".empty")).to_contain_text("No records match")
    expect(page.locator(".suggestion")).to_contain_text("Did you mean facial recognition")
    expect(page.locator("#q")).to_have_value(re.compile(r"^facial recogniton\s*$"))
