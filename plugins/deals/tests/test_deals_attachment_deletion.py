"""Deleting an attachment: who may (the person who attached it, and their
organization's partner admin for any colleague's file, while the registration is
open; the staff who review it, always), the confirmation step, the history step
and audit event, and the file removed only after the commit."""

from __future__ import annotations

import html
import io
import logging
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry
from portal_deals import services, storage
from portal_deals.models import DealAttachment, DealHistory, DealRegistration, DealStatus

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def attach(client, registration, name="quote.pdf", data=PDF):
    response = client.post(f"/p/deals/{registration.id}/attachments",
                           data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    return db.session.scalars(sa.select(DealAttachment).where(DealAttachment.filename == name)
                              .order_by(DealAttachment.id.desc())).first()


def delete_url(registration, item):
    return f"/p/deals/{registration.id}/attachments/{item.id}/delete"


def attachment_count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(DealAttachment))


def deletion_events():
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.event == "deal.attachment_deleted").order_by(AuditEntry.id)))


def set_status(registration, status):
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(status=status))
    db.session.commit()


def test_the_uploader_confirms_then_deletes_while_the_registration_is_open(register, login_as, portal_world):
    registration = register()  # submitted
    client = login_as("partner_user")
    item = attach(client, registration)
    path = storage.path_of(item.stored_name)
    assert path.is_file()

    page = client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert f'href="{delete_url(registration, item)}"' in page
    assert 'hx-confirm="Delete quote.pdf? This cannot be undone."' in page

    confirm = client.get(delete_url(registration, item))
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Delete quote.pdf?" in text
    assert f'<form method="post" action="{delete_url(registration, item)}">' in text
    assert 'name="csrf_token"' in text
    assert attachment_count() == 1 and path.is_file()  # asking deletes nothing

    response = client.post(delete_url(registration, item))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/p/deals/{registration.id}")
    assert attachment_count() == 0 and not path.exists()
    page = client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "quote.pdf is deleted." in page
    assert "Attachment deleted" in page  # the history step, with the file's name

    step = db.session.scalars(sa.select(DealHistory).where(
        DealHistory.registration_id == registration.id, DealHistory.action == "attachment_deleted")).one()
    assert (step.actor_id, step.note, step.from_status, step.to_status) == (
        portal_world.user_a.id, "quote.pdf", "submitted", "submitted")
    [event] = deletion_events()
    assert event.actor_id == portal_world.user_a.id
    assert event.organization_id == registration.organization_id
    assert event.subject_type == "deals_registration" and event.subject_id == registration.id
    assert event.before["filename"] == "quote.pdf" and event.before["attachment_id"] == item.id
    assert event.after == {}


@pytest.mark.parametrize("status", [DealStatus.DRAFT, DealStatus.MORE_INFO])
def test_the_uploader_deletes_in_every_open_state(register, login_as, status):
    registration = register(action="draft")
    client = login_as("partner_user")
    item = attach(client, registration)
    set_status(registration, status)
    assert client.post(delete_url(registration, item)).status_code == 302
    assert attachment_count() == 0


@pytest.mark.parametrize("status", [DealStatus.APPROVED, DealStatus.REJECTED, DealStatus.WON,
                                    DealStatus.WITHDRAWN, DealStatus.EXPIRED])
def test_the_uploader_cannot_delete_once_the_registration_is_decided(register, login_as, status):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    set_status(registration, status)
    page = client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert delete_url(registration, item) not in page  # no link that would only be refused
    for method in ("get", "post"):
        response = getattr(client, method)(delete_url(registration, item))
        assert response.status_code == 409, method
        text = response.get_data(as_text=True)
        assert "Attachments can be deleted only while the registration is a draft, submitted or " \
               "waiting for more information." in text
        assert "ask the channel team to delete it." in text
    assert attachment_count() == 1 and storage.path_of(item.stored_name).is_file()
    assert deletion_events() == []


COLLEAGUE_REFUSED = ("Only the person who attached this file, their organization's administrator or "
                     "the channel team can delete it.")
STAFF_FILE_REFUSED = "Only the channel team can delete this file: nobody from your organization attached it."


def test_a_colleague_who_is_no_admin_is_refused_with_the_reason(register, login_as):
    registration = register()
    item = attach(login_as("partner_admin"), registration)
    colleague = login_as("partner_user")  # same organization, not the uploader, no admin
    assert delete_url(registration, item) not in colleague.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    for method in ("get", "post"):
        response = getattr(colleague, method)(delete_url(registration, item))
        assert response.status_code == 403, method
        assert COLLEAGUE_REFUSED in html.unescape(response.get_data(as_text=True))
    assert attachment_count() == 1


def test_a_partner_cannot_delete_what_the_channel_team_attached(register, login_as):
    registration = register()
    item = attach(login_as("channel_manager"), registration, name="terms.pdf")
    response = login_as("partner_user").post(delete_url(registration, item))
    assert response.status_code == 403 and attachment_count() == 1


# -- the partner admin and their colleagues' files ---------------------------------------------

