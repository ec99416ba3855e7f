"""Who may delete an attachment and who may read, write, edit and delete staff
notes, for every role, on real objects (the core's table in tests/test_authorization.py derives
these routes' rows from their permission and calls them with unknown ids; this
one checks the answers on organization A's registration).

"other_manager" manages organization B only: A's registrations are out of reach."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal_deals.models import DealAttachment, DealRegistration, DealStaffNote, DealStatus

ROLES = ("anonymous", "partner_user", "partner_admin", "other_partner_user", "other_partner_admin",
         "other_manager", "channel_manager", "vendor_admin")
LOGIN = "login"  # sent to the login page
NOTE = "Internal: partner overstates the value"

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def client_for(login_as, other_manager):
    return lambda role: other_manager if role == "other_manager" else login_as(role)


@pytest.fixture
def scene(register, login_as):
    """A's submitted registration with the partner user's attachment and a staff note."""
    registration = register()
    partner = login_as("partner_user")
    response = partner.post(f"/p/deals/{registration.id}/attachments", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(PDF), "quote.pdf")})
    assert response.status_code == 302
    assert login_as("vendor_admin").post(f"/p/deals/{registration.id}/staff-notes",
                                         data={"text": NOTE}).status_code == 302
    item = db.session.scalars(sa.select(DealAttachment)).one()
    return registration, item


def outcome(response):
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def attachments():
    return db.session.scalar(sa.select(sa.func.count()).select_from(DealAttachment))


#: role -> (confirmation page, deletion) of the partner user's file on an open (submitted) registration
DELETE_OPEN = {
    "anonymous": (LOGIN, LOGIN),
    "partner_user": (200, 302),  # the uploader
    "partner_admin": (200, 302),  # same organization's admin: a colleague's file
    "other_partner_user": (404, 404),
    "other_partner_admin": (404, 404),
    "other_manager": (404, 404),
    "channel_manager": (200, 302),
    "vendor_admin": (200, 302),
}
#: role -> (confirmation page, deletion) once the registration is decided
DELETE_CLOSED = {**DELETE_OPEN, "partner_user": (409, 409), "partner_admin": (409, 409)}
#: role -> (confirmation page, deletion) of a file the channel manager attached (open registration)
DELETE_STAFF_FILE = {**DELETE_OPEN, "partner_user": (403, 403), "partner_admin": (403, 403)}


def decide(registration):
    db.session.execute(sa.update(DealRegistration).where(DealRegistration.id == registration.id)
                       .values(status=DealStatus.WON))
    db.session.commit()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ["open", "closed"])
def test_who_may_delete_an_attachment(scene, client_for, role, state):
    registration, item = scene
    if state == "closed":
        decide(registration)
    expected_page, expected_delete = (DELETE_OPEN if state == "open" else DELETE_CLOSED)[role]
    client = client_for(role)
    url = f"/p/deals/{registration.id}/attachments/{item.id}/delete"
    assert outcome(client.get(url)) == expected_page
    assert outcome(client.post(url)) == expected_delete
    assert attachments() == (0 if expected_delete == 302 else 1)


@pytest.mark.parametrize("role", ROLES)
def test_who_may_delete_a_file_the_channel_team_attached(scene, client_for, login_as, role):
    registration, _item = scene
    response = login_as("channel_manager").post(
        f"/p/deals/{registration.id}/attachments", content_type="multipart/form-data",
        data={"file": (io.BytesIO(PDF), "terms.pdf")})
    assert response.status_code == 302
    item = db.session.scalars(sa.select(DealAttachment).where(DealAttachment.filename == "terms.pdf")).one()
    expected_page, expected_delete = DELETE_STAFF_FILE[role]
    client = client_for(role)
    url = f"/p/deals/{registration.id}/attachments/{item.id}/delete"
    assert outcome(client.get(url)) == expected_page
    assert outcome(client.post(url)) == expected_delete
    assert attachments() == (1 if expected_delete == 302 else 2)


#: role -> (detail page, notes shown on it, adding a note)
STAFF_NOTES = {
    "anonymous": (LOGIN, False, LOGIN),
    "partner_user": (200, False, 403),
    "partner_admin": (200, False, 403),
    "other_partner_user": (404, False, 403),
    "other_partner_admin": (404, False, 403),
    "other_manager": (404, False, 404),
    "channel_manager": (200, True, 302),
    "vendor_admin": (200, True, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_and_writes_staff_notes(scene, client_for, role):
    registration, _item = scene
    expected_page, shown, expected_add = STAFF_NOTES[role]
    client = client_for(role)
    page = client.get(f"/p/deals/{registration.id}")
    assert outcome(page) == expected_page
    assert (NOTE in page.get_data(as_text=True)) is shown
    assert ('id="staff-notes-heading"' in page.get_data(as_text=True)) is shown
    response = client.post(f"/p/deals/{registration.id}/staff-notes", data={"text": f"From {role}"})
    assert outcome(response) == expected_add
    bodies = db.session.scalars(sa.select(DealStaffNote.body)).all()
    assert (f"From {role}" in bodies) is (expected_add == 302)


#: author -> role -> (edit page, edit, confirmation page, deletion) of that author's note
#: (partners hold no deals.staff_note: 403 before anything is read)
STAFF_NOTE_CHANGES = {
    "channel_manager": {
        "anonymous": (LOGIN, LOGIN, LOGIN, LOGIN),
        "partner_user": (403, 403, 403, 403),
        "partner_admin": (403, 403, 403, 403),
        "other_partner_user": (403, 403, 403, 403),
        "other_partner_admin": (403, 403, 403, 403),
        "other_manager": (404, 404, 404, 404),
        "channel_manager": (200, 302, 200, 302),  # the author
        "vendor_admin": (403, 403, 200, 302),  # deletes any note, edits only their own
    },
    "vendor_admin": {
        "anonymous": (LOGIN, LOGIN, LOGIN, LOGIN),
        "partner_user": (403, 403, 403, 403),
        "partner_admin": (403, 403, 403, 403),
        "other_partner_user": (403, 403, 403, 403),
        "other_partner_admin": (403, 403, 403, 403),
        "other_manager": (404, 404, 404, 404),
        "channel_manager": (403, 403, 403, 403),  # not the author, no vendor admin
        "vendor_admin": (200, 302, 200, 302),  # the author
    },
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("author", ["channel_manager", "vendor_admin"])
@pytest.mark.parametrize("state", ["open", "closed"])
def test_who_may_edit_and_delete_a_staff_note(scene, client_for, login_as, portal_world, role, author, state):
    registration, _item = scene
    if author == "channel_manager":
        assert login_as("channel_manager").post(f"/p/deals/{registration.id}/staff-notes",
                                                data={"text": NOTE}).status_code == 302
    note = db.session.scalars(sa.select(DealStaffNote).where(
        DealStaffNote.author_id == portal_world.by_role(author).id)).one()
    if state == "closed":
        decide(registration)  # notes stay the staff's to change after the decision
    expected_edit_page, expected_edit, expected_page, expected_delete = STAFF_NOTE_CHANGES[author][role]
    client = client_for(role)
    base = f"/p/deals/{registration.id}/staff-notes/{note.id}"
    assert outcome(client.get(f"{base}/edit")) == expected_edit_page
    assert outcome(client.post(f"{base}/edit", data={"text": f"Edited by {role}"})) == expected_edit
    db.session.expire_all()
    assert (db.session.get(DealStaffNote, note.id).body == f"Edited by {role}") is (expected_edit == 302)
    assert outcome(client.get(f"{base}/delete")) == expected_page
    assert outcome(client.post(f"{base}/delete")) == expected_delete
    db.session.expire_all()
    assert (db.session.get(DealStaffNote, note.id) is None) is (expected_delete == 302)
