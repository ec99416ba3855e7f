"""The plugin's own catalogs (domain "deals") in every shipped language: complete,
compiled, up to date with the code, and used on every page, widget and email."""

from __future__ import annotations

import gettext
import html
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.config import SHIPPED_LANGUAGES
from portal.extensions import db
from portal.models import Notification
from portal.testing import message_text

import portal_deals
from portal_deals.models import DealAttachment

PACKAGE = Path(portal_deals.__file__).resolve().parent
TRANSLATIONS = PACKAGE / "translations"
LANGUAGES = [code for code in SHIPPED_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdif%]")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None,
            "_p": (2,), "_np": (2, 3)}


@pytest.fixture
def portal_config():
    return {"LANGUAGES": list(SHIPPED_LANGUAGES)}


def template_ids() -> set:
    with open(TRANSLATIONS / "deals.pot", "rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_the_template_holds_every_message_of_the_code():
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, keywords=KEYWORDS, comment_tags=()):
        found.add(message if isinstance(message, str) else tuple(message))
    found = {m[0] if isinstance(m, tuple) and len(m) == 1 else m for m in found}
    found = {m[:2] if isinstance(m, tuple) else m for m in found if m}
    missing = found - template_ids()
    assert not missing, f"run pybabel extract (see plugins/deals/babel.cfg): {sorted(map(str, missing))[:10]}"
    stale = template_ids() - found
    assert not stale, f"messages no longer in the code: {sorted(map(str, stale))[:10]}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders_and_compiled(code):
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "deals.po", "rb") as handle:
        catalog = read_po(handle, locale=code)
    strings = {m.id: m.string for m in catalog if m.id}
    assert set(strings) == template_ids()
    assert not any(m.fuzzy for m in catalog if m.id)
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "deals.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, msgstr in strings.items():
        if isinstance(msgid, tuple):
            forms = list(msgstr)
            assert len(forms) == catalog.num_plurals and all(forms), (code, msgid)
            allowed = set(PLACEHOLDER.findall(msgid[1]))
            for form in forms:
                assert set(PLACEHOLDER.findall(form)) <= allowed, (code, msgid, form)
                assert set(PLACEHOLDER.findall(form)) >= allowed - {"%(num)d"}, (code, msgid, form)
            assert compiled.ngettext(*msgid, 5) == forms[compiled.plural(5)], "deals.mo is stale"
        else:
            assert msgstr and sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), (code, msgid)
            assert compiled.gettext(msgid) == msgstr, "deals.mo is stale: run pybabel compile"


def test_plural_forms_follow_each_language():
    expected = {"de": 2, "fr": 2, "es": 2, "pt_BR": 2, "ja": 1, "ar": 6}
    for code, count in expected.items():
        with open(TRANSLATIONS / code / "LC_MESSAGES" / "deals.po", "rb") as handle:
            assert read_po(handle, locale=code).num_plurals == count, code


# -- every visible text of the templates is marked ----------------------------------------

JINJA = re.compile(r"{#.*?#}|{%.*?%}|{{.*?}}", re.S)
TAG = re.compile(r"<[!/]?[a-zA-Z][^>]*>", re.S)
ATTRIBUTE = re.compile(r"""(placeholder|title|aria-label|alt)\s*=\s*("[^"]*"|'[^']*')""")
LETTER = re.compile(r"[^\W\d_]")


@pytest.mark.parametrize("template", sorted((PACKAGE / "templates").rglob("*.html")),
                         ids=lambda p: p.name)
def test_templates_hold_no_unmarked_text(template):
    source = JINJA.sub(" ", template.read_text(encoding="utf-8"))
    pieces = [value.strip("\"'") for tag in TAG.findall(source) for _, value in ATTRIBUTE.findall(tag)]
    pieces += TAG.sub("\n", source).split("\n")
    unmarked = [p.strip() for p in pieces if LETTER.search(html.unescape(p)) and p.strip() not in ("—",)]
    assert not unmarked, f"{template.name}: wrap in _(…): {unmarked}"


# -- the pages in every language ------------------------------------------------------------

def english_sentences(code: str) -> list[str]:
    """The plugin's sentences of three words or more whose translation differs."""
    with open(TRANSLATIONS / code / "LC_MESSAGES" / "deals.po", "rb") as handle:
        catalog = read_po(handle, locale=code)
    return [m.id for m in catalog if m.id and isinstance(m.id, str) and not PLACEHOLDER.search(m.id)
            and len(m.id.split()) >= 3 and m.string and m.string != m.id]


