"""The authorization table: every endpoint, every role, own and other organizations' ids.

The test walks ``app.url_map``: an endpoint without a row in ``ALLOWED`` fails, so a
new route cannot ship without saying who may use it. For each endpoint and role it
sends each of the route's methods (POST with an empty form and a valid CSRF token):

* a role in the row must get through: no login redirect, no 401/403/404;
* any other signed-in role gets 403 or 404; anonymous users are sent to log in;
* object routes are also tried with the *other* organization's ids (for partner A's
  roles and the channel manager of A only): always 403 or 404, whatever the role.

Later issues add their endpoints to ``ALLOWED``. Plugins join automatically: the
test's app loads every *installed* plugin (entry points, ``portal.plugins.discover()``)
and switches each on for every program; a plugin endpoint's row is derived from
its view's ``required_permission`` (set by ``@permission_required``) through the
app's Policy, and its blueprint's static files are open to everyone. A plugin
endpoint with neither that nor a row in ``ALLOWED`` fails like a core one. URL
arguments the table cannot fill (a plugin's own object ids) are sent as ``0``:
the roles allowed may then get 404, but never 401/403 or a login redirect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from portal import hookimpl
from portal.extensions import db
from portal.models import (
    Invitation,
    Notification,
    PartnerApplication,
    PartnerType,
    Role,
    utcnow,
)
from portal.plugins import discover, host
from portal.testing import factories, switch_on

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

#: The table's roles that hold each portal role (plugin rows are derived from it).
TABLE_ROLES = {
    Role.PARTNER_USER: {PU_A, PU_B},
    Role.PARTNER_ADMIN: {PA_A},
    Role.CHANNEL_MANAGER: {CM},
    Role.VENDOR_ADMIN: {VA},
}

#: Every installed plugin (found through entry points, without importing them).
INSTALLED_PLUGINS = sorted(discover())

#: endpoint -> roles that may use it (with their own organization's ids).
ALLOWED: dict[str, frozenset[str]] = {
    "static": EVERYONE,
    "health.healthz": EVERYONE,
    # search: everyone; each finds only what they may open (tests/test_search.py)
    "search.results": EVERYONE,
    "search.live": EVERYONE,
    "language.switch": EVERYONE,
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
    "admin.plugins": STAFF,  # channel managers read it; only vendor admins switch and configure
    "admin.plugin_switch": VENDOR_ADMIN,
    "admin.plugin_settings": VENDOR_ADMIN,
    # themes and branding
    "theme.static": EVERYONE,
    "branding.stylesheet": EVERYONE,
    "branding.file": EVERYONE,  # only the logo and favicon in use (else 404)
    "branding.preview_css": VENDOR_ADMIN,
    "admin.branding": VENDOR_ADMIN,
    "admin.branding_preview": VENDOR_ADMIN,
    # resource library: visitors read public pages (the table's page is public)
    "resources.library": EVERYONE,
    "resources.page": EVERYONE,
    "resources.manage": STAFF,
    "resources.new": STAFF,
    "resources.edit": STAFF,
    "resources.publish": STAFF,  # the page is published already: 409, allowed but refused
    "resources.unpublish": STAFF,
    "resources.delete": STAFF,
    "resources.preview": STAFF,
}

#: Where a route's argument names a different kind of object than its name says.
ARGUMENT_SOURCE = {("admin.organization_manager_unassign", "user_id"): "manager_id"}

#: URL arguments that are not ids of organization-owned objects.
STATIC_ARGUMENTS = {"filename": "css/portal.css", "token": "not-a-valid-token", "plugin": "probe"}


class _ProbePlugin:
    """A loaded plugin with no hooks: /admin/plugins/<plugin>/... answer 404 for
    a plugin that is not loaded, so these tests need one."""


@pytest.fixture
def app(tmp_path, database_url):
    from tests.conftest import make_app, reset_database

    application = make_app(tmp_path, database_url, plugins={"probe": _ProbePlugin()},
                           PLUGINS=INSTALLED_PLUGINS)
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


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
    page = factories.resource_page("Partner program guide", "public", tags=["guide"])
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
            "page_id": {"a": page.id, "b": page.id},
            "slug": {"a": page.slug, "b": page.slug},
        }
    )


@pytest.fixture
def plugins_on(app, world) -> None:
    """Every loaded plugin on for every program: its routes answer everyone they allow."""
    switch_on(list(host(app).loaded), *world.programs)


#: Arguments naming objects owned by an organization (tried with the other org's ids).
ORGANIZATION_OWNED = {"organization_id", "user_id", "invitation_id", "membership_id"}


def _own_side(role: str) -> str:
    return "b" if role == PU_B else "a"


#: A value for URL arguments the table cannot fill (see the module docstring).
UNKNOWN_ID = 0


def _unfillable(rule, objects: Objects) -> set[str]:
    known = set(objects.ids) | set(STATIC_ARGUMENTS)
    return {name for name in rule.arguments
            if ARGUMENT_SOURCE.get((rule.endpoint, name), name) not in known}


def _url_arguments(rule, objects: Objects, role: str, side: str) -> dict[str, object]:
    values: dict[str, object] = {}
    unfillable = _unfillable(rule, objects)
    for name in rule.arguments:
        source = ARGUMENT_SOURCE.get((rule.endpoint, name), name)
        if name == "filename" and rule.endpoint in PLUGIN_STATIC_FILES:
            values[name] = PLUGIN_STATIC_FILES[rule.endpoint]
        elif name in unfillable:
            values[name] = UNKNOWN_ID
        elif name in STATIC_ARGUMENTS:
            values[name] = STATIC_ARGUMENTS[name]
        elif name == "notification_id":
            values[name] = objects.ids[name]["other" if side == "other" else role if role != ANON else PU_A]
        else:
            choice = side if side in ("a", "b") else ("b" if _own_side(role) == "a" else "a")
            values[name] = objects.ids[source][choice]
    return values


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


def _plugin_of(endpoint: str, loaded) -> str | None:
    """The loaded plugin whose blueprint serves ``endpoint`` (None: the core's)."""
    blueprint = endpoint.partition(".")[0] if "." in endpoint else ""
    names = [n for n in loaded if blueprint == n or blueprint.startswith(n + "_")]
    return max(names, key=len) if names else None


def plugin_rows(app) -> dict[str, frozenset[str]]:
    """Rows of the loaded plugins' endpoints that ``ALLOWED`` does not list,
    derived from each view's ``required_permission`` through the app's Policy.
    An endpoint that declares nothing gets no row (and fails the table check)."""
    policy = app.extensions["portal.policy"]
    loaded = host(app).loaded
    rows: dict[str, frozenset[str]] = {}
    for rule in _rules(app):
        endpoint = rule.endpoint
        if endpoint in ALLOWED or _plugin_of(endpoint, loaded) is None:
            continue
        if endpoint.endswith(".static"):
            rows[endpoint] = EVERYONE  # the plugin's static files
            continue
        permission = getattr(app.view_functions[endpoint], "required_permission", None)
        if permission is None:
            continue
        rows[endpoint] = frozenset(
            name for role in policy.roles_for(permission) for name in TABLE_ROLES[role]
        )
    return rows


def test_every_endpoint_has_a_row(app):
    rows = {**plugin_rows(app), **ALLOWED}
    missing = sorted({r.endpoint for r in _rules(app)} - set(rows))
    assert not missing, (
        f"endpoints without an authorization row (a plugin's view needs @permission_required): "
        f"{missing}"
    )
    stale = sorted(set(ALLOWED) - {r.endpoint for r in _rules(app)})
    assert not stale, f"rows for endpoints that no longer exist: {stale}"


def _collection_app():
    """The app the test cases are collected from: like the ``app`` fixture's."""
    from tests.conftest import make_app
    import tempfile
    from pathlib import Path

    return make_app(Path(tempfile.mkdtemp()), None, plugins={"probe": _ProbePlugin()},
                    PLUGINS=INSTALLED_PLUGINS)


def _plugin_static_files(app) -> dict[str, str]:
    """A file each plugin blueprint's static folder really holds."""
    found = {}
    for name, blueprint in app.blueprints.items():
        folder = blueprint.static_folder
        if folder and f"{name}.static" in app.view_functions:
            from pathlib import Path

            files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
            if files:
                found[f"{name}.static"] = files[0].relative_to(folder).as_posix()
    return found


def _endpoints(app):
    for rule in _rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule.rule, method


_APP = _collection_app()
ENDPOINTS = list(_endpoints(_APP))
PLUGIN_ROWS = plugin_rows(_APP)
PLUGIN_STATIC_FILES = _plugin_static_files(_APP)
del _APP


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
def test_authorization(app, client, world, objects, plugins_on, endpoint, rule_text, method, role):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text)
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    allowed = ALLOWED[endpoint] if endpoint in ALLOWED else PLUGIN_ROWS[endpoint]
    url = rule.build(_url_arguments(rule, objects, role, _own_side(role)), append_unknown=False)[1]
    response = _request(client, method, url)
    where = f"{method} {url} as {role}: {response.status_code} {response.headers.get('Location', '')}"
    if role in allowed and endpoint == "auth.logout":
        assert response.status_code == 302, where  # logging out lands on the login page
    elif role in allowed and _unfillable(rule, objects):
        # No such object (UNKNOWN_ID): a 404 is fine, a refusal is not.
        assert response.status_code not in (401, 403) and not _is_login_redirect(response), where
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


class _UndeclaredPlugin:
    """A plugin whose second view forgot ``@permission_required``."""

    def __init__(self) -> None:
        from flask import Blueprint

        from portal.permissions import permission_required

        self.bp = Blueprint("undeclared", __name__)
        self.bp.add_url_rule("/", "declared", permission_required("undeclared.view")(lambda: "ok"))
        self.bp.add_url_rule("/open", "forgotten", lambda: "oops")

    @hookimpl
    def portal_blueprints(self):  # type: ignore[no-untyped-def]
        return self.bp

    @hookimpl
    def portal_permissions(self):  # type: ignore[no-untyped-def]
        return {"undeclared.view": [Role.PARTNER_ADMIN, Role.VENDOR_ADMIN]}


def test_plugin_rows_come_from_the_views_permission_and_undeclared_views_get_none(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path, None, plugins={"undeclared": _UndeclaredPlugin()})
    rows = plugin_rows(app)
    assert rows["undeclared.declared"] == {PA_A, VA}
    assert "undeclared.forgotten" not in rows  # so test_every_endpoint_has_a_row would fail
