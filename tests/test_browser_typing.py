"""Typing in a real browser over the real news records: every keystroke's answer shows
records (never 0 mid-word when the completed words have some), and the address the page
records for it, opened fresh, shows the same count."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

QUERIES = ["oil prices", "interest rates", "trade deficit", "coffee brazil", "climate change",
           "stock market", "federal reserve", "world cup", "opec output", "trump year:2018"]
COUNT = re.compile(r"(at least )?([\d,]+) (result|record)")


@pytest.fixture
def news_page(browser, news_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shown(page) -> int:
    text = " ".join(page.locator(".summary .count").inner_text().split())
    return int(COUNT.search(text).group(2).replace(",", ""))


def settled(page, typed: str) -> None:
    """Until the answer to `typed` is on the page: the address says it, nothing is loading."""
    page.wait_for_function(
        """typed => {
             const q = new URL(location.href).searchParams.get("q") || "";
             const results = document.getElementById("results");
             return q === typed && results && results.getAttribute("aria-busy") !== "true";
           }""", arg=typed)


def fresh_count(site, url: str) -> int:
    with urllib.request.urlopen(site.url + url, timeout=60) as response:
        html = response.read().decode("utf-8")
    found = re.search(r'<p class="count"[^>]*>(at least )?<strong>([\d,]+)</strong>', html)
    return int(found.group(2).replace(",", ""))


@pytest.mark.parametrize("text", QUERIES)
def test_typing_a_letter_at_a_time_never_shows_0_and_each_address_reproduces(news_page, news_site, text):
    page = news_page
    page.goto(news_site.url + "/")
    box = page.locator("#q")
    seen = []
    for end in range(1, len(text) + 1):
        box.press_sequentially(text[end - 1])
        if text[end - 1] == " ":
            continue  # the space alone searches again only when the words change
        settled(page, text[:end])
        url = page.evaluate("location.pathname + location.search")
        seen.append((text[:end], url, shown(page)))
    assert all(n > 0 for _, _, n in seen), [s for s in seen if s[2] == 0]
    for typed, url, n in seen:
        assert "typing=1" in url, url
        assert fresh_count(news_site, url) == n, (typed, url)
    # Enter finishes the last word: the address drops the marker, the count is the words'.
    box.press("Enter")
    page.wait_for_function("() => !location.search.includes('typing=1')")
    expect(page.locator(".summary .count")).not_to_contain_text("while you type")
    url = page.evaluate("location.pathname + location.search")
    assert fresh_count(news_site, url) == shown(page)
