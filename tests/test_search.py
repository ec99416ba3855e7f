"""Resource search: analysis, queries, who finds what, freshness and robustness."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal import hookimpl
from portal.audience import Audience
from portal.events import emit
from portal.extensions import db
from portal.models import Membership, ProgramPlugin, SearchQueueEntry, utcnow
from portal.search import search_for, service
from portal.search.analysis import analyze, fold
from portal.search.indexer import drain, enqueue, rebuild
from portal.search.query import parse
from portal.testing import damage_index, factories

# -- analysis and query parsing ---------------------------------------------------


def test_german_plural_finds_the_singular_and_umlauts_fold():
    assert analyze("de", "Verträge") == analyze("de", "Vertrag") == analyze("de", "vertrage")


def test_each_language_stems_its_own_words():
    assert analyze("fr", "contrats") == analyze("fr", "contrat")
    assert analyze("es", "contratos") == analyze("es", "contrato")
    assert analyze("pt", "parceiros") == analyze("pt", "parceiro")
    assert analyze("en", "renewals") == analyze("en", "renewal")
    assert analyze("ar", "والعقود") == analyze("ar", "العقود")
    assert analyze("fr", "Éléments") == analyze("fr", "elements")


def test_japanese_is_searched_by_character_pairs():
    assert analyze("ja", "契約書") == ["契約", "約書"]
    assert analyze("ja", "Salesforce連携") == ["salesforce", "連携"]


def test_stop_words_are_dropped():
    assert analyze("en", "the partner") == analyze("en", "partner")
    assert analyze("de", "der Vertrag") == analyze("de", "Vertrag")


def test_queries_split_into_words_phrases_and_the_word_being_typed():
    words = parse('price "deal registration" renew', as_you_type=True)
    assert words.words == ("price",)
    assert words.phrases == ("deal registration",)
    assert words.prefix == "renew"
    assert parse("renew ", as_you_type=True).prefix is None
    assert parse("contr*").prefix == "contr"


@pytest.mark.parametrize("text", ['"', '""', '"unclosed phrase', "((", "-", "*", "   ", "a" * 5000,
                                  "'; DROP TABLE users; --", "<script>alert(1)</script>"])
def test_nothing_a_person_types_is_an_error(text):
    parse(text, as_you_type=True)
    parse(text)


def test_folding_for_prefixes_drops_case_and_accents():
    assert fold("Verträ") == "vertra"
    assert fold("ÉLÉ") == "ele"


# -- who finds what ----------------------------------------------------------------


@pytest.fixture
def library(world):
    """One published page per audience (every one mentions "handbook"), and a draft."""
    reseller = world.reseller
    pages = {
        "public": factories.resource_page("Public handbook", "public"),
        "partners": factories.resource_page("Partners handbook", "partners"),
        "reseller": factories.resource_page("Reseller handbook", "programs", programs=[reseller]),
        "referral": factories.resource_page("Referral handbook", "programs",
                                            programs=[world.referral]),
        "silver": factories.resource_page("Silver handbook", "tiers", tiers=[reseller.tiers[1]]),
        "gold": factories.resource_page("Gold handbook", "tiers", tiers=[reseller.tiers[2]]),
        "staff": factories.resource_page("Staff handbook", "staff"),
        "draft": factories.resource_page("Draft handbook", "public", published=False),
    }
    db.session.commit()
    rebuild()
    return pages


FINDS = {
    "anonymous": {"public"},
    "partner_user_a": {"public", "partners", "reseller", "silver"},
    "partner_admin_a": {"public", "partners", "reseller", "silver"},
    "partner_user_b": {"public", "partners", "referral"},
    "channel_manager": {"public", "partners", "reseller", "referral", "silver", "gold", "staff"},
    "vendor_admin": {"public", "partners", "reseller", "referral", "silver", "gold", "staff"},
}


def found_keys(body: str, library) -> set[str]:
    return {key for key, page in library.items() if f'href="/resources/{page.slug}"' in body}


@pytest.mark.parametrize("role", list(FINDS))
def test_each_role_finds_exactly_what_it_may_open(client, world, library, role):
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    body = client.get("/search?q=handbook").get_data(as_text=True)
    assert found_keys(body, library) == FINDS[role]
    count = len(FINDS[role])
    assert f"{count} result" in body
    # Every hit opens.
    for key in FINDS[role]:
        assert client.get(f"/resources/{library[key].slug}").status_code == 200


@pytest.mark.parametrize("role", list(FINDS))
def test_live_results_and_facets_only_count_what_the_role_may_open(client, world, library, role):
    user = world.by_role(role)
    if user is not None:
        client.login(user)
    live = client.get("/search/live?q=handb", headers={"HX-Request": "true"}).get_data(as_text=True)
    shown = found_keys(live, library)
    assert shown <= FINDS[role] and len(shown) == min(6, len(FINDS[role]))
    assert re.search(rf"See (all|the) {len(FINDS[role])} results?", live)
    page = client.get("/search?q=handbook").get_data(as_text=True)
    assert f"({len(FINDS[role])})" in page  # the one kind's facet count


def test_an_ended_membership_takes_the_programs_pages_out_at_once(client, world, library):
    client.login(world.user_a)
    assert "reseller" in found_keys(client.get("/search?q=handbook").get_data(as_text=True), library)
    membership = db.session.scalars(
        sa.select(Membership).where(Membership.organization_id == world.org_a.id)).one()
    membership.until = date.today() - timedelta(days=1)
    db.session.commit()
    assert found_keys(client.get("/search?q=handbook").get_data(as_text=True), library) == {
        "public", "partners"}


class NotesPlugin:
    """A plugin with documents of its own, one per organization."""

    def __init__(self, world) -> None:
        self.world = world

    @hookimpl
    def portal_permissions(self):
        from portal.models import Role

        return {"notes.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.CHANNEL_MANAGER,
                               Role.VENDOR_ADMIN]}

    @hookimpl
    def portal_search_kinds(self):
        return {"notes.note": "Notes"}

    @hookimpl
    def portal_searchable_documents(self, since, keys):
        for org in (self.world.org_a, self.world.org_b):
            doc_id = f"notes_note:{org.id}"
            if keys is not None and doc_id not in keys:
                continue
            yield {"id": doc_id, "kind": "notes.note", "title": f"Quarterly plan {org.name}",
                   "body": "Our quarterly plan for the partnership.", "url": f"/notes/{org.id}",
                   "language": "en", "audience": "organization", "organization_id": org.id,
                   "permission": "notes.view"}


@pytest.fixture
def notes_app(tmp_path, database_url):
    from tests.conftest import make_app, reset_database

    holder = {}

    class Lazy(NotesPlugin):
        def __init__(self) -> None:
            pass

        @property
        def world(self):
            return holder["world"]

    application = make_app(tmp_path, database_url, plugins={"notes": Lazy()})
    reset_database(application)
    with application.app_context():
        from portal.testing.world import build_world

        holder["world"] = build_world()
        for program in holder["world"].programs:
            db.session.add(ProgramPlugin(program_id=program.id, plugin="notes"))
        db.session.commit()
        rebuild()
        yield application, holder["world"]
        db.session.remove()
        db.engine.dispose()


def fresh_request(app):
    """A request of its own (its own ``g``: per-request caches start empty)."""
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(app.app_context())
    stack.enter_context(app.test_request_context())
    return stack


def titles(found) -> set[str]:
    return {hit.title for hit in found.hits}


def test_a_plugins_records_are_found_by_their_organization_and_its_managers(notes_app):
    app, world = notes_app
    a, b = f"Quarterly plan {world.org_a.name}", f"Quarterly plan {world.org_b.name}"
    expected = {world.user_a: {a}, world.user_b: {b}, world.manager: {a},  # manages A only
                world.vendor_admin: {a, b}, None: set()}
    for user, found in expected.items():
        with fresh_request(app):  # one request per user, as in the portal
            assert titles(search_for(user, "quarterly")) == found


def test_a_plugin_switched_off_hides_its_documents_from_partners(notes_app):
    app, world = notes_app
    db.session.execute(sa.delete(ProgramPlugin).where(ProgramPlugin.program_id == world.reseller.id))
    db.session.commit()
    with fresh_request(app):
        assert search_for(world.user_a, "quarterly").total == 0
    with fresh_request(app):
        assert search_for(world.user_b, "quarterly").total == 1


def test_a_plugin_document_needs_its_permission(notes_app, monkeypatch):
    app, world = notes_app
    from portal.permissions import policy

    monkeypatch.setitem(policy()._grants, "notes.view", frozenset())
    with fresh_request(app):
        assert search_for(world.user_a, "quarterly").total == 0


# -- ranking, phrases, prefixes, typos -------------------------------------------------


@pytest.fixture
def guides(world):
    old = factories.resource_page("Rebate rules", "partners",
                                  body="How the quarterly rebate works for resellers.")
    new = factories.resource_page("Rebate rules 2027", "partners",
                                  body="How the quarterly rebate works for resellers.")
    body_only = factories.resource_page("Price list", "partners",
                                        body="The rebate is listed per product in the price list.")
    german = factories.resource_page("Rahmenverträge für Partner", "partners", language="de",
                                     body="Alle Verträge gelten zwölf Monate.")
    old.updated_at = utcnow() - timedelta(days=900)
    db.session.commit()
    rebuild()
    return {"old": old, "new": new, "body_only": body_only, "german": german}


def hit_titles(client, query: str, **params) -> list[str]:
    body = client.get("/search", query_string={"q": query, **params}).get_data(as_text=True)
    return re.findall(r'<h2 class="search-hit__title"[^>]*><a href="[^"]+">([^<]+)</a>', body)


def test_title_matches_and_recent_documents_rank_first(client, world, guides):
    client.login(world.user_a)
    assert hit_titles(client, "rebate") == ["Rebate rules 2027", "Rebate rules", "Price list"]


def test_phrases_need_their_words_together(client, world, guides):
    client.login(world.user_a)
    assert hit_titles(client, '"price list"') == ["Price list"]
    assert hit_titles(client, '"list price"') == []


def test_a_typed_prefix_finds_words_it_starts(client, world, guides):
    client.login(world.user_a)
    live = client.get("/search/live?q=reba").get_data(as_text=True)
    assert "Rebate rules 2027" in live and "Price list" in live


def test_a_typo_in_a_longer_word_still_finds_it(client, world, guides):
    client.login(world.user_a)
    body = client.get("/search?q=rebbate").get_data(as_text=True)
    assert "similar spellings" in body and "Rebate rules" in body


def test_a_german_query_finds_the_german_page_by_its_stem(client, world, guides):
    client.login(world.user_a)
    client.post("/language", data={"locale": "de", "next": "/"})
    assert hit_titles(client, "Vertrag") == ["Rahmenverträge für Partner"]
    assert hit_titles(client, "vertrage") == ["Rahmenverträge für Partner"]


def test_snippets_mark_the_match_and_escape_the_text(client, world):
    factories.resource_page("Escaping", "partners", body="Use <b>bold</b> claims about rebates.")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    body = client.get("/search?q=rebates").get_data(as_text=True)
    assert "<mark>rebates</mark>" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body or "bold" in body
    assert "<b>bold</b>" not in body


def test_filters_by_kind_tag_and_language(client, world):
    factories.resource_page("Pricing policy", "partners", category="policy", tags=["pricing"],
                            body="The policy on pricing.")
    factories.resource_page("Pricing guide", "partners", category="guide", body="Pricing for all.")
    factories.resource_page("Preisgestaltung", "partners", language="de", body="Pricing auf Deutsch.")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    assert hit_titles(client, "pricing", kind="resource.policy") == ["Pricing policy"]
    assert hit_titles(client, "pricing", tag="pricing") == ["Pricing policy"]
    assert hit_titles(client, "pricing", lang="de") == ["Preisgestaltung"]


def test_results_are_paged(client, world):
    for n in range(23):
        factories.resource_page(f"Onboarding checklist {n}", "partners", body="Onboarding steps.")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    first, third = hit_titles(client, "onboarding"), hit_titles(client, "onboarding", page=3)
    assert len(first) == 10 and len(third) == 3 and not set(first) & set(third)
    assert hit_titles(client, "onboarding", page="999999") == []
    assert client.get("/search?q=onboarding&page=abc").status_code == 200


# -- freshness ----------------------------------------------------------------------


def test_a_published_page_is_found_right_after_the_commit(app, world):
    page = factories.resource_page("Fresh launch kit", "partners")
    emit("resource.published", page)
    db.session.commit()
    with app.test_request_context():
        assert titles(search_for(world.user_a, "launch")) == {"Fresh launch kit"}
        page.audience = Audience.STAFF
        emit("resource.updated", page)
        db.session.commit()
        assert search_for(world.user_a, "launch").total == 0
        assert search_for(world.manager, "launch").total == 1
        emit("resource.deleted", page)
        db.session.delete(page)
        db.session.commit()
        assert search_for(world.manager, "launch").total == 0


def test_a_change_not_yet_indexed_is_left_out_until_it_is(app, world):
    page = factories.resource_page("Pending policy", "partners")
    db.session.commit()
    rebuild()
    with app.test_request_context():
        assert search_for(world.user_a, "pending").total == 1
        service().mode = "off"
        enqueue(f"resource_page:{page.id}")
        db.session.commit()
        assert search_for(world.user_a, "pending").total == 0
        assert drain() == 1
        assert search_for(world.user_a, "pending").total == 1


def test_events_about_records_that_are_no_documents_queue_nothing(app, world):
    emit("organization.updated", world.org_a)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchQueueEntry)) == 0


# -- robustness -------------------------------------------------------------------------


def test_without_an_index_search_says_it_is_rebuilding_and_never_fails(client, world):
    client.login(world.user_a)
    response = client.get("/search?q=anything")
    assert response.status_code == 200
    assert "being rebuilt" in response.get_data(as_text=True)
    assert client.get("/healthz").get_json()["search"]["state"] == "not_built"


def test_a_corrupt_index_is_reported_and_rebuilt(client, world, app, runner):
    factories.resource_page("Survivor guide", "partners")
    db.session.commit()
    rebuild()
    damage_index()
    client.login(world.user_a)
    response = client.get("/search?q=survivor")
    assert response.status_code == 200 and "being rebuilt" in response.get_data(as_text=True)
    health = client.get("/healthz").get_json()
    assert health["search"]["state"] == "corrupt" and health["status"] == "degraded"
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "1 documents" in result.output
    assert "Survivor guide" in client.get("/search?q=survivor").get_data(as_text=True)


def test_the_health_check_counts_documents_and_waiting_changes(client, world):
    factories.resource_page("Counted", "partners")
    db.session.commit()
    rebuild()
    search = client.get("/healthz").get_json()["search"]
    assert search == {"ok": True, "state": "ready", "documents": 1, "waiting": 0}


def test_search_status_command(runner, world):
    rebuild()
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0 and "Index: ready" in result.output


def test_a_phrase_with_many_candidates_checks_the_best_and_estimates_the_count(
        client, world, monkeypatch):
    from portal.search import executor

    for n in range(12):
        words = "price list" if n % 2 else "list price"
        factories.resource_page(f"Sheet {n}", "partners", body=f"The {words} for partners.")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    assert len(hit_titles(client, '"price list"')) == 6
    monkeypatch.setattr(executor, "PHRASE_CHECKS", 4)
    body = client.get("/search", query_string={"q": '"price list"'}).get_data(as_text=True)
    assert "About" in body
    assert 0 < len(hit_titles(client, '"price list"')) <= 4


def test_odd_page_numbers_never_fail_and_a_page_past_the_end_goes_to_the_last(client, world):
    factories.resource_page("Only handbook", "partners")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    for page in ("²", "-1", "0", "1e9", "x"):
        assert client.get("/search", query_string={"q": "handbook", "page": page}).status_code == 200
    response = client.get("/search?q=handbook&page=3")
    assert response.status_code == 302 and "page=1" in response.headers["Location"]


def test_a_query_of_stop_words_only_asks_for_words_again(client, world):
    rebuild()
    client.login(world.user_a)
    body = client.get("/search?q=the+and").get_data(as_text=True)
    assert "Type what you are looking for" in body and "0 results" not in body


def test_a_hits_tags_link_to_the_results_with_that_tag(client, world):
    factories.resource_page("Cloud pricing", "partners", tags=["cloud", "pricing"], body="Prices.")
    factories.resource_page("Cloud security", "partners", tags=["cloud"], body="Prices too.")
    db.session.commit()
    rebuild()
    client.login(world.user_a)
    body = client.get("/search?q=prices").get_data(as_text=True)
    assert 'href="/search?q=prices&amp;tag=pricing"' in body
    assert hit_titles(client, "prices", tag="pricing") == ["Cloud pricing"]


class BrokenDocuments:
    """A plugin whose documents are wrong in every way a plugin can get them wrong."""

    @hookimpl
    def portal_searchable_documents(self, since, keys):
        yield {"id": "broken_thing:1", "kind": "other.kind", "title": "Wrong kind", "url": "/x",
               "audience": "partners"}
        yield {"id": "broken_thing:2", "kind": "broken.thing", "title": "Outside link",
               "url": "https://elsewhere.example", "audience": "partners"}
        yield {"kind": "broken.thing", "title": "No id"}
        yield {"id": "broken_thing:3", "kind": "broken.thing", "title": "Fine thing",
               "url": "/broken/3", "audience": "partners", "body": "fine"}
        raise RuntimeError("the plugin's database went away")


def test_a_plugins_bad_documents_are_reported_and_the_rest_indexed(tmp_path, database_url):
    from portal.plugins import host
    from portal.testing.world import build_world
    from tests.conftest import make_app, reset_database

    app = make_app(tmp_path, database_url, plugins={"broken": BrokenDocuments()})
    reset_database(app)
    with app.app_context():
        world = build_world()
        factories.resource_page("Core page", "partners", body="fine")
        db.session.commit()
        rebuild()
        with app.test_request_context():
            assert {hit.title for hit in search_for(world.vendor_admin, "fine").hits} == {
                "Core page", "Fine thing"}
        failures = {f.message.split(":")[0] for f in host().failures if f.plugin == "broken"}
        assert "RuntimeError" in failures and "invalid document" in failures
        db.session.remove()
        db.engine.dispose()

