"""axe-core in Chromium over the core screens, for each kind of user.

Serious and critical violations fail the test. The CSP forbids injected scripts,
so this browser context bypasses CSP (only here, only to run axe).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.extensions import db
from portal.models import Role
from tests import factories

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

PAGES = {
    None: ["/login", "/apply", "/password/forgot", "/search?q=guide"],
    Role.PARTNER_ADMIN: ["/", "/organization/", "/organization/edit", "/organization/team", "/account/",
                         "/account/password", "/notifications/", "/search?q=guide", "/search"],
    Role.VENDOR_ADMIN: ["/", "/admin/organizations", "/admin/users", "/admin/programs",
                        "/admin/applications", "/admin/audit", "/admin/organizations/new"],
}


def _violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("role", list(PAGES), ids=lambda r: r.value if r else "anonymous")
def test_core_pages_have_no_serious_accessibility_violations(browser, live_server, role):
    program = factories.program("Reseller")
    org = factories.organization("Acme Networks GmbH", program=program)
    factories.organization("Globex Systems Ltd", country="GB", program=program)
    users = {
        Role.PARTNER_ADMIN: factories.user(Role.PARTNER_ADMIN, org, email="pa@acme.example"),
        Role.VENDOR_ADMIN: factories.user(Role.VENDOR_ADMIN, email="va@vendor.example"),
    }
    factories.user(Role.PARTNER_USER, org, email="pu@acme.example")
    factories.resource_page("Partner guide", "public", body="How partners use this guide.",
                            tags=["onboarding"])
    db.session.commit()
    from portal.search.indexer import rebuild

    rebuild()  # search results, their facets and snippets are scanned too
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = live_server.url
    try:
        if role is not None:
            page.goto(f"{base}/login")
            page.get_by_label("Email").fill(users[role].email)
            page.get_by_label("Password").fill(factories.PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/")
        problems = {}
        for path in PAGES[role]:
            page.goto(base + path)
            found = _violations(page)
            if found:
                problems[path] = [
                    {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
                    for v in found
                ]
        assert not problems, json.dumps(problems, indent=1)
    finally:
        context.close()
