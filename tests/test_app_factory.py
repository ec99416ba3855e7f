"""The application factory builds independent apps: no global state between them."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Role
from tests import factories
from tests.conftest import PortalClient, make_app, reset_database


def _app_with_admin(path, email):
    app = make_app(path, None)
    app.test_client_class = PortalClient
    reset_database(app)
    with app.app_context():
        factories.user(Role.VENDOR_ADMIN, email=email)
        db.session.commit()
    return app


def test_two_apps_in_one_process_keep_their_own_data_and_state(tmp_path):
    first = _app_with_admin(tmp_path / "one", "one@vendor.example")
    second = _app_with_admin(tmp_path / "two", "two@vendor.example")
    assert first.extensions["portal.policy"] is not second.extensions["portal.policy"]
    assert first.extensions["portal.events"] is not second.extensions["portal.events"]
    assert first.extensions["portal.throttle"] is not second.extensions["portal.throttle"]

    with first.app_context():
        one = first.test_client()
        user = db.session.query(factories.User).one()
        one.login(user)
    with second.app_context():
        two = second.test_client()
        # The first app's account does not exist in the second app.
        response = two.post("/login", data={"email": "one@vendor.example", "password": factories.PASSWORD})
        assert response.status_code == 400
    with first.app_context():
        assert one.get("/").status_code == 200
        db.session.remove()
        db.engine.dispose()
    with second.app_context():
        db.session.remove()
        db.engine.dispose()


def test_throttling_in_one_app_does_not_limit_another(tmp_path):
    first = _app_with_admin(tmp_path / "one", "one@vendor.example")
    second = _app_with_admin(tmp_path / "two", "two@vendor.example")
    first.config["RATELIMIT_LOGIN"] = "1 per minute"
    second.config["RATELIMIT_LOGIN"] = "1 per minute"
    with first.app_context():
        client = first.test_client()
        client.post("/login", data={"email": "x@example.com", "password": "wrong password"})
        assert client.post("/login", data={"email": "x@example.com", "password": "x"}).status_code == 429
        db.session.remove()
        db.engine.dispose()
    with second.app_context():
        client = second.test_client()
        assert client.post("/login", data={"email": "x@example.com", "password": "x"}).status_code == 400
        db.session.remove()
        db.engine.dispose()


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(app):
    import sqlalchemy as sa

    if db.engine.dialect.name != "sqlite":
        import pytest

        pytest.skip("SQLite settings")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(sa.text("PRAGMA busy_timeout")).scalar() == 5000


def test_importing_the_portal_leaves_other_sqlite_engines_alone():
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 0
    engine.dispose()
