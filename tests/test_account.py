"""The user's own account: name, job title, language, time zone and password."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry
from tests import factories

NEW_PASSWORD = "a much longer passphrase"


def account_data(**changes):
    return {"name": "Anna Admin", "job_title": "Channel lead", "locale": "en",
            "timezone": "Europe/Berlin", **changes}


@pytest.mark.parametrize("role", ["partner_user_a", "partner_admin_a", "channel_manager", "vendor_admin"])
def test_every_role_has_an_account_page(client, world, role):
    user = world.by_role(role)
    client.login(user)
    response = client.get("/account/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert user.email in html and 'name="timezone"' in html and 'name="locale"' in html
    assert client.get("/account/password").status_code == 200


def test_anonymous_is_sent_to_login(client):
    for url in ("/account/", "/account/password"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_user_updates_name_job_title_language_and_timezone(client, world):
    client.login(world.admin_a)
    response = client.post("/account/", data=account_data())
    assert response.status_code == 302
    db.session.refresh(world.admin_a)
    user = world.admin_a
    assert (user.name, user.job_title, user.locale, user.timezone) == (
        "Anna Admin", "Channel lead", "en", "Europe/Berlin")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "user.updated"))
    assert entry.after["timezone"] == "Europe/Berlin" and entry.before["timezone"] == "UTC"
    assert "saved" in client.get("/account/").get_data(as_text=True)


@pytest.mark.parametrize("changes, message", [
    ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list."),
    ({"timezone": ""}, "Choose a time zone from the list."),
    ({"locale": "tlh"}, "Choose a language from the list."),
    ({"name": "  "}, "This field is required"),
    ({"name": "n" * 201}, "200"),
    ({"job_title": "j" * 201}, "200"),
    # No one types them, and PostgreSQL cannot store a NUL: every text field refuses them.
    ({"name": "Anna\x00Admin"}, "Remove the control characters from this text."),
    ({"job_title": "Lead\x1b[2J"}, "Remove the control characters from this text."),
])
def test_account_rejects_bad_input_and_saves_nothing(client, world, changes, message):
    client.login(world.user_a)
    response = client.post("/account/", data=account_data(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(world.user_a)
    assert world.user_a.timezone == "UTC" and world.user_a.name != "Anna Admin"


def test_account_ignores_role_and_organization_fields(client, world):
    client.login(world.user_a)
    client.post("/account/", data=account_data(role="vendor_admin", organization_id=str(world.org_b.id),
                                               email="evil@example.com", active="0"))
    db.session.refresh(world.user_a)
    assert world.user_a.role.value == "partner_user" and world.user_a.organization_id == world.org_a.id
    assert world.user_a.email == "user@acme.example" and world.user_a.active


def test_account_without_csrf_is_refused(client, world):
    client.login(world.user_a)
    assert client.post("/account/", data=account_data(), csrf=False).status_code == 400


# -- password ------------------------------------------------------------------

def change(client, current=factories.PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "password": new, "confirm": new if confirm is None else confirm,
    })


def test_password_change_keeps_this_session_and_ends_the_others(client, world, app):
    other_device = app.test_client()
    other_device.login(world.user_a)
    assert other_device.get("/").status_code == 200
    client.login(world.user_a)
    response = change(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    page = client.get("/account/")
    assert page.status_code == 200
    assert "logged out everywhere else" in page.get_data(as_text=True)
    other = other_device.get("/")
    assert other.status_code == 302 and "/login" in other.headers["Location"]
    db.session.refresh(world.user_a)
    assert world.user_a.check_password(NEW_PASSWORD)
    assert not world.user_a.check_password(factories.PASSWORD)


def test_password_change_is_audited_without_password_material(client, world):
    client.login(world.user_a)
    change(client)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.event == "user.password_changed"))
    assert entry.actor_id == world.user_a.id
    dumped = json.dumps([entry.before, entry.after, entry.summary])
    db.session.refresh(world.user_a)
    assert "password" not in dumped and "scrypt" not in dumped
    assert NEW_PASSWORD not in dumped and world.user_a.password_hash not in dumped


def test_remembered_device_keeps_a_working_remember_cookie(client, world):
    client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD, "remember": "y"})
    assert change(client).status_code == 302
    assert client.get_cookie("remember_token", domain="portal.test") is not None
    # Drop the session: the renewed remember-me cookie alone logs this device in.
    client.delete_cookie("session", domain="portal.test")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("kwargs, message", [
    ({"current": "wrong password!"}, "This is not your current password."),
    ({"current": ""}, "This field is required"),
    ({"new": "short"}, "Use at least 10 characters."),
    ({"new": "aaaaaaaaaaaa"}, "too easy to guess"),
    ({"new": "user-something-long"}, "Do not use your email address"),
    ({"confirm": "something else entirely"}, "The two passwords differ."),
])
def test_password_change_rejects_bad_input(client, world, kwargs, message):
    client.login(world.user_a)
    response = change(client, **kwargs)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(world.user_a)
    assert world.user_a.check_password(factories.PASSWORD)
    assert client.get("/").status_code == 200


def test_guessing_the_current_password_is_throttled(client, world):
    client.login(world.user_a)
    codes = [change(client, current=f"wrong guess {n}").status_code for n in range(7)]
    assert codes[:5] == [400] * 5
    assert codes[-1] == 429
    # Even the right password waits until the window passes.
    assert change(client).status_code == 429


def test_password_change_without_csrf_is_refused(client, world):
    client.login(world.user_a)
    response = client.post("/account/password", csrf=False, data={
        "current_password": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    db.session.refresh(world.user_a)
    assert world.user_a.check_password(factories.PASSWORD)