def page_text(response) -> str:
    source = response.get_data(as_text=True)
    return " ".join(html.unescape(TAG.sub(" ", source)).split())


@pytest.fixture
def scene(register, login_as, auto_approve, portal_world):
    """A protected registration of A, a conflicting one of B, a comment, an
    attachment (which staff may delete) and a staff note."""
    import io

    from portal_deals.models import DealAttachment

    from portal_deals.models import DealStaffNote

    first = register()
    second = register(role="other_partner_user", customer_name="Initech AG")
    manager = login_as("channel_manager")
    manager.post(f"/p/deals/{first.id}/comments", data={"body": "Hallo"})
    manager.post(f"/p/deals/{first.id}/staff-notes", data={"text": "Intern"})
    first.note_id = db.session.scalars(sa.select(DealStaffNote.id)).one()
    manager.post(f"/p/deals/{first.id}/staff-notes/{first.note_id}/edit", data={"text": "Intern, korrigiert"})
    login_as("partner_user").post(f"/p/deals/{first.id}/attachments", content_type="multipart/form-data",
                                  data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "quote.pdf")})
    first.attachment_id = db.session.scalars(sa.select(DealAttachment.id)).one()
    return first, second


PAGES = {
    "partner_user": ["/", "/p/deals/", "/p/deals/new", "/p/deals/{first}", "/p/deals/{first}/edit"],
    "channel_manager": ["/p/deals/{first}", "/p/deals/{first}/staff-notes/{note}/edit",
                        "/p/deals/{first}/staff-notes/{note}/delete"],
    "vendor_admin": ["/", "/p/deals/", "/p/deals/review", "/p/deals/review?view=extension",
                     "/p/deals/{first}", "/p/deals/{first}/attachments/{attachment}/delete",
                     "/p/deals/{first}/staff-notes/{note}/delete",
                     "/p/deals/{second}", "/p/deals/rules",
                     "/p/deals/rules/{program}", "/p/deals/products"],
}


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_pages_show_no_english_left(scene, login_as, portal_world, code):
    first, second = scene
    ids = {"first": first.id, "second": second.id, "program": portal_world.reseller.id,
           "attachment": first.attachment_id, "note": first.note_id}
    sentences = english_sentences(code)
    problems = {}
    for role, paths in PAGES.items():
        user = portal_world.by_role(role)
        user.locale = code
        db.session.commit()
        client = login_as(role)
        for path in paths:
            url = path.format(**ids)
            response = client.get(url)
            if url == f"/p/deals/{first.id}/edit":
                assert response.status_code == 409  # protected: no longer editable
            else:
                assert response.status_code == 200, url
            text = page_text(response)
            found = [s for s in sentences if s in text]
            if found:
                problems[url] = found
    assert not problems, f"{code}: English on the page: {problems}"


def test_the_german_pages(scene, login_as, portal_world):
    first, second = scene
    portal_world.user_a.locale = "de"
    portal_world.vendor_admin.locale = "de"
    db.session.commit()
    partner = login_as("partner_user")
    assert "<h1>Deal-Registrierungen</h1>" in partner.get("/p/deals/").get_data(as_text=True)
    home = partner.get("/").get_data(as_text=True)
    assert "in diesem Quartal gewonnen (0 Deals)" in home and "Registrieren Sie Ihren ersten Deal" in home
    assert "Geschützt bis" in partner.get(f"/p/deals/{first.id}").get_data(as_text=True)
    admin = login_as("vendor_admin").get(f"/p/deals/{second.id}").get_data(as_text=True)
    assert "1 möglicher Konflikt" in admin and "Beide enthalten: Firewall 100" in admin
    own = login_as("vendor_admin").get(f"/p/deals/{first.id}").get_data(as_text=True)
    assert "<h2 id=\"staff-notes-heading\">Interne Notizen</h2>" in own
    assert "Interne Notizen des Channel-Teams. Partner sehen sie nie." in own
    assert 'hx-confirm="quote.pdf löschen? Das lässt sich nicht rückgängig machen."' in own
    assert 'hx-confirm="Diese interne Notiz löschen? Das lässt sich nicht rückgängig machen."' in own
    assert re.search(r'bearbeitet am <time datetime="[^"]+">[^<]+</time>', own)


