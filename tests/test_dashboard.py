"""The home page: a partner's organization at a glance; staff figures, each one
aggregate query, scoped to a channel manager's organizations."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.events import emit
from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    Notification,
    OrganizationStatus,
    PartnerApplication,
    PartnerType,
    Role,
    utcnow,
)
from tests import factories


def figure(html: str, attribute: str, value: str) -> int:
    match = re.search(rf'{attribute}="{re.escape(value)}">(\d+)<', html)
    assert match, f"{attribute}={value} not on the page"
    return int(match.group(1))


def by_id(html: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}">(\d+)<', html)
    assert match, element_id
    return int(match.group(1))


def application(world, status=ApplicationStatus.PENDING) -> PartnerApplication:
    app_ = PartnerApplication(company_name="Initech", country="US", partner_type=PartnerType.REFERRAL,
                              program_id=world.reseller.id, contact_name="Bill", contact_email="bill@initech.example",
                              status=status)
    db.session.add(app_)
    db.session.flush()
    return app_


# -- partners ------------------------------------------------------------------

def test_partner_home_shows_organization_memberships_and_next_tier(client, world):
    client.login(world.user_a)
    html = client.get("/").get_data(as_text=True)
    assert "Acme Networks GmbH" in html and "Active" in html
    assert "Reseller" in html and "Silver" in html and "Gold" in html
    assert "Globex" not in html


def test_partner_at_the_top_tier_has_no_next_tier(client, world):
    membership = world.org_b.memberships[0]
    membership.tier = world.referral.tiers[-1]
    db.session.commit()
    client.login(world.user_b)
    html = client.get("/").get_data(as_text=True)
    assert "Preferred" in html and "Highest tier reached" in html


def test_partner_home_shows_team_size_and_unread_notifications(client, world):
    factories.user(Role.PARTNER_USER, world.org_a, active=False)  # not counted
    db.session.add_all([
        Notification(user_id=world.user_a.id, event="x", message="Hello", params={}),
        Notification(user_id=world.user_a.id, event="x", message="Again", params={}),
        Notification(user_id=world.user_a.id, event="x", message="Read", params={}, read_at=utcnow()),
        Notification(user_id=world.admin_a.id, event="x", message="Not mine", params={}),
    ])
    db.session.commit()
    client.login(world.user_a)
    html = client.get("/").get_data(as_text=True)
    assert "2 active people" in html
    assert "2 unread notifications" in html


def test_partner_home_includes_the_onboarding_checklist(client, world):
    client.login(world.admin_a)
    html = client.get("/").get_data(as_text=True)
    assert "Get started" in html and "Complete your organization profile" in html
    assert "Invite a colleague" in html


def test_partner_home_quick_links_follow_permissions(client, world):
    client.login(world.user_a)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/account/"' in html and 'href="/organization/team"' in html
    assert 'href="/organization/edit"' not in html
    client.post("/logout")
    client.login(world.admin_a)
    assert 'href="/organization/edit"' in client.get("/").get_data(as_text=True)


def test_partner_without_memberships_is_told_so(client, world):
    org = factories.organization("Lonely Ltd")
    person = factories.user(Role.PARTNER_USER, org)
    db.session.commit()
    client.login(person)
    assert "not a member of any program" in client.get("/").get_data(as_text=True)


# -- staff -----------------------------------------------------------------------

def _extra_world(world) -> None:
    """A suspended organization outside the manager's reach, a second managed one,
    an inactive user, two pending applications and a rejected one."""
    factories.organization("Suspended Co", status=OrganizationStatus.SUSPENDED, program=world.referral)
    managed = factories.organization("Managed Two", program=world.reseller)
    factories.assign_manager(world.manager, managed)
    factories.user(Role.PARTNER_USER, managed)
    factories.user(Role.PARTNER_USER, world.org_b, active=False)
    application(world)
    application(world)
    application(world, ApplicationStatus.REJECTED)
    db.session.commit()


def test_vendor_admin_figures_cover_everything(client, world):
    _extra_world(world)
    client.login(world.vendor_admin)
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "data-status", "active") == 3
    assert figure(html, "data-status", "suspended") == 1
    assert by_id(html, "pending-applications") == 2
    # 6 in the world + 1 in Managed Two; the deactivated one is not counted.
    assert by_id(html, "active-users") == 7
    assert figure(html, "data-program", "reseller") == 2
    assert figure(html, "data-program", "referral") == 2


def test_channel_manager_figures_cover_only_their_organizations(client, world):
    _extra_world(world)
    client.login(world.manager)
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "data-status", "active") == 2
    assert figure(html, "data-status", "suspended") == 0
    assert by_id(html, "pending-applications") == 2  # unassigned: every reviewer sees them
    assert by_id(html, "active-users") == 3  # admin_a, user_a, the Managed Two user
    assert figure(html, "data-program", "reseller") == 2
    assert figure(html, "data-program", "referral") == 0


def test_recently_active_users_are_counted(client, world):
    world.user_a.last_login_at = utcnow() - timedelta(days=2)
    world.admin_b.last_login_at = utcnow() - timedelta(days=90)
    db.session.commit()
    client.login(world.manager)  # logging in counts the manager (no organization: not in reach)
    html = client.get("/").get_data(as_text=True)
    assert "1 logged in during the last 30 days" in html


def test_recent_audit_entries_are_the_latest_ten_in_scope(client, world):
    for n in range(12):
        emit("organization.updated", world.org_a, actor=world.admin_a, summary=f"change A{n}")
    emit("organization.updated", world.org_b, actor=world.admin_b, summary="secret change B")
    db.session.commit()
    client.login(world.manager)
    html = client.get("/").get_data(as_text=True)
    assert "secret change B" not in html
    assert "change A11" in html and "change A2" in html and "change A1<" not in html
    client.post("/logout")
    client.login(world.vendor_admin)
    html = client.get("/").get_data(as_text=True)
    assert "secret change B" in html


def test_staff_home_costs_the_same_with_more_data(client, world, app):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    client.login(world.vendor_admin)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/")
        small = len(statements)
        for n in range(15):
            org = factories.organization(program=world.reseller)
            factories.user(Role.PARTNER_USER, org)
            emit("organization.updated", org, actor=world.vendor_admin)
        db.session.commit()
        statements.clear()
        html = client.get("/").get_data(as_text=True)
        assert len(statements) == small
        assert figure(html, "data-program", "reseller") == 16
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    # No statement selects every organization or user without aggregating.
    assert not any(re.match(r"SELECT organization\.id, organization\.name", s) for s in statements)


def test_partner_home_costs_the_same_with_a_bigger_team(client, world):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    client.login(world.admin_a)
    client.get("/")  # settles what the worker keeps between requests (the settings cache)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/")
        small = len(statements)
        for _ in range(10):
            factories.user(Role.PARTNER_USER, world.org_a)
        db.session.commit()
        statements.clear()
        html = client.get("/").get_data(as_text=True)
        assert len(statements) == small
        assert "12 active people" in html
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_anonymous_home_goes_to_login(client, world):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
