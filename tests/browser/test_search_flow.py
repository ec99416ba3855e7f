"""The header's search box in Chromium: live results as a partner types (htmx), the
keyboard, the full results page with its kind facets, a partner outside the page's
program who never finds it, and a German search that finds a German page by its stem."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Role
from portal.search.indexer import rebuild
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_languages import _switch_to


def _log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def _log_out(page):
    page.get_by_role("button", name=re.compile("Log out|Abmelden")).click()


def test_a_partner_finds_pages_as_they_type_and_only_what_they_may_open(live_server, page, vendor):
    base = live_server.url
    reseller, _admin = vendor
    inside = factories.organization("Inside Reseller GmbH", program=reseller)
    outside = factories.organization("Outside Partner Ltd")
    factories.user(Role.PARTNER_USER, inside, email="ines@inside.example")
    factories.user(Role.PARTNER_USER, outside, email="otto@outside.example")
    guide = factories.resource_page(
        "Reseller onboarding guide", "programs", programs=[reseller], category="guide",
        summary="The first five steps for new resellers.", slug="reseller-onboarding-guide")
    news = factories.resource_page(
        "Reseller price announcement", "partners", category="announcement",
        body="New reseller prices apply from next month.", slug="reseller-price-announcement")
    german = factories.resource_page(
        "Rahmenverträge für Partner", "partners", category="policy", language="de",
        body="Alle Verträge mit Partnern folgen diesem Muster.", slug="rahmenvertraege")
    db.session.commit()
    rebuild()

    # 1. A partner in the Reseller program types a prefix: live results appear.
    _log_in(page, base, "ines@inside.example")
    box = page.locator("#site-search-q")
    live = page.locator("#site-search-live")
    box.press_sequentially("resell")
    live.get_by_role("link", name="Reseller onboarding guide").wait_for()
    assert live.get_by_role("link", name="Reseller price announcement").is_visible()
    assert live.get_by_role("link", name=german.title).count() == 0
    screenshot(page, "search-01-live")

    # 2. The keyboard: ArrowDown moves to the first result, ArrowUp back to the box,
    # Escape closes the live results.
    first = live.locator("ul a").first
    box.press("ArrowDown")
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("ArrowUp")
    assert box.evaluate("el => el === document.activeElement")
    box.press("ArrowDown")
    page.keyboard.press("Escape")
    assert live.locator("a").count() == 0
    assert box.evaluate("el => el === document.activeElement")

    # 3. Enter submits the box: the full results page, with the kind facet and counts.
    box.press_sequentially("er")
    with page.expect_navigation():
        box.press("Enter")
    assert re.search(r"/search\?q=reseller$", page.url)
    results = page.locator("#search-results")
    assert results.get_by_text("2 results").is_visible()
    facets = page.get_by_role("group", name="Kind")
    assert facets.get_by_label("Program guides (1)").is_visible()
    assert facets.get_by_label("Announcements (1)").is_visible()
    screenshot(page, "search-02-results")

    # 4. Ticking a facet filters the results (htmx swaps the list, the address follows).
    facets.get_by_label("Announcements").check()
    results.get_by_text("1 result", exact=True).wait_for()
    assert results.get_by_role("link", name="Reseller onboarding guide").count() == 0
    page.wait_for_url(re.compile(r"kind=resource\.announcement"))

    # 5. Clicking a hit opens the page.
    results.get_by_role("link", name="Reseller price announcement").click()
    page.wait_for_url(f"{base}/resources/{news.slug}")
    assert page.get_by_role("heading", name="Reseller price announcement").is_visible()
    _log_out(page)

    # 6. A partner outside the Reseller program finds the announcement, never the guide:
    # not live, not on the results page, not in a facet count.
    _log_in(page, base, "otto@outside.example")
    box.press_sequentially("resell")
    live.get_by_role("link", name="Reseller price announcement").wait_for()
    assert live.get_by_role("link", name="Reseller onboarding guide").count() == 0
    box.press_sequentially("er")
    with page.expect_navigation():
        box.press("Enter")
    results = page.locator("#search-results")
    assert results.get_by_text("1 result", exact=True).is_visible()
    assert results.get_by_role("link", name="Reseller price announcement").is_visible()
    assert results.get_by_role("link", name="Reseller onboarding guide").count() == 0
    facets = page.get_by_role("group", name="Kind")
    assert facets.get_by_label("Announcements (1)").is_visible()
    assert facets.get_by_label(re.compile("Program guides")).count() == 0
    page.goto(f"{base}/search?q=onboarding")
    assert page.get_by_text("Nothing found. Try other words, or fewer filters.").is_visible()
    assert page.goto(f"{base}/resources/{guide.slug}").status == 404

    # 7. In German, "Vertrag" finds the German page about "Verträge" (stemming).
    page.goto(f"{base}/")
    _switch_to(page, "Deutsch")
    assert page.locator("html").get_attribute("lang") == "de"
    box.fill("")
    box.press_sequentially("Vertrag")
    live.get_by_role("link", name=german.title).wait_for()
    with page.expect_navigation():
        box.press("Enter")
    results = page.locator("#search-results")
    assert results.get_by_text("1 Ergebnis", exact=True).is_visible()
    # Found by its stem, not as a typo: no "similar spellings" note.
    assert results.get_by_text("Keine exakten Treffer").count() == 0
    hit = results.get_by_role("link", name=german.title)
    assert hit.is_visible()
    assert results.locator(".search-hit__snippet mark", has_text="Verträge").count() >= 1
    assert page.get_by_role("group", name="Art").get_by_label("Richtlinien (1)").is_visible()
    screenshot(page, "search-03-german")
    hit.click()
    page.wait_for_url(f"{base}/resources/{german.slug}")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
