"""The search page used for an hour, in a real browser: nothing a researcher set is lost,
failures are said, going back keeps the place, and the keyboard reaches everything."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

pytestmark = pytest.mark.browser


def count(page):
    return page.locator(".summary .count")


def open_research(page):
    """The research views are folded until asked for (and load when opened)."""
    page.locator("details.research > summary").click()
    expect(page.locator(".research-views")).to_be_visible()


def total(page) -> int:
    return int(count(page).locator("strong").first.inner_text().replace(",", ""))


def test_a_clicked_distinctive_word_stays_in_the_query(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    open_research(page)
    word = page.locator(".terms a").first
    expect(word).to_be_visible()
    text = word.inner_text()
    word.click()
    expect(count(page)).to_contain_text(f"for “facial {text}”")
    expect(page.locator("#q")).to_have_value(f"facial {text}")
    page.locator("#q").click()
    page.keyboard.press("End")
    page.keyboard.type(" police", delay=30)
    expect(count(page)).to_contain_text(f"for “facial {text} police”")


def test_a_date_is_typed_whole_before_it_searches_and_keeps_focus(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    before = total(page)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/search?" in r.url else None)
    start = page.locator('input[name="from"]')
    start.focus()  # the month first, as a keyboard user arrives (a click picks a part)
    page.keyboard.type("08232021", delay=60)  # month, day, year, as Chromium's field takes it
    expect(page).to_have_url(re.compile(r"from=2021-08-23"))
    expect(start).to_be_focused()
    expect(start).to_have_value("2021-08-23")
    assert not [u for u in asked if re.search(r"from=0\d\d\d-", u)], asked  # no year 0002..0202
    expect(count(page)).not_to_contain_text(re.compile(rf"\b{before} (results?|records?)\b"))
    assert 0 < total(page) < before


def test_the_sort_menu_keeps_focus_so_every_option_is_reachable(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    sort = page.locator('select[name="sort"]')
    sort.focus()
    sort.select_option("newest")
    expect(page).to_have_url(re.compile(r"sort=newest"))
    expect(sort).to_be_focused()
    sort.select_option("oldest")
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    expect(sort).to_be_focused()
    expect(sort).to_have_value("oldest")


def test_a_failed_search_says_so_marks_the_old_results_and_retries(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    expect(count(page)).to_contain_text("for “facial”")
    page.route(re.compile(r".*/search\?.*police.*"), lambda route: route.fulfill(
        status=503, body="busy", headers={"Retry-After": "1"}))
    page.locator("#q").fill("police")
    problem = page.locator("#problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("503")
    expect(page.locator("#results")).to_have_class(re.compile(r"\bstale\b"))
    page.unroute(re.compile(r".*/search\?.*police.*"))
    problem.get_by_role("button", name="Retry").click()
    expect(count(page)).to_contain_text("for “police”")
    expect(problem).to_be_hidden()
    expect(page.locator("#results")).not_to_have_class(re.compile(r"\bstale\b"))


def test_a_network_failure_is_said_too(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    page.route(re.compile(r".*/search\?.*ban.*"), lambda route: route.abort())
    page.locator("#q").fill("ban")
    expect(page.locator("#problem")).to_contain_text("could not be reached")


def test_back_from_a_record_returns_to_the_same_place(page, live_site):
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(live_site.url + "/search?q=facial&sort=newest")
    last = page.locator(".hit-title a").last
    last.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 300
    last.click()
    expect(page.locator("h1")).to_be_visible()
    page.go_back()
    expect(count(page)).to_contain_text("for “facial”")
    page.wait_for_function(f"Math.abs(window.scrollY - {scrolled}) < 80")
    # The record's own link back returns to the exact search, too.
    page.locator(".hit-title a").last.click()
    expect(page.locator("#q")).to_have_value("facial")  # the search it was opened from
    page.get_by_role("link", name="← Back to search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=facial&sort=newest$"))
    expect(page.locator('select[name="sort"]')).to_have_value("newest")


def test_next_page_shows_the_top_of_the_results(page, live_site):
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(live_site.url + "/search?q=facial&per_page=5")
    nxt = page.get_by_role("link", name="Next →")
    nxt.scroll_into_view_if_needed()
    left = page.evaluate("window.scrollY")
    assert left > 300
    nxt.click()
    expect(page).to_have_url(re.compile(r"page=2"))
    top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
    assert -5 <= top <= 100, top
    # Back to page 1: where the list was when "Next" was pressed (the page reloads).
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"page=2"))
    # Polled from here: wait_for_function's polling evaluates a string, which the page's
    # Content-Security-Policy (no unsafe-eval) refuses whenever the first look is too early.
    page.wait_for_load_state("load")
    deadline, scrolled = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        try:
            scrolled = page.evaluate("window.scrollY")
        except PlaywrightError:  # still between the two documents
            scrolled = None
        if scrolled is not None and abs(scrolled - left) < 40:
            break
        page.wait_for_timeout(50)
    assert scrolled is not None and abs(scrolled - left) < 40, (scrolled, left)


def test_the_keyboard_reaches_the_first_result_in_few_steps(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.get_by_role("link", name="Skip to results")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(".hit-title a").first).to_be_focused()
    # The chart is one tab stop, however many bars it has.
    open_research(page)
    assert page.locator("svg a.bar").count() > 3
    page.get_by_role("link", name="SVG").focus()  # the last control before the chart
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.matches('svg a.bar')")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('svg')")


def test_arrow_keys_move_along_the_chart_and_enter_narrows_to_a_bar(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    open_research(page)
    bars = page.locator("svg a.bar")
    bars.last.focus()
    page.keyboard.press("Home")
    expect(bars.first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(bars.nth(1)).to_be_focused()
    start = bars.nth(1).get_attribute("data-start")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"from={start}"))
    expect(page.locator('input[name="from"]')).to_have_value(start)


def test_a_facet_toggles_with_space_and_enter_and_keeps_focus(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    first = page.locator('[data-facet="provider"] > ul.facet-values > li > a').first
    key = first.get_attribute("data-key")
    value = key.split(":", 1)[1]
    first.focus()
    scrolled = page.evaluate("window.scrollY")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"provider="))
    assert abs(page.evaluate("window.scrollY") - scrolled) < 5  # Space did not scroll the page
    same = page.locator(f'[data-key="{key}"]')
    expect(same).to_be_focused()
    expect(same).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".chips")).to_contain_text(value)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"provider="))
    expect(page.locator(f'[data-key="{key}"]')).to_be_focused()


@pytest.mark.parametrize("path", ["/", "/search?q=facial", "/search?q=zzzzqqq", "/compare",
                                  "/doc/nosuchrecord0", "/search?page=0"])
def test_every_page_has_one_main_heading(page, live_site, path):
    page.goto(live_site.url + path)
    expect(page.locator("h1")).to_have_count(1)


def test_on_a_phone_the_filters_wait_behind_a_button(browser, live_site, screenshots):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_site.url + "/search?q=facial")
    button = page.locator("details.filters > summary")
    expect(button).to_be_visible()
    assert button.bounding_box()["y"] < page.locator(".summary .count").bounding_box()["y"]
    expect(page.locator('[data-facet="provider"]')).to_be_hidden()
    button.click()
    sources = page.locator('[data-facet="provider"]')
    expect(sources).to_be_visible()
    sources.locator("ul.facet-values > li > a").first.click()
    expect(page).to_have_url(re.compile(r"provider="))
    expect(page.locator("details.filters > summary")).to_contain_text("1 chosen")
    expect(page.locator('[data-facet="provider"]')).to_be_visible()  # still open, as left
    page.screenshot(path=screenshots / "phone-filters.png", full_page=True)
    # The comparison's table scrolls sideways instead of being cut off.
    page.goto(live_site.url + "/compare?q=facial&q=police&q=ban&q=camera")
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    context.close()


def test_more_values_of_a_facet_load_when_opened(page, live_site):
    page.goto(live_site.url + "/search?q=")
    more = page.locator('[data-facet="provider"] details.more')
    extra = more.locator("ul.facet-values a")
    expect(extra).to_have_count(0)  # not in the answer until asked for
    more.locator("summary").click()
    expect(extra.first).to_be_visible()
    value = extra.first.get_attribute("data-key").split(":", 1)[1]
    extra.first.click()
    expect(page.locator(".chips")).to_contain_text(value)


def test_an_export_names_its_filters_and_opens_in_a_spreadsheet(page, live_site):
    page.goto(live_site.url + "/search?q=facial&provider=Sky")
    with page.expect_download() as download:
        page.locator(".exports").get_by_role("link", name="CSV").click()
    name = download.value.suggested_filename
    assert name.startswith("searchapp-facial-source-sky-") and name.endswith(".csv")
    body = open(download.value.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbfid,title,")  # the byte-order mark spreadsheets need
    assert b"export_search" in body and b"/search?q=facial&provider=Sky" in body


def test_from_a_search_to_a_comparison_and_advice_when_nothing_matches(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    page.get_by_role("link", name="Compare with…").click()
    expect(page.locator("h1")).to_have_text("Compare queries")
    expect(page.locator('.compare-form input[name="q"]').first).to_have_value("facial")
    expect(page.locator(".notice")).to_contain_text("Add a query to compare with “facial”")
    page.locator('.compare-form input[name="q"]').nth(1).fill("police")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".compare-table")).to_contain_text("police")
    page.goto(live_site.url + "/search?q=facial+zebras&provider=Sky&typing=0")
    steps = page.locator(".next-steps")
    expect(steps).to_contain_text("The same words without filters or dates")
    steps.get_by_role("link", name="Records with any of the words").click()
    expect(page).to_have_url(re.compile(r"match=any"))
    assert total(page) > 0
    expect(page.locator('input[name="match"]')).to_be_checked()


def test_share_of_all_records_marks_periods_with_no_records(page, live_site):
    page.goto(live_site.url + "/search?q=facial&scale=share&interval=day")
    open_research(page)
    assert page.locator('svg path[fill="#b8bfc6"]').count() == 1  # grey ticks: no records at all
    expect(page.locator(".hint")).to_contain_text("grey ticks are periods with no records at all")
