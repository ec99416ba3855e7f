"""Vendor side: the organization list, the detail page and every action on it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    AuditEntry,
    Invitation,
    ManagerAssignment,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerType,
    Role,
)
from tests import factories


def audit_events(**where: object) -> list[str]:
    stmt = sa.select(AuditEntry.event).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(stmt))


def last_entry(event: str) -> AuditEntry:
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None, f"no audit entry {event}"
    return entry


# -- access -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["partner_user_a", "partner_admin_a"])
def test_partner_is_refused_every_admin_page(client, world, role):
    client.login(world.by_role(role))
    for path in ("/admin/organizations", f"/admin/organizations/{world.org_a.id}",
                 "/admin/users", "/admin/programs", "/admin/audit",
                 "/admin/organizations/new"):
        assert client.get(path).status_code == 403, path


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/admin/organizations")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_channel_manager_lists_only_managed_organizations(client, world):
    client.login(world.manager)
    body = client.get("/admin/organizations").get_data(as_text=True)
    assert "Acme Networks GmbH" in body
    assert "Globex Systems Ltd" not in body


def test_channel_manager_cannot_open_unmanaged_organization(client, world):
    client.login(world.manager)
    assert client.get(f"/admin/organizations/{world.org_a.id}").status_code == 200
    assert client.get(f"/admin/organizations/{world.org_b.id}").status_code == 404


def test_channel_manager_sees_detail_without_actions(client, world):
    client.login(world.manager)
    body = client.get(f"/admin/organizations/{world.org_a.id}").get_data(as_text=True)
    assert "Suspend organization" not in body
    assert "Send invitation" not in body
    assert client.post(f"/admin/organizations/{world.org_a.id}/suspend").status_code == 403
    assert client.get(f"/admin/organizations/{world.org_a.id}/edit").status_code == 403
    assert client.get("/admin/organizations/new").status_code == 403


def test_unknown_organization_is_404(client, world):
    client.login(world.vendor_admin)
    assert client.get("/admin/organizations/99999").status_code == 404
    assert client.post("/admin/organizations/99999/suspend").status_code == 404


# -- the list -----------------------------------------------------------------


def test_vendor_admin_lists_all_organizations(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/organizations").get_data(as_text=True)
    assert "Acme Networks GmbH" in body and "Globex Systems Ltd" in body
    assert "2 organizations" in body


def test_search_is_case_insensitive(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/organizations?q=ACME").get_data(as_text=True)
    assert "Acme Networks GmbH" in body
    assert "Globex Systems Ltd" not in body


def test_search_treats_wildcards_literally(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/organizations?q=%25").get_data(as_text=True)
    assert "0 organizations" in body


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=suspended", "Suspended Co", "Acme Networks GmbH"),
        ("country=GB", "Globex Systems Ltd", "Acme Networks GmbH"),
        ("partner_type=technology", "Suspended Co", "Globex Systems Ltd"),
    ],
)
def test_filters_narrow_the_list(client, world, query, shown, hidden):
    factories.organization("Suspended Co", status=OrganizationStatus.SUSPENDED,
                           partner_type=PartnerType.TECHNOLOGY, country="FR")
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get(f"/admin/organizations?{query}").get_data(as_text=True)
    assert shown in body
    assert hidden not in body


def test_program_and_tier_filters(client, world):
    client.login(world.vendor_admin)
    body = client.get(f"/admin/organizations?program={world.referral.id}").get_data(as_text=True)
    assert "Globex Systems Ltd" in body and "Acme Networks GmbH" not in body
    silver = world.reseller.tiers[1]
    body = client.get(f"/admin/organizations?tier={silver.id}").get_data(as_text=True)
    assert "Acme Networks GmbH" in body and "Globex Systems Ltd" not in body


def test_ended_membership_does_not_match_program_filter(client, world):
    membership = world.org_b.memberships[0]
    membership.until = date(2020, 1, 1)
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get(f"/admin/organizations?program={world.referral.id}").get_data(as_text=True)
    assert "0 organizations" in body


def test_bad_filter_values_are_ignored_not_fatal(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/organizations?status=bogus&program=abc&country=XX&page=zzz&sort=evil")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "2 organizations" in body
    assert "Choose one of the options in the list." in body


def test_sort_by_country_descending(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/organizations?sort=-country").get_data(as_text=True)
    assert body.index("Globex Systems Ltd") < body.index("Acme Networks GmbH")
    body = client.get("/admin/organizations?sort=country").get_data(as_text=True)
    assert body.index("Acme Networks GmbH") < body.index("Globex Systems Ltd")


def test_list_is_paginated_in_the_database(client, world):
    for n in range(30):
        factories.organization(f"Bulk Partner {n:02d}")
    db.session.commit()
    client.login(world.vendor_admin)
    first = client.get("/admin/organizations?q=bulk").get_data(as_text=True)
    assert "30 organizations" in first
    assert "Bulk Partner 00" in first and "Bulk Partner 29" not in first
    assert "Page 1 of 2" in first
    second = client.get("/admin/organizations?q=bulk&page=2").get_data(as_text=True)
    assert "Bulk Partner 29" in second and "Bulk Partner 00" not in second


def test_htmx_filter_returns_only_the_table(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/organizations?q=globex", htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert 'id="organizations-results"' in body
    assert "Globex Systems Ltd" in body and "Acme Networks GmbH" not in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_htmx_history_restore_gets_the_whole_page(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/organizations", htmx=True,
                          headers={"HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


# -- creating -----------------------------------------------------------------


def new_org_data(**changes: str) -> dict[str, str]:
    data = {"name": "Initech AG", "website": "initech.example", "country": "CH",
            "partner_type": "service_provider", "description": "Consultants", "phone": "+41 1"}
    data.update(changes)
    return data


def test_vendor_admin_creates_organization_with_membership(client, world):
    client.login(world.vendor_admin)
    gold = world.reseller.tiers[2]
    response = client.post("/admin/organizations/new", data=new_org_data(
        program=str(world.reseller.id), tier=str(gold.id)))
    assert response.status_code == 302
    org = db.session.scalars(sa.select(Organization).where(Organization.name == "Initech AG")).one()
    assert org.website == "https://initech.example"
    assert org.partner_type is PartnerType.SERVICE_PROVIDER
    assert [(m.program_id, m.tier_id) for m in org.memberships] == [(world.reseller.id, gold.id)]
    assert audit_events(organization_id=org.id) == ["organization.created", "membership.created"]


def test_new_organization_without_tier_starts_at_entry_tier(client, world):
    client.login(world.vendor_admin)
    client.post("/admin/organizations/new", data=new_org_data(program=str(world.referral.id)))
    org = db.session.scalars(sa.select(Organization).where(Organization.name == "Initech AG")).one()
    assert org.memberships[0].tier_id == world.referral.entry_tier.id


def test_new_organization_without_program_has_no_membership(client, world):
    client.login(world.vendor_admin)
    assert client.post("/admin/organizations/new", data=new_org_data()).status_code == 302
    org = db.session.scalars(sa.select(Organization).where(Organization.name == "Initech AG")).one()
    assert org.memberships == []


def test_duplicate_name_is_a_form_error_whatever_the_case(client, world):
    client.login(world.vendor_admin)
    response = client.post("/admin/organizations/new", data=new_org_data(name="  acme   NETWORKS gmbh "))
    assert response.status_code == 400
    assert "An organization with this name already exists." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 2


def test_new_organization_rejects_tier_of_another_program(client, world):
    client.login(world.vendor_admin)
    response = client.post("/admin/organizations/new", data=new_org_data(
        program=str(world.reseller.id), tier=str(world.referral.tiers[0].id)))
    assert response.status_code == 400
    assert "This tier belongs to another program." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Organization.id).where(Organization.name == "Initech AG")) is None


@pytest.mark.parametrize("changes", [
    {"name": ""}, {"country": "XX"}, {"partner_type": "vendor"}, {"website": "not a site"},
    {"program": "999"}, {"name": "x" * 201},
])
def test_new_organization_bad_inputs_are_form_errors(client, world, changes):
    client.login(world.vendor_admin)
    response = client.post("/admin/organizations/new", data=new_org_data(**changes))
    assert response.status_code == 400
    assert "field--error" in response.get_data(as_text=True)


def test_new_organization_needs_csrf(client, world):
    client.login(world.vendor_admin)
    assert client.post("/admin/organizations/new", data=new_org_data(), csrf=False).status_code == 400


# -- editing and status -------------------------------------------------------


def test_vendor_admin_edits_profile_and_it_is_audited(client, world):
    client.login(world.vendor_admin)
    page = client.get(f"/admin/organizations/{world.org_a.id}/edit").get_data(as_text=True)
    assert 'value="Acme Networks GmbH"' in page
    response = client.post(f"/admin/organizations/{world.org_a.id}/edit", data=new_org_data(
        name="Acme Networks AG", country="AT", partner_type="reseller"))
    assert response.status_code == 302
    assert world.org_a.name == "Acme Networks AG" and world.org_a.country == "AT"
    entry = last_entry("organization.updated")
    assert ("name", "Acme Networks GmbH", "Acme Networks AG") in entry.changes()
    assert entry.organization_id == world.org_a.id


def test_edit_to_another_organizations_name_is_refused(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_a.id}/edit",
                           data=new_org_data(name="GLOBEX systems ltd"))
    assert response.status_code == 400
    assert world.org_a.name == "Acme Networks GmbH"


def test_suspension_locks_users_out_on_next_request(app, client, world):
    partner = client
    partner.login(world.user_a)
    assert partner.get("/").status_code == 200
    admin = app.test_client()  # a second browser
    admin.login(world.vendor_admin)
    assert admin.post(f"/admin/organizations/{world.org_a.id}/suspend").status_code == 302
    db.session.expire_all()
    assert world.org_a.status is OrganizationStatus.SUSPENDED
    assert partner.get("/").status_code == 302  # sent to the login page
    entry = last_entry("organization.suspended")
    assert ("status", "active", "suspended") in entry.changes()


def test_suspending_twice_is_a_conflict(client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/organizations/{world.org_a.id}/suspend")
    response = client.post(f"/admin/organizations/{world.org_a.id}/suspend")
    assert response.status_code == 409
    assert "already suspended" in response.get_data(as_text=True)


def test_reactivation_lets_users_back_in(client, world):
    world.org_a.status = OrganizationStatus.SUSPENDED
    db.session.commit()
    client.login(world.vendor_admin)
    assert client.post(f"/admin/organizations/{world.org_a.id}/reactivate").status_code == 302
    assert world.org_a.status is OrganizationStatus.ACTIVE
    assert audit_events(event="organization.reactivated") == ["organization.reactivated"]


# -- memberships --------------------------------------------------------------


def test_add_membership_at_a_tier(client, world):
    client.login(world.vendor_admin)
    preferred = world.referral.tiers[1]
    response = client.post(f"/admin/organizations/{world.org_a.id}/memberships", data={
        "membership-program": str(world.referral.id), "membership-tier": str(preferred.id)})
    assert response.status_code == 302
    membership = db.session.scalars(sa.select(Membership).where(
        Membership.organization_id == world.org_a.id, Membership.program_id == world.referral.id)).one()
    assert membership.tier_id == preferred.id and membership.since == date.today()
    assert last_entry("membership.created").organization_id == world.org_a.id


def test_add_membership_twice_is_a_form_error(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_a.id}/memberships",
                           data={"membership-program": str(world.reseller.id)})
    assert response.status_code == 400
    assert "already a member" in response.get_data(as_text=True)


def test_add_membership_with_tier_of_another_program_is_refused(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_a.id}/memberships", data={
        "membership-program": str(world.referral.id),
        "membership-tier": str(world.reseller.tiers[3].id)})
    assert response.status_code == 400
    assert "This tier belongs to another program." in response.get_data(as_text=True)


def test_change_tier(client, world):
    client.login(world.vendor_admin)
    membership = world.org_a.memberships[0]
    platinum = world.reseller.tiers[3]
    response = client.post(
        f"/admin/organizations/{world.org_a.id}/memberships/{membership.id}/tier",
        data={"tier": str(platinum.id)})
    assert response.status_code == 302
    assert membership.tier_id == platinum.id
    entry = last_entry("membership.tier_changed")
    assert ("tier_id", world.reseller.tiers[1].id, platinum.id) in entry.changes()


def test_change_to_tier_of_another_program_is_400_with_reason(client, world):
    client.login(world.vendor_admin)
    membership = world.org_a.memberships[0]
    response = client.post(
        f"/admin/organizations/{world.org_a.id}/memberships/{membership.id}/tier",
        data={"tier": str(world.referral.tiers[0].id)})
    assert response.status_code == 400
    assert "has no such tier" in response.get_data(as_text=True)
    assert membership.tier_id == world.reseller.tiers[1].id


@pytest.mark.parametrize("tier", ["", "abc", "99999"])
def test_change_tier_bad_values_are_400(client, world, tier):
    client.login(world.vendor_admin)
    membership = world.org_a.memberships[0]
    response = client.post(
        f"/admin/organizations/{world.org_a.id}/memberships/{membership.id}/tier", data={"tier": tier})
    assert response.status_code == 400


def test_membership_of_another_organization_is_404(client, world):
    client.login(world.vendor_admin)
    other = world.org_b.memberships[0]
    response = client.post(f"/admin/organizations/{world.org_a.id}/memberships/{other.id}/end")
    assert response.status_code == 404


def test_end_membership_sets_until_today_and_restart(client, world):
    client.login(world.vendor_admin)
    membership = world.org_a.memberships[0]
    url = f"/admin/organizations/{world.org_a.id}/memberships/{membership.id}/end"
    assert client.post(url).status_code == 302
    assert membership.until == date.today()
    assert client.post(url).status_code == 409
    assert last_entry("membership.ended").changes() == [("until", None, date.today().isoformat())]
    # Adding the program again restarts the same membership row.
    response = client.post(f"/admin/organizations/{world.org_a.id}/memberships",
                           data={"membership-program": str(world.reseller.id)})
    assert response.status_code == 302
    assert membership.until is None and membership.tier_id == world.reseller.entry_tier.id
    assert audit_events(event="membership.restarted") == ["membership.restarted"]


# -- channel managers ---------------------------------------------------------


def test_assign_and_unassign_channel_manager(client, world):
    other = factories.user(Role.CHANNEL_MANAGER, email="other.manager@vendor.example")
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/managers",
                           data={"assign-manager": str(other.id)})
    assert response.status_code == 302
    assert db.session.get(ManagerAssignment, (world.org_b.id, other.id)) is not None
    entry = last_entry("organization.manager_assigned")
    assert entry.changes() == [("managers", [], ["other.manager@vendor.example"])]
    response = client.post(f"/admin/organizations/{world.org_b.id}/managers/{other.id}/remove")
    assert response.status_code == 302
    assert db.session.get(ManagerAssignment, (world.org_b.id, other.id)) is None
    assert audit_events(event="organization.manager_unassigned") == ["organization.manager_unassigned"]


def test_assigned_manager_then_sees_the_organization(app, client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/organizations/{world.org_b.id}/managers",
                data={"assign-manager": str(world.manager.id)})
    manager = app.test_client()
    manager.login(world.manager)
    assert manager.get(f"/admin/organizations/{world.org_b.id}").status_code == 200


@pytest.mark.parametrize("who", ["vendor_admin", "user_a", "nobody"])
def test_only_channel_managers_can_be_assigned(client, world, who):
    target = {"vendor_admin": world.vendor_admin.id, "user_a": world.user_a.id, "nobody": 9999}[who]
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/managers",
                           data={"assign-manager": str(target)})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ManagerAssignment)) == 1


def test_unassigning_a_non_manager_is_404(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/managers/{world.manager.id}/remove")
    assert response.status_code == 404


# -- invitations --------------------------------------------------------------


def test_invite_partner_admin_to_organization(client, world, outbox):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/invitations", data={
        "invite-email": "New.Person@Globex.example", "invite-name": "New Person",
        "invite-role": "partner_admin"})
    assert response.status_code == 302
    invitation = db.session.scalars(sa.select(Invitation)).one()
    assert invitation.email == "new.person@globex.example"
    assert invitation.role is Role.PARTNER_ADMIN and invitation.organization_id == world.org_b.id
    assert [m["To"] for m in outbox()] == ["new.person@globex.example"]
    assert last_entry("user.invited").organization_id == world.org_b.id
    page = client.get(f"/admin/organizations/{world.org_b.id}").get_data(as_text=True)
    assert "new.person@globex.example" in page


def test_invite_existing_email_is_a_form_error(client, world, outbox):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/invitations", data={
        "invite-email": world.user_a.email, "invite-role": "partner_user"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert outbox() == []


def test_invite_cannot_grant_a_staff_role(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/organizations/{world.org_b.id}/invitations", data={
        "invite-email": "sneaky@globex.example", "invite-role": "vendor_admin"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_revoke_pending_invitation(client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/organizations/{world.org_b.id}/invitations", data={
        "invite-email": "later@globex.example", "invite-role": "partner_user"})
    invitation = db.session.scalars(sa.select(Invitation)).one()
    url = f"/admin/organizations/{world.org_b.id}/invitations/{invitation.id}/revoke"
    assert client.post(url).status_code == 302
    assert invitation.revoked_at is not None
    assert client.post(url).status_code == 409
    assert client.post(f"/admin/organizations/{world.org_a.id}/invitations/{invitation.id}/revoke"
                       ).status_code == 404


def test_detail_shows_memberships_users_managers_and_activity(client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/organizations/{world.org_a.id}/edit",
                data=new_org_data(name="Acme Networks GmbH", phone="+49 30 1234"))
    body = client.get(f"/admin/organizations/{world.org_a.id}").get_data(as_text=True)
    for text in ("Reseller", "Silver", world.user_a.email, world.admin_a.email,
                 world.manager.email, "organization.updated", "+49 30 1234"):
        assert text in body, text
    assert world.user_b.email not in body


def test_name_taken_by_a_concurrent_request_is_a_form_error_not_500(client, world, monkeypatch):
    # Simulate the race: the form's check passes, the unique constraint catches it.
    monkeypatch.setattr("portal.admin.forms._name_taken", lambda *args: False)
    client.login(world.vendor_admin)
    response = client.post("/admin/organizations/new", data=new_org_data(name="Acme Networks GmbH"))
    assert response.status_code == 400
    assert "An organization with this name already exists." in response.get_data(as_text=True)
    assert audit_events(event="organization.created") == []


def test_chosen_sort_is_kept_by_the_filter_form(client, world):
    client.login(world.vendor_admin)
    body = client.get("/admin/organizations?sort=-country", htmx=True,
                      headers={"HX-Target": "organizations-results"}).get_data(as_text=True)
    assert 'name="sort" value="-country" form="organizations-results-filters"' in body
    page = client.get("/admin/organizations").get_data(as_text=True)
    assert 'id="organizations-results-filters"' in page
    assert 'name="sort"' not in page  # the default needs no hidden field
