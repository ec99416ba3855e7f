"""Each hook of the hello plugin, through what the portal does with it."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import url_for

from portal import hookspecs
from portal.events import emit
from portal.extensions import db
from portal.models import Role
from portal.plugin_migrations import applied_heads, downgrade_plugin, upgrade_all
from portal.plugins import discover, host, tier_metrics
from portal.testing import link_in
from portal_hello.models import HelloGreeting


def add_greeting(organization, message, author=None, created_at=None):
    item = HelloGreeting(organization_id=organization.id, message=message,
                         author_id=author.id if author else None)
    if created_at is not None:
        item.created_at = created_at
    db.session.add(item)
    db.session.commit()
    return item


def all_greetings():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(HelloGreeting).order_by(HelloGreeting.id)))


# -- discovery and setup -------------------------------------------------------------

def test_it_is_found_through_its_entry_point_alone():
    installed = discover()["hello"]
    assert installed.target == "portal_hello"
    assert installed.distribution == "portal-hello"
    assert installed.version == "0.1.0"


def test_it_implements_every_hook(portal_app):
    every_hook = sorted(name for name in dir(hookspecs) if name.startswith("portal_"))
    assert host().hooks_of("hello") == every_hook
    assert not host().failures


def test_plugin_info_names_it_on_the_admin_plugins_page(portal_app, login_as):
    assert str(host().info["hello"]["label"]) == "Hello"
    page = login_as("vendor_admin").get("/admin/plugins").get_data(as_text=True)
    assert "Partners post short greetings for their colleagues." in page
    assert "0.1.0" in page


def test_blueprint_is_mounted_under_its_own_prefix(portal_app):
    with portal_app.test_request_context():
        assert url_for("hello.index") == "/p/hello/"
        assert url_for("hello.static", filename="hello.css") == "/p/hello/static/hello.css"


def test_permissions_join_the_policy(portal_app):
    policy = portal_app.extensions["portal.policy"]
    assert policy.roles_for("hello.post") == {Role.PARTNER_USER, Role.PARTNER_ADMIN}
    assert Role.CHANNEL_MANAGER in policy.roles_for("hello.view")


def test_migrations_create_exactly_the_models_table(portal_empty_app):
    outcomes = upgrade_all()
    assert [o.error for o in outcomes] == [None, None]
    assert applied_heads("hello") == ("hello_0001",)
    assert "hello_greeting" in sa.inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert [d for d in differences if "hello_" in repr(d)] == []
    assert upgrade_all()[1].new_tables == []  # twice: nothing more
    downgrade_plugin("hello", "base")
    assert "hello_greeting" not in sa.inspect(db.engine).get_table_names()


def test_cli_command_prints_greetings_per_organization(portal_app, portal_world):
    add_greeting(portal_world.org_a, "One", portal_world.user_a)
    add_greeting(portal_world.org_a, "Two", portal_world.admin_a)
    add_greeting(portal_world.org_b, "Three", portal_world.user_b)
    runner = portal_app.test_cli_runner()
    result = runner.invoke(args=["hello", "stats"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Acme Networks GmbH: 2",
        "Globex Systems Ltd: 1",
        "Total: 3 greetings in 2 organizations",
    ]
    result = runner.invoke(args=["hello", "stats", "--json"])
    assert json.loads(result.output) == {
        "total": 3, "organizations": {"Acme Networks GmbH": 2, "Globex Systems Ltd": 1}}


def test_settings_are_edited_on_the_admin_page_and_used(portal_app, portal_world, login_as):
    admin = login_as("vendor_admin")
    form = admin.get("/admin/plugins/hello/settings").get_data(as_text=True)
    assert "Greeting prefix" in form and 'value="Hello"' in form
    response = admin.post("/admin/plugins/hello/settings",
                          data={"s_greeting_prefix": "Welcome aboard", "s_show_on_dashboard": "y"})
    assert response.status_code == 302
    emit("user.joined", portal_world.user_a, actor=portal_world.user_a, before=None)
    db.session.commit()
    assert [g.message for g in all_greetings()] == [f"Welcome aboard, {portal_world.user_a.name}!"]


def test_demo_data_adds_one_greeting_per_organization_idempotently(portal_empty_app):
    runner = portal_empty_app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
        assert "Plugin hello failed" not in result.output
    db.session.rollback()
    per_organization = db.session.execute(
        sa.select(HelloGreeting.organization_id, sa.func.count(HelloGreeting.id))
        .group_by(HelloGreeting.organization_id)
    ).all()
    assert per_organization and all(count == 1 for _, count in per_organization)


# -- pages ---------------------------------------------------------------------

def test_navigation_links_the_page_for_partners_and_staff(login_as):
    for role in ("partner_user", "channel_manager"):
        home = login_as(role).get("/").get_data(as_text=True)
        assert '<a href="/p/hello/">Greetings</a>' in home
    page = login_as("partner_user").get("/p/hello/").get_data(as_text=True)
    assert '<a href="/p/hello/" aria-current="page">Greetings</a>' in page


def test_dashboard_widget_shows_the_latest_greetings(portal_world, login_as):
    add_greeting(portal_world.org_a, "Fresh <b>news</b>", portal_world.user_a)
    add_greeting(portal_world.org_b, "Not for Acme", portal_world.user_b)
    home = login_as("partner_user").get("/").get_data(as_text=True)
    assert 'widget--hello' in home
    assert "1 greeting" in home and "Fresh &lt;b&gt;news&lt;/b&gt;" in home
    assert "Not for Acme" not in home


def test_dashboard_widget_can_be_switched_off_in_the_settings(login_as):
    admin = login_as("vendor_admin")
    assert admin.post("/admin/plugins/hello/settings",
                      data={"s_greeting_prefix": "Hello"}).status_code == 302  # box unticked
    assert "widget--hello" not in login_as("partner_user").get("/").get_data(as_text=True)


def test_template_slots_add_the_stylesheet_and_a_tip(login_as):
    client = login_as("partner_user")
    home = client.get("/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/p/hello/static/hello.css">' in home
    assert "Say hello: post a greeting" in home
    css = client.get("/p/hello/static/hello.css")
    assert css.status_code == 200 and b".hello-list" in css.data
    css.close()


# -- domain ----------------------------------------------------------------------

def test_joining_an_organization_is_welcomed_with_a_greeting(login_as, portal_world, outbox):
    response = login_as("partner_admin").post("/organization/team/invite", data={
        "email": "newbie@acme.example", "name": "New Bie", "role": "partner_user", "locale": "en"})
    assert response.status_code == 302
    (message,) = outbox()
    joined = login_as("anonymous").post(link_in(message), data={
        "name": "New Bie", "password": "a long new password", "confirm": "a long new password",
        "locale": "en"})
    assert joined.status_code == 302, joined.get_data(as_text=True)
    (welcome,) = all_greetings()
    assert (welcome.message, welcome.organization_id, welcome.author_id) == (
        "Hello, New Bie!", portal_world.org_a.id, None)


def test_other_events_are_ignored(portal_world):
    emit("user.updated", portal_world.user_a, before=None)
    db.session.commit()
    assert all_greetings() == []


def test_onboarding_step_is_done_after_the_first_greeting(login_as):
    client = login_as("partner_user")
    home = client.get("/").get_data(as_text=True)
    assert "checklist__item--open" in home.split("Post your first greeting")[0].rsplit("<li", 1)[1]
    client.post("/p/hello/", data={"message": "Our first"})
    home = client.get("/").get_data(as_text=True)
    assert "checklist__item--done" in home.split("Post your first greeting")[0].rsplit("<li", 1)[1]


def test_tier_metric_counts_the_greetings_people_posted(portal_app, portal_world):
    add_greeting(portal_world.org_a, "By a person", portal_world.user_a)
    add_greeting(portal_world.org_a, "Welcome, by the portal")
    add_greeting(portal_world.org_b, "Elsewhere", portal_world.user_b)
    (metric,) = [m for m in tier_metrics() if m.plugin in ("", "hello") and m.name == "greetings"]
    assert metric.measure(portal_world.org_a) == 1
    assert metric.measure(portal_world.org_b) == 1


def test_searchable_documents_carry_their_organization(portal_app, portal_world):
    old = add_greeting(portal_world.org_a, "An old one", portal_world.user_a)
    old.created_at = old.created_at - timedelta(days=10)
    db.session.commit()
    new = add_greeting(portal_world.org_b, "A new one", portal_world.user_b)
    documents = [doc for _, doc in host().call("portal_searchable_documents", since=None, keys=None)]
    assert [d["id"] for d in documents] == [f"hello_greeting:{old.id}", f"hello_greeting:{new.id}"]
    assert documents[1] == {
        "id": f"hello_greeting:{new.id}", "kind": "hello.greeting", "title": "A new one",
        "body": "A new one", "url": f"/p/hello/#greeting-{new.id}", "language": "en",
        "audience": "organization", "organization_id": portal_world.org_b.id,
        "permission": "hello.view", "updated_at": new.created_at,
    }
    since = new.created_at - timedelta(days=1)
    recent = [doc["id"] for _, doc in host().call("portal_searchable_documents", since=since, keys=None)]
    assert recent == [f"hello_greeting:{new.id}"]
    asked = {f"hello_greeting:{old.id}", "resource_page:1", "hello_greeting:x"}
    chosen = [doc["id"] for _, doc in host().call("portal_searchable_documents", since=None,
                                                     keys=asked)]
    assert chosen == [f"hello_greeting:{old.id}"]


def test_search_kinds_name_the_greetings(portal_app):
    (labels,) = [labels for _, labels in host().call("portal_search_kinds", only=["hello"])]
    assert {kind: str(label) for kind, label in labels.items()} == {"hello.greeting": "Greetings"}


def test_greetings_are_found_by_their_organization_only(portal_app, portal_world):
    from portal.search import search_for
    from portal.search.indexer import rebuild

    add_greeting(portal_world.org_a, "Greetings from the Rhine", portal_world.user_a)
    add_greeting(portal_world.org_b, "Greetings from the Thames", portal_world.user_b)
    rebuild()
    with portal_app.test_request_context():
        found = search_for(portal_world.user_a, "greetings")
    assert [hit.title for hit in found.hits] == ["Greetings from the Rhine"]