def test_the_partner_admin_confirms_then_deletes_a_colleagues_file(register, login_as, portal_world):
    registration = register()  # submitted, by the partner user
    item = attach(login_as("partner_user"), registration)
    admin = login_as("partner_admin")
    page = admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert f'href="{delete_url(registration, item)}"' in page
    confirm = admin.get(delete_url(registration, item))
    assert confirm.status_code == 200 and "Delete quote.pdf?" in confirm.get_data(as_text=True)
    assert portal_world.user_a.name in confirm.get_data(as_text=True)  # whose file it is
    response = admin.post(delete_url(registration, item))
    assert response.status_code == 302
    assert attachment_count() == 0 and not storage.path_of(item.stored_name).exists()
    assert "quote.pdf is deleted." in admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    step = db.session.scalars(sa.select(DealHistory).where(
        DealHistory.registration_id == registration.id, DealHistory.action == "attachment_deleted")).one()
    assert (step.actor_id, step.note) == (portal_world.admin_a.id, "quote.pdf")
    [event] = deletion_events()
    assert event.actor_id == portal_world.admin_a.id and event.before["attachment_id"] == item.id


def test_the_partner_admins_page_reads_every_uploader_at_once(register, login_as, portal_app,
                                                              portal_world):
    """Whether each file is a colleague's needs its uploader: the page reads them
    together, not one query per uploader."""
    from portal.models import Role
    from portal.testing import factories

    registration = register()
    colleagues = [factories.user(Role.PARTNER_USER, portal_world.org_a) for _ in range(3)]
    db.session.commit()
    for colleague in colleagues:
        client = portal_app.test_client()
        client.login(colleague)
        attach(client, registration, name=f"from-{colleague.id}.pdf")
    admin = login_as("partner_admin")
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert all(f"from-{colleague.id}.pdf" in page for colleague in colleagues)
    one_by_one = [s for s in statements if re.search(r"FROM users\s+WHERE users\.id = ", s)]
    assert one_by_one == []


@pytest.mark.parametrize("status", [DealStatus.DRAFT, DealStatus.MORE_INFO])
def test_the_partner_admin_deletes_in_every_open_state(register, login_as, status):
    registration = register(action="draft")
    item = attach(login_as("partner_user"), registration)
    set_status(registration, status)
    assert login_as("partner_admin").post(delete_url(registration, item)).status_code == 302
    assert attachment_count() == 0


@pytest.mark.parametrize("status", [DealStatus.APPROVED, DealStatus.REJECTED, DealStatus.WON,
                                    DealStatus.WITHDRAWN, DealStatus.EXPIRED])
def test_the_partner_admin_cannot_delete_once_the_registration_is_decided(register, login_as, status):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    set_status(registration, status)
    admin = login_as("partner_admin")
    assert delete_url(registration, item) not in admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    for method in ("get", "post"):
        response = getattr(admin, method)(delete_url(registration, item))
        assert response.status_code == 409, method
        assert "ask the channel team to delete it." in response.get_data(as_text=True)
    assert attachment_count() == 1 and deletion_events() == []


def test_the_partner_admin_cannot_delete_what_the_channel_team_attached(register, login_as):
    registration = register()
    item = attach(login_as("channel_manager"), registration, name="terms.pdf")
    admin = login_as("partner_admin")
    assert delete_url(registration, item) not in admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    for method in ("get", "post"):
        response = getattr(admin, method)(delete_url(registration, item))
        assert response.status_code == 403, method
        assert STAFF_FILE_REFUSED in response.get_data(as_text=True)
    assert attachment_count() == 1


def test_the_partner_admin_deletes_the_file_of_a_colleague_who_left(register, login_as, portal_world):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    portal_world.user_a.active = False  # deactivated: still of the organization
    db.session.commit()
    assert login_as("partner_admin").post(delete_url(registration, item)).status_code == 302
    assert attachment_count() == 0


def test_a_file_whose_uploader_is_unknown_is_left_to_the_channel_team(register, login_as):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    db.session.execute(sa.update(DealAttachment).values(uploaded_by_id=None))
    db.session.commit()
    response = login_as("partner_admin").post(delete_url(registration, item))
    assert response.status_code == 403 and STAFF_FILE_REFUSED in response.get_data(as_text=True)
    assert login_as("channel_manager").post(delete_url(registration, item)).status_code == 302


def test_a_review_deciding_meanwhile_wins_over_the_partner_admins_deletion(register, login_as, portal_world):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    db.session.expire_all()
    seen = db.session.get(DealRegistration, registration.id)
    attachment = db.session.get(DealAttachment, item.id)
    assert services.attachment_deletion_refusal(portal_world.admin_a, seen, attachment) is None
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(status=DealStatus.APPROVED).execution_options(synchronize_session=False))
    with pytest.raises(services.TransitionRefused):
        services.delete_attachment(seen, attachment, portal_world.admin_a)
    db.session.rollback()
    assert attachment_count() == 1


def test_another_organization_gets_404(register, login_as):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    for role in ("other_partner_user", "other_partner_admin"):
        assert login_as(role).post(delete_url(registration, item)).status_code == 404
    assert attachment_count() == 1


