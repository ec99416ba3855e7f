"""The security baseline: CSRF, headers, cookies, request limits, error pages."""

from __future__ import annotations

import pytest
from flask import abort

from portal.extensions import db
from portal.models import AuditEntry, AuditLogIsAppendOnly
from tests import factories
from tests.conftest import make_app


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post(
        "/login", data={"email": world.user_a.email, "password": factories.PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert b"expired or was sent from elsewhere" in response.data


def test_htmx_post_without_csrf_header_is_refused(client, world):
    client.login(world.user_a)
    response = client.post("/notifications/read", csrf=False, htmx=True)
    assert response.status_code == 400
    assert b"<html" not in response.data  # a partial, for htmx to swap


def test_htmx_post_with_csrf_header_is_accepted(client, world):
    client.login(world.user_a)
    assert client.post("/notifications/read", htmx=True).status_code == 200


@pytest.mark.parametrize("path", ["/login", "/healthz", "/does-not-exist", "/static/css/portal.css"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_served_over_https(client):
    response = client.get("/login", base_url="https://portal.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script(client, world):
    client.login(world.vendor_admin)
    for path in ("/login", "/", "/account/"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        for chunk in html.split("<script")[1:]:
            assert chunk.lstrip().startswith("src="), chunk[:80]
        assert " onclick=" not in html and " onload=" not in html


def test_cookies_are_secure_httponly_samesite_in_production(tmp_path):
    app = make_app(tmp_path, None, PORTAL_ENV="production", SESSION_COOKIE_SECURE=None)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_flags_on_login(client, world):
    response = client.post("/login", data={"email": world.user_a.email, "password": factories.PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_oversized_request_gets_413(client):
    big = "x" * (17 * 1024 * 1024)
    response = client.post("/login", data={"email": big, "password": "x"})
    assert response.status_code == 413
    assert b"larger than this portal accepts" in response.data


def test_oversized_multipart_field_gets_413(client):
    boundary = "portalboundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.example\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n"
        + "p" * (600 * 1024)
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    response = client.post(
        "/login", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 413


def test_overlong_urlencoded_field_gets_a_form_error(client):
    response = client.post("/login", data={"email": "a@b.example", "password": "p" * (600 * 1024)})
    assert response.status_code == 400


def test_malformed_form_values_get_form_errors_not_500(client):
    response = client.post("/login", data={"email": "\x00\x01", "password": ""})
    assert response.status_code == 400


def test_404_page_leaks_nothing(client):
    response = client.get("/admin/organizations/999999/../../etc/passwd")
    assert response.status_code in (302, 404)
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"Traceback" not in response.data


def test_500_page_leaks_nothing(tmp_path):
    app = make_app(tmp_path, None, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("SELECT secret FROM users -- internal detail")

    with app.app_context():
        db.create_all()
        response = app.test_client().get("/boom")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "SELECT" not in body and "RuntimeError" not in body and "Traceback" not in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_405_answers_with_allow_header(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_json_errors_for_api_clients(client):
    response = client.get("/nothing-here", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["error"] == "Page not found"


def test_audit_log_is_append_only_in_the_orm(app, world):
    entry = AuditEntry(event="test.event")
    db.session.add(entry)
    db.session.commit()
    entry.event = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_audit_log_is_append_only_in_the_database(app, world):
    import sqlalchemy as sa
    from sqlalchemy.exc import DatabaseError

    db.session.add(AuditEntry(event="test.event"))
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_entry SET event = 'x'"))
    with pytest.raises(DatabaseError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_entry"))


def test_an_abort_with_a_reason_shows_it(app, client):
    from portal.errors import conflict

    @app.get("/conflict-demo")
    def conflict_demo():  # type: ignore[no-untyped-def]
        conflict("This deal is already approved.")

    response = client.get("/conflict-demo")
    assert response.status_code == 409
    assert b"This deal is already approved." in response.data


def test_plain_aborts_do_not_echo_internal_descriptions(app, client):
    @app.get("/internal-demo")
    def internal_demo():  # type: ignore[no-untyped-def]
        abort(400, "internal parser state xyz")

    response = client.get("/internal-demo")
    assert response.status_code == 400
    assert b"internal parser state" not in response.data


def test_pages_reuse_the_sessions_signed_csrf_token(client, world, monkeypatch):
    """Signing the token again on every page is wasted work: a page a few minutes
    later carries the same signed token, and a form posted with it is accepted."""
    import itertools
    import re

    from itsdangerous import TimestampSigner

    seconds = itertools.count(1_800_000_000, 60)  # a signature a minute later each time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(seconds))
    client.login(world.user_a)
    tokens = set()
    for _ in range(3):
        html = client.get("/account/").get_data(as_text=True)
        tokens.update(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1
    response = client.post("/notifications/read", data={"csrf_token": tokens.pop()}, csrf=False)
    assert response.status_code in (200, 302)
