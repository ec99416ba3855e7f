"""The onboarding checklist: core steps, plugin steps, and its template partial."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app, render_template

from portal.extensions import db
from portal.models import Invitation, Organization, Role, utcnow
from portal.onboarding.checklist import (
    EXTENSION_KEY,
    ChecklistItem,
    checklist_for,
    progress,
    register_step,
)
from tests import factories
from tests.conftest import make_app


@pytest.fixture
def org(app: Any) -> Organization:
    """A freshly approved partner: bare profile, one admin."""
    organization = factories.organization("Initech Solutions")
    factories.user(Role.PARTNER_ADMIN, organization, email="peter@initech.example")
    db.session.commit()
    return organization


def states(organization: Organization) -> dict[str, bool]:
    with current_app.test_request_context():
        return {item.key: item.done for item in checklist_for(organization)}


def complete_profile(organization: Organization) -> None:
    organization.website = "https://initech.example"
    organization.description = "Printers and staplers."
    organization.phone = "+33 1 23 45 67"
    db.session.commit()


def invite(organization: Organization, **fields: Any) -> Invitation:
    invitation = Invitation(
        email="bill@initech.example",
        role=Role.PARTNER_USER,
        organization_id=organization.id,
        expires_at=utcnow() + timedelta(days=1),
        **fields,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def test_new_partner_has_both_core_steps_open(app, org):
    with app.test_request_context():
        items = checklist_for(org)
    assert [(i.key, i.done) for i in items] == [("profile", False), ("invite_colleague", False)]
    assert items[0].label == "Complete your organization profile"
    assert items[0].url == "/organization/"
    assert items[1].label == "Invite a colleague"
    assert items[1].url == "/organization/team"
    assert progress(items) == (0, 2)


def test_profile_is_done_only_when_every_field_is_set(app, org):
    complete_profile(org)
    assert states(org)["profile"] is True
    for name in ("website", "description", "phone"):
        complete_profile(org)
        setattr(org, name, None)
        db.session.commit()
        assert states(org)["profile"] is False, name
    complete_profile(org)
    org.description = "   "
    db.session.commit()
    assert states(org)["profile"] is False


def test_second_active_colleague_completes_invite_step(app, org):
    factories.user(Role.PARTNER_USER, org)
    db.session.commit()
    assert states(org)["invite_colleague"] is True


def test_deactivated_colleague_does_not_count(app, org):
    factories.user(Role.PARTNER_USER, org, active=False)
    db.session.commit()
    assert states(org)["invite_colleague"] is False


def test_pending_invitation_completes_invite_step(app, org):
    invite(org)
    assert states(org)["invite_colleague"] is True


@pytest.mark.parametrize(
    "fields",
    [
        {"revoked_at": utcnow()},
        {"accepted_at": utcnow()},  # accepted but the account was deactivated since
        {"created_at": utcnow() - timedelta(days=9)},
    ],
)
def test_revoked_used_or_expired_invitation_does_not_count(app, org, fields):
    invitation = invite(org, **fields)
    if "created_at" in fields:
        invitation.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    assert states(org)["invite_colleague"] is False


def test_other_organizations_people_do_not_count(app, org):
    other = factories.organization("Globex")
    factories.user(Role.PARTNER_USER, other)
    invite(other)
    assert states(org)["invite_colleague"] is False


def test_invite_step_costs_one_aggregate_query(app, org):
    queries: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    from portal.onboarding.checklist import colleague_step

    assert org.id  # load the organization itself before counting
    with app.test_request_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            colleague_step(org)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(queries) == 1
    assert "count(" in queries[0].lower()


def test_vendor_staff_have_no_checklist(app):
    assert checklist_for(None) == []


def test_plugins_add_steps_after_the_core_ones(app, org):
    certify = ChecklistItem("certify", "Get certified", done=True, url="/training")
    register_step(app, lambda o: certify)
    register_step(app, lambda o: None)  # a step that does not apply to this partner
    register_step(app, lambda o: [ChecklistItem("deal", "Register a deal", done=False)])
    with app.test_request_context():
        items = checklist_for(org)
    assert [i.key for i in items] == ["profile", "invite_colleague", "certify", "deal"]
    assert progress(items) == (1, 4)


def test_failing_step_provider_is_logged_and_skipped(app, org, caplog):
    def broken(organization: Organization) -> ChecklistItem:
        raise RuntimeError("plugin bug")

    register_step(app, broken)
    with app.test_request_context():
        items = checklist_for(org)
    assert [i.key for i in items] == ["profile", "invite_colleague"]
    assert "onboarding step provider" in caplog.text


def test_each_app_keeps_its_own_steps(app, tmp_path, org):
    other = make_app(tmp_path / "other", None)
    register_step(app, lambda o: ChecklistItem("extra", "Extra", done=False))
    assert len(app.extensions[EXTENSION_KEY]) == 3
    assert len(other.extensions[EXTENSION_KEY]) == 2


def test_checklist_partial_shows_progress_states_and_links(app, org):
    complete_profile(org)
    with app.test_request_context():
        html = render_template("onboarding/_checklist.html", checklist=checklist_for(org))
    assert "1 of 2 done" in html
    assert 'class="checklist__item checklist__item--done"' in html
    assert 'class="checklist__item checklist__item--open"' in html
    assert '<a href="/organization/team">Invite a colleague</a>' in html
    assert '<progress max="2" value="1"' in html
    assert "style=" not in html


def test_checklist_partial_renders_nothing_without_steps(app):
    with app.test_request_context():
        assert render_template("onboarding/_checklist.html", checklist=[]).strip() == ""

