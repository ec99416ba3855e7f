"""The admin plugins page: what is installed and loaded, failures, per-program switches."""

from __future__ import annotations

from importlib import metadata

import pytest
import sqlalchemy as sa
from flask import Blueprint, render_template_string

from portal import hookimpl
from portal import plugins as plugin_module
from portal.extensions import db
from portal.models import AuditEntry, PluginSetting, ProgramPlugin, Role
from portal.permissions import permission_required
from portal.plugins import InstalledPlugin, host
from tests.conftest import PortalClient, make_app, reset_database


class HelloPlugin:
    """A plugin with a page, registered directly (no entry point)."""

    def __init__(self) -> None:
        self.bp = Blueprint("hello", __name__)

        @self.bp.get("/")
        @permission_required("hello.view")
        def index():  # type: ignore[no-untyped-def]
            return render_template_string("<p>Hello from the plugin</p>")

    @hookimpl
    def portal_plugin_info(self):  # type: ignore[no-untyped-def]
        return {"label": "Hello world", "description": "Says hello to partners."}

    @hookimpl
    def portal_blueprints(self):  # type: ignore[no-untyped-def]
        return self.bp

    @hookimpl
    def portal_permissions(self):  # type: ignore[no-untyped-def]
        return {"hello.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.VENDOR_ADMIN]}


class ExplodingPlugin:
    @hookimpl
    def portal_dashboard_widgets(self, user):  # type: ignore[no-untyped-def]
        raise RuntimeError("widget <exploded>")


def _installed(name: str, target: str, version: str = "1.4.2") -> InstalledPlugin:
    return InstalledPlugin(
        name=name,
        target=target,
        distribution=f"portal-{name}",
        version=version,
        entry_point=metadata.EntryPoint(name=name, value=target, group="portal.plugins"),
    )


@pytest.fixture
def app(tmp_path, database_url, monkeypatch):
    # Two "installed" plugins: "shelf" is not named in PLUGINS, "broken" is and
    # cannot be imported; "ghost" is named in PLUGINS but installed nowhere.
    monkeypatch.setattr(plugin_module, "discover", lambda: {
        "broken": _installed("broken", "portal_no_such_module_for_tests"),
        "shelf": _installed("shelf", "portal_shelf_for_tests"),
    })
    application = make_app(
        tmp_path, database_url,
        plugins={"hello": HelloPlugin(), "exploding": ExplodingPlugin()},
        PLUGINS=["broken", "ghost"],
    )
    application.test_client_class = PortalClient
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _page(client) -> str:
    response = client.get("/admin/plugins")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _switch(client, plugin, program, state, **kwargs):
    return client.post(f"/admin/plugins/{plugin}/programs/{program.id}", data={"state": state}, **kwargs)


def _audit(event: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == event)
                                   .order_by(AuditEntry.id)))


# -- who may see it --------------------------------------------------------------

def test_partners_may_not_open_the_plugins_page(client, world):
    client.login(world.admin_a)
    assert client.get("/admin/plugins").status_code == 403
    assert _switch(client, "hello", world.reseller, "on").status_code == 403
    assert client.get("/admin/plugins/hello/settings").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/admin/plugins")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_channel_managers_see_the_page_read_only(client, world):
    client.login(world.manager)
    html = _page(client)
    assert "Hello world" in html
    assert "Switch on" not in html
    assert "/admin/plugins/hello/settings" not in html
    assert _switch(client, "hello", world.reseller, "on").status_code == 403
    assert client.get("/admin/plugins/hello/settings").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgramPlugin)) == 0


@pytest.mark.parametrize("role, shown", [("vendor_admin", True), ("channel_manager", True),
                                         ("partner_admin_a", False)])
def test_staff_navigation_links_the_plugins_page(client, world, role, shown):
    client.login(world.by_role(role))
    assert ('href="/admin/plugins"' in client.get("/").get_data(as_text=True)) is shown


