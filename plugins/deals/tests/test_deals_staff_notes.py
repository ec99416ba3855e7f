"""Staff notes: vendor staff's internal notes on a registration. Written by the
staff who may review it, shown to them newest first, validated beside the field,
audited — and never seen by a partner: not on the page, in the CSV export, in
search, in notifications or emails, or in the history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Notification, utcnow
from portal.testing import message_text
from portal_deals import search, services
from portal_deals.models import STAFF_NOTE_MAX, DealHistory, DealStaffNote

SECRET = "Quixotic margin squeeze: push them to Gold only after Q3"


def notes_url(registration):
    return f"/p/deals/{registration.id}/staff-notes"


def note_count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(DealStaffNote))


@pytest.mark.parametrize("role", ["channel_manager", "vendor_admin"])
def test_reviewing_staff_add_a_note_and_see_it_with_author_and_time(register, login_as, portal_world, role):
    registration = register()
    staff = login_as(role)
    page = staff.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "Staff notes" in page and "No staff notes yet." in page
    response = staff.post(notes_url(registration), data={"text": SECRET})
    assert response.status_code == 302
    page = staff.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "Your staff note is added. Partners do not see it." in page
    assert SECRET in page and portal_world.by_role(role).name in page
    note = db.session.scalars(sa.select(DealStaffNote)).one()
    assert (note.registration_id, note.author_id, note.body) == (
        registration.id, portal_world.by_role(role).id, SECRET)
    assert f'datetime="{note.created_at.isoformat()}"' in page


def test_notes_are_shown_newest_first(register, login_as):
    registration = register()
    manager = login_as("channel_manager")
    manager.post(notes_url(registration), data={"text": "First thought"})
    manager.post(notes_url(registration), data={"text": "Second thought"})
    db.session.execute(sa.update(DealStaffNote).where(DealStaffNote.body == "First thought")
                       .values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    page = login_as("vendor_admin").get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert page.index("Second thought") < page.index("First thought")


def test_staff_notes_are_kept_on_a_closed_registration_too(register, login_as):
    registration = register()
    manager = login_as("channel_manager")
    manager.post(f"/p/deals/{registration.id}/reject", data={"reason": "Duplicate"})
    assert manager.post(notes_url(registration), data={"text": "Partner resubmits often"}).status_code == 302
    assert note_count() == 1


@pytest.mark.parametrize("text, message", [
    ("", "Write the note first."),
    ("   \n\t ", "Write the note first."),
    ("x" * (STAFF_NOTE_MAX + 1), f"Keep the note to at most {STAFF_NOTE_MAX} characters."),
    ("Call\x00them", "Remove the control characters from the note."),
    ("Bell\x07", "Remove the control characters from the note."),
])
def test_a_bad_note_is_refused_beside_the_field(register, login_as, text, message):
    registration = register()
    response = login_as("channel_manager").post(notes_url(registration), data={"text": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="staff_note-text-error">{message}</p>' in page
    assert 'aria-describedby="staff_note-text-hint staff_note-text-error"' in page
    assert "Please correct the marked fields." in page
    assert note_count() == 0


def test_a_note_at_the_limit_with_line_breaks_is_kept(register, login_as):
    registration = register()
    text = "Line one\nLine two\t" + "x" * (STAFF_NOTE_MAX - 18)
    assert len(text) == STAFF_NOTE_MAX
    response = login_as("channel_manager").post(notes_url(registration), data={"text": text})
    assert response.status_code == 302
    assert db.session.scalars(sa.select(DealStaffNote.body)).one() == text


def test_a_refused_note_never_comes_back_in_the_comment_box(register, login_as):
    """The comment box writes to the partner: a refused note is not pre-filled in it."""
    registration = register()
    response = login_as("channel_manager").post(notes_url(registration),
                                                data={"text": SECRET + "\x00"})
    page = response.get_data(as_text=True)
    comment_box = page[page.index('id="comment-body"'):]
    comment_box = comment_box[:comment_box.index("</textarea>")]
    assert SECRET not in comment_box
    staff_box = page[page.index('id="staff_note-text"'):]
    assert SECRET in staff_box[:staff_box.index("</textarea>")]  # kept for the writer to fix


@pytest.mark.parametrize("role", ["partner_user", "partner_admin"])
def test_partners_cannot_write_notes(register, login_as, role):
    registration = register()
    response = login_as(role).post(notes_url(registration), data={"text": "Let me in"})
    assert response.status_code == 403 and note_count() == 0


def test_other_partners_get_403_and_other_organizations_managers_404(register, login_as, other_manager):
    registration = register()
    assert login_as("other_partner_user").post(notes_url(registration), data={"text": "x"}).status_code == 403
    assert other_manager.post(notes_url(registration), data={"text": "x"}).status_code == 404
    assert other_manager.get(f"/p/deals/{registration.id}").status_code == 404
    assert note_count() == 0


def test_anonymous_visitors_are_sent_to_log_in(register, portal_client):
    registration = register()
    response = portal_client.post(notes_url(registration), data={"text": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert note_count() == 0


def test_the_service_refuses_a_partner_too(register, portal_world):
    registration = register()
    with pytest.raises(services.ActionForbidden):
        services.add_staff_note(registration, portal_world.user_a, "From a partner")
    assert note_count() == 0


def test_a_note_is_audited_but_is_no_history_step(register, login_as, portal_world):
    registration = register()
    history_before = db.session.scalars(sa.select(DealHistory.action).where(
        DealHistory.registration_id == registration.id)).all()
    login_as("channel_manager").post(notes_url(registration), data={"text": SECRET})
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "deal.staff_note_added")).one()
    assert entry.actor_id == portal_world.manager.id
    assert (entry.subject_type, entry.subject_id) == ("deals_registration", registration.id)
    assert entry.organization_id == registration.organization_id
    assert entry.after == {"staff_note": SECRET}
    history_after = db.session.scalars(sa.select(DealHistory.action).where(
        DealHistory.registration_id == registration.id)).all()
    assert history_after == history_before


# -- partners never see them ---------------------------------------------------------------

@pytest.fixture
def noted(register, login_as, auto_approve):
    """A protected registration of A with a staff note, a comment from the channel
    team and a change the partner hears about (extension granted)."""
    registration = register()
    manager = login_as("channel_manager")
    assert manager.post(notes_url(registration), data={"text": SECRET}).status_code == 302
    partner = login_as("partner_user")
    partner.post(f"/p/deals/{registration.id}/extension", data={"reason": "Board meets later"})
    manager.post(f"/p/deals/{registration.id}/extension/grant", data={})
    manager.post(f"/p/deals/{registration.id}/comments", data={"body": "Granted, good luck"})
    return registration


@pytest.mark.parametrize("role", ["partner_user", "partner_admin"])
def test_partners_never_see_notes_on_the_page(noted, login_as, role):
    page = login_as(role).get(f"/p/deals/{noted.id}").get_data(as_text=True)
    assert "Granted, good luck" in page  # the page itself is complete
    assert SECRET not in page and "Quixotic" not in page
    assert "Staff notes" not in page and "staff-notes" not in page and "staff_note" not in page


def test_partners_never_see_notes_in_the_export(noted, login_as):
    text = login_as("partner_user").get("/p/deals/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["customer"] for r in rows] == ["Initech GmbH"]
    assert "Quixotic" not in text
    staff_text = login_as("vendor_admin").get("/p/deals/export.csv").get_data(as_text=True)
    assert "Quixotic" not in staff_text  # the export holds no notes for anyone


def test_notes_are_not_in_the_search_documents_or_results(noted, portal_world, portal_app):
    from portal.search import search_for

    [doc] = list(search.documents(None, {f"deals_registration:{noted.id}"}))
    assert "Quixotic" not in repr(doc)
    with portal_app.test_request_context():
        for user in (portal_world.user_a, portal_world.admin_a, portal_world.manager, portal_world.vendor_admin):
            assert search_for(user, "Quixotic").hits == [], user.email
        # The registration itself is found, so the index is up to date.
        assert [h.id for h in search_for(portal_world.user_a, "Initech").hits] == [
            f"deals_registration:{noted.id}"]


def test_notes_are_not_in_notifications_or_emails(noted, portal_world, outbox, portal_app):
    partner_ids = [portal_world.user_a.id, portal_world.admin_a.id]
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id.in_(partner_ids))).all()
    assert notes  # the partner heard about the approval, extension and comment ...
    assert not any(n.event == "deal.staff_note_added" for n in notes)
    with portal_app.test_request_context():
        assert not any("Quixotic" in n.render() for n in notes)
    assert not any("Quixotic" in repr(n.params) for n in notes)
    staff = db.session.scalars(sa.select(Notification).where(Notification.event == "deal.staff_note_added")).all()
    assert staff == []  # ... and nobody is notified of a note
    mails = outbox()
    assert mails and not any("Quixotic" in message_text(m) for m in mails)


def test_notes_are_not_in_the_history_partners_see(noted, login_as):
    page = login_as("partner_user").get(f"/p/deals/{noted.id}").get_data(as_text=True)
    history = page[page.index('id="history-heading"'):]
    history = history[:history.index("</section>")]
    assert "Extension granted" in history and "Quixotic" not in history
    steps = db.session.scalars(sa.select(DealHistory).where(DealHistory.registration_id == noted.id)).all()
    assert not any("Quixotic" in (s.note or "") for s in steps)


def test_a_notes_author_who_left_is_shown_as_such(noted, login_as, portal_world):
    db.session.execute(sa.update(DealStaffNote).values(author_id=None))
    db.session.commit()
    page = login_as("vendor_admin").get(f"/p/deals/{noted.id}").get_data(as_text=True)
    notes = page[page.index('id="staff-notes-heading"'):]
    assert "Someone who has left" in notes[:notes.index("</section>")]
