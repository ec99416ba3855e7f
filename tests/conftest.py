"""Fixtures: an app per test on its own database, a CSRF-aware client, and a
``world`` of two partner organizations with a user for every role.

Set ``PORTAL_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``)
to run the suite on PostgreSQL: each xdist worker gets its own database, the
schema is created once and every table is emptied after each test.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.globals import _cv_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache

from portal import create_app
from portal.extensions import db
from portal.models import Organization, Program, Role, User
from tests import factories

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
CSRF_RAW = "0" * 40  # the session half of the CSRF token used by the test client


# -- databases --------------------------------------------------------------

def _worker_database_url(worker_id: str) -> str:
    """A database of this xdist worker's own on the PostgreSQL server."""
    url = sa.make_url(PG_URL)
    name = f"{url.database}_{worker_id}".replace("-", "_")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> str | None:
    if not PG_URL:
        return None
    return _worker_database_url(worker_id)


_schema_created: set[str] = set()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


class _SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app the tests create (one per test)."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Any) -> None:
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Any) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _SharedBytecodeCache()


def make_app(
    tmp_path: Any, database_url: str | None, plugins: dict[str, Any] | None = None, **overrides: Any
) -> Flask:
    config = {
        "TESTING": True,
        "PORTAL_ENV": "development",
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
        "SERVER_NAME": "portal.test",
        "BASE_URL": "http://portal.test",
        "PREFERRED_URL_SCHEME": "http",
        "MAIL_BACKEND": "outbox",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Still scrypt, at a cost that keeps the suite fast. Production uses the default.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    config.update(overrides)
    application = create_app(config, instance_path=str(tmp_path / "instance"), plugins=plugins)
    application.jinja_env.bytecode_cache = _BYTECODE_CACHE
    return application


_sqlite_template: dict[str, bytes] = {}


def _sqlite_schema(app: Flask) -> None:
    """Create the schema once per process, then copy the database file per test."""
    from pathlib import Path

    target = Path(db.engine.url.database)
    if "schema" not in _sqlite_template:
        db.create_all()
        db.engine.dispose()
        _sqlite_template["schema"] = target.read_bytes()
        return
    db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    target.write_bytes(_sqlite_template["schema"])


def reset_database(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            url = str(db.engine.url)
            if url not in _schema_created:
                db.drop_all()
                db.create_all()
                _schema_created.add(url)
            else:
                _truncate_all()
        else:
            _sqlite_schema(app)


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # The audit log refuses DELETE by trigger; TRUNCATE is a test-only reset.
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(tmp_path: Any, database_url: str | None) -> Any:
    application = make_app(tmp_path, database_url)
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


# -- clients ----------------------------------------------------------------

class PortalClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request,
    the way the browser form (hidden field) or htmx (X-CSRFToken header) does.
    Pass ``csrf=False`` to leave it out."""

    def open(self, *args: Any, csrf: bool = True, htmx: bool = False, **kwargs: Any) -> Any:
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            with self.session_transaction() as session:
                session.setdefault("csrf_token", CSRF_RAW)
                raw = session["csrf_token"]
            serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
            headers.setdefault("X-CSRFToken", serializer.dumps(raw))
        kwargs["headers"] = headers
        # Requests reuse the test's app context (so tests share its db.session);
        # give each request a fresh ``g`` as a real server would, or the logged-in
        # user and the locale cached there would leak from one request to the next.
        ctx = _cv_app.get(None)
        if ctx is not None:
            ctx.g = self.application.app_ctx_globals_class()
        return super().open(*args, **kwargs)

    def login(self, user: User, password: str = factories.PASSWORD) -> Any:
        response = self.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response


@pytest.fixture
def client(app: Flask) -> PortalClient:
    app.test_client_class = PortalClient
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# -- a small world -----------------------------------------------------------

@dataclass
class World:
    reseller: Program
    referral: Program
    org_a: Organization
    org_b: Organization
    admin_a: User  # partner_admin of A
    user_a: User  # partner_user of A
    admin_b: User
    user_b: User
    manager: User  # channel_manager of A (not of B)
    vendor_admin: User

    def by_role(self, name: str) -> User | None:
        return {
            "anonymous": None,
            "partner_user_a": self.user_a,
            "partner_admin_a": self.admin_a,
            "partner_user_b": self.user_b,
            "partner_admin_b": self.admin_b,
            "channel_manager": self.manager,
            "vendor_admin": self.vendor_admin,
        }[name]


@pytest.fixture
def world(app: Flask) -> World:
    reseller = factories.program("Reseller")
    referral = factories.program("Referral", tiers=("Registered", "Preferred"))
    org_a = factories.organization("Acme Networks GmbH", program=reseller, tier=reseller.tiers[1])
    org_b = factories.organization("Globex Systems Ltd", country="GB", program=referral)
    manager = factories.user(Role.CHANNEL_MANAGER, email="manager@vendor.example")
    factories.assign_manager(manager, org_a)
    w = World(
        reseller=reseller,
        referral=referral,
        org_a=org_a,
        org_b=org_b,
        admin_a=factories.user(Role.PARTNER_ADMIN, org_a, email="admin@acme.example"),
        user_a=factories.user(Role.PARTNER_USER, org_a, email="user@acme.example"),
        admin_b=factories.user(Role.PARTNER_ADMIN, org_b, email="admin@globex.example"),
        user_b=factories.user(Role.PARTNER_USER, org_b, email="user@globex.example"),
        manager=manager,
        vendor_admin=factories.user(Role.VENDOR_ADMIN, email="admin@vendor.example"),
    )
    db.session.commit()
    return w


# -- email -------------------------------------------------------------------

def outbox_messages(app: Flask) -> list[Any]:
    """Messages written to the instance outbox, oldest first."""
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    folder = Path(app.config["OUTBOX_PATH"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files]


def message_text(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: Any) -> str:
    """The first portal link in a message, as a path for the test client."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message_text(message))
    assert match, message_text(message)
    return match.group(1)


@pytest.fixture
def outbox(app: Flask) -> Any:
    return lambda: outbox_messages(app)
