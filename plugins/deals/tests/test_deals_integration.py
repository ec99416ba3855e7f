"""How the plugin meets the rest of the portal: notifications and email, audit,
dashboard widgets, tier metric, onboarding step, search documents, demo data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Notification, utcnow
from portal.plugins import host, tier_metrics
from portal.testing import message_text
from portal_deals import search
from portal_deals.models import DealRegistration, DealStatus


def notifications_of(user):
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def test_submitting_tells_the_channel_manager_in_app_and_by_email(register, portal_world, outbox, portal_app):
    registration = register()
    [note] = notifications_of(portal_world.manager)
    with portal_app.test_request_context():
        assert note.render() == "Acme Networks GmbH registered a deal with Initech GmbH for review."
    assert note.url == f"/p/deals/{registration.id}"
    [mail] = [m for m in outbox() if m["To"] == portal_world.manager.email]
    assert mail["Subject"] == "New deal registration to review: Initech GmbH"
    text = message_text(mail)
    assert "Acme Networks GmbH registered a deal with Initech GmbH (€25,000.00)" in text
    assert f"http://portal.test/p/deals/{registration.id}" in text


def test_a_decision_tells_the_partner_who_registered(register, login_as, portal_world, outbox):
    registration = register()
    login_as("channel_manager").post(f"/p/deals/{registration.id}/approve", data={})
    assert [n.event for n in notifications_of(portal_world.user_a)] == ["deal.approved"]
    [mail] = [m for m in outbox() if m["To"] == portal_world.user_a.email]
    assert mail["Subject"] == "Approved: Initech GmbH is protected"
    assert notifications_of(portal_world.admin_a) == []  # only the person who registered it


def test_nobody_is_told_what_they_did_themselves(register, login_as, portal_world):
    registration = register()
    login_as("partner_user").post(f"/p/deals/{registration.id}/comments", data={"body": "Hi"})
    assert [n.event for n in notifications_of(portal_world.user_a)] == []
    assert [n.event for n in notifications_of(portal_world.manager)] == ["deal.submitted", "deal.commented"]


def test_every_change_is_in_the_audit_log(register, login_as, auto_approve):
    registration = register()
    login_as("partner_user").post(f"/p/deals/{registration.id}/won", data={"final_value": "30000"})
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.subject_type == "deals_registration")
                                 .order_by(AuditEntry.id)).all()
    assert [e.event for e in entries] == ["deal.created", "deal.submitted", "deal.approved", "deal.won"]
    assert entries[-1].before["status"] == "approved" and entries[-1].after["status"] == "won"


def win(registration, value, days_ago=0):
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id).values(
        status=DealStatus.WON, final_value=Decimal(value), final_value_reporting=Decimal(value),
        closed_at=utcnow() - timedelta(days=days_ago)))
    db.session.commit()


def test_the_partner_dashboard_draws_the_pipeline_and_won_value(register, login_as, auto_approve):
    won = register()
    register(customer_name="Globochem AG", customer_website="globochem.example.com",
             contact_email="a@globochem.example.com", action="draft")
    win(won, "40000")
    page = login_as("partner_user").get("/").get_data(as_text=True)
    assert "Deal registrations" in page
    assert 'class="deals-chart__fill deals-chart__fill--won" x="0" y="0" width="100.0"' in page
    assert "€40,000.00" in page and "won this quarter (1 deal)" in page
    assert "<svg" in page and "Won value by month" in page


def test_the_tier_metric_is_won_value_over_twelve_months(register, auto_approve, portal_world, login_as):
    recent = register()
    old = register(customer_name="Globochem AG", customer_website="globochem.example.com",
                   contact_email="a@globochem.example.com")
    win(recent, "1000")
    win(old, "5000", days_ago=400)
    metrics = {m.name: m for m in tier_metrics()}
    assert metrics["won_deal_value"].measure(portal_world.org_a) == 1000.0
    assert metrics["won_deals"].measure(portal_world.org_a) == 1
    portal_world.reseller.tiers[2].requirements = {"won_deal_value": 250000}
    db.session.commit()
    page = login_as("partner_user").get("/").get_data(as_text=True)
    assert "Reseller, Gold asks for €250,000.00 of won deals: €249,000.00 to go." in page


def test_the_staff_dashboard_shows_the_queue_by_age(register, login_as):
    register()
    page = login_as("channel_manager").get("/").get_data(as_text=True)
    assert "Deal reviews" in page and "Open the review queue" in page
    assert "Less than a day" in page and "registration awaits review" in page


def test_the_onboarding_step_is_done_after_the_first_registration(login_as, register):
    client = login_as("partner_admin")
    assert "Register your first deal" in client.get("/").get_data(as_text=True)
    from portal.onboarding.checklist import checklist_for
    from portal.models import Organization

    register(action="draft")
    organization = db.session.scalars(sa.select(Organization)).first()
    assert [i.done for i in checklist_for(organization) if i.key == "deals.first_registration"] == [False]
    register(customer_name="Globochem AG")
    assert [i.done for i in checklist_for(organization) if i.key == "deals.first_registration"] == [True]


def test_search_documents_follow_the_hook_contract(register, portal_app):
    submitted = register()
    draft = register(customer_name="Globochem AG", action="draft")
    key = f"deals_registration:{submitted.id}"
    docs = list(search.documents(None, {key, f"deals_registration:{draft.id}", "hello_greeting:1"}))
    assert [d["id"] for d in docs] == [key]
    doc = docs[0]
    assert (doc["kind"], doc["audience"], doc["organization_id"], doc["permission"]) == (
        "deals.registration", "organization", submitted.organization_id, "deals.view")
    assert doc["url"] == f"/p/deals/{submitted.id}" and doc["title"] == "Initech GmbH"
    assert "Firewall 100" in doc["body"]
    everything = [d["id"] for _, d in host().call("portal_searchable_documents", since=None, keys=None)]
    assert everything == [key]
    assert list(search.documents(None, set())) == []
    kinds = dict(host().call("portal_search_kinds"))
    assert "deals" in kinds and str(kinds["deals"]["deals.registration"]) == "Deal registrations"


def test_the_portal_search_finds_a_registration_only_for_who_may_open_it(register, login_as, portal_world,
                                                                         portal_app):
    from portal.search import search_for

    registration = register(description="Zeppelin hangar firewalls")
    login_as("channel_manager").post(f"/p/deals/{registration.id}/approve", data={})

    def found(user):
        with portal_app.test_request_context():
            return [hit.id for hit in search_for(user, "Zeppelin").hits]

    key = f"deals_registration:{registration.id}"
    assert found(portal_world.user_a) == [key]
    assert found(portal_world.manager) == [key]
    assert found(portal_world.vendor_admin) == [key]
    assert found(portal_world.user_b) == []  # another organization
    draft = register(customer_name="Quokka Draft Ltd", action="draft", description="Quokka")
    with portal_app.test_request_context():
        assert search_for(portal_world.user_a, "Quokka").hits == []  # drafts are not searchable
    assert draft.status is DealStatus.DRAFT
