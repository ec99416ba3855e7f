"""Onboarding: the public application form, the review queue, approve and reject."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    AuditEntry,
    Invitation,
    ManagerAssignment,
    Membership,
    Notification,
    Organization,
    PartnerApplication,
    PartnerType,
    Program,
    Role,
    User,
)
from tests import factories
from tests.conftest import link_in, message_text


def form_data(world: Any, **changes: Any) -> dict[str, str]:
    """A valid application; ``None`` in ``changes`` leaves the field out."""
    data = {
        "company_name": "Initech Solutions",
        "website": "initech.example",
        "country": "FR",
        "partner_type": "reseller",
        "program_id": str(world.reseller.id),
        "contact_name": "Peter Gibbons",
        "contact_email": "Peter@Initech.example",
        "contact_phone": "+33 (1) 23-45-67",
        "message": "We sell printers.\nAnd staplers.",
        "consent": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def programs(app: Any) -> Any:
    """Just the two open programs: for form tests that need no people (fast)."""
    from types import SimpleNamespace

    reseller = factories.program("Reseller")
    referral = factories.program("Referral", tiers=("Registered", "Preferred"))
    db.session.commit()
    return SimpleNamespace(reseller=reseller, referral=referral)


def make_application(program: Program, **fields: Any) -> PartnerApplication:
    values: dict[str, Any] = {
        "company_name": "Initech Solutions",
        "website": "https://initech.example",
        "country": "FR",
        "partner_type": PartnerType.RESELLER,
        "contact_name": "Peter Gibbons",
        "contact_email": "peter@initech.example",
        "locale": "en",
    }
    values.update(fields)
    application = PartnerApplication(program=program, **values)
    db.session.add(application)
    db.session.commit()
    return application


def applications() -> list[PartnerApplication]:
    return list(db.session.scalars(sa.select(PartnerApplication).order_by(PartnerApplication.id)))


def events(name: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == name)))


def approve(client: Any, application: PartnerApplication, manager: str = "") -> Any:
    url = f"/admin/applications/{application.id}/approve"
    return client.post(url, data={"manager_id": manager})


def reject(client: Any, application: PartnerApplication, reason: str) -> Any:
    url = f"/admin/applications/{application.id}/reject"
    return client.post(url, data={"reason": reason})


def organizations_named(name: str) -> int:
    key = Organization.key_for(name)
    stmt = sa.select(sa.func.count(Organization.id)).where(Organization.name_key == key)
    return db.session.scalar(stmt)


# -- the public form ------------------------------------------------------------

def test_anonymous_visitor_sees_application_form_with_open_programs_only(client, world):
    factories.program("Closed Club").active = False
    factories.program("Invite Only").accepts_applications = False
    db.session.commit()
    response = client.get("/apply")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Reseller" in page and "Referral" in page
    assert "Closed Club" not in page and "Invite Only" not in page
    assert 'class="onboarding-honeypot"' in page and "Leave this empty" in page
    assert "style=" not in page


def test_logged_in_user_can_open_application_form(client, world):
    client.login(world.user_a)
    assert client.get("/apply").status_code == 200


def test_application_is_stored_confirmed_and_announced_to_staff(client, world, outbox):
    response = client.post("/apply", data=form_data(world))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/apply/thanks")
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    assert "peter@initech.example" in thanks.get_data(as_text=True)

    [application] = applications()
    assert application.status is ApplicationStatus.PENDING
    assert application.company_name == "Initech Solutions"
    assert application.website == "https://initech.example"
    assert application.contact_email == "peter@initech.example"
    assert application.contact_phone == "+33 (1) 23-45-67"
    assert application.program_id == world.reseller.id
    assert application.partner_type is PartnerType.RESELLER
    assert application.locale == "en"
    assert len(events("application.submitted")) == 1

    [mail] = outbox()
    assert mail["To"] == "peter@initech.example"
    assert "received your application" in mail["Subject"]
    assert "Initech Solutions" in message_text(mail)

    notified = db.session.scalars(sa.select(Notification)).all()
    assert {n.user_id for n in notified} == {world.manager.id, world.vendor_admin.id}
    assert all(n.url == f"/admin/applications/{application.id}" for n in notified)
    assert "Initech Solutions applied" in notified[0].render()


def test_inactive_staff_are_not_notified_of_applications(client, world):
    world.manager.active = False
    db.session.commit()
    client.post("/apply", data=form_data(world))
    notified = db.session.scalars(sa.select(Notification.user_id)).all()
    assert notified == [world.vendor_admin.id]


def test_optional_fields_may_stay_empty(client, programs):
    response = client.post("/apply", data=form_data(programs, contact_phone="", message=""))
    assert response.status_code == 302
    [application] = applications()
    assert application.contact_phone is None and application.message is None


@pytest.mark.parametrize(
    "field",
    ["company_name", "website", "country", "partner_type", "program_id", "contact_name",
     "contact_email", "consent"],
)
def test_missing_required_field_is_refused(client, programs, outbox, field):
    response = client.post("/apply", data=form_data(programs, **{field: None}))
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert applications() == []
    assert outbox() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_email", "not-an-email"),
        ("contact_email", "a@"),
        ("website", "not a site"),
        ("website", "ftp://example.com"),
        ("website", "a" * 292 + ".com"),  # 300 characters until https:// is added
        ("country", "XX"),
        ("partner_type", "emperor"),
        ("program_id", "99999"),
        ("program_id", "abc"),
        ("contact_phone", "call me maybe"),
        ("contact_phone", "12345"),
        ("contact_phone", "1" * 41),
        ("contact_phone", "<script>"),
        ("message", "x" * 2001),
        ("company_name", "x" * 201),
    ],
)
def test_bad_value_is_refused_beside_its_field(client, programs, field, value):
    response = client.post("/apply", data=form_data(programs, **{field: value}))
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert applications() == []


def test_inactive_program_cannot_be_applied_for(client, programs):
    programs.referral.active = False
    db.session.commit()
    response = client.post("/apply", data=form_data(programs, program_id=str(programs.referral.id)))
    assert response.status_code == 400
    assert "Choose a program from the list." in response.get_data(as_text=True)
    assert applications() == []


def test_program_closed_to_applications_cannot_be_applied_for(client, programs):
    programs.referral.accepts_applications = False
    db.session.commit()
    response = client.post("/apply", data=form_data(programs, program_id=str(programs.referral.id)))
    assert response.status_code == 400
    assert applications() == []


def test_email_with_an_account_is_refused(client, world):
    response = client.post("/apply", data=form_data(world, contact_email="USER@acme.example"))
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert applications() == []


def test_second_pending_application_from_same_email_is_refused(client, programs):
    make_application(programs.reseller)
    response = client.post("/apply", data=form_data(programs, company_name="Other Company"))
    assert response.status_code == 400
    assert "already an application from this email" in response.get_data(as_text=True)
    assert len(applications()) == 1


def test_second_pending_application_for_same_company_is_refused_ignoring_case(client, programs):
    make_application(programs.reseller)
    response = client.post(
        "/apply",
        data=form_data(
            programs, company_name="  INITECH   solutions ", contact_email="bill@initech.example"
        ),
    )
    assert response.status_code == 400
    assert "already an application for" in response.get_data(as_text=True)
    assert len(applications()) == 1


def test_rejected_application_does_not_block_a_new_one(client, programs):
    make_application(programs.reseller, status=ApplicationStatus.REJECTED)
    assert client.post("/apply", data=form_data(programs)).status_code == 302
    assert len(applications()) == 2


def test_existing_organization_name_is_refused(client, world):
    response = client.post("/apply", data=form_data(world, company_name="acme networks gmbh"))
    assert response.status_code == 400
    assert "already a partner" in response.get_data(as_text=True)
    assert applications() == []


def test_honeypot_pretends_success_and_stores_nothing(client, programs, outbox):
    response = client.post("/apply", data=form_data(programs, fax="http://spam.example"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/apply/thanks")
    assert applications() == []
    assert outbox() == []
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_application_without_csrf_token_is_refused(client, programs):
    response = client.post("/apply", data=form_data(programs), csrf=False)
    assert response.status_code == 400
    assert applications() == []


def test_applying_is_throttled(client, programs, app):
    app.config["RATELIMIT_APPLY"] = "3 per hour"
    for n in range(3):
        data = form_data(programs, company_name=f"Company {n}", contact_email=f"c{n}@example.com")
        assert client.post("/apply", data=data).status_code == 302
    response = client.post("/apply", data=form_data(programs, contact_email="late@example.com"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert len(applications()) == 3
    assert client.get("/apply").status_code == 200  # reading the form is not throttled


def test_applicants_language_is_stored_and_used_for_every_email(client, world, app, outbox):
    app.config["LANGUAGES"] = ["en", "de"]
    client.post("/apply", data=form_data(world), headers={"Accept-Language": "de-DE,de;q=0.9"})
    [application] = applications()
    assert application.locale == "de"
    client.login(world.vendor_admin)
    approve(client, application)
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.email == "peter@initech.example")
    )
    assert invitation.locale == "de"
    mails = outbox()
    assert len(mails) == 3
    for mail in mails:
        assert '<html lang="de"' in mail.get_body(preferencelist=("html",)).get_content()


def test_rejection_email_uses_applicants_language(client, world, app, outbox):
    app.config["LANGUAGES"] = ["en", "de"]
    application = make_application(world.reseller, locale="de")
    client.login(world.vendor_admin)
    reject(client, application, "Nein.")
    [mail] = outbox()
    assert '<html lang="de"' in mail.get_body(preferencelist=("html",)).get_content()


# -- approve --------------------------------------------------------------------

def test_apply_approve_accept_invitation_makes_partner_admin_of_new_org(client, world, outbox):
    client.post("/apply", data=form_data(world))
    [application] = applications()
    client.login(world.vendor_admin)
    response = client.post(
        f"/admin/applications/{application.id}/approve", data={"manager_id": str(world.manager.id)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    organization = db.session.scalar(
        sa.select(Organization).where(Organization.name_key == "initech solutions")
    )
    assert organization is not None
    assert organization.name == "Initech Solutions"
    assert organization.country == "FR"
    assert organization.website == "https://initech.example"
    assert organization.partner_type is PartnerType.RESELLER
    [membership] = organization.memberships
    assert membership.program_id == world.reseller.id
    assert membership.tier_id == world.reseller.tiers[0].id
    assert db.session.get(ManagerAssignment, (organization.id, world.manager.id)) is not None

    db.session.refresh(application)
    assert application.status is ApplicationStatus.APPROVED
    assert application.reviewed_by_id == world.vendor_admin.id
    assert application.reviewed_at is not None
    assert application.organization_id == organization.id
    for name in ("application.approved", "organization.created", "membership.created",
                 "organization.manager_assigned", "user.invited"):
        assert len(events(name)) == 1, name
    detail = client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    assert f'href="/admin/organizations/{organization.id}"' in detail
    assert events("application.approved")[0].organization_id == organization.id

    received, approved, invitation_mail = outbox()
    assert "approved" in approved["Subject"]
    assert approved["To"] == invitation_mail["To"] == "peter@initech.example"
    assert "Initech Solutions" in invitation_mail["Subject"]

    client.post("/logout")
    link = link_in(invitation_mail)
    assert client.get(link).status_code == 200
    response = client.post(
        link,
        data={"name": "Peter Gibbons", "password": "a long new secret",
              "confirm": "a long new secret", "locale": "en"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "peter@initech.example"))
    assert user.role is Role.PARTNER_ADMIN
    assert user.organization_id == organization.id
    assert user.organization.memberships[0].tier.name == "Registered"
    assert client.get("/").status_code == 200


def test_channel_manager_is_the_default_manager_when_approving(client, world):
    application = make_application(world.reseller)
    client.login(world.manager)
    page = client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    assert f'<option selected value="{world.manager.id}">' in page
    response = client.post(
        f"/admin/applications/{application.id}/approve", data={"manager_id": str(world.manager.id)}
    )
    assert response.status_code == 302
    assert db.session.scalar(
        sa.select(ManagerAssignment.user_id).where(
            ManagerAssignment.organization_id == application.organization_id
        )
    ) == world.manager.id


def test_approving_without_a_manager_assigns_nobody(client, world):
    application = make_application(world.reseller)
    client.login(world.vendor_admin)
    assert approve(client, application).status_code == 302
    assignments = db.session.scalar(sa.select(sa.func.count()).select_from(ManagerAssignment))
    assert assignments == 1  # org_a's, from the world


def test_approving_with_unknown_manager_is_refused(client, world):
    application = make_application(world.reseller)
    client.login(world.vendor_admin)
    for bad in ("99999", str(world.vendor_admin.id), "x"):
        assert approve(client, application, bad).status_code == 400
    db.session.refresh(application)
    assert application.status is ApplicationStatus.PENDING


def test_approving_twice_conflicts(client, world):
    application = make_application(world.reseller)
    client.login(world.vendor_admin)
    url = f"/admin/applications/{application.id}/approve"
    assert client.post(url, data={"manager_id": ""}).status_code == 302
    assert client.post(url, data={"manager_id": ""}).status_code == 409
    assert reject(client, application, "x").status_code == 409
    assert organizations_named("Initech Solutions") == 1


def test_approving_when_name_was_taken_meanwhile_conflicts_and_saves_nothing(client, world, outbox):
    application = make_application(world.reseller)
    factories.organization("INITECH Solutions")
    db.session.commit()
    client.login(world.vendor_admin)
    response = approve(client, application)
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status is ApplicationStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
    assert events("application.approved") == []
    assert outbox() == []


def test_name_taken_by_a_concurrent_request_conflicts_and_saves_nothing(
    client, world, outbox, monkeypatch
):
    """The checks passed, then another request took the name: the unique key answers."""
    from portal.onboarding import applications as service

    application = make_application(world.reseller)
    factories.organization("Initech Solutions")
    db.session.commit()
    monkeypatch.setattr(service, "check_approvable", lambda application: None)
    client.login(world.vendor_admin)
    response = approve(client, application)
    assert response.status_code == 409
    assert "created meanwhile" in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status is ApplicationStatus.PENDING
    assert organizations_named("Initech Solutions") == 1
    assert events("organization.created") == [] and outbox() == []


def test_approving_into_program_without_tiers_conflicts(client, world):
    program = factories.program("Tierless", tiers=())
    application = make_application(program)
    client.login(world.vendor_admin)
    page = client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    assert "add a tier first" in page
    response = approve(client, application)
    assert response.status_code == 409
    assert "add a tier first" in response.get_data(as_text=True)
    assert organizations_named("Initech Solutions") == 0


def test_approving_when_contact_got_an_account_meanwhile_conflicts(client, world):
    application = make_application(world.reseller)
    factories.user(Role.PARTNER_USER, world.org_b, email="peter@initech.example")
    db.session.commit()
    client.login(world.vendor_admin)
    response = approve(client, application)
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 2  # the world's two


@pytest.mark.parametrize("role", ["partner_admin_a", "partner_user_b"])
def test_partner_cannot_review_applications(client, world, role):
    application = make_application(world.reseller)
    client.login(world.by_role(role))
    assert client.get("/admin/applications").status_code == 403
    assert client.get(f"/admin/applications/{application.id}").status_code == 403
    assert client.post(f"/admin/applications/{application.id}/approve", data={}).status_code == 403
    assert reject(client, application, "no").status_code == 403
    db.session.refresh(application)
    assert application.status is ApplicationStatus.PENDING


def test_anonymous_reviewer_is_sent_to_login(client, world):
    application = make_application(world.reseller)
    for response in (
        client.get("/admin/applications"),
        client.get(f"/admin/applications/{application.id}"),
        client.post(f"/admin/applications/{application.id}/approve", data={}),
    ):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_unknown_application_is_404(client, world):
    client.login(world.vendor_admin)
    assert client.get("/admin/applications/99999").status_code == 404
    assert client.post("/admin/applications/99999/approve", data={}).status_code == 404


# -- reject ---------------------------------------------------------------------

def test_rejecting_tells_the_applicant_why(client, world, outbox):
    application = make_application(world.reseller)
    client.login(world.manager)
    response = client.post(
        f"/admin/applications/{application.id}/reject",
        data={"reason": "We have enough resellers in France."},
    )
    assert response.status_code == 302
    db.session.refresh(application)
    assert application.status is ApplicationStatus.REJECTED
    assert application.decision_reason == "We have enough resellers in France."
    assert application.reviewed_by_id == world.manager.id
    assert application.organization_id is None
    assert len(events("application.rejected")) == 1
    [mail] = outbox()
    assert mail["To"] == "peter@initech.example"
    assert "We have enough resellers in France." in message_text(mail)
    page = client.get(f"/admin/applications/{application.id}").get_data(as_text=True)
    assert "We have enough resellers in France." in page


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_rejecting_needs_a_short_reason(client, world, outbox, reason):
    application = make_application(world.reseller)
    client.login(world.vendor_admin)
    response = reject(client, application, reason)
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    db.session.refresh(application)
    assert application.status is ApplicationStatus.PENDING
    assert outbox() == []


# -- the queue ------------------------------------------------------------------

def test_queue_lists_pending_applications_oldest_first(client, world):
    from datetime import timedelta

    from portal.models import utcnow

    now = utcnow()
    make_application(world.reseller, company_name="Newer Ltd", contact_email="n@x.example",
                     created_at=now)
    make_application(world.reseller, company_name="Older Ltd", contact_email="o@x.example",
                     created_at=now - timedelta(days=2))
    make_application(world.reseller, company_name="Decided Ltd", contact_email="d@x.example",
                     status=ApplicationStatus.REJECTED)
    client.login(world.manager)
    page = client.get("/admin/applications").get_data(as_text=True)
    assert page.index("Older Ltd") < page.index("Newer Ltd")
    assert "Decided Ltd" not in page
    assert "2 applications waiting for review" in page

    rejected = client.get("/admin/applications?status=rejected").get_data(as_text=True)
    assert "Decided Ltd" in rejected and "Older Ltd" not in rejected
    everything = client.get("/admin/applications?status=all").get_data(as_text=True)
    assert all(name in everything for name in ("Decided Ltd", "Older Ltd", "Newer Ltd"))


def test_queue_filters_by_program_and_searches_company_and_contact(client, world):
    make_application(world.reseller, company_name="Alpha Corp", contact_email="alpha@x.example")
    make_application(world.referral, company_name="Beta Corp", contact_email="someone@beta.example",
                     contact_name="Zelda Zimmer")
    client.login(world.vendor_admin)
    by_program = client.get(f"/admin/applications?program={world.referral.id}").get_data(
        as_text=True
    )
    assert "Beta Corp" in by_program and "Alpha Corp" not in by_program
    for q in ("alpha", "ALPHA@x", "Alpha Corp"):
        found = client.get("/admin/applications", query_string={"q": q}).get_data(as_text=True)
        assert "Alpha Corp" in found and "Beta Corp" not in found
    by_contact = client.get("/admin/applications?q=zelda").get_data(as_text=True)
    assert "Beta Corp" in by_contact and "Alpha Corp" not in by_contact
    wildcard = client.get("/admin/applications", query_string={"q": "%"}).get_data(as_text=True)
    assert "No applications match" in wildcard


def test_queue_ignores_unknown_filter_values(client, world):
    make_application(world.reseller)
    client.login(world.vendor_admin)
    response = client.get("/admin/applications?status=bogus&sort=password&program=abc&page=-3")
    assert response.status_code == 200
    assert "Initech Solutions" in response.get_data(as_text=True)


def test_queue_is_paginated_in_the_database(client, world, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make_application(world.reseller, company_name=f"Company {n}",
                         contact_email=f"c{n}@x.example")
    client.login(world.vendor_admin)
    first = client.get("/admin/applications").get_data(as_text=True)
    assert "Page 1 of 3" in first
    last = client.get("/admin/applications?page=3").get_data(as_text=True)
    assert "Company 4" in last and "Company 0" not in last
    assert client.get("/admin/applications?page=99").status_code == 200


def test_queue_answers_htmx_with_the_list_only(client, world):
    make_application(world.reseller)
    client.login(world.vendor_admin)
    response = client.get("/admin/applications?q=initech", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="applications-list"')
    assert "<html" not in body and "Initech Solutions" in body
