"""The pages: list (filters, sort, paging, htmx), export, comments, attachments,
the review queue with bulk actions, rules of engagement and the catalogue."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, utcnow
from portal_deals import storage
from portal_deals.models import DealAttachment, DealComment, DealProduct, DealRegistration, DealRules, DealStatus

NAMES = ("Initech GmbH", "Globochem AG", "Umbrella Corp", "Hooli Inc", "Vandelay Industries")


@pytest.fixture
def several(register):
    made = []
    for index, name in enumerate(NAMES):
        slug = name.split()[0].lower()
        made.append(register(customer_name=name, customer_website=f"{slug}.example.com",
                             contact_email=f"buyer@{slug}.example.com", value=str(1000 * (index + 1)),
                             action="draft" if index == 4 else "submit"))
    return made


def test_the_partner_list_filters_sorts_and_pages(login_as, several, monkeypatch):
    client = login_as("partner_user")
    page = client.get("/p/deals/").get_data(as_text=True)
    assert all(name in page for name in NAMES) and "5 registrations" in page
    drafts = client.get("/p/deals/?status=draft").get_data(as_text=True)
    assert "Vandelay Industries" in drafts and "Initech GmbH" not in drafts
    by_value = client.get("/p/deals/?sort=-value").get_data(as_text=True)
    positions = [by_value.index(name) for name in reversed(NAMES)]
    assert positions == sorted(positions)
    found = client.get("/p/deals/?q=glob").get_data(as_text=True)
    assert "Globochem AG" in found and "Initech GmbH" not in found
    monkeypatch.setattr("portal_deals.views.PER_PAGE", 2)
    second = client.get("/p/deals/?sort=customer&page=2").get_data(as_text=True)
    assert "Initech GmbH" in second and "Umbrella Corp" in second and "Globochem AG" not in second
    assert "Page 2 of 3" in second


def test_htmx_gets_only_the_results(login_as, several):
    response = login_as("partner_user").get("/p/deals/?status=submitted", htmx=True,
                                            headers={"HX-Target": "deal-results"})
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith("<section") and "<html" not in text
    assert "HX-Request" in response.headers["Vary"]


def test_staff_list_their_reach_without_drafts(login_as, several, register):
    register(role="other_partner_user", customer_name="Soylent Corp", customer_website="soylent.example.com",
             contact_email="x@soylent.example.com")
    manager = login_as("channel_manager").get("/p/deals/").get_data(as_text=True)
    assert "Initech GmbH" in manager and "Vandelay" not in manager and "Soylent" not in manager
    admin = login_as("vendor_admin").get("/p/deals/").get_data(as_text=True)
    assert "Soylent Corp" in admin and "Vandelay" not in admin


def test_list_rows_name_every_product_in_order(login_as, register, products):
    register(customer_name="Globex Ltd", customer_website="globex.example.com",
             products=[str(products["FW-500"].id), str(products["EDR"].id), str(products["FW-100"].id)])
    for role in ("partner_user", "vendor_admin"):
        page = login_as(role).get("/p/deals/").get_data(as_text=True)
        assert "<td>Endpoint Protection, Firewall 100, Firewall 500</td>" in page, role


def test_the_export_is_the_partners_own_csv(login_as, several, register):
    register(role="other_partner_user", customer_name="Soylent Corp", customer_website="soylent.example.com",
             contact_email="x@soylent.example.com")
    response = login_as("partner_user").get("/p/deals/export.csv?status=submitted")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(r["customer"] for r in rows) == sorted(NAMES[:4])
    assert {r["status"] for r in rows} == {"submitted"}
    assert rows[0]["products"] == "FW-100"


def test_the_export_keeps_formulas_as_text(register, login_as):
    register(customer_name="=HYPERLINK(1)")
    text = login_as("partner_user").get("/p/deals/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_comments_go_both_ways(register, login_as, portal_world):
    registration = register()
    login_as("partner_user").post(f"/p/deals/{registration.id}/comments", data={"body": "Any news?"})
    manager = login_as("channel_manager")
    assert manager.post(f"/p/deals/{registration.id}/comments", data={"body": ""}).status_code == 400
    manager.post(f"/p/deals/{registration.id}/comments", data={"body": "Looking at it today."})
    page = login_as("partner_admin").get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "Any news?" in page and "Looking at it today." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.event == "deal.commented")) == 2


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"



@pytest.mark.parametrize("text", ["Any\x00news?", "Bell\x07"])
def test_a_comment_with_control_characters_is_refused(register, login_as, text):
    registration = register()
    response = login_as("partner_user").post(f"/p/deals/{registration.id}/comments", data={"body": text})
    assert response.status_code == 400
    assert "Remove the control characters from this text." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DealComment)) == 0

def upload(client, registration, data, name):
    return client.post(f"/p/deals/{registration.id}/attachments",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_attachment_is_checked_stored_and_downloaded(register, login_as, portal_app):
    registration = register()
    client = login_as("partner_user")
    assert upload(client, registration, PDF, "../../quote.pdf").status_code == 302
    item = db.session.scalars(sa.select(DealAttachment)).one()
    assert item.filename == "quote.pdf" and item.content_type == "application/pdf"
    path = storage.path_of(item.stored_name)
    assert path.read_bytes() == PDF and path.parent.name == "deals"
    assert str(path).startswith(str(portal_app.config.get("UPLOADS_PATH") or portal_app.instance_path))
    response = login_as("channel_manager").get(f"/p/deals/{registration.id}/attachments/{item.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    response.close()
    assert login_as("other_partner_user").get(
        f"/p/deals/{registration.id}/attachments/{item.id}").status_code == 404


@pytest.mark.parametrize("data, name, message", [
    (b"<html><script>alert(1)</script></html>", "quote.pdf", "This kind of file is not accepted"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "logo.svg", "This kind of file is not accepted"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "tool.exe", "This kind of file is not accepted"),
    (b"", "empty.txt", "The file is empty."),
])
def test_a_bad_attachment_is_refused(register, login_as, data, name, message):
    registration = register()
    response = upload(login_as("partner_user"), registration, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DealAttachment)) == 0


def test_a_too_large_attachment_is_refused(register, login_as, monkeypatch):
    monkeypatch.setattr(storage, "MAX_BYTES", 100)
    response = upload(login_as("partner_user"), register(), b"x" * 101, "notes.txt")
    assert response.status_code == 400 and "The file is too large" in response.get_data(as_text=True)


def test_the_queue_shows_the_oldest_first_with_age_and_filters(login_as, several, register):
    oldest = several[2]
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == oldest.id)
                       .values(submitted_at=utcnow() - timedelta(days=9)))
    db.session.commit()
    page = login_as("channel_manager").get("/p/deals/review").get_data(as_text=True)
    assert page.index("Umbrella Corp") < page.index("Initech GmbH")
    assert "9 days" in page and "Vandelay" not in page
    older = login_as("channel_manager").get("/p/deals/review?older=7").get_data(as_text=True)
    assert "Umbrella Corp" in older and "Initech GmbH" not in older


def test_the_queue_filters_conflicts(login_as, register):
    register()
    register(role="other_partner_user", customer_name="Initech AG")
    page = login_as("vendor_admin").get("/p/deals/review?conflicts=1").get_data(as_text=True)
    assert "Initech AG" in page and page.count("of 100") >= 1


def test_bulk_approval_decides_each_one(login_as, several):
    ids = [str(r.id) for r in several[:3]]
    response = login_as("channel_manager").post("/p/deals/review/bulk", data={"ids": ids, "action": "approve"})
    assert response.status_code == 302
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(DealRegistration.status).where(
        DealRegistration.id.in_([int(i) for i in ids]))).all()
    assert set(statuses) == {DealStatus.APPROVED}


def test_bulk_rejection_needs_a_reason_and_skips_what_changed(login_as, several):
    manager = login_as("channel_manager")
    ids = [str(several[0].id), str(several[1].id)]
    manager.post("/p/deals/review/bulk", data={"ids": ids, "action": "reject", "reason": ""})
    db.session.expire_all()
    assert db.session.get(DealRegistration, several[0].id).status is DealStatus.SUBMITTED
    manager.post(f"/p/deals/{several[0].id}/approve", data={})
    manager.post("/p/deals/review/bulk", data={"ids": ids, "action": "reject", "reason": "Duplicate"})
    db.session.expire_all()
    assert db.session.get(DealRegistration, several[0].id).status is DealStatus.APPROVED
    assert db.session.get(DealRegistration, several[1].id).status is DealStatus.REJECTED
    page = manager.get("/p/deals/review").get_data(as_text=True)
    assert "Not decided (changed meanwhile, or already protected elsewhere): Initech GmbH." in page


def test_a_vendor_admin_sets_the_rules_of_a_program(login_as, portal_world):
    admin = login_as("vendor_admin")
    program = portal_world.reseller
    gold = program.tiers[1]
    response = admin.post(f"/p/deals/rules/{program.id}", data={
        "protection_days": "120", "max_extensions": "3", "extension_days": "15",
        "auto_approve_tiers": [str(gold.id)], "required_fields": ["contact_phone"],
        "extra_fields": "partner_role | Your role | required\ncompetitor | Competitor"})
    assert response.status_code == 302
    rules = db.session.get(DealRules, program.id)
    assert (rules.protection_days, rules.max_extensions, rules.extension_days) == (120, 3, 15)
    assert rules.auto_approve_tier_ids == [gold.id] and rules.required_fields == ["contact_phone"]
    assert rules.extra_fields == [{"key": "partner_role", "label": "Your role", "required": True},
                                  {"key": "competitor", "label": "Competitor", "required": False}]
    page = admin.get("/p/deals/rules").get_data(as_text=True)
    assert "120 days" in page and "3 of 15 days" in page
    bad = admin.post(f"/p/deals/rules/{program.id}", data={
        "protection_days": "0", "extension_days": "15", "extra_fields": "Bad Key | x"})
    assert bad.status_code == 400
    assert db.session.get(DealRules, program.id).protection_days == 120


def test_a_vendor_admin_keeps_the_catalogue(login_as):
    admin = login_as("vendor_admin")
    assert admin.post("/p/deals/products", data={"sku": "net-fw-9", "name": "Firewall 9"}).status_code == 302
    product = db.session.scalars(sa.select(DealProduct)).one()
    assert product.sku == "NET-FW-9"
    assert admin.post("/p/deals/products", data={"sku": "NET-FW-9", "name": "Again"}).status_code == 400
    refused = admin.post("/p/deals/products", data={"sku": "NET-FW-10", "name": "Fire\x1fwall"})
    assert refused.status_code == 400
    assert "Remove the control characters from the name." in refused.get_data(as_text=True)
    admin.post(f"/p/deals/products/{product.id}/toggle")
    db.session.expire_all()
    assert db.session.get(DealProduct, product.id).active is False
    assert login_as("channel_manager").get("/p/deals/products").status_code == 403


def test_the_plugin_switched_off_hides_everything_from_partners(login_as, register, portal_world):
    from portal.testing import switch_off

    registration = register()
    switch_off("deals")
    client = login_as("partner_user")
    assert client.get("/p/deals/").status_code == 404
    assert client.get(f"/p/deals/{registration.id}").status_code == 404
    assert "/p/deals/" not in client.get("/").get_data(as_text=True)
