"""The plugin's German catalog (domain "hello") on its own pages and on core pages."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import portal_hello

TRANSLATIONS = Path(portal_hello.__file__).resolve().parent / "translations"
GERMAN = {"Accept-Language": "de"}


@pytest.fixture
def portal_config():
    return {"LANGUAGES": ["en", "de"]}


def test_the_plugins_page_is_in_german(login_as):
    page = login_as("partner_user").get("/p/hello/", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="de"' in page
    assert "<h1>Grüße</h1>" in page and "Einen Gruß posten" in page and "Noch keine Grüße." in page
    assert "Höchstens 280 Zeichen." in page


def test_posting_confirms_in_german(login_as):
    client = login_as("partner_user")
    client.post("/p/hello/", data={"message": "Servus"}, headers=GERMAN)
    page = client.get("/p/hello/", headers=GERMAN).get_data(as_text=True)
    assert "Ihr Gruß ist gepostet." in page and "1 Gruß" in page


def test_contributions_to_core_pages_are_in_german(login_as):
    home = login_as("partner_user").get("/", headers=GERMAN).get_data(as_text=True)
    assert '<a href="/p/hello/">Grüße</a>' in home  # navigation
    assert "Zu den Grüßen" in home and "0 Grüße" in home  # dashboard widget
    assert "Sagen Sie Hallo" in home  # template slot
    assert "Posten Sie Ihren ersten Gruß" in home  # onboarding step


def test_english_stays_the_default(login_as):
    page = login_as("partner_user").get("/p/hello/").get_data(as_text=True)
    assert "<h1>Greetings</h1>" in page


LANGUAGES = ("de", "fr", "es", "pt_BR", "ja", "ar")


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated_and_compiled(code):
    with open(TRANSLATIONS / "hello.pot", "rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "hello.po", "rb") as handle:
        catalog = read_po(handle)
    strings = {m.id: m.string for m in catalog if m.id}
    assert set(strings) == template
    assert all(strings.values()) and not any(m.fuzzy for m in catalog if m.id)
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "hello.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in strings.items():
        if isinstance(msgid, tuple):  # plural forms: every form is present
            assert all(form for form in msgstr)
            assert compiled.ngettext(*msgid, 1) in msgstr
        else:
            assert compiled.gettext(msgid) == msgstr, "hello.mo is stale: run pybabel compile"


@pytest.mark.parametrize("code", ("fr", "ja", "ar"))
def test_the_plugins_page_in_other_languages(login_as, portal_app, code):
    portal_app.config["LANGUAGES"] = ["en", *LANGUAGES]
    page = login_as("partner_user").get("/p/hello/", headers={"Accept-Language": code}).get_data(as_text=True)
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "hello.po", "rb") as handle:
        title = read_po(handle)["Greetings"].string
    assert f"<h1>{title}</h1>" in page
