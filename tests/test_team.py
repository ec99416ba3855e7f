"""The team page: colleagues and invitations, and the partner admin's actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.invitations import invite
from portal.models import AuditEntry, Invitation, Role, utcnow
from tests import factories
from tests.conftest import link_in


def audit_events(name: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == name)))


def open_invitation(world, email="newbie@acme.example", organization=None, by=None) -> Invitation:
    invitation = invite(email, Role.PARTNER_USER, organization or world.org_a,
                        invited_by=by or world.admin_a, name="New Bie")
    db.session.commit()
    return invitation


def second_client(app, user):
    other = app.test_client()
    other.login(user)
    return other


# -- the page --------------------------------------------------------------------

def test_team_lists_colleagues_with_role_status_and_last_login(client, world):
    client.login(world.user_a)
    html = client.get("/organization/team").get_data(as_text=True)
    assert world.admin_a.email in html and world.user_a.email in html
    assert "Partner administrator" in html and "Partner user" in html
    assert "Active" in html
    assert "Never" in html  # admin_a has not logged in yet


def test_team_never_lists_another_organizations_people_or_invitations(client, world):
    open_invitation(world, "someone@globex.example", world.org_b, world.admin_b)
    client.login(world.admin_a)
    html = client.get("/organization/team").get_data(as_text=True)
    assert world.user_b.email not in html and world.admin_b.email not in html
    assert "someone@globex.example" not in html


def test_partner_user_sees_the_team_without_actions(client, world):
    open_invitation(world)
    client.login(world.user_a)
    html = client.get("/organization/team").get_data(as_text=True)
    assert "newbie@acme.example" in html
    assert "Deactivate" not in html and "Invite a colleague" not in html and "Resend" not in html


def test_partner_admin_sees_actions_and_the_invite_form(client, world):
    open_invitation(world)
    client.login(world.admin_a)
    html = client.get("/organization/team").get_data(as_text=True)
    assert "Invite a colleague" in html
    assert f"/organization/team/users/{world.user_a.id}/deactivate" in html
    # No deactivate button on one's own row.
    assert f"/organization/team/users/{world.admin_a.id}/deactivate" not in html
    assert "Resend" in html and "Revoke" in html


def test_team_is_paginated_in_the_database(client, world, app):
    for n in range(5):
        factories.user(Role.PARTNER_USER, world.org_a, name=f"Zed {n}")
    db.session.commit()
    app.config["PAGE_SIZE"] = 3
    client.login(world.admin_a)
    first = client.get("/organization/team").get_data(as_text=True)
    assert "Page 1 of 3" in first
    third = client.get("/organization/team?page=3").get_data(as_text=True)
    assert "Zed 4" in third and "Zed 0" not in third
    assert client.get("/organization/team?page=99").status_code == 200


def test_team_sorts_by_whitelisted_keys_only(client, world):
    client.login(world.admin_a)
    html = client.get("/organization/team?sort=-email").get_data(as_text=True)
    assert html.index(world.user_a.email) < html.index(world.admin_a.email)
    assert client.get("/organization/team?sort=password_hash").status_code == 200
    assert client.get("/organization/team?sort=-last_login").status_code == 200


def test_htmx_list_request_gets_only_the_table(client, world):
    client.login(world.admin_a)
    response = client.get("/organization/team?sort=email", htmx=True,
                          headers={"HX-Target": "team-members"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="team-members"' in html
    assert world.user_a.email in html
    response = client.get("/organization/team", htmx=True, headers={"HX-Target": "team-invitations"})
    assert 'id="team-invitations"' in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)


def test_staff_have_no_team_page_of_their_own(client, world):
    client.login(world.vendor_admin)
    response = client.get("/organization/team")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/organization/team")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.post(f"/organization/team/users/{world.user_a.id}/deactivate")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- inviting --------------------------------------------------------------------

def test_partner_admin_invites_a_colleague_to_their_own_organization(client, world, outbox):
    client.login(world.admin_a)
    response = client.post("/organization/team/invite", data={
        "email": " New.Person@Acme.example ", "name": "New Person", "role": "partner_admin", "locale": "en",
    })
    assert response.status_code == 302
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.email == "new.person@acme.example"))
    assert invitation.organization_id == world.org_a.id
    assert invitation.role is Role.PARTNER_ADMIN
    assert invitation.invited_by_id == world.admin_a.id
    messages = outbox()
    assert messages[-1]["To"] == "new.person@acme.example"
    assert "/invitation/" in link_in(messages[-1])
    assert audit_events("user.invited")


def test_a_forged_organization_id_is_ignored(client, world):
    client.login(world.admin_a)
    client.post("/organization/team/invite", data={
        "email": "mole@example.com", "role": "partner_user", "locale": "en",
        "organization_id": str(world.org_b.id), "organization": str(world.org_b.id),
    })
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.email == "mole@example.com"))
    assert invitation.organization_id == world.org_a.id


@pytest.mark.parametrize("data, message", [
    ({"email": "not an email", "role": "partner_user", "locale": "en"}, "Enter a valid email address"),
    ({"email": "", "role": "partner_user", "locale": "en"}, "This field is required"),
    ({"email": "x@example.com", "role": "vendor_admin", "locale": "en"}, "Not a valid choice"),
    ({"email": "x@example.com", "role": "channel_manager", "locale": "en"}, "Not a valid choice"),
    ({"email": "x@example.com", "role": "partner_user", "locale": "xx"}, "Not a valid choice"),
    ({"email": "x@example.com", "role": "partner_user", "locale": "en", "name": "n" * 201}, "200"),
])
def test_invite_rejects_bad_input_beside_the_field(client, world, data, message):
    client.login(world.admin_a)
    response = client.post("/organization/team/invite", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_invite_refuses_an_existing_account(client, world):
    client.login(world.admin_a)
    response = client.post("/organization/team/invite",
                           data={"email": world.user_b.email, "role": "partner_user", "locale": "en"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_invite_does_not_cancel_another_organizations_open_invitation(client, world):
    theirs = open_invitation(world, "wanted@example.com", world.org_b, world.admin_b)
    client.login(world.admin_a)
    response = client.post("/organization/team/invite",
                           data={"email": "wanted@example.com", "role": "partner_user", "locale": "en"})
    assert response.status_code == 400
    db.session.refresh(theirs)
    assert theirs.is_pending


def test_invite_without_csrf_token_is_refused(client, world):
    client.login(world.admin_a)
    response = client.post("/organization/team/invite", csrf=False,
                           data={"email": "x@example.com", "role": "partner_user", "locale": "en"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


# -- partner users and other organizations ------------------------------------------

def test_partner_user_cannot_use_any_team_action(client, world):
    invitation = open_invitation(world)
    client.login(world.user_a)
    for url, data in [
        ("/organization/team/invite", {"email": "x@example.com", "role": "partner_user", "locale": "en"}),
        (f"/organization/team/users/{world.admin_a.id}/deactivate", {}),
        (f"/organization/team/users/{world.admin_a.id}/reactivate", {}),
        (f"/organization/team/users/{world.user_a.id}/role", {"role": "partner_admin"}),
        (f"/organization/team/invitations/{invitation.id}/resend", {}),
        (f"/organization/team/invitations/{invitation.id}/revoke", {}),
    ]:
        assert client.post(url, data=data).status_code == 403, url
    db.session.refresh(world.user_a)
    assert world.user_a.role is Role.PARTNER_USER and world.admin_a.active


def test_partner_admin_cannot_touch_another_organizations_people(client, world):
    invitation = open_invitation(world, "someone@globex.example", world.org_b, world.admin_b)
    client.login(world.admin_a)
    assert client.post(f"/organization/team/users/{world.user_b.id}/deactivate").status_code == 404
    assert client.post(f"/organization/team/users/{world.user_b.id}/reactivate").status_code == 404
    assert client.post(f"/organization/team/users/{world.user_b.id}/role",
                       data={"role": "partner_admin"}).status_code == 404
    assert client.post(f"/organization/team/invitations/{invitation.id}/resend").status_code == 404
    assert client.post(f"/organization/team/invitations/{invitation.id}/revoke").status_code == 404
    assert client.post(f"/organization/team/users/{world.manager.id}/deactivate").status_code == 404
    assert client.post("/organization/team/users/999999/deactivate").status_code == 404
    db.session.refresh(world.user_b)
    db.session.refresh(invitation)
    assert world.user_b.active and world.user_b.role is Role.PARTNER_USER and invitation.is_pending


def test_staff_get_404_on_team_actions(client, world):
    client.login(world.vendor_admin)
    assert client.post(f"/organization/team/users/{world.user_a.id}/deactivate").status_code == 404
    assert client.post("/organization/team/invite",
                       data={"email": "x@example.com", "role": "partner_user", "locale": "en"}).status_code == 404
    client.post("/logout")
    client.login(world.manager)
    assert client.post(f"/organization/team/users/{world.user_a.id}/deactivate").status_code == 403


# -- deactivate / reactivate -----------------------------------------------------------

def test_deactivating_a_colleague_ends_their_sessions(client, world, app):
    victim = second_client(app, world.user_a)
    assert victim.get("/").status_code == 200
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.user_a.id}/deactivate")
    assert response.status_code == 302 and response.headers["Location"].endswith("/organization/team")
    db.session.refresh(world.user_a)
    assert world.user_a.active is False
    assert victim.get("/").status_code == 302
    entry = audit_events("user.deactivated")[-1]
    assert entry.before["active"] is True and entry.after["active"] is False
    assert entry.actor_id == world.admin_a.id and entry.organization_id == world.org_a.id


def test_deactivating_yourself_is_a_conflict(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.admin_a.id}/deactivate")
    assert response.status_code == 409
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.refresh(world.admin_a)
    assert world.admin_a.active


def test_reactivating_a_colleague(client, world):
    world.user_a.active = False
    db.session.commit()
    client.login(world.admin_a)
    assert client.post(f"/organization/team/users/{world.user_a.id}/reactivate").status_code == 302
    db.session.refresh(world.user_a)
    assert world.user_a.active
    assert audit_events("user.reactivated")


def test_htmx_deactivate_returns_the_row_and_a_status_message(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.user_a.id}/deactivate", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert f'<tr id="member-{world.user_a.id}"' in html
    assert "Deactivated" in html and "Reactivate" in html
    assert 'hx-swap-oob="true"' in html and "can no longer log in" in html


def test_htmx_conflict_returns_a_partial_error(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.admin_a.id}/deactivate", htmx=True)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "<html" not in html and "cannot deactivate your own account" in html


def test_deactivate_without_csrf_is_refused(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.user_a.id}/deactivate", csrf=False)
    assert response.status_code == 400
    db.session.refresh(world.user_a)
    assert world.user_a.active


def test_deactivate_is_post_only(client, world):
    client.login(world.admin_a)
    assert client.get(f"/organization/team/users/{world.user_a.id}/deactivate").status_code == 405


# -- roles -----------------------------------------------------------------------

def test_partner_admin_promotes_a_colleague(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.user_a.id}/role", data={"role": "partner_admin"})
    assert response.status_code == 302
    db.session.refresh(world.user_a)
    assert world.user_a.role is Role.PARTNER_ADMIN
    entry = audit_events("user.role_changed")[-1]
    assert entry.before["role"] == "partner_user" and entry.after["role"] == "partner_admin"


def test_the_last_active_admin_cannot_be_demoted(client, world):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.admin_a.id}/role", data={"role": "partner_user"})
    assert response.status_code == 409
    assert "last active administrator" in response.get_data(as_text=True)
    db.session.refresh(world.admin_a)
    assert world.admin_a.role is Role.PARTNER_ADMIN


def test_an_inactive_admin_does_not_count_as_the_remaining_admin(client, world):
    factories.user(Role.PARTNER_ADMIN, world.org_a, active=False)
    db.session.commit()
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.admin_a.id}/role", data={"role": "partner_user"})
    assert response.status_code == 409


def test_an_admin_may_step_down_when_another_admin_remains(client, world):
    world.user_a.role = Role.PARTNER_ADMIN
    db.session.commit()
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.admin_a.id}/role",
                           data={"role": "partner_user"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Refresh"] == "true"
    db.session.refresh(world.admin_a)
    assert world.admin_a.role is Role.PARTNER_USER
    assert client.post(f"/organization/team/users/{world.user_a.id}/deactivate").status_code == 403


def test_demoting_another_admin_is_allowed(client, world):
    second_admin = factories.user(Role.PARTNER_ADMIN, world.org_a)
    db.session.commit()
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{second_admin.id}/role",
                           data={"role": "partner_user"}, htmx=True)
    assert response.status_code == 200
    assert f'<tr id="member-{second_admin.id}"' in response.get_data(as_text=True)
    db.session.refresh(second_admin)
    assert second_admin.role is Role.PARTNER_USER


@pytest.mark.parametrize("role", ["vendor_admin", "channel_manager", "", "superuser"])
def test_role_change_accepts_partner_roles_only(client, world, role):
    client.login(world.admin_a)
    response = client.post(f"/organization/team/users/{world.user_a.id}/role", data={"role": role})
    assert response.status_code == 400
    db.session.refresh(world.user_a)
    assert world.user_a.role is Role.PARTNER_USER


# -- resend and revoke ------------------------------------------------------------

def test_resend_replaces_the_invitation_with_a_new_one(client, world, outbox):
    old = open_invitation(world)
    client.login(world.admin_a)
    response = client.post(f"/organization/team/invitations/{old.id}/resend", htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    db.session.refresh(old)
    assert old.revoked_at is not None
    fresh = db.session.scalar(sa.select(Invitation).where(Invitation.id != old.id))
    assert fresh.is_pending and fresh.organization_id == world.org_a.id and fresh.name == "New Bie"
    assert f'<tr id="invitation-{fresh.id}"' in html and 'hx-swap-oob="true"' in html
    assert outbox()[-1]["To"] == "newbie@acme.example"
    # The old link is dead, the new one works.
    assert client.get(link_in(outbox()[0])).status_code == 400


def test_resend_an_expired_invitation(client, world):
    old = open_invitation(world)
    old.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    client.login(world.admin_a)
    assert "Expired" in client.get("/organization/team").get_data(as_text=True)
    assert client.post(f"/organization/team/invitations/{old.id}/resend").status_code == 302
    db.session.refresh(old)
    assert old.revoked_at is not None
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 2


def test_revoke_an_invitation(client, world):
    invitation = open_invitation(world)
    client.login(world.admin_a)
    response = client.post(f"/organization/team/invitations/{invitation.id}/revoke", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<tr" not in html and "is revoked" in html
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    assert audit_events("invitation.revoked")
    assert "newbie@acme.example" not in client.get("/organization/team").get_data(as_text=True)


def test_revoked_or_accepted_invitations_cannot_be_resent_or_revoked(client, world):
    invitation = open_invitation(world)
    invitation.revoked_at = utcnow()
    db.session.commit()
    client.login(world.admin_a)
    assert client.post(f"/organization/team/invitations/{invitation.id}/resend").status_code == 409
    assert client.post(f"/organization/team/invitations/{invitation.id}/revoke").status_code == 409
    accepted = open_invitation(world, "joined@acme.example")
    accepted.accepted_at = utcnow()
    db.session.commit()
    assert client.post(f"/organization/team/invitations/{accepted.id}/resend").status_code == 409


def test_resend_when_the_person_has_meanwhile_an_account_is_a_conflict(client, world):
    invitation = open_invitation(world)
    factories.user(Role.PARTNER_USER, world.org_a, email="newbie@acme.example")
    db.session.commit()
    client.login(world.admin_a)
    response = client.post(f"/organization/team/invitations/{invitation.id}/resend")
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
