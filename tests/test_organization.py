"""The partner's organization profile, its editing, and the "invitation accepted"
notification."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.tokens import invitation_token
from portal.extensions import db
from portal.invitations import invite
from portal.models import AuditEntry, Notification, Organization, OrganizationStatus, PartnerType, Role
from tests import factories
from tests.conftest import link_in

VALID = {
    "name": "Acme Networks AG",
    "website": "acme.example",
    "country": "AT",
    "phone": "+43 1 234567",
    "description": "Routers and\nswitches.",
}


def test_partner_sees_their_organization_profile(client, world):
    world.org_a.website = "https://acme.example"
    world.org_a.description = "We sell networks."
    world.org_a.phone = "+49 30 123"
    db.session.commit()
    client.login(world.user_a)
    html = client.get("/organization/").get_data(as_text=True)
    assert "Acme Networks GmbH" in html
    assert 'href="https://acme.example"' in html
    assert "Germany" in html  # country_name, not the code
    assert "Reseller" in html and "We sell networks." in html and "+49 30 123" in html
    assert "Silver" in html and "Gold" in html  # tier and next tier
    assert "Edit profile" not in html  # partner_user


def test_profile_lists_the_assigned_channel_managers_as_contacts(client, world):
    client.login(world.user_a)
    html = client.get("/organization/").get_data(as_text=True)
    assert "Your contacts" in html
    assert world.manager.name in html and f"mailto:{world.manager.email}" in html


def test_profile_shows_no_other_organizations_data(client, world):
    client.login(world.user_b)
    html = client.get("/organization/").get_data(as_text=True)
    assert "Globex Systems Ltd" in html
    assert "Acme" not in html and world.manager.email not in html
    assert "No channel manager is assigned" in html


def test_staff_visiting_the_profile_go_to_the_admin_list(client, world):
    for staff in (world.vendor_admin, world.manager):
        client.login(staff)
        response = client.get("/organization/")
        assert response.status_code == 302 and response.headers["Location"].endswith("/admin/organizations")
        response = client.get("/organization/edit")
        assert response.status_code in (302, 403)
        client.post("/logout")


def test_partner_admin_edits_the_profile(client, world):
    client.login(world.admin_a)
    assert "Edit profile" in client.get("/organization/").get_data(as_text=True)
    page = client.get("/organization/edit")
    assert page.status_code == 200 and "Acme Networks GmbH" in page.get_data(as_text=True)
    response = client.post("/organization/edit", data=VALID)
    assert response.status_code == 302 and response.headers["Location"].endswith("/organization/")
    org = db.session.get(Organization, world.org_a.id)
    db.session.refresh(org)
    assert org.name == "Acme Networks AG" and org.name_key == "acme networks ag"
    assert org.website == "https://acme.example" and org.country == "AT"
    assert org.description == "Routers and\nswitches." and org.phone == "+43 1 234567"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "organization.updated"))
    assert entry.before["name"] == "Acme Networks GmbH" and entry.after["name"] == "Acme Networks AG"
    assert entry.actor_id == world.admin_a.id and entry.organization_id == org.id


def test_saving_without_changes_writes_no_audit_entry(client, world):
    client.login(world.admin_a)
    client.post("/organization/edit", data={"name": "Acme Networks GmbH", "country": "DE"})
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.event == "organization.updated")
    ) == 0


def test_name_must_stay_unique_ignoring_case(client, world):
    client.login(world.admin_a)
    response = client.post("/organization/edit", data={**VALID, "name": "  globex   SYSTEMS ltd "})
    assert response.status_code == 400
    assert "Another organization already uses this name." in response.get_data(as_text=True)
    db.session.refresh(world.org_a)
    assert world.org_a.name == "Acme Networks GmbH"


def test_changing_only_the_case_of_ones_own_name_is_fine(client, world):
    client.login(world.admin_a)
    response = client.post("/organization/edit", data={**VALID, "name": "ACME Networks GmbH"})
    assert response.status_code == 302
    db.session.refresh(world.org_a)
    assert world.org_a.name == "ACME Networks GmbH"


@pytest.mark.parametrize("changes, message", [
    ({"name": "   "}, "This field is required"),
    ({"name": "x" * 201}, "200"),
    ({"website": "javascript:alert(1)"}, "Enter a website address"),
    ({"website": "not a site"}, "Enter a website address"),
    ({"country": "XX"}, "Choose a country from the list"),
    ({"country": ""}, "Choose a country from the list"),
    ({"phone": "call me maybe"}, "Enter a phone number"),
    ({"description": "d" * 5001}, "5000"),
])
def test_edit_rejects_bad_input_and_saves_nothing(client, world, changes, message):
    client.login(world.admin_a)
    response = client.post("/organization/edit", data={**VALID, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(world.org_a)
    assert world.org_a.name == "Acme Networks GmbH" and world.org_a.country == "DE"


def test_edit_ignores_fields_partners_may_not_set(client, world):
    client.login(world.admin_a)
    client.post("/organization/edit", data={
        **VALID, "status": "suspended", "partner_type": "technology", "id": str(world.org_b.id),
        "organization_id": str(world.org_b.id),
    })
    db.session.refresh(world.org_a)
    db.session.refresh(world.org_b)
    assert world.org_a.status is OrganizationStatus.ACTIVE
    assert world.org_a.partner_type is PartnerType.RESELLER
    assert world.org_a.name == "Acme Networks AG" and world.org_b.name == "Globex Systems Ltd"


def test_partner_user_may_not_edit(client, world):
    client.login(world.user_a)
    assert client.get("/organization/edit").status_code == 403
    assert client.post("/organization/edit", data=VALID).status_code == 403
    db.session.refresh(world.org_a)
    assert world.org_a.name == "Acme Networks GmbH"


def test_edit_without_csrf_is_refused(client, world):
    client.login(world.admin_a)
    assert client.post("/organization/edit", data=VALID, csrf=False).status_code == 400


def test_anonymous_is_sent_to_login(client, world):
    for url in ("/organization/", "/organization/edit"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- notification rule ---------------------------------------------------------------

def test_inviter_is_notified_when_the_invitation_is_accepted(client, world, outbox, app):
    client.login(world.admin_a)
    client.post("/organization/team/invite",
                data={"email": "carla@acme.example", "role": "partner_user", "locale": "en"})
    link = link_in(outbox()[-1])
    client.post("/logout")
    response = client.post(link, data={
        "name": "Carla Colleague", "password": "a new long passphrase", "confirm": "a new long passphrase",
        "locale": "en",
    })
    assert response.status_code == 302
    notes = list(db.session.scalars(sa.select(Notification).where(Notification.user_id == world.admin_a.id)))
    assert len(notes) == 1
    assert notes[0].event == "user.joined"
    assert notes[0].url == "/organization/team"
    with app.test_request_context():
        assert notes[0].render() == "Carla Colleague accepted your invitation and joined Acme Networks GmbH."
    # Nobody else hears about it.
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1
    client.post("/logout")
    client.login(world.admin_a)
    assert "Carla Colleague accepted your invitation" in client.get("/notifications/").get_data(as_text=True)


def test_no_notification_when_the_inviter_is_gone(client, world):
    inviter = factories.user(Role.PARTNER_ADMIN, world.org_a)
    invitation = invite("dan@acme.example", Role.PARTNER_USER, world.org_a, invited_by=inviter)
    inviter.active = False
    db.session.commit()
    with client.application.test_request_context():
        token = invitation_token(invitation)
    response = client.post(f"/invitation/{token}", data={
        "name": "Dan", "password": "a new long passphrase", "confirm": "a new long passphrase", "locale": "en",
    })
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