def test_refusals_speak_the_users_language(register, login_as, portal_world, auto_approve):
    registration = register()
    portal_world.user_a.locale = "fr"
    db.session.commit()
    response = login_as("partner_user").post(f"/p/deals/{registration.id}/submit")
    assert response.status_code == 409
    assert "Son statut est « Protégé »." in response.get_data(as_text=True)


def test_email_and_notifications_in_the_recipients_language(register, login_as, portal_world, outbox,
                                                             portal_app):
    portal_world.user_a.locale = "ja"
    portal_world.manager.locale = "ar"
    db.session.commit()
    registration = register()
    login_as("channel_manager").post(f"/p/deals/{registration.id}/approve", data={})
    mails = {m["To"]: m for m in outbox()}
    assert mails[portal_world.user_a.email]["Subject"] == "承認済み：Initech GmbH は保護されています"
    assert "%(customer)s" not in message_text(mails[portal_world.user_a.email])
    assert mails[portal_world.manager.email]["Subject"] == "تسجيل صفقة جديد للمراجعة: Initech GmbH"
    note = db.session.scalars(sa.select(Notification).where(Notification.user_id == portal_world.user_a.id)).one()
    with portal_app.test_request_context(), force_locale("de"):
        assert note.render() == "Ihre Deal-Registrierung für Initech GmbH ist genehmigt und geschützt."
    page = login_as("partner_user").get("/notifications/").get_data(as_text=True)
    assert "Initech GmbH の案件登録は承認され、保護されています。" in page


@pytest.mark.parametrize("code", ["ja", "ar"])
def test_plurals_in_languages_with_other_rules(login_as, register, portal_world, code):
    for index in range(3):
        register(customer_name=f"Kunde {index}", customer_website=f"kunde{index}.example.com",
                 contact_email=f"a@kunde{index}.example.com")
    portal_world.user_a.locale = code
    db.session.commit()
    page = login_as("partner_user").get("/p/deals/").get_data(as_text=True)
    assert {"ja": "登録 3 件", "ar": "3 تسجيلات"}[code] in page
    assert 'dir="rtl"' in page if code == "ar" else 'dir="ltr"' in page


def test_attachment_and_staff_note_refusals_speak_the_users_language(scene, login_as, portal_world):
    first, _second = scene
    portal_world.user_a.locale = "ja"  # not the uploader, no admin: refused with the reason
    portal_world.admin_a.locale = "de"
    portal_world.manager.locale = "es"
    portal_world.vendor_admin.locale = "fr"
    db.session.commit()
    login_as("partner_admin").post(f"/p/deals/{first.id}/attachments", content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "admin.pdf")})
    admins = db.session.scalars(sa.select(DealAttachment.id).where(DealAttachment.filename == "admin.pdf")).one()
    response = login_as("partner_user").post(f"/p/deals/{first.id}/attachments/{admins}/delete")
    assert response.status_code == 403
    assert "このファイルを削除できるのは、添付した本人、その組織の管理者、チャネルチームだけです。" in \
        response.get_data(as_text=True)
    login_as("channel_manager").post(f"/p/deals/{first.id}/attachments", content_type="multipart/form-data",
                                     data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "terms.pdf")})
    terms = db.session.scalars(sa.select(DealAttachment.id).where(DealAttachment.filename == "terms.pdf")).one()
    response = login_as("partner_admin").post(f"/p/deals/{first.id}/attachments/{terms}/delete")
    assert response.status_code == 403
    assert "Nur das Channel-Team kann diese Datei löschen: Niemand aus Ihrer Organisation hat sie angehängt." in \
        response.get_data(as_text=True)
    refused = login_as("channel_manager").post(f"/p/deals/{first.id}/staff-notes", data={"text": ""})
    assert refused.status_code == 400 and "Escriba primero la nota." in refused.get_data(as_text=True)
    edit = login_as("channel_manager").post(f"/p/deals/{first.id}/staff-notes/{first.note_id}/edit",
                                            data={"text": "\x07"})
    assert edit.status_code == 400 and "Quite los caracteres de control de la nota." in edit.get_data(as_text=True)
    not_theirs = login_as("vendor_admin").post(f"/p/deals/{first.id}/staff-notes/{first.note_id}/edit",
                                               data={"text": "x"})
    assert not_theirs.status_code == 403
    assert "Seul l’auteur d’une note interne peut la modifier." in not_theirs.get_data(as_text=True)
