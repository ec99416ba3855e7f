"""Staff write and publish a page for one program; a partner in it opens it from the
library, a partner outside it never sees it — in Chromium, with the live preview."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import Role
from tests import factories
from tests.browser.conftest import screenshot


def _log_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_staff_publish_a_program_page_only_its_partners_find(live_server, page, vendor):
    base = live_server.url
    reseller, _admin = vendor
    factories.program("Referral", tiers=("Registered",))
    inside = factories.organization("Inside Reseller GmbH", program=reseller)
    outside = factories.organization("Outside Partner Ltd")
    factories.user(Role.PARTNER_USER, inside, email="ines@inside.example")
    factories.user(Role.PARTNER_USER, outside, email="otto@outside.example")
    db.session.commit()

    # 1. Staff write the page, watching the live preview.
    _log_in(page, base, "vendor.admin@vendor.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Resources").click()
    page.get_by_role("link", name="Manage pages").click()
    page.get_by_role("link", name="New page").click()
    page.get_by_label("Title").fill("Reseller onboarding checklist")
    page.get_by_label("Summary").fill("The first five steps for new resellers.")
    page.get_by_label("Text").fill("# First steps\n\nRegister **your first deal**.\n\n"
                                   "<script>alert(1)</script>")
    preview = page.locator("#resource-preview")
    preview.get_by_role("heading", name="First steps").wait_for()
    assert preview.locator("strong", has_text="your first deal").is_visible()
    assert preview.locator("script").count() == 0
    page.get_by_label("Tags").fill("Onboarding, Reseller")
    programs = page.get_by_role("group", name="Programs")
    assert not programs.is_visible()  # shown only for the audience that uses it
    page.get_by_label("Partners in certain programs").check()
    programs.get_by_label("Reseller").check()
    screenshot(page, "resources-01-editor")
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url(re.compile(r"/resources/reseller-onboarding-checklist$"))
    assert page.get_by_role("heading", name="Reseller onboarding checklist").is_visible()
    page.get_by_role("button", name="Log out").click()

    # 2. A partner in the Reseller program finds it in the library.
    _log_in(page, base, "ines@inside.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Resources").click()
    page.get_by_role("link", name="Reseller onboarding checklist").click()
    page.get_by_role("heading", name="First steps").wait_for()
    assert page.get_by_text("The first five steps for new resellers.").is_visible()
    screenshot(page, "resources-02-partner-page")
    page.get_by_role("link", name="onboarding").first.click()  # a tag: the library, filtered
    page.wait_for_url(re.compile(r"/resources\?tag=onboarding"))
    assert page.get_by_role("link", name="Reseller onboarding checklist").is_visible()
    page.get_by_role("button", name="Log out").click()

    # 3. A partner outside the program neither sees nor opens it.
    _log_in(page, base, "otto@outside.example")
    page.goto(f"{base}/resources")
    assert page.get_by_text("No page matches these filters.").is_visible()
    assert page.get_by_role("link", name="Reseller onboarding checklist").count() == 0
    response = page.goto(f"{base}/resources/reseller-onboarding-checklist")
    assert response is not None and response.status == 404
    screenshot(page, "resources-03-outside")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
