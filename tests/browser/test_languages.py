"""The footer's language switcher, and an Arabic page mirrored right-to-left, in Chromium."""

from __future__ import annotations

import re

from portal.extensions import db
from tests import factories
from tests.browser.conftest import screenshot


def _switch_to(page, label: str) -> None:
    """Choose a language in the footer switcher and submit it (works without JavaScript)."""
    switcher = page.locator("form.language-switcher")
    switcher.locator("select").select_option(label=label)
    with page.expect_navigation():
        switcher.locator("button[type=submit]").click()


def _box(locator):
    box = locator.bounding_box()
    assert box is not None
    return box


def _center(box) -> float:
    return box["x"] + box["width"] / 2


def test_switcher_changes_the_language_of_the_pages(live_server, page, vendor):
    base = live_server.url
    page.goto(f"{base}/login")
    assert page.locator("html").get_attribute("lang") == "en"

    _switch_to(page, "Deutsch")
    page.wait_for_url(f"{base}/login")
    html = page.locator("html")
    assert html.get_attribute("lang") == "de" and html.get_attribute("dir") == "ltr"
    assert page.get_by_role("button", name="Anmelden").is_visible()
    assert page.get_by_text("Forgot your password?").count() == 0
    screenshot(page, "languages-01-login-de")

    # The choice is remembered on the next page (cookie), before anyone logs in.
    page.goto(f"{base}/apply")
    assert page.locator("html").get_attribute("lang") == "de"


def test_arabic_pages_are_right_to_left_and_mirrored(live_server, page, vendor):
    base = live_server.url
    program, admin = vendor
    factories.organization("Acme Networks GmbH", program=program)
    db.session.commit()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    header = _box(page.locator(".site-header__inner"))
    brand_ltr = _box(page.locator("a.brand"))
    assert _center(brand_ltr) < header["x"] + header["width"] / 2

    _switch_to(page, "العربية")
    page.wait_for_url(f"{base}/")
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    # The switcher saves the choice as the user's own setting.
    db.session.refresh(admin)
    assert admin.locale == "ar"

    # Mirrored layout, not only right-aligned text: the brand sits on the right…
    header = _box(page.locator(".site-header__inner"))
    brand = _box(page.locator("a.brand"))
    assert _center(brand) > header["x"] + header["width"] / 2
    # …and the main navigation runs from right to left.
    items = page.get_by_role("navigation", name=re.compile(".+")).first.locator("li")
    assert items.count() >= 2
    first, last = _box(items.first), _box(items.last)
    assert first["x"] > last["x"]
    assert page.get_by_role("button", name="Log out").count() == 0
    screenshot(page, "languages-02-home-ar")

    page.goto(f"{base}/admin/organizations")
    assert page.locator("html").get_attribute("dir") == "rtl"
    headers = page.locator("table").first.locator("thead th")
    assert headers.count() >= 2 and _box(headers.first)["x"] > _box(headers.last)["x"]
    screenshot(page, "languages-03-organizations-ar")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
