"""apply → approve → accept the invitation → log in → invite a colleague, in Chromium."""

from __future__ import annotations

import re

from tests import factories
from tests.browser.conftest import screenshot
from tests.conftest import link_in, outbox_messages


def _last_mail_to(app, address):
    messages = [m for m in outbox_messages(app) if m["To"] == address]
    assert messages, f"no mail to {address}"
    return messages[-1]


def test_partner_onboarding_main_flow(live_server, page, vendor):
    app, base = live_server.app, live_server.url

    # 1. A company applies.
    page.goto(f"{base}/apply")
    page.get_by_label("Company name").fill("Umbrella Integrations BV")
    page.get_by_label("Website").fill("umbrella-integrations.example")
    page.get_by_label("Country").select_option("NL")
    page.get_by_label("Type of partner").select_option("reseller")
    page.get_by_label("Program").select_option(label="Reseller")
    page.get_by_label("Your name").fill("Alice Umbrella")
    page.get_by_label("Your email").fill("alice@umbrella.example")
    page.get_by_label(re.compile("I agree")).check()
    screenshot(page, "01-apply")
    page.get_by_role("button", name=re.compile("Send|Submit|Apply", re.I)).click()
    page.wait_for_url(re.compile(r"/apply/thanks"))
    assert "alice@umbrella.example" in _last_mail_to(app, "alice@umbrella.example")["To"]

    # 2. The vendor admin approves it.
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill("vendor.admin@vendor.example")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/admin/applications")
    page.get_by_role("link", name=re.compile("Umbrella Integrations")).click()
    screenshot(page, "02-review")
    page.get_by_role("button", name=re.compile("^Approve", re.I)).click()
    page.wait_for_load_state()
    assert page.get_by_text(re.compile("approved", re.I)).first.is_visible()
    page.get_by_role("button", name="Log out").click()

    # 3. The contact accepts the invitation from the email.
    invitation = _last_mail_to(app, "alice@umbrella.example")
    page.goto(base + link_in(invitation))
    page.get_by_label("Your name").fill("Alice Umbrella")
    page.get_by_label("Choose a password").fill("umbrella secret 2026")
    page.get_by_label("Repeat the password").fill("umbrella secret 2026")
    screenshot(page, "03-accept")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_text("Umbrella Integrations BV").first.is_visible()
    page.get_by_role("button", name="Log out").click()

    # 4. She logs in with her new password.
    page.get_by_label("Email").fill("alice@umbrella.example")
    page.get_by_label("Password").fill("umbrella secret 2026")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    screenshot(page, "04-home")

    # 5. She invites a colleague from the team page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    page.get_by_label("Email").fill("bob@umbrella.example")
    page.get_by_label("Name", exact=True).fill("Bob Umbrella")
    page.get_by_role("button", name=re.compile("invit", re.I)).first.click()
    page.get_by_text("bob@umbrella.example").first.wait_for()
    screenshot(page, "05-team")
    assert _last_mail_to(app, "bob@umbrella.example")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
