"""Plugin settings: the declared schema, the admin form, validation, storage, audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint, render_template_string

from portal import hookimpl
from portal.extensions import db
from portal.models import AuditEntry, PluginSetting, ProgramPlugin, Role
from portal.permissions import permission_required
from portal.plugins import Setting, host, setting, settings_schema
from tests.conftest import PortalClient, make_app, reset_database


class GreeterPlugin:
    """A plugin with one setting of each type, and a page that reads one."""

    def __init__(self) -> None:
        self.bp = Blueprint("greeter", __name__)

        @self.bp.get("/")
        @permission_required("greeter.view")
        def index():  # type: ignore[no-untyped-def]
            return render_template_string("<p>{{ text }}</p>", text=setting("greeter", "greeting"))

    @hookimpl
    def portal_plugin_info(self):  # type: ignore[no-untyped-def]
        return {"label": "Greeter"}

    @hookimpl
    def portal_blueprints(self):  # type: ignore[no-untyped-def]
        return self.bp

    @hookimpl
    def portal_permissions(self):  # type: ignore[no-untyped-def]
        return {"greeter.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN]}

    @hookimpl
    def portal_settings(self):  # type: ignore[no-untyped-def]
        return [
            Setting("greeting", "Greeting", "str", default="Hello", help="Shown on the page."),
            Setting("max_waves", "Waves a day", "int", default=3),
            Setting("loud", "Shout", "bool", default=False),
            Setting("region", "Region", "choice", default="eu",
                    choices=(("eu", "Europe"), ("us", "United States"))),
            Setting("limit", "Limit", "int"),
            Setting("size", "Size", "choice", choices=(1, 2, 3)),
        ]


class SloppyPlugin:
    """Declares a few settings the portal cannot store, beside good ones."""

    @hookimpl
    def portal_settings(self):  # type: ignore[no-untyped-def]
        return [
            Setting("colour", "Colour"),
            "not a setting",
            Setting("Bad Name", "Bad"),
            Setting("kind", "Kind", "color"),
            Setting("pick", "Pick", "choice"),
            Setting("count", "Count", "int", default="three"),
            Setting("colour", "Colour again"),
            Setting("flag", "Flag", "bool"),  # a bool needs a True/False default
            Setting("answer", "Answer", "int", default=42),
        ]


class RaisingPlugin:
    @hookimpl
    def portal_settings(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("settings exploded")


@pytest.fixture
def app(tmp_path, database_url):
    application = make_app(tmp_path, database_url, plugins={
        "greeter": GreeterPlugin(), "sloppy": SloppyPlugin(), "raising": RaisingPlugin()})
    application.test_client_class = PortalClient
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


VALID = {"s_greeting": "Good day", "s_max_waves": "7", "s_loud": "y", "s_region": "us",
         "s_limit": "", "s_size": "2"}


def _post(client, **changes):
    return client.post("/admin/plugins/greeter/settings", data={**VALID, **changes})


def _audit() -> list[AuditEntry]:
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event == "plugin.settings_changed")))


def _stored() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PluginSetting))


# -- the accessor ------------------------------------------------------------------

def test_setting_returns_the_declared_default_until_one_is_stored(app):
    assert setting("greeter", "greeting") == "Hello"
    assert setting("greeter", "limit") is None
    db.session.add(PluginSetting(plugin="greeter", key="greeting", value="Hi"))
    db.session.commit()
    assert setting("greeter", "greeting") == "Hi"


@pytest.mark.parametrize("plugin, name", [("greeter", "nope"), ("nobody", "greeting"),
                                          ("raising", "anything")])
def test_setting_refuses_names_that_are_not_declared(app, plugin, name):
    with pytest.raises(KeyError):
        setting(plugin, name)


def test_a_stored_value_that_no_longer_fits_the_schema_reads_as_the_default(app):
    db.session.add(PluginSetting(plugin="greeter", key="max_waves", value="many"))
    db.session.add(PluginSetting(plugin="greeter", key="region", value="mars"))
    db.session.commit()
    assert setting("greeter", "max_waves") == 3
    assert setting("greeter", "region") == "eu"


def test_invalid_declarations_are_reported_and_left_out(app):
    assert [s.name for s in settings_schema("sloppy")] == ["colour", "answer"]
    problems = [f.message for f in host(app).failures if f.plugin == "sloppy"]
    assert len(problems) == 7
    assert any("declared twice" in p for p in problems)
    assert any("'color'" in p for p in problems)


def test_a_plugin_whose_settings_hook_raises_is_reported(app, client, world):
    assert settings_schema("raising") == []
    [failure] = [f for f in host(app).failures if f.plugin == "raising"]
    assert failure.where == "portal_settings" and "settings exploded" in failure.message
    client.login(world.vendor_admin)
    page = client.get("/admin/plugins").get_data(as_text=True)
    section = page[page.index('id="plugin-raising"'):page.index('id="plugin-sloppy"')]
    assert "RuntimeError: settings exploded" in section and "<details>" in section
    response = client.get("/admin/plugins/raising/settings")
    assert response.status_code == 200
    assert "This plugin has no settings." in response.get_data(as_text=True)


# -- the form ----------------------------------------------------------------------

def test_settings_page_shows_a_field_per_setting_with_current_values(client, world):
    db.session.add(PluginSetting(plugin="greeter", key="region", value="us"))
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.get("/admin/plugins/greeter/settings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="s_greeting" type="text" value="Hello"' in html
    assert "Shown on the page." in html
    assert 'name="s_max_waves"' in html and 'value="3"' in html
    assert 'name="s_loud" type="checkbox"' in html
    assert '<option selected value="us">United States</option>' in html
    assert 'value="">Not set</option>' in html  # size has no default


def test_saving_stores_values_and_they_take_effect_at_once(app, client, world):
    db.session.add(ProgramPlugin(program_id=world.reseller.id, plugin="greeter"))
    db.session.commit()
    partner = app.test_client()
    partner.login(world.user_a)
    assert "Hello" in partner.get("/p/greeter/").get_data(as_text=True)

    client.login(world.vendor_admin)
    response = _post(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/plugins/greeter/settings")
    assert setting("greeter", "greeting") == "Good day"
    assert setting("greeter", "max_waves") == 7
    assert setting("greeter", "loud") is True
    assert setting("greeter", "region") == "us"
    assert setting("greeter", "size") == 2  # the declared value, not the form's text
    assert setting("greeter", "limit") is None
    assert "Good day" in partner.get("/p/greeter/").get_data(as_text=True)
    row = db.session.get(PluginSetting, ("greeter", "greeting"))
    assert row.updated_by_id == world.vendor_admin.id and row.updated_at is not None


def test_saving_records_before_and_after_of_what_changed(client, world):
    client.login(world.vendor_admin)
    _post(client, s_loud="", s_region="eu", s_size="", s_max_waves="3")  # only greeting changes
    [entry] = _audit()
    assert entry.actor_id == world.vendor_admin.id
    assert entry.before == {"greeting": "Hello"}
    assert entry.after == {"greeting": "Good day"}
    assert "greeter" in entry.summary


def test_saving_unchanged_values_records_nothing(client, world):
    client.login(world.vendor_admin)
    response = client.post("/admin/plugins/greeter/settings", data={
        "s_greeting": "Hello", "s_max_waves": "3", "s_region": "eu", "s_limit": "", "s_size": ""})
    assert response.status_code == 302
    assert _audit() == [] and _stored() == 0


def test_unticking_a_checkbox_stores_false(client, world):
    client.login(world.vendor_admin)
    _post(client)
    assert setting("greeter", "loud") is True
    data = dict(VALID)
    del data["s_loud"]
    client.post("/admin/plugins/greeter/settings", data=data)
    assert setting("greeter", "loud") is False


@pytest.mark.parametrize("field, value, message", [
    ("s_max_waves", "lots", "Enter a whole number"),
    ("s_max_waves", "1_000", "Enter a whole number"),
    ("s_max_waves", "١٢", "Enter a whole number"),
    ("s_max_waves", "4.5", "Enter a whole number"),
    ("s_max_waves", "9" * 30, "Enter a whole number"),
    ("s_max_waves", "", "Enter a whole number"),  # it has a default, so it needs a value
    ("s_limit", "x", "Enter a whole number"),
    ("s_region", "mars", "Choose one of the options"),
    ("s_size", "7", "Choose one of the options"),
    ("s_greeting", "a" * 2001, "Use at most 2000 characters"),
])
def test_invalid_values_are_shown_beside_the_field_and_nothing_is_saved(client, world, field, value,
                                                                        message):
    client.login(world.vendor_admin)
    response = _post(client, **{field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error">{message}' in html
    assert _stored() == 0 and _audit() == []


def test_a_blank_whole_number_without_default_is_allowed(client, world):
    client.login(world.vendor_admin)
    assert _post(client, s_limit="  ").status_code == 302
    assert setting("greeter", "limit") is None
    assert _post(client, s_limit=" -12 ").status_code == 302
    assert setting("greeter", "limit") == -12


def test_settings_need_a_csrf_token(client, world):
    client.login(world.vendor_admin)
    response = client.post("/admin/plugins/greeter/settings", data=VALID, csrf=False)
    assert response.status_code == 400
    assert _stored() == 0


@pytest.mark.parametrize("role", ["channel_manager", "partner_admin_a", "partner_user_a"])
def test_only_vendor_admins_edit_settings(client, world, role):
    client.login(world.by_role(role))
    assert client.get("/admin/plugins/greeter/settings").status_code == 403
    assert _post(client).status_code == 403
    assert _stored() == 0


def test_settings_of_an_unknown_plugin_are_404(client, world):
    client.login(world.vendor_admin)
    assert client.get("/admin/plugins/nobody/settings").status_code == 404
    assert client.post("/admin/plugins/nobody/settings", data={}).status_code == 404


def test_sloppy_plugins_settings_page_warns_about_left_out_settings(client, world):
    client.login(world.vendor_admin)
    html = client.get("/admin/plugins/sloppy/settings").get_data(as_text=True)
    assert "they are left out" in html
    assert 'name="s_colour"' in html and 'name="s_answer"' in html and "s_flag" not in html
