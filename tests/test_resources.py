"""The resource library: safe Markdown, who sees which page, the editor and its
errors, events and the audit log, and the documents it hands to search."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from portal.audience import Audience, content_tokens
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Membership,
    ResourcePage,
    ResourcePageAudience,
    ResourcePageTag,
    ResourceStatus,
    Role,
    utcnow,
)
from portal.models.resource import (
    AUDIENCE_VALUES,
    BODY_MAX,
    resource_page_program,
    resource_page_tier,
)
from portal.resources.forms import parse_tags, slugify
from portal.resources.markdown import ALLOWED_TAGS, plain_text, render
from portal.resources.queries import may_see
from portal.resources.search import KINDS, searchable_documents
from portal.resources.search import count as search_count
from tests import factories

# -- Markdown -----------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    '[click](https://example.com "a" onclick="alert(1)")',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<a href='javascript:alert(1)'>x</a>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
]


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


ALLOWED_ATTRIBUTES = {"href", "title", "rel", "src", "alt", "start", "class"}


@pytest.mark.parametrize("source", XSS)
def test_markdown_never_lets_script_through(source):
    for tag, attributes in elements(render(source)):
        assert tag in ALLOWED_TAGS, (source, tag)
        assert set(attributes) <= ALLOWED_ATTRIBUTES, (source, attributes)
        for name in ("href", "src"):
            value = (attributes.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:")), (source, value)


def test_raw_html_is_shown_as_text():
    assert render("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>\n"


def test_markdown_keeps_the_allowed_structure():
    html = render(
        "# Title\n\n## Part\n\nSome *em* and **strong**, `code`.\n\n"
        "- one\n- two\n\n3. three\n\n> quoted\n\n---\n\n```\nblock\n```\n\n"
        "| left | right |\n|:--|--:|\n| a | b |\n"
    )
    for fragment in ("<h2>Title</h2>", "<h3>Part</h3>", "<em>em</em>", "<strong>strong</strong>",
                     "<code>code</code>", "<ul>", "<ol start=\"3\">", "<blockquote>", "<hr>",
                     "<pre><code>block", "<table>", '<th class="align-left">left</th>',
                     '<td class="align-right">b</td>'):
        assert fragment in html, (fragment, html)
    assert "<h1" not in html  # the page's title is its only h1


def test_links_get_rel_and_keep_safe_addresses():
    html = render("[a](https://example.com/x) [b](/resources/guide) [c](mailto:p@example.com) "
                  "[d](#part)")
    assert html.count('rel="noopener noreferrer nofollow"') == 4
    for href in ("https://example.com/x", "/resources/guide", "mailto:p@example.com", "#part"):
        assert f'href="{href}"' in html


def test_images_only_from_http_or_this_site():
    html = render("![a](https://cdn.example.com/a.png) ![b](/static/b.png) "
                  "![c](//evil.example/c.png) ![d](mailto:x@example.com)")
    assert 'src="https://cdn.example.com/a.png" alt="a"' in html
    assert 'src="/static/b.png" alt="b"' in html
    assert "evil.example" not in html and "mailto" not in html


def test_plain_text_has_no_markup():
    text = plain_text("# Deal registration\n\nRegister **every** [deal](https://x.example) "
                      "in `time`.\n\n![Diagram](/a.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert text == "Deal registration\nRegister every deal in time.\nDiagram\na\nb\n1\n2"
    assert plain_text("") == ""


# -- the model: tokens, tags, audit state --------------------------------------


def tokens_in_db(page: ResourcePage) -> list[str]:
    return sorted(db.session.scalars(
        sa.select(ResourcePageAudience.token).where(ResourcePageAudience.page_id == page.id)))


def test_audience_values_match_the_audience_enum():
    assert set(AUDIENCE_VALUES) == {a.value for a in Audience}


def test_token_rows_follow_the_audience_on_every_save(app, world):
    page = factories.resource_page(audience="public")
    db.session.commit()
    assert tokens_in_db(page) == ["public", "staff"] == page.audience_tokens()
    page.audience = Audience.PROGRAMS
    page.programs = [world.reseller]
    db.session.commit()
    assert tokens_in_db(page) == [f"program:{world.reseller.id}", "staff"]
    page.audience = Audience.TIERS
    page.programs = []
    page.tiers = [world.reseller.tiers[2]]
    db.session.commit()
    assert tokens_in_db(page) == ["staff", f"tier:{world.reseller.tiers[2].id}"]
    page.tiers = []
    db.session.commit()
    assert tokens_in_db(page) == ["staff"]  # a tier audience without a tier: staff only
    page.audience = Audience.STAFF
    db.session.commit()
    assert tokens_in_db(page) == ["staff"] == content_tokens("staff")


def test_body_html_is_rendered_when_the_body_is_set(app, world):
    page = factories.resource_page(body="Hello <script>x</script> **world**")
    assert page.body_html == "<p>Hello &lt;script&gt;x&lt;/script&gt; <strong>world</strong></p>\n"
    page.body = "# New"
    assert page.body_html == "<h2>New</h2>\n"


def test_tags_are_trimmed_lowercased_and_unique():
    assert parse_tags(" Deal  Registration, MDF,, mdf ,") == ["deal registration", "mdf"]


def test_set_tags_keeps_the_rows_that_stay(app, world):
    page = factories.resource_page(tags=["a", "b"])
    db.session.commit()
    page.set_tags(["b", "c"])
    db.session.commit()
    assert page.tags == ["b", "c"]
    assert sorted(db.session.scalars(sa.select(ResourcePageTag.tag))) == ["b", "c"]


def test_audit_state_names_the_audience_without_the_body(app, world):
    page = factories.resource_page(audience="programs", programs=[world.reseller], tags=["x"],
                                   body="long " * 1000)
    state = page.audit_state()
    assert state["audience"] == "programs" and state["program_ids"] == [world.reseller.id]
    assert state["tags"] == ["x"] and state["body_length"] == 5000
    assert "long" not in str(state)


def test_slugs_are_ascii_and_never_reserved():
    assert slugify("Deal registration: a guide") == "deal-registration-a-guide"
    assert slugify("Verträge für Partner") == "vertrage-fur-partner"
    assert slugify("パートナー契約") == "page"
    assert slugify("Manage") == "page"


# -- who sees what ---------------------------------------------------------------


@pytest.fixture
def library(world):
    """One published page per audience, a draft, and a page for a tier above A's."""
    reseller = world.reseller  # A is a member at tiers[1] ("Silver"); B is in referral
    pages = {
        "public": factories.resource_page("Public page", "public"),
        "partners": factories.resource_page("Partners page", "partners"),
        "reseller": factories.resource_page("Reseller page", "programs", programs=[reseller]),
        "referral": factories.resource_page("Referral page", "programs",
                                            programs=[world.referral]),
        "registered": factories.resource_page("Registered tier page", "tiers",
                                              tiers=[reseller.tiers[0]]),
        "silver": factories.resource_page("Silver tier page", "tiers", tiers=[reseller.tiers[1]]),
        "gold": factories.resource_page("Gold tier page", "tiers", tiers=[reseller.tiers[2]]),
        "staff": factories.resource_page("Staff page", "staff"),
        "draft": factories.resource_page("Draft page", "public", published=False),
    }
    db.session.commit()
    return pages