# -- what it shows -----------------------------------------------------------------

def test_page_lists_loaded_plugins_with_label_hooks_and_programs(client, world):
    db.session.add(ProgramPlugin(program_id=world.referral.id, plugin="hello"))
    db.session.commit()
    client.login(world.vendor_admin)
    html = _page(client)
    section = html[html.index('id="plugin-hello"'):html.index('id="plugin-shelf"')]
    assert "Hello world" in section and "Says hello to partners." in section
    for hook in ("portal_blueprints", "portal_permissions", "portal_plugin_info"):
        assert f"<code>{hook}</code>" in section
    assert 'id="plugin-hello-on-for">Referral<' in section
    assert "Switch off" in section and "Switch on" in section  # Referral on, Reseller off
    assert "/admin/plugins/hello/settings" not in section  # it declares no settings


def test_installed_plugin_that_is_not_loaded_says_how_to_enable_it(client, world):
    client.login(world.vendor_admin)
    html = _page(client)
    section = html[html.index('id="plugin-shelf"'):]
    assert "Not loaded" in section
    assert "1.4.2" in section and "portal-shelf" in section
    assert "add shelf to PLUGINS" in section and "PORTAL_PLUGINS" in section
    assert "/admin/plugins/shelf/" not in section  # no switches for what is not loaded


def test_import_failures_and_hook_failures_are_shown_with_details(client, world):
    client.login(world.vendor_admin)
    client.get("/")  # the dashboard asks "exploding" for widgets: it raises
    html = _page(client)
    broken = html[html.index('id="plugin-broken"'):html.index('id="plugin-exploding"')]
    assert "Failed to load" in broken
    assert "ModuleNotFoundError" in broken and "<details>" in broken and "Traceback" in broken
    ghost = html[html.index('id="plugin-ghost"'):html.index('id="plugin-hello"')]
    assert "Not installed" in ghost and "no installed plugin is named" in ghost
    exploding = html[html.index('id="plugin-exploding"'):html.index('id="plugin-ghost"')]
    assert "portal_dashboard_widgets" in exploding
    assert "RuntimeError: widget &lt;exploded&gt;" in exploding  # escaped, never raw markup


def test_a_failure_that_repeats_is_counted_not_piled_up(app, client, world):
    client.login(world.vendor_admin)
    for _ in range(3):
        assert client.get("/").status_code == 200
    [failure] = [f for f in host(app).failures if f.plugin == "exploding"]
    assert failure.count == 3
    assert "3 times, last at" in _page(client)