@pytest.mark.parametrize("role", ["channel_manager", "vendor_admin"])
@pytest.mark.parametrize("status", [DealStatus.SUBMITTED, DealStatus.APPROVED, DealStatus.WON,
                                    DealStatus.REJECTED])
def test_reviewing_staff_delete_any_attachment_in_any_state(register, login_as, role, status):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    set_status(registration, status)
    staff = login_as(role)
    assert delete_url(registration, item) in staff.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert staff.post(delete_url(registration, item)).status_code == 302
    assert attachment_count() == 0 and not storage.path_of(item.stored_name).exists()
    db.session.expire_all()
    assert db.session.get(DealRegistration, registration.id).status is status  # the state is untouched


def test_a_manager_of_another_organization_gets_404(register, login_as, other_manager):
    registration = register()
    item = attach(login_as("partner_user"), registration)
    assert other_manager.post(delete_url(registration, item)).status_code == 404
    assert attachment_count() == 1


def test_an_unknown_attachment_is_404(register, login_as):
    registration = register()
    other = register(customer_name="Globochem AG", customer_website="globochem.example.com",
                     contact_email="ann@globochem.example.com")
    client = login_as("partner_user")
    item = attach(client, other)
    assert client.get(f"/p/deals/{registration.id}/attachments/999999/delete").status_code == 404
    assert client.post(f"/p/deals/{registration.id}/attachments/999999/delete").status_code == 404
    # An attachment of another registration, through this one's URL.
    assert client.post(f"/p/deals/{registration.id}/attachments/{item.id}/delete").status_code == 404
    assert attachment_count() == 1


def test_deleting_twice_is_404_the_second_time(register, login_as):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    assert client.post(delete_url(registration, item)).status_code == 302
    assert client.post(delete_url(registration, item)).status_code == 404
    assert len(deletion_events()) == 1


def test_a_deletion_without_its_csrf_token_is_refused(register, login_as):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    response = client.post(delete_url(registration, item), csrf=False)
    assert response.status_code == 400 and attachment_count() == 1


def test_the_file_stays_when_the_deletion_rolls_back(register, login_as, monkeypatch):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    removed = []
    monkeypatch.setattr(storage, "delete", removed.append)

    def failing_commit():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    response = client.post(delete_url(registration, item))
    monkeypatch.undo()
    assert response.status_code == 500
    db.session.rollback()
    assert attachment_count() == 1 and removed == []  # nothing removed before the commit
    assert storage.path_of(item.stored_name).is_file()


def test_a_file_that_cannot_be_removed_is_logged_not_a_500(register, login_as, monkeypatch, caplog):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    rows_when_removed = []

    def refuse(stored_name):
        # What another connection sees: the deletion is committed already.
        with db.engine.connect() as connection:
            rows_when_removed.append(connection.scalar(
                sa.select(sa.func.count()).select_from(DealAttachment)))
        raise PermissionError(13, "Permission denied", stored_name)

    monkeypatch.setattr(storage, "delete", refuse)
    with caplog.at_level(logging.ERROR):
        response = client.post(delete_url(registration, item))
    monkeypatch.undo()
    assert response.status_code == 302
    assert rows_when_removed == [0]
    assert attachment_count() == 0 and len(deletion_events()) == 1
    assert any(item.stored_name in record.getMessage() and "remove it by hand" in record.getMessage()
               for record in caplog.records)
    assert "quote.pdf is deleted." in client.get(f"/p/deals/{registration.id}").get_data(as_text=True)


def test_htmx_is_told_to_load_the_page_and_sees_refusals(register, login_as):
    registration = register()
    client = login_as("partner_user")
    item = attach(client, registration)
    response = client.post(delete_url(registration, item), htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/p/deals/{registration.id}"
    assert attachment_count() == 0
    second = attach(client, registration, name="second.pdf")
    set_status(registration, DealStatus.APPROVED)
    refused = client.post(delete_url(registration, second), htmx=True)
    assert refused.status_code == 409 and "<html" not in refused.get_data(as_text=True)
    assert "Attachments can be deleted only while" in refused.get_data(as_text=True)


def test_a_review_deciding_meanwhile_wins_over_the_partners_deletion(register, login_as, portal_world):
    """The uploader's right is checked again in the statement that locks the row:
    approved between the page's check and the deletion, nothing is deleted."""
    registration = register()
    item = attach(login_as("partner_user"), registration)
    db.session.expire_all()
    seen = db.session.get(DealRegistration, registration.id)
    attachment = db.session.get(DealAttachment, item.id)
    assert services.attachment_deletion_refusal(portal_world.user_a, seen, attachment) is None
    # A review approves it meanwhile; the object in hand still says "submitted".
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(status=DealStatus.APPROVED).execution_options(synchronize_session=False))
    assert seen.status is DealStatus.SUBMITTED
    with pytest.raises(services.TransitionRefused) as refused:
        services.delete_attachment(seen, attachment, portal_world.user_a)
    assert "Its status is “Protected”" in refused.value.message
    db.session.rollback()
    assert attachment_count() == 1
