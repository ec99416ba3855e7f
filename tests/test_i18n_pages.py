"""Pages, emails, dates, numbers, money and plurals in every shipped language.

The English leftovers are found automatically: every message of the core's template
(translations/messages.pot) of three words or more, without placeholders, whose
translation differs from the English. If such a sentence appears verbatim in a page
rendered in another language, the page shows untranslated English.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import force_locale, gettext, ngettext

from portal.config import SHIPPED_LANGUAGES
from portal.extensions import db
from portal.i18n import TRANSLATIONS_DIR
from portal.invitations import invite
from portal.models import PartnerApplication, Role
from portal.testing import factories
from tests.conftest import message_text
from tests.test_onboarding import form_data

TRANSLATED = [code for code in SHIPPED_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%(\(\w+\))?[sdif%]")
TAG = re.compile(r"<[^>]+>")
READ_ATTRIBUTES = re.compile(r'(?:title|placeholder|aria-label|alt|value)="([^"]*)"')


@cache
def english_sentences(code: str) -> tuple[str, ...]:
    """The core's English UI sentences whose translation in ``code`` is different."""
    with (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=code)
    found = []
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or PLACEHOLDER.search(message.id):
            continue
        if len(message.id.split()) >= 3 and message.string and message.string != message.id:
            found.append(message.id)
    with (TRANSLATIONS_DIR / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    return tuple(sorted(s for s in found if s in template))


def page_text(response: Any) -> str:
    """What a reader sees (and hears): text and attribute values, unescaped, one space."""
    source = response.get_data(as_text=True)
    attributes = " ".join(READ_ATTRIBUTES.findall(source))
    return " ".join(html.unescape(TAG.sub(" ", source) + " " + attributes).split())


def leftovers(text: str, code: str) -> list[str]:
    return [english for english in english_sentences(code) if english in text]


def test_the_leftover_list_is_built_from_the_catalogs():
    for code in TRANSLATED:
        sentences = english_sentences(code)
        assert len(sentences) > 50, code
        assert "Forgot your password?" in sentences


# -- the pages of each role, in each language --------------------------------------

#: The search pages of every role: results with hits and kind facets, the empty
#: form, a search that finds nothing, and the header's live results (htmx).
SEARCH = ("/search?q=handbook", "/search", "/search?q=zzzqqq", "/search/live?q=handb",
          "/search/live?q=zzzqqq")

PAGES = {
    "vendor_admin": (
        "/", "/admin/organizations", "/admin/organizations/{org}",
        "/admin/organizations/{org}/edit",
        "/admin/organizations/new", "/admin/users", "/admin/users/{user}", "/admin/users/invite",
        "/admin/programs", "/admin/programs/{program}", "/admin/programs/{program}/edit",
        "/admin/programs/new", "/admin/applications", "/admin/applications/{application}",
        "/admin/audit", "/admin/plugins", "/account/", "/account/password", "/notifications/",
        "/apply", "/resources", "/resources/manage", "/resources/manage/new", *SEARCH,
    ),
    "channel_manager": (
        "/", "/admin/organizations", "/admin/organizations/{org}", "/admin/users",
        "/admin/programs", "/admin/applications", "/admin/applications/{application}",
        "/admin/audit", "/account/", "/notifications/", "/resources", "/resources/manage",
        *SEARCH,
    ),
    "partner_admin": (
        "/", "/organization/", "/organization/edit", "/organization/team", "/account/",
        "/account/password", "/notifications/", "/apply", "/resources", *SEARCH,
    ),
    "anonymous": (
        "/login", "/password/forgot", "/apply", "/apply/thanks", "/invitation/not-a-token",
        "/resources", *SEARCH,
    ),
}

#: Pages answered as a fragment: no <html lang> of their own.
PARTIALS = ("/search/live",)


@pytest.fixture
def portal(client, world):
    """The world plus an application (which notifies staff and writes the audit log),
    an open invitation on the team page, and indexed resource pages of two kinds
    that every role finds by "handbook" (so the results show hits and facets)."""
    from portal.search.indexer import rebuild

    response = client.post("/apply", data=form_data(world))
    assert response.status_code == 302
    application = db.session.query(PartnerApplication).one()
    invite("new.colleague@acme.example", Role.PARTNER_USER, world.org_a,
           invited_by=world.admin_a, name="New Colleague")
    factories.resource_page("Partner handbook", "public", summary="Start here.")
    factories.resource_page("Handbook update", "public", category="announcement",
                            body="The handbook has a new chapter on renewals.")
    db.session.commit()
    rebuild()
    return world, application


@pytest.mark.parametrize("role", list(PAGES))
@pytest.mark.parametrize("code", TRANSLATED)
def test_pages_show_no_english_leftovers(client, portal, code, role):
    world, application = portal
    ids = {"org": world.org_a.id, "user": world.user_a.id, "program": world.reseller.id,
           "application": application.id}
    headers = {}
    if role == "anonymous":
        headers = {"Accept-Language": code.replace("_", "-")}
    else:
        user = world.by_role(role)
        user.locale = code
        db.session.commit()
        client.login(user)
    problems = {}
    for path in PAGES[role]:
        url = path.format(**ids)
        response = client.get(url, headers=headers)
        assert response.status_code == (400 if url.startswith("/invitation/") else 200), url
        source = response.get_data(as_text=True)
        if not url.startswith(PARTIALS):
            assert f'lang="{code.replace("_", "-")}"' in source, url
        if url.startswith(SEARCH[0]):
            assert "search-hit" in source and 'name="kind"' in source, url
        found = leftovers(page_text(response), code)
        if found:
            problems[url] = found
    assert not problems, f"{code} / {role}: English on the page: {problems}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_form_errors_and_flash_messages_are_translated(client, world, code):
    headers = {"Accept-Language": code.replace("_", "-")}
    refused = client.post("/apply", data={"website": "not a website", "contact_email": "nope"},
                          headers=headers)
    assert refused.status_code == 400
    assert not leftovers(page_text(refused), code)
    assert "This field is required" not in page_text(refused)
    bad_login = client.post("/login", data={"email": world.user_a.email, "password": "wrong"},
                            headers=headers)
    assert not leftovers(page_text(bad_login), code)
    sent = client.post("/password/forgot", data={"email": "someone@example.com"}, headers=headers,
                       follow_redirects=True)
    assert sent.status_code == 200 and not leftovers(page_text(sent), code)
    assert "we have sent it a link" not in page_text(sent)


def test_the_leftover_check_notices_english(client, portal):
    """The check itself: an English page is full of leftovers for every language."""
    client.login(portal[0].vendor_admin)
    text = page_text(client.get("/admin/organizations/new"))
    assert leftovers(text, "de")


def test_arabic_page_is_right_to_left_and_german_is_not(client, world):
    world.vendor_admin.locale = "ar"
    db.session.commit()
    client.login(world.vendor_admin)
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)
    world.vendor_admin.locale = "de"
    db.session.commit()
    assert '<html lang="de" dir="ltr">' in client.get("/").get_data(as_text=True)


