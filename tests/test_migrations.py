"""The Alembic migrations build exactly the schema the models declare.

Each test migrates a fresh, empty database: SQLite always, and PostgreSQL when
``PORTAL_TEST_DATABASE_URL`` names a server (on a scratch database of its own, so
the rest of the suite's schema is never touched).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portal import MIGRATIONS_DIR
from portal.extensions import db
from portal.plugins import discover
from tests.conftest import make_app

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def scratch_postgresql_url(suffix: str) -> str:
    """A new, empty database on the test server, dropped first if it is left over."""
    assert PG_URL
    url = sa.make_url(PG_URL)
    name = f"{url.database}_{suffix}".replace("-", "_")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_database_url(request: pytest.FixtureRequest, worker_id: str) -> str | None:
    """None (SQLite in the instance folder) or a scratch PostgreSQL database."""
    if request.param == "sqlite":
        return None
    if not PG_URL:
        pytest.skip("PostgreSQL: set PORTAL_TEST_DATABASE_URL to run the migrations there")
    return scratch_postgresql_url(f"migrations_{worker_id}")


@pytest.fixture
def empty_app(tmp_path: Any, empty_database_url: str | None) -> Iterator[Flask]:
    """An app on a database with no tables at all (no ``create_all``)."""
    app = make_app(tmp_path, empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _is_plugin_table(name: str) -> bool:
    return any(name.startswith(plugin + "_") for plugin in discover())


def core_tables() -> set[str]:
    """The core models' tables. The metadata also holds the tables of installed
    plugins once a test has loaded them (the authorization table loads every one);
    their own branches create those (tests/test_plugin_migrations.py)."""
    return {name for name in db.metadata.tables if not _is_plugin_table(name)}


def _core_only(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and _is_plugin_table(name))


def test_migrations_have_a_single_head() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert len(script.get_heads()) == 1


def test_upgrade_to_head_matches_the_models(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _core_only})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    assert core_tables() <= table_names()


def test_upgrade_twice_changes_nothing(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    before = table_names()
    flask_migrate.upgrade()
    assert table_names() == before


def test_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            functions = connection.scalar(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_entry_append_only'")
            )
        assert functions == 0
    flask_migrate.upgrade()  # and back up again from nothing
    assert core_tables() <= table_names()


def test_audit_trigger_refuses_update_and_delete_after_migrating(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_entry (id, occurred_at, event) "
                "VALUES (1, CURRENT_TIMESTAMP, 'test.recorded')"
            )
        )
    for statement in (
        "UPDATE audit_entry SET event = 'test.rewritten' WHERE id = 1",
        "DELETE FROM audit_entry WHERE id = 1",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as connection:
                connection.execute(sa.text(statement))
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT event FROM audit_entry WHERE id = 1")) == (
            "test.recorded"
        )