def test_a_deployment_without_plugins_says_so(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(plugin_module, "discover", lambda: {})
    app = make_app(tmp_path / "bare", database_url)
    app.test_client_class = PortalClient
    reset_database(app)
    with app.app_context():
        from tests import factories

        admin = factories.user(Role.VENDOR_ADMIN)
        db.session.commit()
        client = app.test_client()
        client.login(admin)
        html = _page(client)
        assert "No plugins in this deployment" in html
        db.session.remove()
        db.engine.dispose()


# -- switching ---------------------------------------------------------------------

def test_switching_on_and_off_takes_effect_for_partners_at_once(app, world):
    admin, partner = app.test_client(), app.test_client()
    admin.login(world.vendor_admin)
    partner.login(world.user_a)
    assert partner.get("/p/hello/").status_code == 404

    response = _switch(admin, "hello", world.reseller, "on")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/plugins#plugin-hello")
    assert partner.get("/p/hello/").status_code == 200
    assert partner.get("/p/hello/").status_code == 200

    assert _switch(admin, "hello", world.reseller, "off").status_code == 302
    assert partner.get("/p/hello/").status_code == 404


def test_switching_records_who_and_what_in_the_audit_log(client, world):
    db.session.add(ProgramPlugin(program_id=world.reseller.id, plugin="exploding"))
    db.session.commit()
    client.login(world.vendor_admin)
    _switch(client, "hello", world.reseller, "on")
    _switch(client, "hello", world.reseller, "off")
    [enabled] = _audit("plugin.enabled")
    assert enabled.actor_id == world.vendor_admin.id
    assert (enabled.subject_type, enabled.subject_id) == ("program", world.reseller.id)
    assert enabled.before == {"plugins": ["exploding"]}
    assert enabled.after == {"plugins": ["exploding", "hello"]}
    [disabled] = _audit("plugin.disabled")
    assert disabled.before == {"plugins": ["exploding", "hello"]}
    assert disabled.after == {"plugins": ["exploding"]}
    assert db.session.get(ProgramPlugin, (world.reseller.id, "hello")) is None


def test_switching_on_what_is_on_changes_nothing(client, world):
    client.login(world.vendor_admin)
    _switch(client, "hello", world.reseller, "on")
    assert _switch(client, "hello", world.reseller, "on").status_code == 302
    assert _switch(client, "hello", world.referral, "off").status_code == 302  # already off
    assert len(_audit("plugin.enabled")) == 1
    assert _audit("plugin.disabled") == []


def test_htmx_switch_answers_the_row_and_a_status_message(client, world):
    client.login(world.vendor_admin)
    response = _switch(client, "hello", world.reseller, "on", htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="plugin-hello-program-{world.reseller.id}">')
    assert "Switch off" in html and 'value="off"' in html
    assert 'id="plugin-hello-on-for" hx-swap-oob="true">Reseller<' in html
    assert "Hello world is on for Reseller." in html
    assert "<html" not in html


def test_switching_off_keeps_the_plugins_data(client, world):
    db.session.add(ProgramPlugin(program_id=world.reseller.id, plugin="hello"))
    db.session.add(ProgramPlugin(program_id=world.referral.id, plugin="hello"))
    db.session.add(PluginSetting(plugin="hello", key="greeting", value="Hi"))
    db.session.commit()
    client.login(world.vendor_admin)
    _switch(client, "hello", world.reseller, "off")
    db.session.expire_all()
    assert db.session.get(PluginSetting, ("hello", "greeting")).value == "Hi"
    assert db.session.get(ProgramPlugin, (world.referral.id, "hello")) is not None


@pytest.mark.parametrize("plugin", ["nobody", "shelf", "broken", "ghost"])
def test_switching_a_plugin_that_is_not_loaded_is_404(client, world, plugin):
    client.login(world.vendor_admin)
    assert _switch(client, plugin, world.reseller, "on").status_code == 404
    assert client.get(f"/admin/plugins/{plugin}/settings").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgramPlugin)) == 0


def test_switching_for_an_unknown_program_is_404(client, world):
    client.login(world.vendor_admin)
    assert client.post("/admin/plugins/hello/programs/999999", data={"state": "on"}).status_code == 404


@pytest.mark.parametrize("data", [{}, {"state": "maybe"}, {"state": ""}])
def test_switching_needs_on_or_off(client, world, data):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/plugins/hello/programs/{world.reseller.id}", data=data)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ProgramPlugin)) == 0


def test_switching_without_csrf_token_is_refused(client, world):
    client.login(world.vendor_admin)
    assert _switch(client, "hello", world.reseller, "on", csrf=False).status_code == 400
    assert db.session.get(ProgramPlugin, (world.reseller.id, "hello")) is None


def test_a_plugin_cannot_widen_core_permissions(tmp_path):
    class Squatter:
        @hookimpl
        def portal_permissions(self):  # type: ignore[no-untyped-def]
            return {"plugins.manage": [Role.PARTNER_USER]}

    app = make_app(tmp_path, None, plugins={"plugins": Squatter()})
    assert Role.PARTNER_USER not in app.extensions["portal.policy"].roles_for("plugins.manage")
    assert any(f.where == "portal_permissions" and "core" in f.message for f in host(app).failures)