# -- dates, numbers, money, the user's timezone ------------------------------------

WHEN = datetime(2026, 3, 9, 22, 30, tzinfo=timezone.utc)


def _render(app, source: str, code: str, tz: str = "UTC", **context: Any) -> str:
    with app.test_request_context(), force_locale(code):
        app.config["BABEL_DEFAULT_TIMEZONE"] = tz
        from flask_babel import refresh

        refresh()
        return render_template_string(source, **context)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "Mar 9, 2026"), ("de", "09.03.2026"), ("fr", "9 mars 2026"), ("es", "9 mar 2026"),
     ("pt_BR", "9 de mar. de 2026"), ("ja", "2026/03/09"), ("ar", "09\u200f/03\u200f/2026")],
)
def test_dates_are_formatted_for_the_locale(app, code, expected):
    assert _render(app, '{{ when|date("medium") }}', code, when=WHEN) == expected


def test_times_use_the_users_timezone(app):
    text = _render(app, '{{ when|datetime("short") }}', "de", "Europe/Berlin", when=WHEN)
    assert text == "09.03.26, 23:30"  # 22:30 UTC is 23:30 in Berlin
    text = _render(app, '{{ when|datetime("short") }}', "ja", "Asia/Tokyo", when=WHEN)
    assert text.startswith("2026/03/10") and "7:30" in text


def test_german_page_shows_dates_in_german(client, world):
    world.vendor_admin.locale = "de"
    db.session.commit()
    client.login(world.vendor_admin)
    page = client.get(f"/admin/users/{world.user_a.id}").get_data(as_text=True)
    created = world.user_a.created_at
    with force_locale("de"):
        from flask_babel import format_date

        month = format_date(created, "MMMM")
    assert re.search(rf"\b{created.day}\. {month} {created.year}\b|"
                     rf"\b{created.day:02d}\.{created.month:02d}\.{created.year}\b", page), page


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "1,234,567.5"), ("de", "1.234.567,5"), ("fr", "1\u202f234\u202f567,5"),
     ("es", "1.234.567,5"), ("pt_BR", "1.234.567,5"), ("ja", "1,234,567.5")],
)
def test_numbers_are_formatted_for_the_locale(app, code, expected):
    with app.test_request_context(), force_locale(code):
        from flask_babel import format_decimal

        assert format_decimal(1234567.5) == expected