EVERY_PAGE = {"public", "partners", "reseller", "referral", "registered", "silver", "gold",
              "staff", "draft"}
SEES = {
    "anonymous": {"public"},
    "partner_user_a": {"public", "partners", "reseller", "registered", "silver"},
    "partner_admin_a": {"public", "partners", "reseller", "registered", "silver"},
    "partner_user_b": {"public", "partners", "referral"},
    "channel_manager": EVERY_PAGE,
    "vendor_admin": EVERY_PAGE,
}


def opens(client, library) -> set[str]:
    found = set()
    for key, page in library.items():
        response = client.get(f"/resources/{page.slug}")
        assert response.status_code in (200, 404), (key, response.status_code)
        if response.status_code == 200:
            found.add(key)
    return found


@pytest.mark.parametrize("role", list(SEES))
def test_each_role_opens_exactly_the_pages_of_its_audience(client, world, library, role):
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    assert opens(client, library) == SEES[role]
    reader = user if user is not None else AnonymousUserMixin()
    assert {key for key, page in library.items() if may_see(page, reader)} == SEES[role]


@pytest.mark.parametrize("role", list(SEES))
def test_the_library_lists_what_the_role_may_open_and_no_drafts(client, world, library, role):
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    body = client.get("/resources").get_data(as_text=True)
    listed = {key for key, page in library.items() if f'href="/resources/{page.slug}"' in body}
    assert listed == SEES[role] - {"draft"}


