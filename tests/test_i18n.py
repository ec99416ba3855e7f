"""Localization: complete catalogs, locale selection, the switcher, right-to-left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.config import SHIPPED_LANGUAGES
from portal.extensions import db
from portal.i18n import TRANSLATIONS_DIR

TRANSLATED = [code for code in SHIPPED_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]")


def _catalog(code: str):
    with (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(code):
    missing = []
    for message in _catalog(code):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert not missing, f"{code}: {len(missing)} untranslated, e.g. {missing[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_placeholders_match_between_msgid_and_msgstr(code):
    wrong = []
    for message in _catalog(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        allowed = set(PLACEHOLDER.findall(" ".join(ids)))
        for string in strings:
            used = set(PLACEHOLDER.findall(string))
            if used - allowed or (len(ids) == 1 and used != allowed):
                wrong.append((ids[0], string))
    assert not wrong, f"{code}: {wrong[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_catalog_holds_every_message_of_the_template(code):
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    catalog = {m.id for m in _catalog(code) if m.id}  # iterating skips obsolete entries
    assert not template - catalog, f"{code}: run `pybabel update` ({len(template - catalog)} missing)"


def test_catalogs_compile(tmp_path):
    from portal.catalogs import ensure_compiled

    target = ensure_compiled(TRANSLATIONS_DIR, tmp_path)
    for code in TRANSLATED:
        assert (Path(target) / code / "LC_MESSAGES" / "messages.mo").exists()


def test_the_template_is_current():
    """Every marked string in the code is in translations/messages.pot.

    The files are read as ``pybabel extract`` reads them, with babel.cfg's mapping
    and options (the Jinja extensions the templates need among them)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = TRANSLATIONS_DIR.parent
    with (root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "_l": None, "N_": None, "gettext": None, "lazy_gettext": None,
                "ngettext": (1, 2)}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(root), method_map=method_map, keywords=keywords,
                                                options_map=options_map):
        found.add(message[0] if isinstance(message, tuple) else message)
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        template = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(handle) if m.id}
    missing = sorted(found - template)
    assert not missing, f"run `pybabel extract` (see README): {missing[:5]}"


def test_extraction_reads_the_templates_that_use_jinja_extensions():
    """A template pybabel cannot parse is skipped without a word unless babel.cfg
    says otherwise: the form macros (``{% do %}``) were, and their strings went
    untranslated."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = TRANSLATIONS_DIR.parent
    with (root / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    for pattern, method in method_map:
        if method == "jinja2":
            assert options_map[pattern].get("silent") == "false", pattern
            assert "jinja2.ext.do" in options_map[pattern].get("extensions", ""), pattern
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(root / "portal" / "templates" / "macros"), method_map=[("**.html", "jinja2")],
        options_map={"**.html": options_map["portal/templates/**.html"]})}
    assert "Please correct the marked fields." in found


# -- selection ------------------------------------------------------------------

def test_accept_language_picks_a_shipped_language(app, client):
    code = TRANSLATED[0] if TRANSLATED else "en"
    response = client.get("/login", headers={"Accept-Language": f"{code.replace('_', '-')},en;q=0.5"})
    assert f'lang="{code.replace("_", "-")}"' in response.get_data(as_text=True)


def test_unknown_accept_language_falls_back_to_the_default(client):
    response = client.get("/login", headers={"Accept-Language": "tlh"})
    assert 'lang="en"' in response.get_data(as_text=True)


@pytest.mark.skipif(len(SHIPPED_LANGUAGES) < 3, reason="needs two translated languages")
def test_user_setting_beats_cookie_beats_accept_language(client, world):
    first, second = TRANSLATED[0], TRANSLATED[1]
    client.set_cookie("portal_locale", second, domain="portal.test")
    page = client.get("/login", headers={"Accept-Language": first}).get_data(as_text=True)
    assert f'lang="{second.replace("_", "-")}"' in page
    world.user_a.locale = first
    db.session.commit()
    client.login(world.user_a)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'lang="{first.replace("_", "-")}"' in page


def test_switcher_sets_the_cookie_and_returns_to_the_page(client):
    code = SHIPPED_LANGUAGES[-1]
    response = client.post("/language", data={"locale": code, "next": "/apply"})
    assert response.status_code == 302 and response.headers["Location"] == "/apply"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal_locale="))
    assert f"portal_locale={code}" in cookie and "SameSite=Lax" in cookie


def test_switcher_saves_the_choice_for_a_logged_in_user(client, world):
    code = SHIPPED_LANGUAGES[-1]
    client.login(world.user_a)
    client.post("/language", data={"locale": code, "next": "/"})
    db.session.refresh(world.user_a)
    assert world.user_a.locale == code


def test_switcher_refuses_unknown_languages_and_foreign_redirects(client):
    assert client.post("/language", data={"locale": "xx", "next": "/"}).status_code == 400
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.skipif("ar" not in SHIPPED_LANGUAGES, reason="Arabic not shipped yet")
def test_arabic_pages_are_right_to_left(client):
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize("code", TRANSLATED)
def test_login_page_has_no_english_leftovers(client, code):
    page = client.get("/login", headers={"Accept-Language": code.replace("_", "-")}).get_data(as_text=True)
    for english in ("Forgot your password?", "Keep me logged in on this device", "Not a partner yet?"):
        assert english not in page, f"{code}: {english!r} is not translated"


def test_flask_babels_state_is_read_without_its_proxy(app):
    import flask_babel
    from flask import g

    from portal import i18n

    assert flask_babel._get_current_context is i18n._babel_state  # installed by init_app
    with app.test_request_context("/"):
        ours = i18n._babel_state()
        assert ours is g._flask_babel is i18n.flask_babel_state()  # Flask-Babel's own finds it
        flask_babel.get_locale()
        assert ours.babel_locale == flask_babel.get_locale()
