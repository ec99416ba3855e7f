"""Vendor-side lists that must cost the same at any size: the organization filter
(a select while few, a name search beyond), the audit log's event names, and the
two query shapes of a channel manager's reach (see ``portal.scoping``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.admin import audit as audit_views
from portal.admin import common
from portal import scoping
from portal.dashboard import figures
from portal.extensions import db
from portal.models import AuditEntry, Organization, Role, User
from tests import factories


def results(response, results_id: str) -> str:  # type: ignore[no-untyped-def]
    """The results part of a list page (the filter form names organizations too)."""
    return response.get_data(as_text=True).split(f'id="{results_id}"')[1]


#: The opening tag of a list page's filter form (``class="filters card" role="search"``);
#: the header's site search is a ``role="search"`` form on every page too.
FILTER_FORM = re.compile(r'<form\b[^>]*\bclass="filters\b[^"]*"[^>]*>')


def form(response) -> str:  # type: ignore[no-untyped-def]
    """The list page's filter form (not the header's search box), up to its end."""
    body = response.get_data(as_text=True)
    (match,) = list(FILTER_FORM.finditer(body))  # exactly one filter form
    assert 'role="search"' in match.group(0)
    return body[match.start():body.index("</form>", match.end())]


@pytest.fixture
def search_mode(monkeypatch):
    """Beyond one organization in reach, the filter is a name search."""
    monkeypatch.setattr(common, "ORGANIZATION_SELECT_MAX", 1)


def add_entry(event: str, organization_id: int | None, minutes_ago: int = 0) -> AuditEntry:
    entry = AuditEntry(event=event, organization_id=organization_id,
                       occurred_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago))
    db.session.add(entry)
    db.session.flush()
    return entry


# -- the organization filter: a select while few --------------------------------


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_few_organizations_are_offered_in_a_select(client, world, path):
    client.login(world.vendor_admin)
    html = form(client.get(path))
    assert '<select aria-invalid="false" id="organization" name="organization"' in html
    assert f'<option value="{world.org_a.id}">Acme Networks GmbH</option>' in html
    assert f'<option value="{world.org_b.id}">Globex Systems Ltd</option>' in html
    assert 'name="organization_name"' not in html


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_channel_managers_select_lists_only_managed_organizations(client, world, path, search_mode):
    # One organization managed: still a select (the threshold counts the reach only).
    client.login(world.manager)
    html = form(client.get(path))
    assert 'id="organization" name="organization"' in html
    assert "Acme Networks GmbH" in html and "Globex Systems Ltd" not in html


def test_select_shows_the_chosen_organization(client, world):
    client.login(world.vendor_admin)
    html = form(client.get(f"/admin/users?organization={world.org_b.id}"))
    assert f'<option selected value="{world.org_b.id}">Globex Systems Ltd</option>' in html


def test_select_mode_ignores_a_name_search(client, world):
    client.login(world.vendor_admin)
    response = client.get("/admin/users?organization_name=globex")
    assert world.user_a.email in results(response, "users-results")


def test_the_threshold_is_the_boundary(client, world, monkeypatch):
    monkeypatch.setattr(common, "ORGANIZATION_SELECT_MAX", 2)
    client.login(world.vendor_admin)
    assert 'id="organization" name="organization"' in form(client.get("/admin/users"))
    factories.organization("Initech Inc")
    db.session.commit()
    assert 'name="organization_name"' in form(client.get("/admin/users"))


# -- the organization filter: a name search beyond ------------------------------


@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_many_organizations_become_a_name_search(client, world, path, search_mode):
    client.login(world.vendor_admin)
    html = form(client.get(path))
    assert 'name="organization_name"' in html and 'type="search"' in html
    assert "Organization name" in html
    assert 'id="organization" name="organization"' not in html
    assert "Acme Networks GmbH" not in html and "Globex Systems Ltd" not in html


@pytest.mark.parametrize("needle", ["globex", "GLOBEX systems", "  Systems  Ltd "])
def test_name_search_filters_users_case_insensitively(client, world, search_mode, needle):
    client.login(world.vendor_admin)
    found = results(client.get("/admin/users", query_string={"organization_name": needle}),
                    "users-results")
    assert world.user_b.email in found and world.admin_b.email in found
    assert world.user_a.email not in found
    assert world.vendor_admin.email not in found  # staff belong to no organization
    assert "2 users" in found


def test_name_search_takes_wildcards_literally(client, world, search_mode):
    client.login(world.vendor_admin)
    found = results(client.get("/admin/users?organization_name=%25"), "users-results")
    assert "0 users" in found


def test_name_search_filters_the_audit_log(client, world, search_mode):
    add_entry("organization.updated", world.org_a.id)
    add_entry("membership.ended", world.org_b.id)
    add_entry("program.created", None)
    db.session.commit()
    client.login(world.vendor_admin)
    found = results(client.get("/admin/audit?organization_name=acme"), "audit-results")
    assert "organization.updated" in found
    assert "membership.ended" not in found and "program.created" not in found


def test_channel_manager_name_search_stays_in_reach(client, world, search_mode, monkeypatch):
    monkeypatch.setattr(common, "ORGANIZATION_SELECT_MAX", 0)
    add_entry("membership.ended", world.org_b.id)
    db.session.commit()
    client.login(world.manager)
    response = client.get("/admin/users?organization_name=globex")
    assert world.user_b.email not in results(response, "users-results")
    response = client.get("/admin/audit?organization_name=globex")
    assert "membership.ended" not in results(response, "audit-results")


@pytest.mark.parametrize(("path", "results_id"), [("/admin/users", "users-results"),
                                                  ("/admin/audit", "audit-results")])
def test_links_by_organization_id_still_work_and_show_the_name(client, world, search_mode,
                                                              path, results_id):
    add_entry("membership.ended", world.org_b.id)
    add_entry("organization.updated", world.org_a.id)
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.get(f"{path}?organization={world.org_b.id}")
    html = form(response)
    assert "Organization: Globex Systems Ltd" in html
    assert f'<input type="hidden" name="organization" value="{world.org_b.id}">' in html
    found = results(response, results_id)
    assert "Some filters were not understood" not in found
    if path == "/admin/users":
        assert world.user_b.email in found and world.user_a.email not in found
    else:
        assert "membership.ended" in found and "organization.updated" not in found


def test_search_mode_link_keeps_other_filters_when_cleared(client, world, search_mode):
    client.login(world.vendor_admin)
    html = form(client.get(f"/admin/users?organization={world.org_b.id}&role=partner_admin"))
    assert 'href="/admin/users?role=partner_admin"' in html


def test_channel_manager_cannot_name_an_unmanaged_organization_by_id(client, world, monkeypatch):
    monkeypatch.setattr(common, "ORGANIZATION_SELECT_MAX", 0)
    client.login(world.manager)
    response = client.get(f"/admin/users?organization={world.org_b.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Globex Systems Ltd" not in body and world.user_b.email not in body
    assert "Unknown organization." in body
    assert 'name="organization" value=' not in form(response)


@pytest.mark.parametrize(
    "value", ["abc", "-1", "99999999999999999999999999", "١٢", "0x10", "999999"]
)
@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit"])
def test_bad_organization_ids_are_ignored_not_500(client, world, search_mode, path, value):
    client.login(world.vendor_admin)
    response = client.get(path, query_string={"organization": value})
    assert response.status_code == 200
    assert "Some filters were not understood" in response.get_data(as_text=True)


def test_overlong_name_search_is_ignored(client, world, search_mode):
    client.login(world.vendor_admin)
    response = client.get("/admin/users", query_string={"organization_name": "x" * 201})
    assert response.status_code == 200
    assert "6 users" in results(response, "users-results")


def test_name_search_partial_for_htmx(client, world, search_mode):
    client.login(world.vendor_admin)
    response = client.get("/admin/users?organization_name=acme", htmx=True)
    body = response.get_data(as_text=True)
    assert "<html" not in body and world.user_a.email in body and world.user_b.email not in body


def test_choices_cost_a_bounded_number_of_rows(app, world, search_mode):
    """Search mode reads the requested organization only, never the whole list."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with app.test_request_context():
            from flask_login import login_user

            login_user(world.vendor_admin)
            choices = common.organization_choices(str(world.org_a.id))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert choices.searchable and choices.choices == [(world.org_a.id, "Acme Networks GmbH")]
    reads = [s for s in statements if "FROM organization" in s]
    assert reads and all("LIMIT" in s or "organization.id = " in s for s in reads), reads