@pytest.mark.parametrize(
    ("code", "currency", "expected"),
    [("en", "USD", "$1,234.50"), ("en", "EUR", "€1,234.50"), ("de", "EUR", "1.234,50\xa0€"),
     ("fr", "EUR", "1\u202f234,50\xa0€"), ("es", "EUR", "12.345,50\xa0€"),
     ("pt_BR", "BRL", "R$\xa01.234,50"), ("ja", "JPY", "￥12,346"), ("de", "USD", "1.234,50\xa0$")],
)
def test_money_filter_formats_amounts_for_the_locale(app, code, currency, expected):
    amount = Decimal("12345.50") if code in ("es", "ja") else Decimal("1234.50")
    assert _render(app, "{{ amount|money(currency) }}", code, amount=amount,
                   currency=currency) == expected


def test_money_filter_in_arabic_uses_the_arabic_pattern(app):
    text = _render(app, '{{ amount|money("EUR") }}', "ar", amount=Decimal("1234.5"))
    assert "€" in text and text != "€1,234.50" and ("1,234.50" in text or "١" in text)


def test_money_filter_accepts_zero_and_negative_amounts(app):
    assert _render(app, '{{ 0|money("EUR") }}', "de") == "0,00\xa0€"
    assert _render(app, '{{ -5|money("EUR") }}', "de") == "-5,00\xa0€"


# -- plurals ----------------------------------------------------------------------

COUNTS = (0, 1, 2, 5, 11, 100)
PLURAL = ("%(num)d unread notification", "%(num)d unread notifications")


@pytest.mark.parametrize("code", SHIPPED_LANGUAGES)
def test_plural_forms_render_for_every_count(app, code):
    with app.test_request_context(), force_locale(code):
        for count in COUNTS:
            text = ngettext(*PLURAL, count)
            assert str(count) in text.replace("\u066c", "")  # the number is shown
            if code != "en":
                assert "unread" not in text


def _plural_forms(app, code: str) -> list[str]:
    """The text for each count with the number taken out: which form was picked."""
    with app.test_request_context(), force_locale(code):
        return [ngettext(*PLURAL, n).replace(str(n), "#") for n in COUNTS]


def test_arabic_picks_different_plural_forms(app):
    forms = _plural_forms(app, "ar")
    # Counts 0/1/2/5/11/100 fall in CLDR's zero/one/two/few/many/other: "two" (dual),
    # "few" (plural) and "many" (singular accusative) differ from each other and from "one".
    one, two, few, many = forms[1], forms[2], forms[3], forms[4]
    assert len({one, two, few, many}) == 4, forms


def test_german_has_singular_and_plural(app):
    forms = _plural_forms(app, "de")
    assert forms[1] != forms[2] and forms[0] == forms[2] == forms[5]


def test_japanese_has_one_form(app):
    assert len(set(_plural_forms(app, "ja"))) == 1


def test_every_plural_message_has_every_form_of_its_language():
    for code in TRANSLATED:
        with (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=code)
        for message in catalog:
            if isinstance(message.id, tuple):
                assert len(message.string) == catalog.num_plurals and all(message.string), \
                    (code, message.id)


# -- emails in the recipient's language ----------------------------------------------

def test_invitation_to_a_german_speaker_is_in_german(app, world, outbox):
    with app.test_request_context():
        invite("neu@acme.example", Role.PARTNER_USER, world.org_a, invited_by=world.admin_a,
               name="Nina Neu", locale="de")
        db.session.commit()
    (message,) = [m for m in outbox() if m["To"] == "neu@acme.example"]
    with app.test_request_context(), force_locale("de"):
        subject = gettext("You are invited to join %(organization)s on %(portal)s",
                          organization=world.org_a.name, portal=app.config["PORTAL_NAME"])
        greeting = gettext("Hello %(name)s,", name="Nina Neu")
        link_line = gettext("Open this link to create your account:")
    assert message["Subject"].strip() == subject and "invited" not in subject
    body = message_text(message)
    assert greeting in body and link_line in body
    assert "Open this link" not in body and "Hello" not in body
    assert not leftovers(body, "de")


def test_password_reset_email_follows_the_users_locale(client, world, outbox):
    world.user_a.locale = "ar"
    db.session.commit()
    client.post("/password/forgot", data={"email": world.user_a.email})
    (message,) = [m for m in outbox() if m["To"] == world.user_a.email]
    with force_locale("ar"):
        subject = gettext("Choose a new password for %(portal)s",
                          portal=client.application.config["PORTAL_NAME"])
    assert message["Subject"].strip() == subject
    assert not leftovers(message_text(message), "ar")


# -- portal translations compile ---------------------------------------------------

def test_translations_compile_command_builds_missing_catalogs(runner, tmp_path, monkeypatch):
    import shutil

    import portal.i18n

    source = tmp_path / "translations"
    po = source / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    shutil.copy(TRANSLATIONS_DIR / "de" / "LC_MESSAGES" / "messages.po", po)
    monkeypatch.setattr(portal.i18n, "TRANSLATIONS_DIR", source)
    result = runner.invoke(args=["translations", "compile"])
    assert result.exit_code == 0, result.output
    assert po.with_suffix(".mo").stat().st_size > 1000
    assert str(source) in result.output
