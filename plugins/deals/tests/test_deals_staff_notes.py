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


#: Notes refused beside the field, new or edited, and the message each gets.
BAD_NOTES = [
    ("", "Write the note first."),
    ("   \n\t ", "Write the note first."),
    ("x" * (STAFF_NOTE_MAX + 1), f"Keep the note to at most {STAFF_NOTE_MAX} characters."),
    ("Call\x00them", "Remove the control characters from the note."),
    ("Bell\x07", "Remove the control characters from the note."),
]


@pytest.mark.parametrize("text, message", BAD_NOTES)
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


# -- editing and deleting --------------------------------------------------------------------

def edit_url(registration, note):
    return f"/p/deals/{registration.id}/staff-notes/{note.id}/edit"


def delete_url(registration, note):
    return f"/p/deals/{registration.id}/staff-notes/{note.id}/delete"


def audit_events(name):
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == name)
                                   .order_by(AuditEntry.id)))


def stored_note(note):
    db.session.expire_all()
    return db.session.get(DealStaffNote, note.id)


@pytest.fixture
def manager_note(register, login_as):
    """A's submitted registration with a staff note of A's channel manager."""
    registration = register()
    assert login_as("channel_manager").post(notes_url(registration), data={"text": SECRET}).status_code == 302
    note = db.session.scalars(sa.select(DealStaffNote)).one()
    return registration, note


@pytest.fixture
def second_manager(portal_app, portal_world):
    """A signed-in client of another channel manager of organization A."""
    from portal.models import Role
    from portal.testing import factories

    colleague = factories.user(Role.CHANNEL_MANAGER, email="a.second.manager@vendor.example")
    factories.assign_manager(colleague, portal_world.org_a)
    db.session.commit()
    client = portal_app.test_client()
    client.login(colleague)
    return client


