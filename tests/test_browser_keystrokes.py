"""The search page as fast typists, pasters, keyboard users, phone users and researchers who
leave it open use it, in a real browser: history that follows searches and not keys, a pasted
paragraph that does not bloat any answer, focus that stays where the user is, a phone's first
result in the first screen, a click right after typing that keeps the typed words, and an
open page that notices records the watcher takes in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from test_served_watch import Served, article

pytestmark = pytest.mark.browser

WORDS = ("facial recognition police cameras surveillance privacy campaigners court ruling "
         "technology public spaces rights watchdog london biometric data ")


def count(page):
    return page.locator(".summary .count")


def address(page) -> str:
    return page.evaluate("location.pathname + location.search")


def open_research(page):
    page.locator("details.research > summary").click()
    expect(page.locator(".research-views")).to_be_visible()


def test_typing_a_search_leaves_one_history_entry_and_back_goes_to_the_search_before(page, live_site):
    page.goto(live_site.url + "/search?q=police")
    expect(count(page)).to_contain_text("for “police”")
    page.evaluate("window.scrollTo(0, 300)")
    before = page.evaluate("history.length")
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("coffee brazil", delay=120)
    page.wait_for_function("() => new URL(location.href).searchParams.get('q') === 'coffee brazil'")
    box.press("Enter")
    page.wait_for_function("() => !location.search.includes('typing=1')")
    assert page.evaluate("history.length") - before <= 2
    page.go_back()
    page.wait_for_function("() => new URL(location.href).searchParams.get('q') === 'police'")
    expect(count(page)).to_contain_text("for “police”")
    expect(page.locator("#q")).to_have_value("police")


def test_a_pasted_paragraph_renders_results_timeline_and_words_in_small_answers(page, live_site):
    paste = (WORDS * 80)[:10_000]
    sizes = {}

    def seen(response):
        if response.url.startswith(live_site.url) and response.status == 200:
            sizes[response.url[:80] + f"…({len(response.url)})"] = len(response.body())

    page.on("response", seen)
    page.goto(live_site.url + "/")
    page.locator("#q").fill(paste)  # one input event, as a paste is
    expect(count(page)).to_contain_text("for “facial recognition police")
    expect(page.locator("details.whole-query summary")).to_contain_text("10,000 characters")
    assert page.locator(".hit").count() > 0
    open_research(page)
    expect(page.locator(".timeline svg.chart")).to_be_visible()
    expect(page.locator(".terms a").first).to_be_visible()
    assert sizes and all(n < 100_000 for n in sizes.values()), sizes


def test_a_distinctive_word_adds_itself_to_a_pasted_paragraph_no_link_repeats(page, live_site):
    paste = (WORDS * 20)[:2_000].strip()
    page.goto(live_site.url + "/")
    page.locator("#q").fill(paste)
    expect(count(page)).to_contain_text("for “facial recognition police")
    open_research(page)
    assert page.locator("#results").inner_html().count(paste) <= 1  # said once, folded
    word = page.locator(".terms a").first.inner_text()
    page.locator(".terms a").first.click()
    page.wait_for_function("w => (new URL(location.href).searchParams.get('q') || '').endsWith(' ' + w)",
                           arg=word)
    expect(page.locator("#q")).to_have_value(paste + " " + word)


def test_every_control_that_swaps_the_results_keeps_focus(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    open_research(page)
    month = page.locator('[data-key="interval:month"]')
    month.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"interval=month"))
    expect(page.locator('[data-key="interval:month"]')).to_be_focused()
    bar = page.locator("svg a.bar").first
    bar.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"from="))
    page.wait_for_function("() => document.activeElement && document.activeElement !== document.body")
    assert page.evaluate("document.activeElement.matches('svg a.bar, .count')")


def test_the_first_result_is_at_most_25_tab_stops_from_the_box(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    page.locator("#q").focus()
    for stops in range(1, 40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.hit-title a')"):
            break
    assert stops <= 25, stops


def test_on_a_phone_the_first_result_is_in_the_first_screen_and_links_are_tall(browser, live_site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_site.url + "/search?q=facial")
    first = page.locator(".hit").first.bounding_box()
    assert first["y"] < 844, first
    expect(page.locator("details.research")).not_to_have_attribute("open", "")
    short = page.evaluate("""() => [...document.querySelectorAll('a')].filter(a => {
        const r = a.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.height < 24 && !a.closest('svg') && !a.matches('.skip')
          && a.checkVisibility();
      }).map(a => a.textContent.trim().slice(0, 30) + ' ' + a.getBoundingClientRect().height)""")
    assert short == []
    context.close()


def test_a_facet_clicked_while_the_typed_words_are_searched_keeps_them(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    expect(count(page)).to_contain_text("for “facial”")
    # The typed words' answer is slow to come: the results on screen are still "facial".
    held = []
    page.route(re.compile(r".*typing=1.*"), lambda route: held.append(route))
    page.locator("#q").press("End")
    page.keyboard.type(" recognition", delay=20)
    page.locator('[data-facet="kind"] a').first.click()
    page.wait_for_function("() => new URL(location.href).searchParams.get('kind')")
    assert "q=facial+recognition" in address(page)
    expect(page.locator("#q")).to_have_value("facial recognition")
    page.unroute_all(behavior="ignoreErrors")


def test_a_half_typed_date_is_said_and_typing_still_searches(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    date = page.locator('input[name="from"]')
    date.click()
    page.keyboard.type("08")  # a month, no day or year yet
    expect(page.locator("#date-note")).to_contain_text("From: not a whole date yet")
    page.locator("#q").press("End")
    page.locator("#q").press_sequentially(" police", delay=30)
    page.wait_for_function("() => new URL(location.href).searchParams.get('q') === 'facial police'")
    expect(count(page)).to_contain_text("for “facial police”")


def test_a_record_opened_from_its_address_goes_back_to_its_own_search(page, live_site):
    page.goto(live_site.url + "/search?q=facial")
    href = page.locator(".hit-title a").first.get_attribute("href")
    page.locator(".hit-title a").first.click()
    expect(page.locator("a[data-back]")).to_be_visible()
    page.goto(live_site.url + href.split("?")[0])  # the same record, from its address
    expect(page.locator("#q")).to_have_value("")
    assert page.locator("a[data-back]").get_attribute("href") == "/search"


def test_no_results_offer_no_export(page, live_site):
    page.goto(live_site.url + "/search?q=zzzzqqqxx&typing=0")
    expect(count(page)).to_contain_text("0")
    expect(page.locator(".exports")).to_have_count(0)


def test_an_open_page_notices_records_the_watcher_takes_in(browser, tmp_path):
    served = Served(tmp_path, files=10)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(served.url + "/search?q=quokka")
        expect(count(page)).to_contain_text(re.compile(r"\b0 results\b"))
        records = page.locator("#foot-records").inner_text()
        (served.seeds / "quokka-1.txt").write_text(article("A quokka smiles at the camera"))
        (served.seeds / "quokka-2.txt").write_text(article("Quokka numbers rise on the island"))
        expect(page.locator("#fresh")).to_contain_text("2 new records match", timeout=3_000)
        expect(page.locator("#foot-records")).not_to_have_text(records)
        page.locator("#fresh button").click()
        expect(count(page)).to_contain_text(re.compile(r"\b2 results\b"))
        expect(page.locator("#fresh")).to_be_hidden()
        context.close()
    finally:
        served.close()


def test_a_pasted_paragraphs_api_link_copied_or_opened_in_a_tab_carries_the_paragraph(page, live_site):
    """The links leave a long paste out; one copied from the context menu, or reached with
    the keyboard, is the paste's own all the same: shared, it shows what the page counted."""
    paste = (WORDS * 20)[:2_000].strip()
    page.goto(live_site.url + "/")
    page.locator("#q").fill(paste)
    expect(count(page)).to_contain_text("for “facial recognition police")
    total = int(page.locator(".summary").get_attribute("data-total"))
    api = page.locator(".exports a", has_text="API")
    assert "q=" not in (api.get_attribute("href") or "")  # as served: said once, by the box
    api.dispatch_event("contextmenu")
    href = api.get_attribute("href")
    assert "q=" in href
    answer = page.request.get(live_site.url + href).json()
    assert answer["query"] == paste and answer["total"] == total
    csv = page.locator(".exports a", has_text="CSV")
    csv.focus()
    assert "q=" in csv.get_attribute("href")


