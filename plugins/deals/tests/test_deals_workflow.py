"""The life of a registration over HTTP: states enforced on the server, 409 for an
impossible change (and nothing changed), protection, extension, expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, utcnow
from portal_deals import services
from portal_deals.models import DealClaim, DealHistory, DealRegistration, DealStatus

S = DealStatus


def reload(registration):
    db.session.expire_all()
    return db.session.get(DealRegistration, registration.id)


def events(name=None):
    stmt = sa.select(AuditEntry.event).where(AuditEntry.event.like("deal.%")).order_by(AuditEntry.id)
    return [e for e in db.session.scalars(stmt) if name is None or e == name]


def test_a_draft_is_saved_then_submitted(register, login_as):
    draft = register(action="draft")
    assert draft.status is S.DRAFT and draft.submitted_at is None
    client = login_as("partner_user")
    assert client.post(f"/p/deals/{draft.id}/submit").status_code == 302
    submitted = reload(draft)
    assert submitted.status is S.SUBMITTED and submitted.submitted_at is not None
    assert events() == ["deal.created", "deal.submitted"]
    steps = db.session.scalars(sa.select(DealHistory.action).where(
        DealHistory.registration_id == draft.id).order_by(DealHistory.id)).all()
    assert steps == ["create", "submit"]


def test_a_channel_manager_approves_and_protection_starts(register, login_as):
    registration = register()
    before = utcnow()
    response = login_as("channel_manager").post(f"/p/deals/{registration.id}/approve", data={})
    assert response.status_code == 302
    approved = reload(registration)
    assert approved.status is S.APPROVED and approved.is_protected
    assert timedelta(days=89) < approved.expires_at - before <= timedelta(days=90, minutes=1)
    claims = db.session.scalars(sa.select(DealClaim.key).where(DealClaim.registration_id == approved.id)).all()
    assert sorted(claims) == ["domain:initech.example.com", "name:initech"]
    assert "deal.approved" in events()


def test_rules_approve_a_tier_at_once_when_nothing_conflicts(register, auto_approve):
    registration = register()
    assert registration.status is S.APPROVED
    assert registration.decided_by_id is None  # the rules decided


@pytest.mark.parametrize("path, data", [
    ("approve", {}), ("reject", {"reason": "Too late"}), ("request-info", {"reason": "Who decides?"}),
])
def test_a_decided_registration_cannot_be_decided_again(register, login_as, path, data):
    registration = register()
    manager = login_as("channel_manager")
    assert manager.post(f"/p/deals/{registration.id}/approve", data={}).status_code == 302
    audit_before = len(events())
    response = manager.post(f"/p/deals/{registration.id}/{path}", data=data)
    assert response.status_code == 409
    assert "Only a submitted registration can be reviewed. Its status is “Protected”." in response.get_data(as_text=True)
    assert reload(registration).status is S.APPROVED
    assert len(events()) == audit_before


@pytest.mark.parametrize("path, data, message", [
    ("submit", {}, "Only a draft, or a registration waiting for more information, can be submitted."),
    ("won", {"final_value": "1000"}, "Only a protected registration can be marked won or lost."),
    ("lost", {"reason": "price"}, "Only a protected registration can be marked won or lost."),
    ("extension", {"reason": "Customer delayed"}, "Only a protected registration can be extended."),
])
def test_impossible_partner_changes_answer_409_and_change_nothing(register, login_as, path, data, message):
    registration = register()  # submitted
    state = reload(registration).audit_state()
    response = login_as("partner_user").post(f"/p/deals/{registration.id}/{path}", data=data)
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert reload(registration).audit_state() == state


def test_a_closed_registration_cannot_be_withdrawn_or_edited(register, login_as):
    registration = register()
    login_as("channel_manager").post(f"/p/deals/{registration.id}/reject", data={"reason": "Duplicate"})
    client = login_as("partner_user")
    assert client.post(f"/p/deals/{registration.id}/withdraw", data={}).status_code == 409
    assert client.get(f"/p/deals/{registration.id}/edit").status_code == 409
    assert reload(registration).status is S.REJECTED


def test_rejection_needs_a_reason_the_partner_reads(register, login_as):
    registration = register()
    manager = login_as("channel_manager")
    response = manager.post(f"/p/deals/{registration.id}/reject", data={"reason": ""})
    assert response.status_code == 400 and reload(registration).status is S.SUBMITTED
    manager.post(f"/p/deals/{registration.id}/reject", data={"reason": "The customer buys direct."})
    page = login_as("partner_user").get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "The customer buys direct." in page and "Rejected" in page


def test_more_information_goes_back_and_forth(register, login_as, products):
    from conftest import form_data

    registration = register()
    manager = login_as("channel_manager")
    manager.post(f"/p/deals/{registration.id}/request-info", data={"reason": "Which sites?"})
    assert reload(registration).status is S.MORE_INFO
    client = login_as("partner_user")
    assert "Which sites?" in client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    response = client.post(f"/p/deals/{registration.id}/edit",
                           data=form_data(products, description="Berlin and Munich.", action="submit"))
    assert response.status_code == 302
    again = reload(registration)
    assert again.status is S.SUBMITTED and again.description == "Berlin and Munich."
    assert events().count("deal.submitted") == 2


def test_extension_is_requested_granted_and_limited(register, login_as, auto_approve):
    registration = register()
    first_expiry = registration.expires_at
    client, manager = login_as("partner_user"), login_as("channel_manager")
    for _round in range(2):  # the rules allow two extensions
        assert client.post(f"/p/deals/{registration.id}/extension", data={"reason": "Budget in Q3"}).status_code == 302
        assert client.post(f"/p/deals/{registration.id}/extension", data={"reason": "Again"}).status_code == 409
        assert manager.post(f"/p/deals/{registration.id}/extension/grant", data={}).status_code == 302
    extended = reload(registration)
    assert extended.extensions_used == 2
    assert extended.expires_at - first_expiry == timedelta(days=60)
    response = client.post(f"/p/deals/{registration.id}/extension", data={"reason": "Once more"})
    assert response.status_code == 409
    assert "No extension is left: the program allows 2 extensions." in response.get_data(as_text=True)
    assert manager.post(f"/p/deals/{registration.id}/extension/grant", data={}).status_code == 409


def test_a_declined_extension_keeps_the_date(register, login_as, auto_approve):
    registration = register()
    login_as("partner_user").post(f"/p/deals/{registration.id}/extension", data={"reason": "Later"})
    login_as("channel_manager").post(f"/p/deals/{registration.id}/extension/decline", data={"note": "No"})
    declined = reload(registration)
    assert declined.expires_at == registration.expires_at and declined.extension_requested_at is None
    assert "deal.extension_declined" in events()


def test_won_with_its_final_value_and_lost_with_a_reason(register, login_as, auto_approve):
    first = register()
    second = register(customer_name="Globochem AG", customer_website="globochem.example.com",
                      contact_email="ann@globochem.example.com")
    client = login_as("partner_user")
    assert client.post(f"/p/deals/{first.id}/won", data={"final_value": "-5"}).status_code == 400
    assert client.post(f"/p/deals/{first.id}/won", data={"final_value": "23500.50"}).status_code == 302
    won = reload(first)
    assert (won.status, won.final_value, won.final_value_reporting) == (S.WON, Decimal("23500.50"), Decimal("23500.50"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DealClaim).where(
        DealClaim.registration_id == first.id)) == 0  # protection released
    assert client.post(f"/p/deals/{second.id}/lost", data={"reason": "nonsense"}).status_code == 400
    assert client.post(f"/p/deals/{second.id}/lost", data={"reason": "competitor"}).status_code == 302
    assert reload(second).lost_reason == "competitor"


def test_withdrawn_from_any_open_state(register, login_as, auto_approve):
    protected = register()
    assert login_as("partner_user").post(f"/p/deals/{protected.id}/withdraw", data={"note": "Lost interest"}).status_code == 302
    assert reload(protected).status is S.WITHDRAWN
    draft = register(action="draft", customer_name="Umbrella Corp", customer_website="umbrella.example.com")
    assert login_as("partner_admin").post(f"/p/deals/{draft.id}/withdraw", data={}).status_code == 302
    assert reload(draft).status is S.WITHDRAWN


def lapse(registration):
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()


def test_a_lapsed_protection_reads_as_expired_before_the_command_runs(register, login_as, auto_approve):
    registration = register()
    lapse(registration)
    client = login_as("partner_user")
    page = client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "Expired" in page and "Protected until" not in page
    listed = client.get("/p/deals/?status=approved").get_data(as_text=True)
    assert "Initech GmbH" not in listed
    assert "Initech GmbH" in client.get("/p/deals/?status=expired").get_data(as_text=True)
    # Acting on it settles it first: it expires, and cannot be won.
    assert client.post(f"/p/deals/{registration.id}/won", data={"final_value": "100"}).status_code == 409
    assert reload(registration).status is S.EXPIRED
    assert events("deal.expired") == ["deal.expired"]


def test_the_expiry_command_is_idempotent(portal_app, register, auto_approve, outbox):
    registration = register()
    lapse(registration)
    runner = portal_app.test_cli_runner()
    first = runner.invoke(args=["deals", "expire"])
    assert first.exit_code == 0, first.output
    assert "Expired: 1" in first.output
    second = runner.invoke(args=["deals", "expire"])
    assert "Expired: 0" in second.output
    assert reload(registration).status is S.EXPIRED
    assert events("deal.expired") == ["deal.expired"]
    assert [m["Subject"] for m in outbox()].count("Protection expired: Initech GmbH") == 1


def test_partners_are_reminded_once_before_expiry(portal_app, register, auto_approve, outbox):
    registration = register()
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(expires_at=utcnow() + timedelta(days=5)))
    db.session.commit()
    runner = portal_app.test_cli_runner()
    assert "Reminded: 1" in runner.invoke(args=["deals", "expire"]).output
    assert "Reminded: 0" in runner.invoke(args=["deals", "expire"]).output
    subjects = [m["Subject"] for m in outbox()]
    assert subjects.count("Protection ends soon: Initech GmbH") == 1


def test_expiring_races_only_one_winner(register, auto_approve):
    """Two hosts' runs see the same lapsed registration: the conditional UPDATE lets
    one of them expire it (the other's attempt changes nothing)."""
    registration = register()
    lapse(registration)
    one = db.session.get(DealRegistration, registration.id)
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == one.id)
                       .values(status=S.EXPIRED))  # the other host was first
    assert services.settle(one) is False
    assert one.status is S.EXPIRED


def test_another_partners_registration_is_404(register, login_as):
    registration = register()
    for role in ("other_partner_user", "other_partner_admin"):
        client = login_as(role)
        assert client.get(f"/p/deals/{registration.id}").status_code == 404
        assert client.post(f"/p/deals/{registration.id}/withdraw", data={}).status_code == 404
        assert "Initech" not in client.get("/p/deals/").get_data(as_text=True)


def test_staff_never_see_drafts(register, login_as):
    draft = register(action="draft")
    for role in ("channel_manager", "vendor_admin"):
        assert login_as(role).get(f"/p/deals/{draft.id}").status_code == 404


def test_a_channel_manager_reviews_only_the_partners_they_manage(register, login_as):
    registration = register(role="other_partner_user")  # organization B: not managed
    manager = login_as("channel_manager")
    assert manager.get(f"/p/deals/{registration.id}").status_code == 404
    assert manager.post(f"/p/deals/{registration.id}/approve", data={}).status_code == 404
    assert login_as("vendor_admin").post(f"/p/deals/{registration.id}/approve", data={}).status_code == 302