def test_a_tier_page_reaches_that_tier_and_the_higher_ones(client, world, library):
    top = factories.organization("Top Reseller", program=world.reseller,
                                 tier=world.reseller.tiers[3])
    partner = factories.user(Role.PARTNER_USER, top)
    db.session.commit()
    client.login(partner)
    assert {"registered", "silver", "gold"} <= opens(client, library)


def test_an_ended_membership_closes_the_programs_pages_at_once(client, world, library):
    client.login(world.user_a)
    assert client.get(f"/resources/{library['reseller'].slug}").status_code == 200
    membership = db.session.scalars(
        sa.select(Membership).where(Membership.organization_id == world.org_a.id)).one()
    membership.until = date.today() - timedelta(days=1)
    db.session.commit()
    assert opens(client, library) == {"public", "partners"}


def test_a_page_outside_the_audience_answers_404_not_403(client, world, library):
    client.login(world.user_b)
    for key in ("reseller", "gold", "staff", "draft"):
        assert client.get(f"/resources/{library[key].slug}").status_code == 404
    assert client.get("/resources/no-such-page").status_code == 404


def test_a_page_turned_staff_only_disappears_for_partners(client, world, library):
    client.login(world.user_a)
    page = library["partners"]
    assert client.get(f"/resources/{page.slug}").status_code == 200
    page.audience = Audience.STAFF
    db.session.commit()
    assert client.get(f"/resources/{page.slug}").status_code == 404