def test_with_javascript_off_a_pasted_paragraphs_page_says_its_links_leave_it_out(browser, live_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    paste = (WORDS * 20)[:2_000].strip()
    page.goto(live_site.url + "/")
    page.locator("#q").fill(paste)
    page.locator("#q").press("Enter")
    expect(count(page)).to_contain_text("for “facial recognition police")
    expect(page.locator(".summary .notice")).to_contain_text("With JavaScript off, the links below")
    context.close()


def test_a_hit_clicked_with_newer_words_in_the_box_takes_them_once(page, live_site):
    """A link is focused, then clicked: each rewrites it from the href the page made, so the
    box's newer words go in once (they went in twice: `police officers officers`)."""
    page.goto(live_site.url + "/search?q=police")
    expect(count(page)).to_contain_text("for “police”")
    page.evaluate("document.getElementById('q').value = 'police cameras'")  # not yet searched
    title = page.locator(".hit-title a").first
    title.focus()
    title.click()
    page.wait_for_function("() => location.pathname.startsWith('/doc/')")
    assert page.evaluate("new URL(location.href).searchParams.get('q')") == "police cameras"


def test_a_drag_across_bars_keeps_a_pasted_paragraph(page, live_site):
    paste = (WORDS * 3)[:340].strip()
    page.goto(live_site.url + "/")
    page.locator("#q").fill(paste)
    expect(count(page)).to_contain_text("for “facial recognition police")
    open_research(page)
    bars = page.locator("svg a.bar")
    expect(bars.first).to_be_visible()
    assert bars.count() >= 2
    start, end = bars.first.bounding_box(), bars.last.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] - 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 2, steps=5)
    page.mouse.up()
    page.wait_for_function("() => new URL(location.href).searchParams.has('from')")
    assert page.evaluate("new URL(location.href).searchParams.get('q')") == paste
    expect(count(page)).to_contain_text("for “facial recognition police")


def test_research_views_that_fail_to_load_say_so(page, live_site):
    page.route("**/research?**", lambda route: route.fulfill(status=503, body="busy"))
    page.goto(live_site.url + "/search?q=police")
    expect(count(page)).to_contain_text("for “police”")
    page.locator("#q").press("End")
    page.locator("#q").press_sequentially(" cameras", delay=50)  # a fragment: views load lazily
    expect(count(page)).to_contain_text("for “police cameras”")
    page.locator("details.research > summary").click()
    expect(page.locator(".research-body")).to_contain_text("These could not be loaded")
