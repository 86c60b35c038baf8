"""axe-core over every kind of page, in Chromium, at desktop and phone width: no serious or
critical violation. The rules are axe's own (axe-playwright-python carries axe-core)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAGES = {
    "front": "/",
    "results": "/search?q=facial",
    "results filtered": "/search?q=facial&provider=Sky&from=2021-01-01",
    "zero results": "/search?q=zzzqqqxx&typing=0",
    "misspelt": "/search?q=facial+recogniton&typing=0",
    "error": "/search?page=0",
    "record": None,  # the first result of "facial"
    "compare": "/compare?q=facial&q=police",
    "compare, one query": "/compare?q=facial",
    "facet values": "/facet?facet=provider",
    "not found": "/doc/nosuchrecord0",
    "saved searches": "/saved",
    "history": "/history",
    "collections": "/collections",
    "collection unknown": "/collection?name=nosuch",
}


# WCAG 2.0-2.2 A and AA (target size among them) and axe's best practices.
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                 "wcag22aa", "best-practice"]},
           "resultTypes": ["violations"]}


@pytest.fixture(scope="module")
def axe():
    return Axe()


def serious(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(page, live_site, axe, name, width):
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    path = PAGES[name]
    if path is None:
        page.goto(live_site.url + "/search?q=facial")
        path = page.locator(".hit-title a").first.get_attribute("href")
    page.goto(live_site.url + path)
    expect(page.locator("h1")).to_have_count(1)
    if "search?q=" in path and "zzz" not in path and "page=0" not in path:
        page.locator("details.research > summary").click()  # folded until asked for
        expect(page.locator(".research-views")).to_be_visible()
    assert serious(axe.run(page, options=OPTIONS)) == []