def test_deleting_a_tier_takes_it_out_of_the_pages_written_for_it(client, world):
    program = factories.program("Alliance", tiers=("Member", "Premier"))
    premier = program.tiers[1]
    page = factories.resource_page("Premier guide", "tiers",
                                   tiers=[premier, world.reseller.tiers[2]])
    only = factories.resource_page("Premier only", "tiers", tiers=[premier])
    db.session.commit()
    premier_id = premier.id
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{program.id}/tiers/{premier_id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert page.tiers == [world.reseller.tiers[2]]
    assert tokens_in_db(page) == ["staff", f"tier:{world.reseller.tiers[2].id}"]
    assert only.tiers == [] and tokens_in_db(only) == ["staff"]
    entry = last_entry("resource.updated")
    assert entry.subject_id == only.id and entry.before["tier_ids"] == [premier_id]


def test_partners_cannot_manage_and_visitors_are_asked_to_log_in(client, world, library):
    page = library["public"]
    urls = ["/resources/manage", "/resources/manage/new", f"/resources/manage/{page.id}/edit",
            f"/resources/manage/{page.id}/delete"]
    for url in urls:
        assert "/login" in client.get(url).headers.get("Location", "")
    client.login(world.admin_a)
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(f"/resources/manage/{page.id}/delete").status_code == 403
    assert db.session.get(ResourcePage, page.id) is not None


def test_the_tag_counts_only_count_pages_the_reader_sees(client, world):
    factories.resource_page("Open", "public", tags=["pricing"])
    factories.resource_page("Staff", "staff", tags=["pricing", "secret-plans"])
    db.session.commit()
    body = client.get("/resources").get_data(as_text=True)
    assert "<bdi>pricing</bdi> <span class=\"muted\">(1)</span>" in body
    assert "secret-plans" not in body


def test_the_library_filters_by_category_tag_and_language(client, world):
    factories.resource_page("Guide in German", "public", language="de", tags=["vertrag"])
    factories.resource_page("Policy in English", "public", category="policy", tags=["legal"])
    db.session.commit()
    assert "Guide in German" not in client.get("/resources?category=policy").get_data(as_text=True)
    body = client.get("/resources?language=de").get_data(as_text=True)
    assert "Guide in German" in body and "Policy in English" not in body
    body = client.get("/resources?tag=Legal").get_data(as_text=True)
    assert "Policy in English" in body and "Guide in German" not in body
    body = client.get("/resources?category=nonsense").get_data(as_text=True)
    assert "Guide in German" in body and "Policy in English" in body  # ignored, and said so


def test_the_library_answers_htmx_with_the_results_only(client, world):
    factories.resource_page("Public page", "public")
    db.session.commit()
    response = client.get("/resources?category=guide", htmx=True,
                          headers={"HX-Target": "resources-results"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Public page" in body
    assert "<html" not in body and body.lstrip().startswith("<section")
    assert "HX-Request" in response.headers["Vary"]


def test_the_library_is_paginated_in_the_database(client, world):
    for n in range(30):
        factories.resource_page(f"Page {n:02d}", "public")
    db.session.commit()
    first = client.get("/resources?sort=title").get_data(as_text=True)
    second = client.get("/resources?sort=title&page=2").get_data(as_text=True)
    assert "Page 00" in first and "Page 24" in first and "Page 25" not in first
    assert "Page 25" in second and "30 pages" in first


def test_navigation_shows_resources_to_partners_staff_and_visitors(client, world):
    assert 'href="/resources"' in client.get("/login").get_data(as_text=True)
    for user in (world.user_a, world.manager):
        client.login(user)
        assert '<a href="/resources"' in client.get("/").get_data(as_text=True)
        client.post("/logout")


def test_an_arabic_page_is_marked_right_to_left(client, world):
    page = factories.resource_page("دليل الشركاء", "public", language="ar")
    db.session.commit()
    body = client.get(f"/resources/{page.slug}").get_data(as_text=True)
    assert '<article class="resource" lang="ar" dir="rtl">' in body
    assert '<html lang="en" dir="ltr">' in body


# -- the editor -------------------------------------------------------------------


def page_form(**changes):
    data = {
        "title": "Deal registration guide",
        "slug": "",
        "summary": "How to register a deal.",
        "body": "# Registering\n\nOpen **Deals**.",
        "category": "guide",
        "language": "en",
        "tags": "Deals, Registration",
        "audience": "partners",
        "action": "save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def pages_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(ResourcePage.id))) or 0


def last_entry(event: str) -> AuditEntry:
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None, f"no audit entry {event}"
    return entry


@pytest.fixture
def staff(client, world):
    client.login(world.manager)
    return world


def test_staff_create_a_draft_with_a_generated_slug(client, staff):
    response = client.post("/resources/manage/new", data=page_form())
    assert response.status_code == 302
    page = db.session.scalars(sa.select(ResourcePage)).one()
    assert response.headers["Location"] == f"/resources/{page.slug}"
    assert page.slug == "deal-registration-guide" and page.status is ResourceStatus.DRAFT
    assert page.tags == ["deals", "registration"] and page.author_id == staff.manager.id
    assert page.body_html == "<h2>Registering</h2>\n<p>Open <strong>Deals</strong>.</p>\n"
    assert page.published_at is None
    entry = last_entry("resource.created")
    assert (entry.subject_type, entry.subject_id) == ("resource_page", page.id)
    assert entry.actor_id == staff.manager.id and entry.after["title"] == page.title


def test_save_and_publish_emits_created_then_published(client, staff):
    client.post("/resources/manage/new", data=page_form(action="publish", slug="guide"))
    page = db.session.scalars(sa.select(ResourcePage)).one()
    assert page.is_published and page.published_at is not None
    entry = last_entry("resource.published")
    assert entry.before["status"] == "draft" and entry.after["status"] == "published"


def test_a_taken_title_gets_a_numbered_slug(client, staff):
    factories.resource_page(slug="deal-registration-guide")
    db.session.commit()
    client.post("/resources/manage/new", data=page_form())
    assert db.session.scalar(sa.select(ResourcePage.slug).order_by(ResourcePage.id.desc())) == (
        "deal-registration-guide-2")


def test_programs_audience_saves_the_programs_and_their_tokens(client, staff):
    client.post("/resources/manage/new", data=page_form(
        audience="programs", programs=[str(staff.reseller.id)],
        tiers=[str(staff.referral.tiers[0].id)]))
    page = db.session.scalars(sa.select(ResourcePage)).one()
    assert page.programs == [staff.reseller] and page.tiers == []  # tiers are not the audience
    assert tokens_in_db(page) == [f"program:{staff.reseller.id}", "staff"]


BAD_INPUTS = [
    ({"title": ""}, "title", "Give the page a title."),
    ({"title": "x" * 201}, "title", "200"),
    ({"slug": "Not a slug!"}, "slug", "lower-case letters"),
    ({"slug": "double--hyphen"}, "slug", "lower-case letters"),
    ({"slug": "manage"}, "slug", "reserved"),
    ({"slug": "x" * 121}, "slug", "120"),
    ({"language": "xx"}, "language", "Choose one of the options"),
    ({"category": "rumour"}, "category", "Choose one of the options"),
    ({"body": ""}, "body", "Write the text"),
    ({"body": "x" * (BODY_MAX + 1)}, "body", str(BODY_MAX)),
    ({"summary": "x" * 501}, "summary", "500"),
    ({"tags": ", ".join(f"t{n}" for n in range(11))}, "tags", "at most 10 tags"),
    ({"tags": "fine, " + "x" * 41}, "tags", "40 characters"),
    ({"audience": "programs"}, "programs", "Choose at least one program."),
    ({"audience": "tiers"}, "tiers", "Choose at least one tier."),
    ({"audience": "everyone"}, "audience", "Choose who may read the page."),
    ({"audience": "programs", "programs": ["99999"]}, "programs", "Choose one of the options"),
    ({"audience": "tiers", "tiers": ["abc"]}, "tiers", "Choose one of the options"),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUTS,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(BAD_INPUTS)])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(client, staff, changes, field,
                                                                    message):
    response = client.post("/resources/manage/new", data=page_form(**changes))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    error = body.split(f'id="{field}-error">', 1)
    assert len(error) == 2, f"no error beside {field}"
    assert message in error[1].split("</p>", 1)[0]
    assert pages_count() == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.event.like("resource.%"))) == 0


def test_a_slug_another_page_uses_is_refused(client, staff):
    factories.resource_page(slug="taken")
    db.session.commit()
    response = client.post("/resources/manage/new", data=page_form(slug="taken"))
    assert response.status_code == 400
    assert "Another page already uses this address name." in response.get_data(as_text=True)
    assert pages_count() == 1


def test_editing_records_the_change_and_who_made_it(client, staff):
    page = factories.resource_page("Old title", "programs", programs=[staff.reseller],
                                   tags=["old"])
    db.session.commit()
    form = client.get(f"/resources/manage/{page.id}/edit").get_data(as_text=True)
    assert 'value="Old title"' in form and 'value="old"' in form
    response = client.post(f"/resources/manage/{page.id}/edit", data=page_form(
        title="New title", slug=page.slug, audience="partners", programs=[str(staff.reseller.id)]))
    assert response.status_code == 302
    db.session.refresh(page)
    assert page.title == "New title" and page.programs == []  # only the audience in force
    assert tokens_in_db(page) == ["partners", "staff"]
    assert page.updated_by_id == staff.manager.id
    entry = last_entry("resource.updated")
    assert entry.before["title"] == "Old title" and entry.after["title"] == "New title"
    assert entry.before["program_ids"] == [staff.reseller.id] and entry.after["program_ids"] == []


def test_saving_without_a_change_records_nothing(client, staff):
    page = factories.resource_page("Same", "partners", tags=["deals", "registration"],
                                   summary="How to register a deal.",
                                   body="# Registering\n\nOpen **Deals**.")
    db.session.commit()
    client.post(f"/resources/manage/{page.id}/edit", data=page_form(title="Same", slug=page.slug))
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.event == "resource.updated")) == 0