def test_the_author_edits_their_note_and_it_shows_when(manager_note, login_as, portal_world):
    registration, note = manager_note
    manager = login_as("channel_manager")
    page = manager.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert f'href="{edit_url(registration, note)}"' in page
    assert "edited" not in page[page.index('id="staff-notes-heading"'):page.index('id="history-heading"')]

    form = manager.get(edit_url(registration, note))
    text = form.get_data(as_text=True)
    assert form.status_code == 200 and "Change your staff note" in text
    assert f'<form method="post" action="{edit_url(registration, note)}" novalidate>' in text
    assert 'name="csrf_token"' in text and SECRET in text  # the note, ready to change

    response = manager.post(edit_url(registration, note), data={"text": "Second thoughts: Gold is fine"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/p/deals/{registration.id}")
    changed = stored_note(note)
    assert changed.body == "Second thoughts: Gold is fine"
    assert changed.edited_at is not None and changed.edited_at >= changed.created_at
    assert (changed.author_id, changed.created_at) == (portal_world.manager.id, note.created_at)
    page = manager.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "Your staff note is changed. Partners do not see it." in page
    assert "Second thoughts: Gold is fine" in page and SECRET not in page
    assert f'edited <time datetime="{changed.edited_at.isoformat()}">' in page


def test_an_edit_is_audited_with_before_and_after_and_is_no_history_step(manager_note, login_as, portal_world):
    registration, note = manager_note
    history_before = db.session.scalars(sa.select(DealHistory.action)).all()
    login_as("channel_manager").post(edit_url(registration, note), data={"text": "Better wording"})
    [entry] = audit_events("deal.staff_note_edited")
    assert entry.actor_id == portal_world.manager.id
    assert (entry.subject_type, entry.subject_id) == ("deals_registration", registration.id)
    assert entry.organization_id == registration.organization_id
    assert entry.before == {"staff_note": SECRET} and entry.after == {"staff_note": "Better wording"}
    assert db.session.scalars(sa.select(DealHistory.action)).all() == history_before


@pytest.mark.parametrize("text, message", BAD_NOTES)
def test_a_bad_edit_is_refused_beside_the_field_and_saves_nothing(manager_note, login_as, text, message):
    registration, note = manager_note
    response = login_as("channel_manager").post(edit_url(registration, note), data={"text": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="staff_note_edit-text-error">{message}</p>' in page
    assert 'aria-describedby="staff_note_edit-text-hint staff_note_edit-text-error"' in page
    assert "Please correct the marked fields." in page
    unchanged = stored_note(note)
    assert (unchanged.body, unchanged.edited_at) == (SECRET, None)
    assert audit_events("deal.staff_note_edited") == []


def test_an_edit_at_the_limit_with_line_breaks_is_kept(manager_note, login_as):
    registration, note = manager_note
    text = "Line one\nLine two\t" + "x" * (STAFF_NOTE_MAX - 18)
    assert login_as("channel_manager").post(edit_url(registration, note), data={"text": text}).status_code == 302
    assert stored_note(note).body == text


def test_notes_are_edited_and_deleted_on_a_closed_registration_too(manager_note, login_as):
    registration, note = manager_note
    manager = login_as("channel_manager")
    manager.post(f"/p/deals/{registration.id}/reject", data={"reason": "Duplicate"})
    assert manager.post(edit_url(registration, note), data={"text": "Rejected: duplicate"}).status_code == 302
    assert manager.post(delete_url(registration, note)).status_code == 302
    assert note_count() == 0


@pytest.mark.parametrize("other", ["vendor_admin", "second_manager"])
def test_only_the_author_edits_a_note(manager_note, login_as, second_manager, other):
    registration, note = manager_note
    client = second_manager if other == "second_manager" else login_as(other)
    page = client.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert SECRET in page and edit_url(registration, note) not in page
    for method in ("get", "post"):
        response = getattr(client, method)(edit_url(registration, note), data={"text": "Mine now"})
        assert response.status_code == 403, method
        assert "Only the author of a staff note can change it." in response.get_data(as_text=True)
    assert stored_note(note).body == SECRET


def test_the_author_confirms_then_deletes_their_note(manager_note, login_as, portal_world):
    registration, note = manager_note
    manager = login_as("channel_manager")
    page = manager.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert f'href="{delete_url(registration, note)}"' in page
    assert 'hx-confirm="Delete this staff note? This cannot be undone."' in page

    confirm = manager.get(delete_url(registration, note))
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Delete this staff note?" in text and SECRET in text
    assert f'<form method="post" action="{delete_url(registration, note)}">' in text
    assert 'name="csrf_token"' in text
    assert note_count() == 1  # asking deletes nothing

    response = manager.post(delete_url(registration, note))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/p/deals/{registration.id}")
    assert note_count() == 0
    page = manager.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert "The staff note is deleted." in page and SECRET not in page
    [entry] = audit_events("deal.staff_note_deleted")
    assert entry.actor_id == portal_world.manager.id
    assert (entry.subject_type, entry.subject_id) == ("deals_registration", registration.id)
    assert entry.before == {"staff_note_id": note.id, "author_id": portal_world.manager.id,
                            "staff_note": SECRET}
    assert entry.after == {}


def test_a_vendor_admin_deletes_another_authors_note(manager_note, login_as, portal_world):
    registration, note = manager_note
    admin = login_as("vendor_admin")
    page = admin.get(f"/p/deals/{registration.id}").get_data(as_text=True)
    assert delete_url(registration, note) in page and edit_url(registration, note) not in page
    assert admin.post(delete_url(registration, note)).status_code == 302
    assert note_count() == 0
    [entry] = audit_events("deal.staff_note_deleted")
    assert entry.actor_id == portal_world.vendor_admin.id and entry.before["author_id"] == portal_world.manager.id


def test_another_manager_of_the_organization_cannot_delete_it(manager_note, second_manager):
    registration, note = manager_note
    assert delete_url(registration, note) not in second_manager.get(
        f"/p/deals/{registration.id}").get_data(as_text=True)
    for method in ("get", "post"):
        response = getattr(second_manager, method)(delete_url(registration, note))
        assert response.status_code == 403, method
        assert "Only the author of a staff note, or a vendor admin, can delete it." in response.get_data(as_text=True)
    assert note_count() == 1 and audit_events("deal.staff_note_deleted") == []


def test_a_note_whose_author_left_is_deleted_by_a_vendor_admin_and_edited_by_nobody(manager_note, login_as):
    registration, note = manager_note
    db.session.execute(sa.update(DealStaffNote).values(author_id=None))
    db.session.commit()
    assert login_as("channel_manager").post(edit_url(registration, note), data={"text": "x"}).status_code == 403
    assert login_as("vendor_admin").post(edit_url(registration, note), data={"text": "x"}).status_code == 403
    assert login_as("vendor_admin").post(delete_url(registration, note)).status_code == 302
    assert note_count() == 0


@pytest.mark.parametrize("role", ["partner_user", "partner_admin", "other_partner_user"])
def test_partners_can_neither_edit_nor_delete_notes(manager_note, login_as, role):
    registration, note = manager_note
    client = login_as(role)
    for url in (edit_url(registration, note), delete_url(registration, note)):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"text": "Let me in"}).status_code == 403, url
    assert stored_note(note).body == SECRET and note_count() == 1


def test_a_manager_who_does_not_manage_it_gets_404(manager_note, other_manager):
    registration, note = manager_note
    for url in (edit_url(registration, note), delete_url(registration, note)):
        assert other_manager.get(url).status_code == 404
        assert other_manager.post(url, data={"text": "x"}).status_code == 404
    assert stored_note(note).body == SECRET and note_count() == 1


def test_an_unknown_note_or_one_of_another_registration_is_404(manager_note, register, login_as):
    registration, note = manager_note
    other = register(customer_name="Globochem AG", customer_website="globochem.example.com",
                     contact_email="ann@globochem.example.com")
    manager = login_as("channel_manager")
    for action in ("edit", "delete"):
        assert manager.get(f"/p/deals/{registration.id}/staff-notes/999999/{action}").status_code == 404
        assert manager.post(f"/p/deals/{registration.id}/staff-notes/999999/{action}",
                            data={"text": "x"}).status_code == 404
        # The note through another registration's URL.
        assert manager.post(f"/p/deals/{other.id}/staff-notes/{note.id}/{action}",
                            data={"text": "x"}).status_code == 404
    assert stored_note(note).body == SECRET and note_count() == 1


def test_deleting_twice_is_404_the_second_time(manager_note, login_as):
    registration, note = manager_note
    manager = login_as("channel_manager")
    assert manager.post(delete_url(registration, note)).status_code == 302
    assert manager.post(delete_url(registration, note)).status_code == 404
    assert manager.post(edit_url(registration, note), data={"text": "x"}).status_code == 404
    assert len(audit_events("deal.staff_note_deleted")) == 1


def test_changes_without_their_csrf_token_are_refused(manager_note, login_as):
    registration, note = manager_note
    manager = login_as("channel_manager")
    assert manager.post(edit_url(registration, note), data={"text": "x"}, csrf=False).status_code == 400
    assert manager.post(delete_url(registration, note), csrf=False).status_code == 400
    assert stored_note(note).body == SECRET and note_count() == 1


def test_htmx_deletion_is_told_to_load_the_page_and_sees_refusals(manager_note, login_as, second_manager):
    registration, note = manager_note
    refused = second_manager.post(delete_url(registration, note), htmx=True)
    assert refused.status_code == 403 and "<html" not in refused.get_data(as_text=True)
    assert "Only the author of a staff note, or a vendor admin, can delete it." in refused.get_data(as_text=True)
    response = login_as("channel_manager").post(delete_url(registration, note), htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == f"/p/deals/{registration.id}"
    assert note_count() == 0


def test_the_service_refuses_who_may_not_and_notes_that_are_gone(manager_note, portal_world):
    registration, note = manager_note
    with pytest.raises(services.ActionForbidden):
        services.edit_staff_note(registration, note, portal_world.vendor_admin, "Not mine")
    with pytest.raises(services.ActionForbidden):
        services.delete_staff_note(registration, note, portal_world.user_a)
    db.session.rollback()
    assert stored_note(note).body == SECRET
    db.session.execute(sa.delete(DealStaffNote))
    with pytest.raises(services.StaffNoteGone):
        services.edit_staff_note(registration, note, portal_world.manager, "Gone")
    db.session.rollback()


def test_edits_and_deletions_never_reach_partners(noted, login_as, portal_world, outbox, portal_app):
    manager = login_as("channel_manager")
    note = db.session.scalars(sa.select(DealStaffNote)).one()
    mails_before, history_before = len(outbox()), db.session.scalars(sa.select(DealHistory.id)).all()
    notifications_before = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    assert manager.post(edit_url(noted, note), data={"text": SECRET + " (edited)"}).status_code == 302
    # Partners see nothing of it: page, export, search documents.
    page = login_as("partner_user").get(f"/p/deals/{noted.id}").get_data(as_text=True)
    assert "Quixotic" not in page and "staff-notes" not in page and "edited" not in page
    assert "Quixotic" not in login_as("partner_user").get("/p/deals/export.csv").get_data(as_text=True)
    [doc] = list(search.documents(None, {f"deals_registration:{noted.id}"}))
    assert "Quixotic" not in repr(doc)
    assert manager.post(delete_url(noted, note)).status_code == 302
    # Nobody is told, nothing is a history step.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == notifications_before
    assert len(outbox()) == mails_before
    assert db.session.scalars(sa.select(DealHistory.id)).all() == history_before
    assert [e.event for e in audit_events("deal.staff_note_edited") + audit_events("deal.staff_note_deleted")] == [
        "deal.staff_note_edited", "deal.staff_note_deleted"]
