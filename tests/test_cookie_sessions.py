"""Session cookies verified once per worker (portal.auth.cookie): a kept cookie
reads as Flask would read it, and nothing a kept one holds outlives what the
signature allows."""

from __future__ import annotations

import time

import pytest
from flask import session
from itsdangerous import URLSafeTimedSerializer

from portal.auth.cookie import KeptCookieSessions


@pytest.fixture
def loads(app, monkeypatch):
    """Counts the signature checks the session interface makes."""
    calls = []
    original = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        calls.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    return calls


def cookie_of(client) -> str:
    return client.get_cookie("session", domain="portal.test").value


def test_the_portal_uses_the_kept_cookie_sessions(app):
    assert isinstance(app.session_interface, KeptCookieSessions)


def test_the_same_cookie_is_verified_once(client, world, loads):
    client.login(world.user_a)
    client.get("/account/")
    value = cookie_of(client)
    loads.clear()
    for _ in range(3):
        assert client.get("/account/").status_code == 200
    assert loads.count(value) <= 1
    assert cookie_of(client) == value


def test_a_changed_cookie_is_refused(client, world, app):
    client.login(world.user_a)
    client.get("/account/")
    value = cookie_of(client)
    client.set_cookie("session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), domain="portal.test")
    response = client.get("/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_expired_cookie_is_refused_though_kept(client, world, app, monkeypatch):
    client.login(world.user_a)
    assert client.get("/account/").status_code == 200  # verified and kept
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_secret_key_refuses_kept_cookies(client, world, app):
    client.login(world.user_a)
    assert client.get("/account/").status_code == 200
    app.secret_key = "another secret key entirely, long enough"
    response = client.get("/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sessions_holding_lists_are_read_afresh(app, loads):
    @app.get("/_test/flash-like")
    def flash_like():
        session.setdefault("items", []).append("x")
        session.modified = True
        return str(len(session["items"]))

    client = app.test_client()
    assert client.get("/_test/flash-like").text == "1"
    assert client.get("/_test/flash-like").text == "2"  # a kept list would be shared
    value = cookie_of(client)
    loads.clear()
    assert client.get("/_test/flash-like").text == "3"
    client.set_cookie("session", value, domain="portal.test")
    assert client.get("/_test/flash-like").text == "3"
    assert loads.count(value) == 2
