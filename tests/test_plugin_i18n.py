"""Plugins' own translation catalogs: a domain per plugin, beside the core's.

The plugin is a package written under ``tmp_path`` with a German catalog compiled
at test time; the core gets a small German catalog of its own too, so that we can
tell whose translation a page shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string

from portal.extensions import babel, db
from portal.i18n import LOCALE_COOKIE
from portal.models import Role
from portal.plugin_i18n import PluginTranslations, plugin_of_blueprint, translations_directory
from tests import factories
from tests.conftest import PortalClient, make_app, reset_database
from tests.test_plugin_migrations import plugin_root, write_plugin_package  # noqa: F401

PLUGIN = '''
from flask import Blueprint, render_template

from portal import hookimpl
from portal.plugin_i18n import PluginTranslations

t = PluginTranslations("hello")
_, _l, ngettext = t.gettext, t.lazy_gettext, t.ngettext
TITLE = _l("Good morning")  # lazy: translated when shown, in the request's language

bp = Blueprint("hello", __name__, template_folder="templates")


@bp.get("/")
def index():
    return render_template("hello/index.html", count=3, name="Ada")


@bp.get("/chrome")
def chrome():
    return render_template("hello/chrome.html")


@bp.get("/python")
def python():
    return " | ".join([_("Good morning"), str(TITLE), ngettext("%(num)d wave", "%(num)d waves", 3),
                       _("Hello %(name)s", name="Ada")])


@hookimpl
def portal_blueprints():
    return bp
'''

INDEX = '''<p id="hello">{{ _("Good morning") }}</p>
<p id="trans">{% trans %}Hello {{ name }}{% endtrans %}</p>
<p id="plural">{{ ngettext("%(num)d wave", "%(num)d waves", count) }}</p>
<p id="core-only">{{ _("Forgot your password?") }}</p>
<p id="shared">{{ _("Log in") }}</p>
'''

CHROME = '''{% extends "base.html" %}
{% block content %}<p id="hello">{{ _("Good morning") }}</p>{% endblock %}
'''

PLUGIN_PO = r'''
msgid ""
msgstr ""
"Language: de\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "Good morning"
msgstr "Guten Morgen"

msgid "Hello %(name)s"
msgstr "Hallo %(name)s"

msgid "%(num)d wave"
msgid_plural "%(num)d waves"
msgstr[0] "%(num)d Winken"
msgstr[1] "%(num)d Winker"

msgid "Log in"
msgstr "Anmelden (Plugin)"
'''

CORE_PO = r'''
msgid ""
msgstr ""
"Language: de\n"
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Log in"
msgstr "Anmelden"

msgid "Forgot your password?"
msgstr "Passwort vergessen?"

msgid "Good morning"
msgstr "Morgen (Kern)"
'''


def compiled(po: str) -> bytes:
    catalog = read_po(BytesIO(po.encode()), locale="de")
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


@pytest.fixture
def hello_package(plugin_root: Path) -> Any:  # noqa: F811
    return write_plugin_package(plugin_root, {
        "__init__.py": PLUGIN,
        "templates/hello/index.html": INDEX,
        "templates/hello/chrome.html": CHROME,
        "translations/de/LC_MESSAGES/hello.po": PLUGIN_PO,
    }, prefix="portal_i18n_plugin")


@pytest.fixture
def core_translations(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "core-translations"
    mo = folder / "de" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    mo.write_bytes(compiled(CORE_PO))
    # Flask-Babel caches the core domain's catalogs per locale in one process-wide
    # object, whatever the folder: start clean, and leave no test catalog behind.
    vars(babel).pop("domain_instance", None)  # a cached_property: rebuilt, empty, on use
    yield folder
    vars(babel).pop("domain_instance", None)


def build(tmp_path: Path, database_url: str | None, core: Path, **plugins: Any) -> Flask:
    app = make_app(tmp_path, database_url, plugins=plugins, LANGUAGES=["en", "de"],
                   BABEL_TRANSLATION_DIRECTORIES=str(core))
    app.test_client_class = PortalClient
    reset_database(app)
    return app


@pytest.fixture
def app(tmp_path: Path, database_url: str | None, core_translations: Path,
        hello_package: Any) -> Iterator[Flask]:
    catalog = Path(hello_package.__file__).parent / "translations/de/LC_MESSAGES"
    (catalog / "hello.mo").write_bytes(compiled(PLUGIN_PO))
    application = build(tmp_path, database_url, core_translations, hello=hello_package)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def get(app: Flask, path: str, language: str | None = "de", **kwargs: Any) -> str:
    headers = {"Accept-Language": language} if language else {}
    response = app.test_client().get(path, headers=headers, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_plugin_templates_translate_with_the_plugins_catalog(app: Flask) -> None:
    page = get(app, "/p/hello/")
    assert '<p id="hello">Guten Morgen</p>' in page
    assert '<p id="trans">Hallo Ada</p>' in page
    assert '<p id="plural">3 Winker</p>' in page


def test_plugin_templates_fall_back_to_the_core_catalog(app: Flask) -> None:
    page = get(app, "/p/hello/")
    assert '<p id="core-only">Passwort vergessen?</p>' in page
    # A msgid in both catalogs: on the plugin's own page, the plugin's wins.
    assert '<p id="shared">Anmelden (Plugin)</p>' in page


def test_core_pages_are_untouched_by_a_plugins_catalog(app: Flask) -> None:
    login = get(app, "/login")
    assert "Anmelden" in login and "Passwort vergessen?" in login
    assert "(Plugin)" not in login
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert render_template_string('{{ _("Good morning") }}') == "Morgen (Kern)"


def test_the_core_layout_around_a_plugin_page_stays_translated(app: Flask) -> None:
    page = get(app, "/p/hello/chrome")
    assert '<p id="hello">Guten Morgen</p>' in page
    assert "Anmelden (Plugin)" in page  # the nav's "Log in": the plugin's page, its catalog first


def test_plugin_python_code_translates_with_its_domain(app: Flask) -> None:
    assert get(app, "/p/hello/python") == "Guten Morgen | Guten Morgen | 3 Winker | Hallo Ada"
    assert get(app, "/p/hello/python", language=None) == "Good morning | Good morning | 3 waves | Hello Ada"


def test_core_templates_reach_a_plugin_catalog_with_p(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        html = render_template_string(
            '{{ _p("hello", "Hello %(name)s", name="<b>") }} {{ _np("hello", "%(num)d wave", '
            '"%(num)d waves", 1) }} {{ _("Good morning") }}')
    assert html == "Hallo &lt;b&gt; 1 Winken Morgen (Kern)"


def test_a_plugins_notification_is_read_in_its_domain_and_the_readers_language(app: Flask) -> None:
    from portal.models import Notification

    plugin = Notification(user_id=1, event="hello.x", message="Hello %(name)s",
                          params={"name": "Ada", "_domain": "hello"})
    core = Notification(user_id=1, event="x", message="Good morning", params={})
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("de"):
        assert (plugin.render(), core.render()) == ("Hallo Ada", "Morgen (Kern)")
    with app.test_request_context(), force_locale("en"):
        assert plugin.render() == "Hello Ada"


def test_the_locale_is_still_chosen_by_the_core(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(LOCALE_COOKIE, "de", domain="portal.test")
    assert "Guten Morgen" in client.get("/p/hello/").get_data(as_text=True)
    user = factories.user(Role.VENDOR_ADMIN)
    user.locale = "de"
    db.session.commit()
    client = app.test_client()
    client.login(user)
    page = client.get("/p/hello/python", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.startswith("Guten Morgen")


def test_an_unsupported_language_gets_the_source_strings(app: Flask) -> None:
    assert "Good morning" in get(app, "/p/hello/", language="fr")


def test_the_catalog_folder_is_found_beside_the_plugin(app: Flask, hello_package: Any) -> None:
    expected = Path(hello_package.__file__).resolve().parent / "translations"
    assert translations_directory("hello") == expected
    assert translations_directory("nobody") is None
    assert plugin_of_blueprint("hello") == "hello"
    assert plugin_of_blueprint("hello_admin") == "hello"
    assert plugin_of_blueprint("admin") is None


def test_a_plugin_may_name_its_catalog_folder(tmp_path: Path, database_url: str | None,
                                              core_translations: Path) -> None:
    from portal import hookimpl

    folder = tmp_path / "elsewhere"
    mo = folder / "de" / "LC_MESSAGES" / "greeter.mo"
    mo.parent.mkdir(parents=True)
    mo.write_bytes(compiled(PLUGIN_PO))

    class Greeter:
        @hookimpl
        def portal_plugin_info(self):  # type: ignore[no-untyped-def]
            return {"label": "Greeter", "translations": str(folder)}

    app = build(tmp_path, database_url, core_translations, greeter=Greeter())
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert PluginTranslations("greeter").gettext("Good morning") == "Guten Morgen"
        # A plugin without any catalog: its strings stay as written, no error.
        assert PluginTranslations("nobody").gettext("Good morning") == "Good morning"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_each_app_has_its_own_plugin_domains(app: Flask, tmp_path: Path, database_url: str | None,
                                             core_translations: Path) -> None:
    other = build(tmp_path / "other", database_url, core_translations)  # hello not loaded
    with other.test_request_context(headers={"Accept-Language": "de"}):
        assert PluginTranslations("hello").gettext("Good morning") == "Good morning"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert PluginTranslations("hello").gettext("Good morning") == "Guten Morgen"
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