def test_changing_only_the_tags_moves_updated_at(client, staff):
    page = factories.resource_page("Same", "partners", tags=["a"])
    page.updated_at = utcnow() - timedelta(days=3)
    db.session.commit()
    old = page.updated_at
    client.post(f"/resources/manage/{page.id}/edit",
                data=page_form(title="Same", slug=page.slug, tags="b", body=page.body,
                               summary=None))
    db.session.refresh(page)
    assert page.tags == ["b"] and page.updated_at > old


def test_publish_and_unpublish(client, staff):
    page = factories.resource_page("Draft", "partners", published=False)
    db.session.commit()
    response = client.post(f"/resources/manage/{page.id}/publish", data={"back": "manage"})
    assert response.status_code == 302 and response.headers["Location"] == "/resources/manage"
    assert client.post(f"/resources/manage/{page.id}/publish").status_code == 409
    first_published = db.session.get(ResourcePage, page.id).published_at
    assert client.post(f"/resources/manage/{page.id}/unpublish").status_code == 302
    assert db.session.get(ResourcePage, page.id).status is ResourceStatus.DRAFT
    assert client.post(f"/resources/manage/{page.id}/unpublish").status_code == 409
    assert last_entry("resource.unpublished").after["status"] == "draft"
    client.post(f"/resources/manage/{page.id}/publish")
    assert db.session.get(ResourcePage, page.id).published_at == first_published


