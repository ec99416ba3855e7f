"""The main flow in the demo portal, in a real Chromium: a partner registers a deal
and pre-checks it for conflicts, attaches a file and deletes it again, attaches
another one that their partner admin deletes, a channel manager writes a staff
note (which the partner never sees), edits and deletes another one, and approves
the registration, the partner gets it extended, wins it, and sees the won value
and the tier metric on the home page.

Chromium comes from the system (``chromium`` on the PATH or ``PORTAL_CHROMIUM``),
through the test kit's ``portal_browser`` fixture; without a browser the test skips."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from portal import demo
from portal.extensions import db
from portal.plugin_migrations import upgrade_all

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[3] / "tests" / "screenshots"


@pytest.fixture
def portal_plugins() -> list[str]:
    return ["deals"]


@pytest.fixture
def portal_config() -> dict[str, Any]:
    return {"SERVER_NAME": None, "BASE_URL": "http://127.0.0.1"}


@pytest.fixture
def demo_server(portal_empty_app: Any) -> Iterator[str]:
    """``portal demo`` on an empty database, served from a thread."""
    app = portal_empty_app
    upgrade_all()
    with app.test_request_context():
        demo.seed()
    db.session.remove()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def page(portal_browser: Any) -> Iterator[Any]:
    """A tab of the test kit's Chromium (one per test process, see portal.testing.browser)."""
    context = portal_browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.console_errors = errors  # type: ignore[attr-defined]
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"deals-{name}.png"), full_page=True)


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_register_precheck_approve_extend_win(demo_server: str, page: Any) -> None:
    base = demo_server
    partner, manager = "harry.clarke@harborlane.example.com", "emea.manager@vendor.example.com"
    admin = "admin@harborlane.example.com"  # Harbor Lane's partner admin

    # 1. A partner registers a deal; the pre-check warns about a protected customer.
    log_in(page, base, partner)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals").click()
    page.get_by_role("link", name="Register a deal").click()
    page.get_by_role("link", name="Reseller").click()  # Harbor Lane is in two programs
    page.get_by_label("Customer company").fill("Nordwind Logistik AG")
    page.get_by_label("Customer website").fill("nordwind-logistik.example.com")
    page.get_by_label("Customer country").select_option("DE")
    page.get_by_role("button", name="Check for conflicts").click()
    page.get_by_text("This customer appears to be protected already").wait_for()
    assert "BrightPath" not in page.locator("#deals-precheck").inner_text()
    shot(page, "01-precheck-protected")

    page.get_by_label("Customer company").fill("Kraken Shipping Ltd")
    page.get_by_label("Customer website").fill("https://kraken-shipping.example.com")
    page.get_by_label("Customer country").select_option("GB")
    page.get_by_label("Industry").select_option("transport")
    page.get_by_label("Contact name").fill("Mary Reed")
    page.get_by_label("Contact email").fill("mary.reed@kraken-shipping.example.com")
    page.get_by_label("Firewall Appliance 500").check()
    page.get_by_label("Estimated value").fill("90000")
    page.get_by_label("Currency").select_option("GBP")
    page.get_by_label("Expected close date").fill("2030-06-30")
    page.get_by_role("button", name="Check for conflicts").click()
    page.get_by_text("No protected registration matches this customer.").wait_for()
    shot(page, "02-form")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted: the channel team reviews your registration").wait_for()
    shot(page, "03-submitted")

    # 1b. The partner attaches a file, thinks better of it and deletes it (htmx asks first).
    page.get_by_label("Attach a file").set_input_files(
        {"name": "old-quote.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"})
    page.get_by_role("button", name="Attach", exact=True).click()
    page.get_by_text("old-quote.pdf is attached.").wait_for()
    delete = page.get_by_role("link", name="Delete old-quote.pdf")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    delete.click()
    page.wait_for_timeout(300)
    assert questions == ["Delete old-quote.pdf? This cannot be undone."]
    assert delete.is_visible()  # dismissed: nothing deleted
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    page.get_by_text("old-quote.pdf is deleted.").wait_for()
    assert page.locator(".deals-attachments").get_by_text("old-quote.pdf").count() == 0
    assert page.locator(".deals-history").get_by_text("Attachment deleted").is_visible()
    shot(page, "03b-attachment-deleted")
    page.get_by_label("Attach a file").set_input_files(
        {"name": "site-survey.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"})
    page.get_by_role("button", name="Attach", exact=True).click()
    page.get_by_text("site-survey.pdf is attached.").wait_for()
    registration_url = page.url
    log_out(page)

    # 1c. The partner admin removes the colleague's file (only while the registration is open).
    log_in(page, base, admin)
    page.goto(registration_url)
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("link", name="Delete site-survey.pdf").click()
    page.get_by_text("site-survey.pdf is deleted.").wait_for()
    assert questions == ["Delete site-survey.pdf? This cannot be undone."]
    assert page.locator(".deals-attachments").get_by_text("site-survey.pdf").count() == 0
    shot(page, "03c-colleague-file-deleted")
    log_out(page)

    # 2. The channel manager notes something for the team, then approves it from the review queue.
    log_in(page, base, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deal reviews").click()
    page.get_by_role("link", name="Kraken Shipping Ltd").click()
    page.get_by_text("No conflict found with any other active registration.").wait_for()
    page.get_by_role("textbox", name="Staff note").fill("Harbor Lane's third shipping deal this year: check for a pattern.")
    page.get_by_role("button", name="Add the staff note").click()
    page.get_by_text("Your staff note is added. Partners do not see it.").wait_for()
    assert page.locator(".deals-staff-notes").get_by_text("third shipping deal").is_visible()
    shot(page, "03d-staff-note")
    # A second note is edited, then deleted (the dialog accepted).
    page.get_by_role("textbox", name="Staff note").fill("Partner asked for a discout.")
    page.get_by_role("button", name="Add the staff note").click()
    page.get_by_text("Your staff note is added. Partners do not see it.").wait_for()
    second = page.locator(".deals-staff-note", has_text="discout")
    second.get_by_role("link", name=re.compile("^Edit the staff note")).click()
    page.get_by_role("heading", name="Change your staff note").wait_for()
    page.get_by_role("textbox", name="Staff note").fill("Partner asked for a discount: 5 % at most.")
    page.get_by_role("button", name="Save the staff note").click()
    page.get_by_text("Your staff note is changed. Partners do not see it.").wait_for()
    edited = page.locator(".deals-staff-note", has_text="discount: 5 % at most")
    assert edited.locator(".deals-staff-note__edited").is_visible()
    assert "edited" in edited.inner_text()
    shot(page, "03e-staff-note-edited")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    edited.get_by_role("link", name=re.compile("^Delete the staff note")).click()
    page.get_by_text("The staff note is deleted.").wait_for()
    assert questions == ["Delete this staff note? This cannot be undone."]
    assert page.locator(".deals-staff-notes").get_by_text("discount").count() == 0
    assert page.locator(".deals-staff-notes").get_by_text("third shipping deal").is_visible()
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text(re.compile("Approved: Kraken Shipping Ltd is protected until")).wait_for()
    shot(page, "04-approved")
    log_out(page)

    # 3. The partner asks for an extension, the manager grants it.
    log_in(page, base, partner)
    page.goto(f"{base}/p/deals/?q=kraken")
    page.get_by_role("link", name="Kraken Shipping Ltd").click()
    assert "third shipping deal" not in page.content() and page.locator(".deals-staff-notes").count() == 0
    page.get_by_text("Request an extension").first.click()
    page.get_by_label("Reason").fill("The customer's board meets in September.")
    page.get_by_role("button", name="Request an extension").click()
    page.get_by_text("Extension requested: the channel team decides on it.").wait_for()
    log_out(page)
    log_in(page, base, manager)
    page.goto(f"{base}/p/deals/review?view=extension")
    page.get_by_role("link", name="Kraken Shipping Ltd").click()
    page.get_by_role("button", name=re.compile("Extend by 30 days")).click()
    page.get_by_text(re.compile("Extended: protected until")).wait_for()
    log_out(page)

    # 4. The partner wins it and sees the won value and the tier metric at home.
    log_in(page, base, partner)
    page.goto(f"{base}/p/deals/?q=kraken")
    page.get_by_role("link", name="Kraken Shipping Ltd").click()
    assert page.get_by_text("1 extension of 30 days left.").is_visible()
    page.get_by_text("Mark won").first.click()
    page.get_by_label("Final value").fill("95000")
    page.get_by_role("button", name="Mark won").click()
    page.get_by_text("Congratulations: the deal is marked won.").wait_for()
    page.goto(f"{base}/")
    widget = page.locator(".widget--deals")
    widget.wait_for()
    text = widget.inner_text()
    assert "€111,150.00" in text  # 95,000 GBP at 1.17 in the reporting currency, this quarter
    assert "won in the last 12 months: your tier metric" in text
    assert "Reseller, Gold asks for €250,000.00 of won deals" in text
    assert widget.locator("svg").count() >= 2
    shot(page, "05-dashboard")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
