"""Vendor side: the user list, a user's page, deactivation, roles and staff invitations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Invitation, Role
from tests import factories


def last_entry(event: str) -> AuditEntry:
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None, f"no audit entry {event}"
    return entry


# -- the list -----------------------------------------------------------------


def test_vendor_admin_sees_every_user(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/users").get_data(as_text=True)
    for person in (world.user_a, world.user_b, world.manager, world.vendor_admin):
        assert person.email in body
    assert "6 users" in body


def test_channel_manager_sees_only_users_of_managed_organizations(client, world):
    client.login(world.manager)
    body = client.get("/admin/users").get_data(as_text=True)
    assert world.user_a.email in body and world.admin_a.email in body
    assert world.user_b.email not in body
    assert world.vendor_admin.email not in body
    assert "2 users" in body


def test_channel_manager_cannot_open_user_of_other_organization_or_staff(client, world):
    client.login(world.manager)
    assert client.get(f"/admin/users/{world.user_a.id}").status_code == 200
    assert client.get(f"/admin/users/{world.user_b.id}").status_code == 404
    assert client.get(f"/admin/users/{world.vendor_admin.id}").status_code == 404


def test_partner_is_refused(client, world):
    client.login(world.admin_a)
    assert client.get("/admin/users").status_code == 403
    assert client.get(f"/admin/users/{world.user_a.id}").status_code == 403
    assert client.post(f"/admin/users/{world.user_a.id}/deactivate").status_code == 403


def test_unknown_user_is_404(client, world):
    client.login(world.vendor_admin)
    assert client.get("/admin/users/99999").status_code == 404
    assert client.post("/admin/users/99999/deactivate").status_code == 404


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("q=GLOBEX", "user@globex.example", "user@acme.example"),
        ("q=manager", "manager@vendor.example", "user@acme.example"),
        ("role=partner_admin", "admin@acme.example", "user@acme.example"),
        ("active=no", "gone@acme.example", "user@acme.example"),
        ("active=yes", "user@acme.example", "gone@acme.example"),
    ],
)
def test_filters_narrow_the_list(client, world, query, shown, hidden):
    factories.user(Role.PARTNER_USER, world.org_a, email="gone@acme.example", active=False)
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get(f"/admin/users?{query}").get_data(as_text=True)
    assert shown in body
    assert hidden not in body


def test_organization_filter(client, world):
    client.login(world.vendor_admin)
    body = client.get(f"/admin/users?organization={world.org_b.id}").get_data(as_text=True)
    assert world.user_b.email in body and world.user_a.email not in body


def test_channel_manager_cannot_filter_to_unmanaged_organization(client, world):
    client.login(world.manager)
    response = client.get(f"/admin/users?organization={world.org_b.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert world.user_b.email not in body
    assert "Globex Systems Ltd" not in body


def test_bad_filters_are_ignored(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/users?role=emperor&organization=x&active=maybe&sort=password_hash")
    assert response.status_code == 200
    assert "6 users" in response.get_data(as_text=True)


def test_users_are_paginated(client, world):
    for n in range(30):
        factories.user(Role.PARTNER_USER, world.org_b, email=f"bulk{n:02d}@globex.example",
                       name=f"Bulk {n:02d}")
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get("/admin/users?q=bulk").get_data(as_text=True)
    assert "30 users" in body and "Page 1 of 2" in body
    assert "bulk00@" in body and "bulk29@" not in body


def test_htmx_returns_only_the_table(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/users?q=acme", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="users-results"' in body
    assert world.user_a.email in body and world.user_b.email not in body


# -- deactivation -------------------------------------------------------------


def test_deactivation_ends_sessions_and_is_audited(app, client, world):
    partner = client
    partner.login(world.user_a)
    assert partner.get("/").status_code == 200
    old_token = world.user_a.session_token
    admin = app.test_client()
    admin.login(world.vendor_admin)
    assert admin.post(f"/admin/users/{world.user_a.id}/deactivate").status_code == 302
    db.session.expire_all()
    assert world.user_a.active is False
    assert world.user_a.session_token != old_token
    assert partner.get("/").status_code == 302
    entry = last_entry("user.deactivated")
    assert ("active", True, False) in entry.changes()
    assert entry.organization_id == world.org_a.id


def test_reactivation(client, world):
    world.user_a.active = False
    db.session.commit()
    client.login(world.vendor_admin)
    assert client.post(f"/admin/users/{world.user_a.id}/reactivate").status_code == 302
    assert world.user_a.active is True
    assert client.post(f"/admin/users/{world.user_a.id}/reactivate").status_code == 409
    assert last_entry("user.reactivated").actor_id == world.vendor_admin.id


def test_vendor_admin_cannot_deactivate_themselves(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{world.vendor_admin.id}/deactivate")
    assert response.status_code == 409
    assert "your own account" in response.get_data(as_text=True)
    assert world.vendor_admin.active is True


def test_deactivating_twice_is_a_conflict(client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/users/{world.user_b.id}/deactivate")
    assert client.post(f"/admin/users/{world.user_b.id}/deactivate").status_code == 409


def test_channel_manager_cannot_deactivate(client, world):
    client.login(world.manager)
    assert client.post(f"/admin/users/{world.user_a.id}/deactivate").status_code == 403
    body = client.get(f"/admin/users/{world.user_a.id}").get_data(as_text=True)
    assert "Deactivate account" not in body


def test_deactivation_needs_csrf(client, world):
    client.login(world.vendor_admin)
    assert client.post(f"/admin/users/{world.user_a.id}/deactivate", csrf=False).status_code == 400
    assert world.user_a.active is True


# -- roles --------------------------------------------------------------------


def test_promote_partner_user_to_partner_admin(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{world.user_a.id}/role", data={"role": "partner_admin"})
    assert response.status_code == 302
    assert world.user_a.role is Role.PARTNER_ADMIN
    assert ("role", "partner_user", "partner_admin") in last_entry("user.role_changed").changes()


@pytest.mark.parametrize("role", ["vendor_admin", "channel_manager", "king"])
def test_partner_cannot_be_given_a_staff_or_unknown_role(client, world, role):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{world.user_a.id}/role", data={"role": role})
    assert response.status_code == 400
    assert world.user_a.role is Role.PARTNER_USER


def test_last_active_vendor_admin_cannot_be_demoted(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{world.vendor_admin.id}/role",
                           data={"role": "channel_manager"})
    assert response.status_code == 409
    assert "last active vendor administrator" in response.get_data(as_text=True)
    assert world.vendor_admin.role is Role.VENDOR_ADMIN


def test_vendor_admin_can_be_demoted_when_another_remains(client, world):
    other = factories.user(Role.VENDOR_ADMIN, email="second@vendor.example")
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{other.id}/role", data={"role": "channel_manager"})
    assert response.status_code == 302
    assert other.role is Role.CHANNEL_MANAGER


def test_inactive_vendor_admins_do_not_count_as_remaining(client, world):
    factories.user(Role.VENDOR_ADMIN, email="dormant@vendor.example", active=False)
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.post(f"/admin/users/{world.vendor_admin.id}/role",
                           data={"role": "channel_manager"})
    assert response.status_code == 409


# -- staff invitations --------------------------------------------------------


def test_vendor_admin_invites_a_channel_manager(client, world, outbox):
    client.login(world.vendor_admin)
    assert client.get("/admin/users/invite").status_code == 200
    response = client.post("/admin/users/invite", data={
        "email": "New.Manager@Vendor.example", "name": "New Manager", "role": "channel_manager"})
    assert response.status_code == 302
    invitation = db.session.scalars(sa.select(Invitation)).one()
    assert invitation.email == "new.manager@vendor.example"
    assert invitation.role is Role.CHANNEL_MANAGER and invitation.organization_id is None
    assert [m["To"] for m in outbox()] == ["new.manager@vendor.example"]
    assert last_entry("user.invited").actor_id == world.vendor_admin.id
    assert "new.manager@vendor.example" in client.get("/admin/users/invite").get_data(as_text=True)


def test_staff_invitation_for_existing_email_is_a_form_error(client, world, outbox):
    client.login(world.vendor_admin)
    response = client.post("/admin/users/invite", data={
        "email": world.manager.email, "role": "vendor_admin"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert outbox() == []


@pytest.mark.parametrize("data", [
    {"email": "not-an-email", "role": "vendor_admin"},
    {"email": "x@vendor.example", "role": "partner_admin"},
    {"email": "", "role": "channel_manager"},
])
def test_staff_invitation_bad_inputs(client, world, data):
    client.login(world.vendor_admin)
    assert client.post("/admin/users/invite", data=data).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_channel_manager_cannot_invite_staff(client, world):
    client.login(world.manager)
    assert client.get("/admin/users/invite").status_code == 403
    assert client.post("/admin/users/invite", data={
        "email": "x@vendor.example", "role": "vendor_admin"}).status_code == 403
