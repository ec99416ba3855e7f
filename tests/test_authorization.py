"""The authorization table: every endpoint, every role, own and other organizations' ids.

The test walks ``app.url_map``: an endpoint without a row in ``ALLOWED`` fails, so a
new route cannot ship without saying who may use it. For each endpoint and role it
sends each of the route's methods (POST with an empty form and a valid CSRF token):

* a role in the row must get through: no login redirect, no 401/403/404;
* any other signed-in role gets 403 or 404; anonymous users are sent to log in;
* object routes are also tried with the *other* organization's ids (for partner A's
  roles and the channel manager of A only): always 403 or 404, whatever the role.

Later issues add their endpoints to ``ALLOWED`` (plugins: see the plugin issue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import (
    Invitation,
    Notification,
    PartnerApplication,
    PartnerType,
    Role,
    utcnow,
)

ANON, PU_A, PA_A, PU_B, CM, VA = (
    "anonymous",
    "partner_user_a",
    "partner_admin_a",
    "partner_user_b",
    "channel_manager",
    "vendor_admin",
)
ROLES = (ANON, PU_A, PA_A, PU_B, CM, VA)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANON}
PARTNERS = frozenset({PU_A, PA_A, PU_B})
PARTNER_ADMINS = frozenset({PA_A})
STAFF = frozenset({CM, VA})
VENDOR_ADMIN = frozenset({VA})

#: endpoint -> roles that may use it (with their own organization's ids).
ALLOWED: dict[str, frozenset[str]] = {
    "static": EVERYONE,
    "health.healthz": EVERYONE,
    # auth
    "auth.login": EVERYONE,
    "auth.logout": SIGNED_IN,
    "auth.forgot_password": EVERYONE,
    "auth.reset_password": EVERYONE,
    "auth.accept_invitation": EVERYONE,
    # partner side and own account
    "dashboard.home": SIGNED_IN,
    "account.settings": SIGNED_IN,
    "account.password": SIGNED_IN,
    "notifications.index": SIGNED_IN,
    "notifications.mark_all_read": SIGNED_IN,
    "notifications.open_notification": SIGNED_IN,
    "organization.profile": SIGNED_IN,  # staff are redirected to the vendor side
    "organization.edit": PARTNER_ADMINS | VENDOR_ADMIN,  # a vendor admin is sent to the vendor side
    "organization.team": SIGNED_IN,  # staff are redirected to the vendor side
    "organization.invite": PARTNER_ADMINS,
    "organization.resend_invitation": PARTNER_ADMINS,
    "organization.revoke_invitation": PARTNER_ADMINS,
    "organization.deactivate": PARTNER_ADMINS,
    "organization.reactivate": PARTNER_ADMINS,
    "organization.change_role": PARTNER_ADMINS,
    # onboarding
    "onboarding.apply": EVERYONE,
    "onboarding.applied": EVERYONE,
    "onboarding.queue": STAFF,
    "onboarding.review": STAFF,
    "onboarding.review_approve": STAFF,
    "onboarding.review_reject": STAFF,
    # vendor side
    "admin.organizations": STAFF,
    "admin.organization": STAFF,
    "admin.organization_new": VENDOR_ADMIN,
    "admin.organization_edit": VENDOR_ADMIN,
    "admin.organization_suspend": VENDOR_ADMIN,
    "admin.organization_reactivate": VENDOR_ADMIN,
    "admin.organization_invite": VENDOR_ADMIN,
    "admin.organization_invitation_revoke": VENDOR_ADMIN,
    "admin.organization_manager_assign": VENDOR_ADMIN,
    "admin.organization_manager_unassign": VENDOR_ADMIN,
    "admin.organization_membership_add": VENDOR_ADMIN,
    "admin.organization_membership_end": VENDOR_ADMIN,
    "admin.organization_membership_tier": VENDOR_ADMIN,
    "admin.users": STAFF,
    "admin.user": STAFF,
    "admin.user_invite": VENDOR_ADMIN,
    "admin.user_deactivate": VENDOR_ADMIN,
    "admin.user_reactivate": VENDOR_ADMIN,
    "admin.user_role": VENDOR_ADMIN,
    "admin.programs": STAFF,
    "admin.program": STAFF,
    "admin.program_new": VENDOR_ADMIN,
    "admin.program_edit": VENDOR_ADMIN,
    "admin.program_tier_add": VENDOR_ADMIN,
    "admin.program_tier_edit": VENDOR_ADMIN,
    "admin.program_tier_move": VENDOR_ADMIN,
    "admin.program_tier_delete": VENDOR_ADMIN,
    "admin.audit": STAFF,
}

#: Where a route's argument names a different kind of object than its name says.
ARGUMENT_SOURCE = {("admin.organization_manager_unassign", "user_id"): "manager_id"}

#: URL arguments that are not ids of organization-owned objects.
STATIC_ARGUMENTS = {"filename": "css/portal.css", "token": "not-a-valid-token"}


@dataclass
class Objects:
    """Ids of objects in organization A (own) and B (other), and vendor-wide ones."""

    ids: dict[str, dict[str, int]]


@pytest.fixture
def objects(world) -> Objects:
    invitations = {}
    for side, org, inviter in (("a", world.org_a, world.admin_a), ("b", world.org_b, world.admin_b)):
        invitation = Invitation(
            email=f"pending-{side}@example.com",
            role=Role.PARTNER_USER,
            organization=org,
            invited_by=inviter,
            expires_at=utcnow() + timedelta(days=3),
        )
        db.session.add(invitation)
        invitations[side] = invitation
    application = PartnerApplication(
        company_name="Initech Solutions",
        country="US",
        partner_type=PartnerType.REFERRAL,
        program_id=world.reseller.id,
        contact_name="Peter Gibbons",
        contact_email="peter@initech.example",
    )
    db.session.add(application)
    notes = {}
    for key, user in ((PU_A, world.user_a), (PA_A, world.admin_a), (PU_B, world.user_b),
                      (CM, world.manager), (VA, world.vendor_admin), ("other", world.user_b)):
        note = Notification(user_id=user.id, event="test", message="Hello", params={}, url="/")
        db.session.add(note)
        notes[key] = note
    db.session.commit()
    membership_a = world.org_a.memberships[0]
    membership_b = world.org_b.memberships[0]
    return Objects(
        ids={
            "organization_id": {"a": world.org_a.id, "b": world.org_b.id},
            "user_id": {"a": world.user_a.id, "b": world.user_b.id},
            "invitation_id": {"a": invitations["a"].id, "b": invitations["b"].id},
            "membership_id": {"a": membership_a.id, "b": membership_b.id},
            "notification_id": {k: n.id for k, n in notes.items()},
            "application_id": {"a": application.id, "b": application.id},
            "program_id": {"a": world.reseller.id, "b": world.reseller.id},
            "tier_id": {"a": world.reseller.tiers[0].id, "b": world.reseller.tiers[0].id},
            "manager_id": {"a": world.manager.id, "b": world.manager.id},
        }
    )


#: Arguments naming objects owned by an organization (tried with the other org's ids).
ORGANIZATION_OWNED = {"organization_id", "user_id", "invitation_id", "membership_id"}


def _own_side(role: str) -> str:
    return "b" if role == PU_B else "a"


def _url_arguments(rule, objects: Objects, role: str, side: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in rule.arguments:
        source = ARGUMENT_SOURCE.get((rule.endpoint, name), name)
        if name in STATIC_ARGUMENTS:
            values[name] = STATIC_ARGUMENTS[name]
        elif name == "notification_id":
            values[name] = objects.ids[name]["other" if side == "other" else role if role != ANON else PU_A]
        else:
            choice = side if side in ("a", "b") else ("b" if _own_side(role) == "a" else "a")
            values[name] = objects.ids[source][choice]
    return values


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def test_every_endpoint_has_a_row(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ALLOWED))
    assert not missing, f"endpoints without an authorization row: {missing}"
    stale = sorted(set(ALLOWED) - {r.endpoint for r in _rules(app)})
    assert not stale, f"rows for endpoints that no longer exist: {stale}"


def _endpoints():
    from tests.conftest import make_app
    import tempfile
    from pathlib import Path

    app = make_app(Path(tempfile.mkdtemp()), None)
    for rule in _rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule.rule, method


ENDPOINTS = list(_endpoints())


def _is_login_redirect(response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def _request(client, method: str, url: str):
    response = client.open(url, method=method, data={} if method == "POST" else None)
    response.close()
    return response


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint, rule_text, method", ENDPOINTS, ids=lambda v: str(v))
def test_authorization(app, client, world, objects, endpoint, rule_text, method, role):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    allowed = ALLOWED[endpoint]
    url = rule.build(_url_arguments(rule, objects, role, _own_side(role)), append_unknown=False)[1]
    response = _request(client, method, url)
    where = f"{method} {url} as {role}: {response.status_code} {response.headers.get('Location', '')}"
    if role in allowed and endpoint == "auth.logout":
        assert response.status_code == 302, where  # logging out lands on the login page
    elif role in allowed:
        assert response.status_code not in (401, 403, 404) and not _is_login_redirect(response), where
    elif role == ANON:
        assert _is_login_redirect(response), where
    else:
        assert response.status_code in (403, 404), where

    owned = ORGANIZATION_OWNED & set(rule.arguments)
    if owned and role in (PU_A, PA_A, CM):
        other = rule.build(_url_arguments(rule, objects, role, "b"), append_unknown=False)[1]
        response = _request(client, method, other)
        assert response.status_code in (403, 404), (
            f"{method} {other} (organization B's ids) as {role}: {response.status_code}"
        )


@pytest.mark.parametrize("role", (PU_A, PA_A, CM, VA))
def test_nobody_opens_someone_elses_notification(client, world, objects, role):
    client.login(world.by_role(role))
    response = client.post(f"/notifications/{objects.ids['notification_id']['other']}/open")
    assert response.status_code == 404