# -- event names ----------------------------------------------------------------


def _distinct_events(user: User) -> list[str]:
    return list(db.session.scalars(
        scoping.scoped(sa.select(AuditEntry.event).distinct(), AuditEntry, user)
        .order_by(AuditEntry.event)
    ))


@pytest.mark.parametrize("role", ["vendor_admin", "channel_manager"])
def test_event_names_match_select_distinct(app, world, role):
    for event, org in [("organization.updated", world.org_a.id),
                       ("membership.ended", world.org_b.id), ("program.created", None),
                       ("user.logged_in", world.org_a.id), ("user.logged_in", None),
                       ("a.first", world.org_b.id), ("z.last", None)]:
        add_entry(event, org)
    db.session.commit()
    user = world.by_role(role)
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        assert audit_views.event_names() == _distinct_events(user)


def test_event_names_of_an_empty_log(app, world):
    with app.test_request_context():
        from flask_login import login_user

        login_user(world.vendor_admin)
        assert audit_views.event_names() == _distinct_events(world.vendor_admin)


# -- a channel manager's broad reach --------------------------------------------


@pytest.fixture
def broad(monkeypatch):
    """Every channel manager's reach counts as broad: walking queries use EXISTS."""
    monkeypatch.setattr(scoping, "BROAD_REACH", 1)


