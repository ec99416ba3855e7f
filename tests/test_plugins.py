"""The plugin host: loading, isolation, per-program enablement, contributions."""

from __future__ import annotations

import pluggy
import pytest
from flask import Blueprint, render_template_string
from markupsafe import Markup

from portal import hookimpl
from portal.events import emit
from portal.extensions import db
from portal.models import ProgramPlugin, Role
from portal.onboarding.checklist import ChecklistItem
from portal.permissions import permission_required
from portal.plugins import TierMetric, Widget, host, tier_metrics
from portal.templating import NavItem
from tests import factories
from tests.conftest import PortalClient, make_app, reset_database


class HelloPlugin:
    """A plugin exercising the hooks, registered directly (no entry point needed)."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.bp = Blueprint("hello", __name__)

        @self.bp.get("/")
        @permission_required("hello.view")
        def index():  # type: ignore[no-untyped-def]
            return render_template_string("<p>Hello from the plugin</p>")

    @hookimpl
    def portal_plugin_info(self):  # type: ignore[no-untyped-def]
        return {"label": "Hello", "description": "Says hello."}

    @hookimpl
    def portal_blueprints(self):  # type: ignore[no-untyped-def]
        return self.bp

    @hookimpl
    def portal_permissions(self):  # type: ignore[no-untyped-def]
        return {"hello.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.VENDOR_ADMIN]}

    @hookimpl
    def portal_navigation(self, user):  # type: ignore[no-untyped-def]
        return NavItem("hello.index", "Hello", "hello.view", "all")

    @hookimpl
    def portal_dashboard_widgets(self, user):  # type: ignore[no-untyped-def]
        return [Widget("Greetings", "<b>escaped</b>", priority=5),
                Widget("Markup", Markup("<em>trusted</em>"), priority=1)]

    @hookimpl
    def portal_template_slot(self, slot, context):  # type: ignore[no-untyped-def]
        if slot == "page_bottom":
            return (50, "<i>slot text</i>")
        return None

    @hookimpl
    def portal_event(self, event):  # type: ignore[no-untyped-def]
        self.events.append(event.name)

    @hookimpl
    def portal_onboarding_steps(self, organization):  # type: ignore[no-untyped-def]
        return ChecklistItem(key="hello.wave", label="Wave hello", done=False, url="/p/hello/")

    @hookimpl
    def portal_tier_metrics(self):  # type: ignore[no-untyped-def]
        return [TierMetric("waves", "Waves", lambda organization: 3)]


class BrokenPlugin:
    @hookimpl
    def portal_template_slot(self, slot, context):  # type: ignore[no-untyped-def]
        raise RuntimeError("slot exploded")

    @hookimpl
    def portal_event(self, event):  # type: ignore[no-untyped-def]
        raise RuntimeError("handler exploded")

    @hookimpl
    def portal_dashboard_widgets(self, user):  # type: ignore[no-untyped-def]
        raise RuntimeError("widget exploded")


@pytest.fixture
def plugin() -> HelloPlugin:
    return HelloPlugin()


@pytest.fixture
def plugin_app(tmp_path, database_url, plugin):
    app = make_app(tmp_path, database_url, plugins={"hello": plugin, "broken": BrokenPlugin()})
    app.test_client_class = PortalClient
    reset_database(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def setup(plugin_app):
    program = factories.program("Reseller")
    other = factories.program("Referral")
    org = factories.organization("Acme", program=program)
    partner = factories.user(Role.PARTNER_USER, org)
    admin = factories.user(Role.VENDOR_ADMIN)
    db.session.commit()
    return plugin_app, program, other, partner, admin


def _switch_on(program):
    db.session.add(ProgramPlugin(program_id=program.id, plugin="hello"))
    db.session.commit()


def test_each_app_has_its_own_plugin_manager(tmp_path):
    first, second = make_app(tmp_path / "a", None), make_app(tmp_path / "b", None)
    assert host(first).manager is not host(second).manager


def test_partner_gets_404_until_the_plugin_is_on_for_one_of_their_programs(setup):
    app, program, other, partner, _ = setup
    client = app.test_client()
    client.login(partner)
    assert client.get("/p/hello/").status_code == 404
    assert b"/p/hello/" not in client.get("/").data
    _switch_on(other)  # not a program of the partner
    assert client.get("/p/hello/").status_code == 404
    _switch_on(program)
    assert client.get("/p/hello/").status_code == 200
    assert b'href="/p/hello/"' in client.get("/").data


def test_vendor_staff_see_every_loaded_plugin(setup):
    app, *_, admin = setup
    client = app.test_client()
    client.login(admin)
    assert client.get("/p/hello/").status_code == 200


def test_switching_off_takes_effect_at_once(setup):
    app, program, _, partner, _ = setup
    _switch_on(program)
    client = app.test_client()
    client.login(partner)
    assert client.get("/p/hello/").status_code == 200
    db.session.execute(db.delete(ProgramPlugin))
    db.session.commit()
    assert client.get("/p/hello/").status_code == 404


def test_widgets_are_ordered_and_escaped_unless_markup(setup):
    app, program, _, partner, _ = setup
    _switch_on(program)
    client = app.test_client()
    client.login(partner)
    html = client.get("/").get_data(as_text=True)
    assert "<em>trusted</em>" in html
    assert "&lt;b&gt;escaped&lt;/b&gt;" in html
    assert html.index("Markup") < html.index("Greetings")


def test_slots_render_escaped_contributions(setup):
    app, program, _, partner, _ = setup
    _switch_on(program)
    client = app.test_client()
    client.login(partner)
    assert "&lt;i&gt;slot text&lt;/i&gt;" in client.get("/").get_data(as_text=True)


def test_broken_slot_widget_and_event_handler_are_reported_and_the_page_still_serves(setup):
    app, program, _, partner, admin = setup
    client = app.test_client()
    client.login(admin)
    assert client.get("/").status_code == 200
    emit("test.happened", actor=None)
    db.session.commit()
    failures = {(f.plugin, f.where) for f in host(app).failures}
    assert ("broken", "portal_template_slot") in failures
    assert ("broken", "portal_dashboard_widgets") in failures
    assert ("broken", "portal_event") in failures


def test_events_reach_plugins(setup, plugin):
    emit("organization.updated", actor=None)
    db.session.commit()
    assert "organization.updated" in plugin.events


def test_plugin_onboarding_steps_join_the_checklist_when_on(setup):
    from portal.onboarding.checklist import checklist_for

    app, program, _, partner, _ = setup
    assert "hello.wave" not in [i.key for i in checklist_for(partner.organization)]
    _switch_on(program)
    assert "hello.wave" in [i.key for i in checklist_for(partner.organization)]


def test_tier_metrics_are_collected(setup):
    assert [m.name for m in tier_metrics()] == ["waves"]


def test_plugin_permissions_join_the_policy(setup):
    app, *_ = setup
    assert Role.PARTNER_USER in app.extensions["portal.policy"].roles_for("hello.view")


def test_a_plugin_that_fails_to_import_is_reported_and_the_portal_serves(tmp_path):
    app = make_app(tmp_path, None, PLUGINS=["no-such-plugin"])
    failures = host(app).failures
    assert failures and failures[0].plugin == "no-such-plugin" and failures[0].where == "import"
    with app.app_context():
        assert app.test_client().get("/login").status_code == 200


class MisspeltPlugin:
    @hookimpl
    def portal_navigaton(self, user):  # type: ignore[no-untyped-def]  # sic
        return []


def test_a_misspelt_hook_fails_loudly_in_development(tmp_path):
    with pytest.raises(pluggy.PluginValidationError):
        make_app(tmp_path, None, plugins={"typo": MisspeltPlugin()})


def test_a_misspelt_hook_disables_the_plugin_in_production(tmp_path):
    app = make_app(tmp_path, None, plugins={"typo": MisspeltPlugin()}, TESTING=False,
                   PORTAL_ENV="production")
    assert "typo" not in host(app).loaded
    assert host(app).failures[0].where == "register"


def test_blueprint_must_be_named_after_its_plugin(tmp_path):
    class Squatter:
        @hookimpl
        def portal_blueprints(self):  # type: ignore[no-untyped-def]
            return Blueprint("admin2", __name__)

    app = make_app(tmp_path, None, plugins={"squatter": Squatter()})
    assert any(f.where == "portal_blueprints" for f in host(app).failures)
    assert "admin2" not in app.blueprints


def test_permissions_must_carry_the_plugin_prefix(tmp_path):
    class Grabby:
        @hookimpl
        def portal_permissions(self):  # type: ignore[no-untyped-def]
            return {"admin.access": [Role.PARTNER_USER]}

    app = make_app(tmp_path, None, plugins={"grabby": Grabby()})
    assert Role.PARTNER_USER not in app.extensions["portal.policy"].roles_for("admin.access")