def test_delete_asks_first_then_emits_before_the_row_goes(client, staff, app):
    page = factories.resource_page("Doomed", "programs", programs=[staff.reseller], tags=["x"])
    db.session.commit()
    page_id = page.id
    confirm = client.get(f"/resources/manage/{page_id}/delete")
    assert confirm.status_code == 200 and "Delete the page" in confirm.get_data(as_text=True)
    seen = []

    def still_there(event):  # type: ignore[no-untyped-def]
        if event.name == "resource.deleted":
            seen.append(db.session.scalar(
                sa.select(ResourcePage.title).where(ResourcePage.id == event.subject_id)))

    app.extensions["portal.events"].connect(still_there)
    assert client.post(f"/resources/manage/{page_id}/delete").headers["Location"] == (
        "/resources/manage")
    assert seen == ["Doomed"]
    assert db.session.get(ResourcePage, page_id) is None
    for table in (ResourcePageTag.__table__, ResourcePageAudience.__table__,
                  resource_page_program, resource_page_tier):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
    entry = last_entry("resource.deleted")
    assert entry.subject_id == page_id and entry.before["title"] == "Doomed" and entry.after == {}


def test_the_live_preview_renders_sanitized_html(client, staff):
    response = client.post("/resources/manage/preview", htmx=True,
                           data={"body": "**Hi** <script>alert(1)</script>"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "<strong>Hi</strong> &lt;script&gt;" in body
    too_long = client.post("/resources/manage/preview", data={"body": "x" * (BODY_MAX + 1)})
    assert too_long.status_code == 400


def test_the_preview_button_works_without_javascript_and_saves_nothing(client, staff):
    response = client.post("/resources/manage/new", data=page_form(action="preview",
                                                                   body="*Look*"))
    assert response.status_code == 200
    assert "<em>Look</em>" in response.get_data(as_text=True)
    assert pages_count() == 0


def test_a_draft_shows_its_state_and_actions_to_staff(client, staff):
    page = factories.resource_page("Draft", "tiers", tiers=[staff.reseller.tiers[2]],
                                   published=False)
    db.session.commit()
    body = client.get(f"/resources/{page.slug}").get_data(as_text=True)
    assert "This page is a draft" in body and "Publish" in body
    assert f"{staff.reseller.name}: {staff.reseller.tiers[2].name}" in body


def test_the_manage_list_shows_drafts_and_filters_by_status(client, staff):
    factories.resource_page("A draft", "public", published=False)
    factories.resource_page("A published page", "public")
    db.session.commit()
    body = client.get("/resources/manage").get_data(as_text=True)
    assert "A draft" in body and "A published page" in body
    body = client.get("/resources/manage?status=draft").get_data(as_text=True)
    assert "A draft" in body and "A published page" not in body


# -- search documents ---------------------------------------------------------------


@contextmanager
def count_queries():
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def test_kinds_name_every_category():
    assert set(KINDS) == {"resource.guide", "resource.announcement", "resource.policy",
                          "resource.other"}


def test_searchable_documents_describe_published_pages(app, world, library):
    documents = {d["id"]: d for d in searchable_documents(None, None)}
    assert f"resource_page:{library['draft'].id}" not in documents
    assert len(documents) == len(library) - 1
    reseller = documents[f"resource_page:{library['reseller'].id}"]
    assert reseller["audience"] == {"programs": [world.reseller.id]}
    assert reseller["kind"] == "resource.guide" and reseller["organization_id"] is None
    assert reseller["url"] == f"/resources/{library['reseller'].slug}"
    assert reseller["body"] == "Some guidance for partners."  # plain text, no **
    gold = documents[f"resource_page:{library['gold'].id}"]
    assert gold["audience"] == {"tiers": [world.reseller.tiers[2].id]}
    assert {documents[f"resource_page:{library[k].id}"]["audience"]
            for k in ("public", "partners", "staff")} == {"public", "partners", "staff"}
    assert set(reseller) == {"id", "kind", "title", "body", "summary", "url", "language", "tags",
                             "audience", "organization_id", "updated_at"}
    assert search_count() == len(documents)


def test_searchable_documents_follow_keys_and_since(app, world):
    old = factories.resource_page("Old", "public", tags=["b", "a"])
    old.updated_at = utcnow() - timedelta(days=10)
    new = factories.resource_page("New", "partners")
    draft = factories.resource_page("Draft", "public", published=False)
    db.session.commit()
    keys = {f"resource_page:{old.id}", f"resource_page:{draft.id}", "hello_greeting:1",
            "resource_page:x"}
    (document,) = searchable_documents(None, keys)
    assert document["id"] == f"resource_page:{old.id}" and document["tags"] == ["a", "b"]
    assert list(searchable_documents(None, set())) == []
    assert list(searchable_documents(None, {"hello_greeting:1"})) == []
    recent = [d["id"] for d in searchable_documents(utcnow() - timedelta(days=1), None)]
    assert recent == [f"resource_page:{new.id}"]


def test_searchable_documents_work_outside_a_request(app, world):
    from flask import has_request_context

    factories.resource_page("Public page", "public")
    db.session.commit()
    assert not has_request_context()
    (document,) = searchable_documents(None, None)
    assert document["url"].startswith("/resources/")


def test_searchable_documents_cost_the_same_queries_for_many_pages(app, world):
    factories.resource_page("One", "programs", programs=[world.reseller], tags=["a"])
    db.session.commit()
    with count_queries() as few:
        list(searchable_documents(None, None))
    for n in range(40):
        factories.resource_page(f"Page {n}", "tiers", tiers=[world.reseller.tiers[1]],
                                tags=["a", f"t{n}"])
    db.session.commit()
    with count_queries() as many:
        assert len(list(searchable_documents(None, None))) == 41
    assert len(many) == len(few)


# -- demo data --------------------------------------------------------------------


def test_demo_pages_reach_each_demo_login_as_described(app, client):
    from portal import demo
    from portal.resources.demo import PAGES

    with app.test_request_context():
        demo.seed()
        demo.seed()  # idempotent
    assert pages_count() == len(PAGES) >= 10
    assert {p.language for p in PAGES} >= {"en", "de", "fr", "es", "ja", "ar"}
    german = next(p for p in PAGES if p.language == "de")
    assert "Vertrag" in german.body and "Verträge" not in german.body + german.title

    def library_titles(email: str | None) -> set[str]:
        if email:
            client.post("/login", data={"email": email, "password": demo.DEMO_PASSWORD})
        body = client.get("/resources").get_data(as_text=True)
        client.post("/logout")
        return {p.title for p in PAGES if f">{p.title}</a>" in body}

    visitor = library_titles(None)
    gold = library_titles("lea.fischer@brightpath.example.com")  # Reseller Gold
    registered = library_titles("diego.ramirez@solnaciente.example.com")  # Reseller Registered
    referral = library_titles("liam.gagnon@mapleridge.example.com")  # Referral only
    staff = library_titles("emea.manager@vendor.example.com")
    assert visitor == {"Welcome to the partner portal"}
    assert "Gold and Platinum: co-marketing funds" in gold - registered
    assert german.title in gold & registered and german.title not in referral
    assert "Guide du programme de recommandation" in referral - gold
    assert "Channel manager playbook: quarterly business reviews" in staff - gold
    assert "Partner Summit 2027: save the date" not in staff  # a draft: manage list only


# -- every language ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["de", "fr", "es", "pt_BR", "ja", "ar"])
def test_resource_screens_show_no_english_leftovers(client, world, code):
    from tests.test_i18n_pages import leftovers, page_text

    page = factories.resource_page("Guide", "tiers", tiers=[world.reseller.tiers[1]], tags=["a"])
    factories.resource_page("Draft", "programs", programs=[world.reseller], published=False)
    world.manager.locale = code
    db.session.commit()
    client.login(world.manager)
    problems = {}
    for url in ("/resources", f"/resources/{page.slug}", "/resources/manage",
                f"/resources/manage/{page.id}/edit", f"/resources/manage/{page.id}/delete"):
        response = client.get(url)
        assert response.status_code == 200, url
        if found := leftovers(page_text(response), code):
            problems[url] = found
    refused = client.post("/resources/manage/new", data=page_form(title="", audience="tiers",
                                                                  tags="x" * 41))
    assert refused.status_code == 400
    if found := leftovers(page_text(refused), code):
        problems["refused"] = found
    assert "This field is required" not in page_text(refused)
    assert not problems, problems
