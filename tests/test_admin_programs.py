"""Vendor side: programs, their ordered tiers, requirements and member counts."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from portal.admin.forms import parse_requirements
from portal.admin.programs import slugify
from portal.extensions import db
from portal.models import AuditEntry, Membership, Program, Tier
from tests import factories


def last_entry(event: str) -> AuditEntry:
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event == event).order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None, f"no audit entry {event}"
    return entry


def tier_names(program: Program) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(
        sa.select(Tier.name).where(Tier.program_id == program.id).order_by(Tier.rank)))


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


# -- viewing ------------------------------------------------------------------


def test_staff_see_programs_with_member_counts(client, world):
    factories.organization("Second Reseller", program=world.reseller, tier=world.reseller.tiers[1])
    ended = factories.organization("Former Reseller", program=world.reseller)
    ended.memberships[0].until = date(2020, 1, 1)
    db.session.commit()
    client.login(world.manager)
    body = client.get("/admin/programs").get_data(as_text=True)
    assert "Reseller" in body and "Referral" in body
    assert "Silver <span class=\"muted\">(2)</span>" in body
    assert "Registered <span class=\"muted\">(0)</span>" in body  # the ended one does not count
    assert "New program" not in body


def test_member_counts_take_one_query_whatever_the_number_of_tiers(client, world):
    client.login(world.vendor_admin)
    client.get("/admin/programs")
    with count_queries() as few:
        client.get("/admin/programs")
    for n in range(5):
        program = factories.program(f"Extra {n}")
        for tier in program.tiers:
            factories.organization(program=program, tier=tier)
    db.session.commit()
    client.get("/admin/programs")  # warm up the same way as above
    with count_queries() as many:
        body = client.get("/admin/programs").get_data(as_text=True)
    assert "Extra 4" in body
    assert len(many) == len(few)
    assert sum("GROUP BY" in s for s in many) == 1


def test_partner_cannot_see_programs(client, world):
    client.login(world.user_a)
    assert client.get("/admin/programs").status_code == 403
    assert client.get(f"/admin/programs/{world.reseller.id}").status_code == 403


def test_program_detail_and_unknown_program(client, world):
    client.login(world.manager)
    body = client.get(f"/admin/programs/{world.reseller.id}").get_data(as_text=True)
    assert "Platinum" in body and "Add tier" not in body
    assert client.get("/admin/programs/9999").status_code == 404


def test_channel_manager_cannot_manage_programs(client, world):
    client.login(world.manager)
    assert client.get("/admin/programs/new").status_code == 403
    assert client.post(f"/admin/programs/{world.reseller.id}/tiers", data={"name": "X"}).status_code == 403
    tier = world.reseller.tiers[0]
    assert client.post(f"/admin/programs/{world.reseller.id}/tiers/{tier.id}/delete").status_code == 403


# -- programs -----------------------------------------------------------------


def test_create_program_with_slug_and_entry_tier(client, world):
    client.login(world.vendor_admin)
    response = client.post("/admin/programs/new", data={
        "name": "Technology Alliance", "description": "ISVs", "entry_tier": "Member",
        "accepts_applications": "y", "active": "y"})
    assert response.status_code == 302
    program = db.session.scalars(sa.select(Program).where(Program.name == "Technology Alliance")).one()
    assert program.slug == "technology-alliance"
    assert [t.name for t in program.tiers] == ["Member"] and program.tiers[0].rank == 1
    assert program.accepts_applications and program.active
    assert last_entry("program.created").subject_id == program.id
    assert last_entry("tier.created").subject_id == program.tiers[0].id


def test_new_program_slug_avoids_taken_ones(client, world):
    client.login(world.vendor_admin)
    client.post("/admin/programs/new", data={"name": "Reseller!", "entry_tier": "Registered"})
    program = db.session.scalars(sa.select(Program).where(Program.name == "Reseller!")).one()
    assert program.slug == "reseller-2"


def test_slugify():
    assert slugify("Technology Alliance") == "technology-alliance"
    assert slugify("Partenaires  Économie") == "partenaires-economie"
    assert slugify("リセラー") == "program"
    assert len(slugify("x" * 200)) <= 64


@pytest.mark.parametrize("name", ["Reseller", "  reseller ", "REFERRAL"])
def test_duplicate_program_name_is_a_form_error(client, world, name):
    client.login(world.vendor_admin)
    response = client.post("/admin/programs/new", data={"name": name, "entry_tier": "Registered"})
    assert response.status_code == 400
    assert "A program with this name already exists." in response.get_data(as_text=True)


def test_edit_program_keeps_slug_and_is_audited(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{world.referral.id}/edit", data={
        "name": "Referral Partners", "description": "Refer us", "active": "y"})
    assert response.status_code == 302
    assert world.referral.name == "Referral Partners" and world.referral.slug == "referral"
    assert world.referral.accepts_applications is False
    changes = last_entry("program.updated").changes()
    assert ("accepts_applications", True, False) in changes
    assert ("name", "Referral", "Referral Partners") in changes


def test_edit_program_to_existing_name_is_refused(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{world.referral.id}/edit", data={"name": "reseller"})
    assert response.status_code == 400
    # Keeping its own name is fine.
    response = client.post(f"/admin/programs/{world.referral.id}/edit", data={"name": "Referral"})
    assert response.status_code == 302


# -- tiers --------------------------------------------------------------------


def test_add_tier_gets_the_next_rank(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{world.referral.id}/tiers",
                           data={"name": "Elite", "description": "The best"})
    assert response.status_code == 302
    assert tier_names(world.referral) == ["Registered", "Preferred", "Elite"]
    elite = db.session.scalars(sa.select(Tier).where(Tier.name == "Elite")).one()
    assert elite.rank == 3 and elite.requirements == {}
    assert last_entry("tier.created").subject_id == elite.id


def test_tier_name_must_be_unique_within_its_program_only(client, world):
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{world.referral.id}/tiers", data={"name": "preferred"})
    assert response.status_code == 400
    assert "already has a tier with this name" in response.get_data(as_text=True)
    # "Gold" exists in Reseller, not in Referral.
    assert client.post(f"/admin/programs/{world.referral.id}/tiers",
                       data={"name": "Gold"}).status_code == 302


def test_tier_of_another_program_is_404(client, world):
    client.login(world.vendor_admin)
    foreign = world.reseller.tiers[0]
    assert client.get(f"/admin/programs/{world.referral.id}/tiers/{foreign.id}/edit").status_code == 404
    assert client.post(f"/admin/programs/{world.referral.id}/tiers/{foreign.id}/move",
                       data={"direction": "up"}).status_code == 404


def test_edit_tier_name_description_and_requirements(client, world):
    client.login(world.vendor_admin)
    gold = world.reseller.tiers[2]
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{gold.id}/edit", data={
        "name": "Gold Plus", "description": "Top partners",
        "requirements": "certified_people = 2\n\n# deals\nwon_deal_value=50000.5\n"})
    assert response.status_code == 302
    assert gold.name == "Gold Plus"
    assert gold.requirements == {"certified_people": 2, "won_deal_value": 50000.5}
    changes = dict((k, (b, a)) for k, b, a in last_entry("tier.updated").changes())
    assert changes["requirements"] == ({}, {"certified_people": 2, "won_deal_value": 50000.5})
    page = client.get(f"/admin/programs/{world.reseller.id}/tiers/{gold.id}/edit").get_data(as_text=True)
    assert "certified_people = 2" in page


@pytest.mark.parametrize(("text", "message"), [
    ("Certified = 2", "Line 1"),
    ("certified_people = -1", "is not a number"),
    ("certified_people = two", "is not a number"),
    ("a = 1\na = 2", "given twice"),
    ("no equals sign", "Line 1"),
])
def test_bad_requirements_are_form_errors(client, world, text, message):
    client.login(world.vendor_admin)
    gold = world.reseller.tiers[2]
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{gold.id}/edit",
                           data={"name": "Gold", "requirements": text})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert gold.requirements in ({}, None)


def test_parse_requirements():
    assert parse_requirements("  x = 0 \n# c\n\ny_z=3.25") == ({"x": 0, "y_z": 3.25}, [])
    assert parse_requirements("")[0] == {}
    assert len(parse_requirements("1x = 2\nok = 1\nbad = 1e3")[1]) == 2


def test_move_tier_up_and_down_swaps_ranks(client, world):
    client.login(world.vendor_admin)
    silver = world.reseller.tiers[1]
    url = f"/admin/programs/{world.reseller.id}/tiers/{silver.id}/move"
    assert client.post(url, data={"direction": "up"}).status_code == 302
    assert tier_names(world.reseller) == ["Registered", "Gold", "Silver", "Platinum"]
    assert client.post(url, data={"direction": "down"}).status_code == 302
    assert client.post(url, data={"direction": "down"}).status_code == 302
    assert tier_names(world.reseller) == ["Silver", "Registered", "Gold", "Platinum"]
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))
                             .where(AuditEntry.event == "tier.moved")) == 6


def test_moving_past_the_ends_is_a_conflict(client, world):
    client.login(world.vendor_admin)
    top, entry = world.reseller.tiers[-1], world.reseller.tiers[0]
    base = f"/admin/programs/{world.reseller.id}/tiers"
    assert client.post(f"{base}/{top.id}/move", data={"direction": "up"}).status_code == 409
    assert client.post(f"{base}/{entry.id}/move", data={"direction": "down"}).status_code == 409
    assert client.post(f"{base}/{entry.id}/move", data={"direction": "sideways"}).status_code == 400
    assert tier_names(world.reseller) == ["Registered", "Silver", "Gold", "Platinum"]


def test_delete_unused_tier(client, world):
    client.login(world.vendor_admin)
    gold = world.reseller.tiers[2]
    gold_id = gold.id
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{gold_id}/delete")
    assert response.status_code == 302
    assert db.session.get(Tier, gold_id) is None
    assert tier_names(world.reseller) == ["Registered", "Silver", "Platinum"]
    entry = last_entry("tier.deleted")
    assert entry.before["name"] == "Gold" and entry.subject_id == gold_id
    # Ranks now have a gap; adding and moving still work.
    client.post(f"/admin/programs/{world.reseller.id}/tiers", data={"name": "Diamond"})
    platinum = db.session.scalars(sa.select(Tier).where(Tier.name == "Platinum")).one()
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{platinum.id}/move",
                           data={"direction": "up"})
    assert response.status_code == 302
    assert tier_names(world.reseller) == ["Registered", "Silver", "Diamond", "Platinum"]


def test_delete_tier_in_use_is_a_conflict(client, world):
    client.login(world.vendor_admin)
    silver = world.reseller.tiers[1]  # Acme is a Silver member
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{silver.id}/delete")
    assert response.status_code == 409
    assert "used by 1 memberships" in response.get_data(as_text=True)
    assert db.session.get(Tier, silver.id) is not None


def test_delete_tier_used_only_by_ended_membership_is_still_refused(client, world):
    membership = db.session.scalars(sa.select(Membership).where(
        Membership.organization_id == world.org_b.id)).one()
    membership.until = date(2020, 1, 1)
    db.session.commit()
    client.login(world.vendor_admin)
    tier = world.referral.tiers[0]
    assert client.post(f"/admin/programs/{world.referral.id}/tiers/{tier.id}/delete").status_code == 409


def test_last_tier_cannot_be_deleted(client, world):
    program = factories.program("Solo", tiers=("Only",))
    db.session.commit()
    client.login(world.vendor_admin)
    response = client.post(f"/admin/programs/{program.id}/tiers/{program.tiers[0].id}/delete")
    assert response.status_code == 409


def test_tier_name_taken_by_a_concurrent_request_is_a_form_error_not_500(client, world, monkeypatch):
    monkeypatch.setattr("portal.admin.forms._name_taken", lambda *args: False)
    client.login(world.vendor_admin)
    gold = world.reseller.tiers[2]
    response = client.post(f"/admin/programs/{world.reseller.id}/tiers/{gold.id}/edit",
                           data={"name": "Silver"})
    assert response.status_code == 400
    assert "taken a moment ago" in response.get_data(as_text=True)
    assert tier_names(world.reseller) == ["Registered", "Silver", "Gold", "Platinum"]
