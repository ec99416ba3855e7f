"""Vendor side: the audit log viewer, its scoping and filters."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry


def add_entry(event: str, *, organization_id: int | None = None, actor: str | None = None,
              at: datetime | None = None, before: dict | None = None, after: dict | None = None,
              subject_type: str | None = None, subject_id: int | None = None) -> AuditEntry:
    entry = AuditEntry(event=event, organization_id=organization_id, actor_label=actor,
                       occurred_at=at or datetime.now(timezone.utc), before=before, after=after,
                       subject_type=subject_type, subject_id=subject_id)
    db.session.add(entry)
    db.session.flush()
    return entry


def results(response) -> str:  # type: ignore[no-untyped-def]
    """The results part of a page (the filter form also names events)."""
    return response.get_data(as_text=True).split('id="audit-results"')[1]


@pytest.fixture
def log(world):
    add_entry("organization.updated", organization_id=world.org_a.id, actor="admin@vendor.example",
              at=datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc),
              before={"name": "Acme Old", "phone": None}, after={"name": "Acme New", "phone": None},
              subject_type="organization", subject_id=world.org_a.id)
    add_entry("membership.ended", organization_id=world.org_b.id, actor="admin@vendor.example",
              at=datetime(2025, 3, 5, 23, 30, tzinfo=timezone.utc))
    add_entry("program.created", actor="boss@vendor.example",
              at=datetime(2025, 3, 10, 8, 0, tzinfo=timezone.utc),
              subject_type="program", subject_id=world.reseller.id)
    db.session.commit()


def test_vendor_admin_sees_all_entries_newest_first(client, world, log):
    client.login(world.vendor_admin)
    body = results(client.get("/admin/audit?date_to=2025-12-31"))
    assert body.index("program.created") < body.index("membership.ended") < body.index(
        "organization.updated")


def test_channel_manager_sees_only_managed_organizations_entries(client, world, log):
    client.login(world.manager)
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "organization.updated" in body
    assert "membership.ended" not in body  # organization B
    assert "program.created" not in body  # vendor-wide
    # Even asking for B by id shows nothing of B.
    body = client.get(f"/admin/audit?organization={world.org_b.id}").get_data(as_text=True)
    assert "membership.ended" not in body


def test_channel_manager_event_choices_are_scoped(client, world, log):
    client.login(world.manager)
    body = client.get("/admin/audit").get_data(as_text=True)
    assert 'value="program.created"' not in body


def test_partner_is_refused(client, world, log):
    client.login(world.admin_a)
    assert client.get("/admin/audit").status_code == 403


def test_rows_show_time_actor_subject_and_diff(client, world, log):
    client.login(world.vendor_admin)
    body = client.get("/admin/audit?event=organization.updated").get_data(as_text=True)
    assert "3/1/25, 10:00\u202fAM" in body or "3/1/25, 10:00 AM" in body  # Babel's short datetime in English, UTC
    assert "admin@vendor.example" in body
    assert "Acme Networks GmbH" in body  # the subject, linked
    assert f'href="/admin/organizations/{world.org_a.id}"' in body
    assert "<del>Acme Old</del>" in body and "<ins>Acme New</ins>" in body
    assert "phone" not in body.split('id="audit-results"')[1]  # unchanged fields are left out


def test_time_is_shown_in_the_readers_timezone(client, world, log):
    world.vendor_admin.timezone = "Asia/Tokyo"
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get("/admin/audit?event=organization.updated").get_data(as_text=True)
    assert "3/1/25, 7:00\u202fPM" in body or "3/1/25, 7:00 PM" in body


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("event=membership.ended", "membership.ended", "organization.updated"),
        ("actor=BOSS", "program.created", "membership.ended"),
        ("date_from=2025-03-05&date_to=2025-03-05", "membership.ended", "program.created"),
        ("date_to=2025-03-01", "organization.updated", "membership.ended"),
    ],
)
def test_filters(client, world, log, query, shown, hidden):
    client.login(world.vendor_admin)
    body = client.get(f"/admin/audit?{query}").get_data(as_text=True)
    results = body.split('id="audit-results"')[1]
    assert shown in results
    assert hidden not in results


def test_organization_filter(client, world, log):
    client.login(world.vendor_admin)
    body = client.get(f"/admin/audit?organization={world.org_b.id}").get_data(as_text=True)
    results = body.split('id="audit-results"')[1]
    assert "membership.ended" in results and "organization.updated" not in results


def test_date_filter_follows_the_readers_timezone(client, world, log):
    # 2025-03-05 23:30 UTC is already 2025-03-06 in Berlin.
    world.vendor_admin.timezone = "Europe/Berlin"
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get("/admin/audit?date_from=2025-03-06&date_to=2025-03-06").get_data(as_text=True)
    assert "membership.ended" in body.split('id="audit-results"')[1]


@pytest.mark.parametrize("query", [
    "date_from=2025-13-45", "date_to=yesterday", "event=no.such.event", "organization=abc",
])
def test_bad_filters_are_form_errors_not_500(client, world, log, query):
    client.login(world.vendor_admin)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Some filters were not understood" in body
    found = results(response)  # the bad filter is ignored
    assert all(e in found for e in ("organization.updated", "membership.ended", "program.created"))


def test_bad_date_message_is_specific(client, world, log):
    client.login(world.vendor_admin)
    body = client.get("/admin/audit?date_from=31.12.2025").get_data(as_text=True)
    assert "Enter a date like 2025-01-31." in body
    response = client.get("/admin/audit?date_from=2025-03-10&date_to=2025-03-01")
    assert response.status_code == 200
    assert "The end date is before the start date." in response.get_data(as_text=True)


def test_htmx_returns_only_the_results(client, world, log):
    client.login(world.vendor_admin)
    response = client.get("/admin/audit?event=program.created", htmx=True)
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="audit-results"' in body
    assert "program.created" in body and "membership.ended" not in body


def test_log_is_paginated(client, world):
    for n in range(60):
        add_entry("bulk.event", actor=f"bulk{n:02d}@vendor.example",
                  at=datetime(2025, 1, 1, 0, n, tzinfo=timezone.utc))
    db.session.commit()
    client.login(world.vendor_admin)
    body = client.get("/admin/audit?event=bulk.event").get_data(as_text=True)
    assert "60 entries" in body and "Page 1 of 2" in body
    assert "bulk59@" in body and "bulk00@" not in body
    body = client.get("/admin/audit?event=bulk.event&page=2").get_data(as_text=True)
    assert "bulk00@" in body and "bulk59@" not in body


def test_real_actions_show_up_in_the_log(client, world):
    client.login(world.vendor_admin)
    client.post(f"/admin/organizations/{world.org_b.id}/suspend")
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "organization.suspended" in body
    assert "<del>active</del>" in body and "<ins>suspended</ins>" in body
    assert db.session.scalar(sa.select(AuditEntry.ip_address).where(
        AuditEntry.event == "organization.suspended")) is not None