@pytest.mark.parametrize("model", [Organization, User, AuditEntry])
def test_both_shapes_of_reach_select_the_same_rows(app, world, monkeypatch, model):
    add_entry("organization.updated", world.org_a.id)
    add_entry("membership.ended", world.org_b.id)
    add_entry("program.created", None)
    other = factories.user(Role.CHANNEL_MANAGER, email="other@vendor.example")
    factories.assign_manager(other, world.org_b)
    db.session.commit()
    with app.test_request_context():
        for user in (world.manager, other, world.vendor_admin, world.admin_a):
            narrow = set(db.session.scalars(scoping.visible(model, user)))
            monkeypatch.setattr(scoping, "BROAD_REACH", 1)
            walked = set(db.session.scalars(scoping.visible(model, user, walk=True)))
            monkeypatch.setattr(scoping, "BROAD_REACH", 200)
            assert walked == narrow, (user.email, model)


def test_broad_reach_is_counted_up_to_the_threshold(app, world, monkeypatch):
    with app.test_request_context():
        monkeypatch.setattr(scoping, "BROAD_REACH", 2)
        assert not scoping.has_broad_reach(world.manager)
        factories.assign_manager(world.manager, world.org_b)
        assert scoping.has_broad_reach(world.manager)


def test_broad_reach_lists_stay_scoped(client, world, broad):
    add_entry("organization.updated", world.org_a.id)
    add_entry("membership.ended", world.org_b.id)
    db.session.commit()
    client.login(world.manager)
    users = results(client.get("/admin/users"), "users-results")
    assert world.user_a.email in users and world.user_b.email not in users
    assert "2 users" in users
    organizations = results(client.get("/admin/organizations"), "organizations-results")
    assert "Acme Networks GmbH" in organizations and "Globex Systems Ltd" not in organizations
    entries = results(client.get("/admin/audit"), "audit-results")
    assert "organization.updated" in entries and "membership.ended" not in entries
    home = client.get("/").get_data(as_text=True)
    assert "membership.ended" not in home


def test_broad_reach_pages_newest_first_with_totals(client, world, broad, monkeypatch):
    monkeypatch.setattr(audit_views, "PER_PAGE", 2)
    for n in range(5):
        add_entry(f"step.{n}", world.org_a.id, minutes_ago=n)
        add_entry("elsewhere", world.org_b.id, minutes_ago=n)
    db.session.commit()
    client.login(world.manager)
    first = results(client.get("/admin/audit"), "audit-results")
    assert "5 entries" in first and "Page 1 of 3" in first
    assert first.index("step.0") < first.index("step.1") and "step.2" not in first
    last = results(client.get("/admin/audit?page=3"), "audit-results")
    assert "step.4" in last and "elsewhere" not in last


def test_recent_audit_entries_are_the_same_in_both_shapes(app, world, monkeypatch):
    for n in range(12):
        add_entry(f"a.{n:02d}", world.org_a.id, minutes_ago=n)
        add_entry(f"b.{n:02d}", world.org_b.id, minutes_ago=n)
    db.session.commit()
    with app.test_request_context():
        narrow = figures.recent_audit_entries(world.manager)
        monkeypatch.setattr(scoping, "BROAD_REACH", 1)
        walked = figures.recent_audit_entries(world.manager)
    expected = [f"a.{n:02d}" for n in range(10)]
    assert [e.event for e in walked] == [e.event for e in narrow] == expected
