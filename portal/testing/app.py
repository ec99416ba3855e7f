"""Apps for tests: one per test, each on a fresh database.

SQLite (the default): each app gets its own database file in its instance
folder, copied from a schema template built once per process (and once more
whenever a plugin adds models). PostgreSQL (``PORTAL_TEST_DATABASE_URL``): each
pytest-xdist worker gets a database of its own next to the one the URL names;
the schema is created once, and every table is emptied before each test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from jinja2 import BytecodeCache

from portal import create_app
from portal.extensions import db

#: The environment variable naming the PostgreSQL server to test on.
DATABASE_URL_VARIABLE = "PORTAL_TEST_DATABASE_URL"

#: Settings of every test app (``make_app(..., **overrides)`` changes them).
TEST_CONFIG: dict[str, Any] = {
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
    # The index catches up right after each commit, so a test can search at once.
    "SEARCH_INDEXING": "inline",
}


def configured_database_url() -> str | None:
    """The PostgreSQL server to test on, or None for SQLite."""
    return os.environ.get(DATABASE_URL_VARIABLE) or None


def worker_database_url(base_url: str, worker_id: str) -> str:
    """A new, empty database for this xdist worker next to ``base_url``'s
    (``test`` → ``test_gw0``); a leftover one is dropped first."""
    url = sa.make_url(base_url)
    name = f"{url.database}_{worker_id}".replace("-", "_")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


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
    """A test app with its instance folder in ``tmp_path / "instance"``.

    ``database_url``: None for SQLite in the instance folder. ``plugins`` registers
    plugin objects directly; ``PLUGINS=["hello"]`` loads installed plugins by their
    entry-point names. The schema is not created: call :func:`reset_database`.
    """
    config = dict(TEST_CONFIG)
    if database_url:
        config["DATABASE_URL"] = database_url
    config.update(overrides)
    application = create_app(config, instance_path=str(Path(tmp_path) / "instance"), plugins=plugins)
    application.jinja_env.bytecode_cache = _BYTECODE_CACHE
    return application


# The metadata grows when a plugin's models are imported, so schemas are kept per
# set of tables: SQLite template files, and what each PostgreSQL database holds.
_sqlite_templates: dict[frozenset[str], bytes] = {}
_postgresql_tables: dict[str, frozenset[str]] = {}


def reset_database(app: Flask) -> None:
    """Give ``app`` an empty database with every table of the loaded models
    (the core's and those of plugins imported so far)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _reset_postgresql()
        else:
            _reset_sqlite()


def _reset_sqlite() -> None:
    """Create the schema once per set of tables, then copy the file per test."""
    target = Path(db.engine.url.database or "")
    key = frozenset(db.metadata.tables)
    template = _sqlite_templates.get(key)
    if template is None:
        db.create_all()
        db.session.remove()
        db.engine.dispose()
        _sqlite_templates[key] = target.read_bytes()
        return
    db.session.remove()
    db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    target.write_bytes(template)


def _reset_postgresql() -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    tables = frozenset(db.metadata.tables)
    known = _postgresql_tables.get(url)
    if known is None:
        db.drop_all()
        db.create_all()
    else:
        if tables - known:
            db.create_all()  # adds the tables of newly imported models only
        _truncate_all()
    _postgresql_tables[url] = tables | (known or frozenset())


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # The audit log refuses DELETE by trigger; TRUNCATE is a test-only reset.
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The settings counter's one row, as create_all and the migration leave it.
        conn.execute(sa.text("INSERT INTO settings_version (id, value) VALUES (1, 0)"))
