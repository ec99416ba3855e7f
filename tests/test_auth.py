"""Logging in and out, password reset, invitations, deactivation, throttling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.auth.tokens import invitation_token, reset_token
from portal.auth.views import is_safe_next
from portal.extensions import db
from portal.invitations import invite
from portal.models import AuditEntry, Invitation, OrganizationStatus, Role, User, utcnow
from tests import factories
from tests.conftest import link_in


def test_login_with_right_password_starts_a_session(client, world):
    response = client.post("/login", data={"email": "USER@acme.example ", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_with_wrong_password_says_so_beside_the_field(client, world):
    response = client.post("/login", data={"email": "user@acme.example", "password": "wrong password"})
    assert response.status_code == 400
    assert b"Email or password is incorrect." in response.data
    assert client.get("/").status_code == 302


def test_login_with_unknown_email_gives_the_same_answer(client, world):
    response = client.post("/login", data={"email": "nobody@acme.example", "password": "whatever12345"})
    assert response.status_code == 400
    assert b"Email or password is incorrect." in response.data


def test_login_rejects_malformed_email(client, world):
    response = client.post("/login", data={"email": "not-an-email", "password": "x"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.data


def test_login_clears_the_previous_session(client, world):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.login(world.user_a)
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/organization", True),
        ("/admin/users?page=2", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
    ],
)
def test_next_redirect_is_same_site_only(target, safe):
    assert is_safe_next(target) is safe


def test_login_follows_a_safe_next_and_ignores_an_unsafe_one(client, world):
    response = client.post(
        "/login?next=/organization",
        data={"email": world.user_a.email, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/organization"
    client.post("/logout")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": world.user_a.email, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_logout_needs_post_and_ends_the_session(client, world):
    client.login(world.user_a)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_remember_me_sets_a_persistent_httponly_cookie(client, world):
    response = client.post(
        "/login", data={"email": world.user_a.email, "password": factories.PASSWORD, "remember": "y"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]


def test_remember_cookie_stops_working_when_the_password_changes(app, client, world):
    client.post(
        "/login", data={"email": world.user_a.email, "password": factories.PASSWORD, "remember": "y"}
    )
    # Drop the session cookie; keep the remember cookie.
    client.delete_cookie("session", domain="portal.test")
    assert client.get("/").status_code == 200
    client.delete_cookie("session", domain="portal.test")
    world.user_a.set_password("a brand new password 42")
    db.session.commit()
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in(client, world):
    world.user_a.active = False
    db.session.commit()
    response = client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert b"deactivated" in response.data


def test_deactivated_user_loses_an_existing_session(client, world):
    client.login(world.user_a)
    world.user_a.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_users_of_a_suspended_organization_are_locked_out(client, world):
    client.login(world.user_a)
    world.org_a.status = OrganizationStatus.SUSPENDED
    db.session.commit()
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD})
    assert response.status_code == 400


def test_login_is_throttled_per_account_with_429(app, client, world):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per minute"
    for _ in range(3):
        client.post("/login", data={"email": world.user_a.email, "password": "wrong password"})
    response = client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    # Another account from the same address is not locked by these failures.
    assert client.post("/login", data={"email": world.user_b.email, "password": factories.PASSWORD}).status_code == 302


def test_login_throttle_is_a_window_not_a_permanent_lockout(app, client, world):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2 per 1 second"
    for _ in range(2):
        client.post("/login", data={"email": world.user_a.email, "password": "wrong password"})
    assert client.post("/login", data={"email": world.user_a.email, "password": "x"}).status_code == 429
    app.extensions["portal.throttle"].reset()  # what time does after the window
    assert client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD}).status_code == 302


def test_successful_logins_do_not_count_against_the_limit(app, client, world):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2 per minute"
    for _ in range(4):
        client.login(world.user_a)
        client.post("/logout")


# -- password reset -----------------------------------------------------------

def test_password_reset_flow(client, world, outbox):
    response = client.post("/password/forgot", data={"email": world.user_a.email})
    assert response.status_code == 302
    (message,) = outbox()
    assert message["To"] == world.user_a.email
    link = link_in(message)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "a whole new secret 7", "confirm": "a whole new secret 7"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD}).status_code == 400
    assert client.post("/login", data={"email": world.user_a.email, "password": "a whole new secret 7"}).status_code == 302


def test_password_reset_gives_no_hint_whether_an_account_exists(client, world, outbox):
    known = client.post("/password/forgot", data={"email": world.user_a.email}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "ghost@nowhere.example"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200

    def page(response, email):  # the CSRF tokens carry a timestamp; the rest must match
        html = response.get_data(as_text=True).replace(email, "X")
        return re.sub(r'(csrf_token" value=|X-CSRFToken": )"[^"]+"', "TOKEN", html)

    assert page(known, "user@acme.example") == page(unknown, "ghost@nowhere.example")
    assert len(outbox()) == 1


def test_password_reset_link_works_once(client, world):
    token = reset_token(world.user_a)
    data = {"password": "first new password 1", "confirm": "first new password 1"}
    assert client.post(f"/password/reset/{token}", data=data).status_code == 302
    response = client.post(f"/password/reset/{token}", data={"password": "second new password 2", "confirm": "second new password 2"})
    assert response.status_code == 400
    assert b"already been used" in response.data


def test_password_reset_link_expires(app, client, world):
    token = reset_token(world.user_a)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400
    assert b"expired" in response.data


def test_tampered_reset_link_is_refused(client, world):
    token = reset_token(world.user_a)
    response = client.get(f"/password/reset/{token[:-2]}xx")
    assert response.status_code == 400
    assert b"not valid" in response.data


def test_reset_ends_other_sessions(app, client, world):
    other = app.test_client()
    other.__class__ = client.__class__
    other.login(world.user_a)
    token = reset_token(world.user_a)
    client.post(f"/password/reset/{token}", data={"password": "fresh password 99", "confirm": "fresh password 99"})
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_reset_rejects_a_weak_or_mismatched_password(client, world):
    token = reset_token(world.user_a)
    response = client.post(f"/password/reset/{token}", data={"password": "short", "confirm": "short"})
    assert response.status_code == 400 and b"at least 10 characters" in response.data
    response = client.post(f"/password/reset/{token}", data={"password": "long enough pass 1", "confirm": "other"})
    assert response.status_code == 400 and b"differ" in response.data


def test_forgot_password_is_throttled(app, client, world):
    app.config["RATELIMIT_RESET"] = "2 per minute"
    for _ in range(2):
        client.post("/password/forgot", data={"email": world.user_a.email})
    assert client.post("/password/forgot", data={"email": world.user_a.email}).status_code == 429


# -- invitations --------------------------------------------------------------

def _invite(world, email="new.colleague@acme.example", role=Role.PARTNER_USER):
    invitation = invite(email, role, world.org_a, invited_by=world.admin_a, name="New Colleague")
    db.session.commit()
    return invitation


def test_invitation_email_link_creates_the_account(client, world, outbox):
    invitation = _invite(world)
    (message,) = outbox()
    assert message["To"] == "new.colleague@acme.example"
    assert "Acme Networks GmbH" in message["Subject"]
    link = link_in(message)
    page = client.get(link)
    assert page.status_code == 200 and b"Acme Networks GmbH" in page.data
    response = client.post(link, data={"name": "Nina Neu", "password": "good password 2026", "confirm": "good password 2026", "locale": "en"})
    assert response.status_code == 302
    user = db.session.query(User).filter_by(email="new.colleague@acme.example").one()
    assert user.organization_id == world.org_a.id and user.role is Role.PARTNER_USER
    db.session.refresh(invitation)
    assert invitation.accepted_at is not None and invitation.user_id == user.id
    assert client.get("/").status_code == 200


def test_invitation_link_works_once(client, world):
    invitation = _invite(world)
    token = invitation_token(invitation)
    data = {"name": "Nina", "password": "good password 2026", "confirm": "good password 2026", "locale": "en"}
    assert client.post(f"/invitation/{token}", data=data).status_code == 302
    client.post("/logout")
    response = client.post(f"/invitation/{token}", data=data)
    assert response.status_code == 400
    assert b"already been used" in response.data


def test_expired_invitation_is_refused(client, world):
    invitation = _invite(world)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/invitation/{invitation_token(invitation)}")
    assert response.status_code == 400 and b"expired" in response.data


def test_a_new_invitation_replaces_the_old_link(client, world):
    first = _invite(world)
    second = _invite(world)
    assert client.get(f"/invitation/{invitation_token(first)}").status_code == 400
    assert client.get(f"/invitation/{invitation_token(second)}").status_code == 200


def test_cannot_invite_an_existing_account(world):
    from portal.invitations import InvitationError

    with pytest.raises(InvitationError):
        invite(world.user_b.email, Role.PARTNER_USER, world.org_a, invited_by=world.admin_a)


def test_invitation_to_a_suspended_organization_is_refused(client, world):
    invitation = _invite(world)
    world.org_a.status = OrganizationStatus.SUSPENDED
    db.session.commit()
    assert client.get(f"/invitation/{invitation_token(invitation)}").status_code == 400


def test_invitation_form_errors_keep_the_invitation_usable(client, world):
    invitation = _invite(world)
    token = invitation_token(invitation)
    response = client.post(f"/invitation/{token}", data={"name": "", "password": "x", "confirm": "y", "locale": "xx"})
    assert response.status_code == 400
    assert db.session.get(Invitation, invitation.id).accepted_at is None
    assert db.session.query(User).filter_by(email=invitation.email).count() == 0


def test_login_and_invitation_acceptance_are_audited(client, world):
    client.login(world.user_a)
    events = [e.event for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert "user.logged_in" in events


def test_inviting_an_address_invited_by_another_organization_is_refused(world):
    from portal.invitations import InvitationError

    invitation = invite("shared@example.com", Role.PARTNER_USER, world.org_b, invited_by=world.admin_b)
    db.session.commit()
    with pytest.raises(InvitationError):
        invite("shared@example.com", Role.PARTNER_USER, world.org_a, invited_by=world.admin_a)
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id).is_pending
