"""Plugins' Alembic branches: ``portal db upgrade`` applies the core and every
loaded plugin, each plugin in its own version table, and never drops a plugin's
data when it is unloaded.

The plugins here are tiny packages written under ``tmp_path`` and imported from
there, registered with ``make_app(..., plugins={"hello": module})``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal import MIGRATIONS_DIR, plugin_migrations
from portal.deploy_check import database_findings
from portal.extensions import db
from portal.plugins import host
from tests.conftest import make_app
from tests.test_migrations import PG_URL, scratch_postgresql_url

CORE_HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()

HOOKS = '''
from pathlib import Path

from portal import hookimpl


@hookimpl
def portal_migrations():
    return Path(__file__).parent / "versions"
'''


def revision_file(revision: str, table: str, *, label: str | None = "hello",
                  down: str | None = None, depends_on: str | None = CORE_HEAD,
                  fail: bool = False) -> str:
    return textwrap.dedent(f'''
        from alembic import op
        import sqlalchemy as sa

        revision = {revision!r}
        down_revision = {down!r}
        branch_labels = {(label,) if label else None!r}
        depends_on = {depends_on!r}


        def upgrade():
            op.create_table(
                {table!r},
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("text", sa.String(100), nullable=False),
            )
            if {fail!r}:
                raise RuntimeError("this migration is broken")


        def downgrade():
            op.drop_table({table!r})
    ''')


def write_plugin_package(root: Path, files: dict[str, str], prefix: str = "portal_test_plugin") -> Any:
    """Write a package of ``files`` under ``root`` and import it (a unique name,
    so that plugins of different tests never share a cached module)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    for relative, text in files.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    return importlib.import_module(name)


@pytest.fixture
def plugin_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    yield root
    if str(root) in sys.path:
        sys.path.remove(str(root))
    for name in [n for n, m in sys.modules.items()
                 if str(getattr(m, "__file__", "") or "").startswith(str(root))]:
        del sys.modules[name]


def hello_plugin(root: Path, *revisions: tuple[str, str]) -> Any:
    """A plugin whose versions/ folder holds ``(file name, text)`` revisions;
    by default one revision creating ``hello_greeting``."""
    revisions = revisions or (("h001_greeting.py", revision_file("h001", "hello_greeting")),)
    return write_plugin_package(root, {"__init__.py": HOOKS, **{f"versions/{n}": t for n, t in revisions}})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database(request: pytest.FixtureRequest, worker_id: str) -> str | None:
    """None (SQLite in the instance folder) or a scratch PostgreSQL database."""
    if request.param == "sqlite":
        return None
    if not PG_URL:
        pytest.skip("PostgreSQL: set PORTAL_TEST_DATABASE_URL to run the migrations there")
    return scratch_postgresql_url(f"plugin_migrations_{worker_id}")


class Apps:
    """Apps on one empty database, with or without plugins (one deployment,
    restarted with another PLUGINS setting)."""

    def __init__(self, tmp_path: Path, database_url: str | None) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.made: list[Flask] = []

    def __call__(self, **plugins: Any) -> Flask:
        app = make_app(self.tmp_path, self.database_url, plugins=plugins or None)
        self.made.append(app)
        return app

    def dispose(self) -> None:
        for app in self.made:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def apps(tmp_path: Path, database: str | None) -> Iterator[Apps]:
    made = Apps(tmp_path, database)
    yield made
    made.dispose()


def run(app: Flask, *args: str) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def versions(app: Flask, table: str) -> list[str]:
    with app.app_context(), db.engine.connect() as connection:
        return sorted(connection.scalars(sa.text(f'SELECT version_num FROM "{table}"')))


# -- upgrade -----------------------------------------------------------------------

def test_db_upgrade_creates_core_and_plugin_tables_in_separate_histories(
    apps: Apps, plugin_root: Path
) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert {"users", "hello_greeting", "alembic_version_hello"} <= tables(app)
    assert versions(app, "alembic_version") == [CORE_HEAD]
    assert versions(app, "alembic_version_hello") == ["h001"]
    assert "plugin hello" in result.output and "hello_greeting" in result.output
    assert host(app).failures == []


def test_second_upgrade_changes_nothing(apps: Apps, plugin_root: Path) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    assert run(app, "db", "upgrade").exit_code == 0
    before = tables(app)
    result = run(app, "db", "upgrade", "heads")
    assert result.exit_code == 0, result.output
    assert tables(app) == before
    assert "plugin hello: at h001, unchanged" in result.output


def test_enabling_a_plugin_on_an_existing_deployment_creates_its_tables(
    apps: Apps, plugin_root: Path
) -> None:
    assert run(apps(), "db", "upgrade").exit_code == 0
    assert "hello_greeting" not in tables(apps.made[0])
    app = apps(hello=hello_plugin(plugin_root))
    with app.app_context():
        outcomes = plugin_migrations.upgrade_all()
    assert [(o.label, o.new_tables) for o in outcomes] == [
        ("core", []), ("plugin hello", ["alembic_version_hello", "hello_greeting"])]
    assert "hello_greeting" in tables(app)


def test_unloading_a_plugin_keeps_its_data_and_the_core_still_upgrades(
    apps: Apps, plugin_root: Path
) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    assert run(app, "db", "upgrade").exit_code == 0
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO hello_greeting (id, text) VALUES (1, 'hi')"))

    without = apps()  # PLUGINS no longer names it
    result = run(without, "db", "upgrade")
    assert result.exit_code == 0, result.output
    with without.app_context():
        flask_migrate.upgrade()  # the plain core upgrade too: no unknown revision anywhere
        flask_migrate.downgrade(revision="-1")
        flask_migrate.upgrade()
        assert database_findings() == []
        with db.engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT text FROM hello_greeting")) == "hi"
    assert versions(without, "alembic_version_hello") == ["h001"]

    again = apps(hello=hello_plugin(plugin_root))  # enabled again: carries on
    result = run(again, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "plugin hello: at h001, unchanged" in result.output


def test_a_plugin_branch_grows_from_its_last_revision(apps: Apps, plugin_root: Path) -> None:
    first = ("h001_greeting.py", revision_file("h001", "hello_greeting"))
    app = apps(hello=hello_plugin(plugin_root, first))
    assert run(app, "db", "upgrade").exit_code == 0
    second = ("h002_reply.py", revision_file("h002", "hello_reply", label=None, down="h001",
                                              depends_on=None))
    newer = apps(hello=hello_plugin(plugin_root, first, second))
    result = run(newer, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "h001 -> h002" in result.output
    assert versions(newer, "alembic_version_hello") == ["h002"]
    assert "hello_reply" in tables(newer)


def test_downgrading_a_plugin_branch_drops_only_its_tables(apps: Apps, plugin_root: Path) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    assert run(app, "db", "upgrade").exit_code == 0
    result = run(app, "db", "downgrade", "--plugin", "hello", "base")
    assert result.exit_code == 0, result.output
    assert "hello_greeting" not in tables(app)
    assert "users" in tables(app)
    assert versions(app, "alembic_version") == [CORE_HEAD]
    assert versions(app, "alembic_version_hello") == []
    result = run(app, "db", "upgrade", "--plugin", "hello")
    assert result.exit_code == 0, result.output
    assert "hello_greeting" in tables(app)


def test_db_plugins_shows_each_branch(apps: Apps, plugin_root: Path) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    assert run(app, "db", "upgrade", CORE_HEAD).exit_code == 0  # a revision: the core only
    assert "hello_greeting" not in tables(app)
    assert "hello: at base of h001 (needs `portal db upgrade`)" in run(app, "db", "plugins").output
    with app.app_context():
        assert plugin_migrations.pending_plugins() == ["hello"]
    assert run(app, "db", "upgrade").exit_code == 0
    assert "hello: at h001 of h001 (up to date)" in run(app, "db", "plugins").output
    with app.app_context():
        assert plugin_migrations.pending_plugins() == []


def test_sql_mode_prints_the_plugin_branch_with_its_own_version_table(
    apps: Apps, plugin_root: Path
) -> None:
    app = apps(hello=hello_plugin(plugin_root))
    result = run(app, "db", "upgrade", "--sql")
    assert result.exit_code == 0, result.output
    assert "alembic_version_hello" in result.stdout
    assert "hello_greeting" in result.stdout
    assert "hello_greeting" not in tables(app)


def test_core_autogenerate_leaves_plugin_tables_alone(apps: Apps, plugin_root: Path) -> None:
    """`portal db check` / `db migrate` compare the core's models with the core's
    tables only: a plugin's tables and version table are not "to be dropped"."""
    app = apps(hello=hello_plugin(plugin_root))
    assert run(app, "db", "upgrade").exit_code == 0
    result = run(app, "db", "check")
    assert result.exit_code == 0, result.output


# -- failures are the plugin's, not the deployment's ---------------------------------------

def test_a_failing_plugin_branch_is_reported_and_the_others_still_upgrade(
    apps: Apps, plugin_root: Path
) -> None:
    good = hello_plugin(plugin_root)
    broken = write_plugin_package(plugin_root, {
        "__init__.py": HOOKS,
        "versions/b001.py": revision_file("b001", "broken_thing", label="broken", fail=True),
    })
    app = apps(broken=broken, hello=good)
    result = run(app, "db", "upgrade")
    assert result.exit_code == 1
    assert "plugin broken: FAILED" in result.output and "this migration is broken" in result.output
    assert "hello_greeting" in tables(app)
    with app.app_context():
        assert plugin_migrations.applied_heads("broken") == ()  # not recorded as applied
    if apps.database_url:  # PostgreSQL rolls the DDL back too (SQLite cannot)
        assert "broken_thing" not in tables(app)
    assert [(f.plugin, f.where) for f in host(app).failures] == [("broken", "portal_migrations")]


def test_a_plugin_needing_a_newer_core_waits_for_it(apps: Apps, plugin_root: Path) -> None:
    needy = hello_plugin(plugin_root, ("h001.py", revision_file("h001", "hello_greeting",
                                                                depends_on="9999")))
    app = apps(hello=needy)
    result = run(app, "db", "upgrade")
    assert result.exit_code == 1
    assert "needs core revision(s) 9999" in result.output
    assert "hello_greeting" not in tables(app)
    assert versions(app, "alembic_version") == [CORE_HEAD]  # the core went ahead


def test_a_plugin_depending_on_an_older_core_revision_upgrades(apps: Apps, plugin_root: Path) -> None:
    app = apps(hello=hello_plugin(plugin_root, ("h001.py", revision_file("h001", "hello_greeting",
                                                                         depends_on="0001"))))
    assert run(app, "db", "upgrade").exit_code == 0
    assert "hello_greeting" in tables(app)


def test_tables_without_the_plugin_prefix_are_reported(apps: Apps, plugin_root: Path) -> None:
    app = apps(hello=hello_plugin(plugin_root, ("h001.py", revision_file("h001", "greeting"))))
    assert run(app, "db", "upgrade").exit_code == 0
    messages = [f.message for f in host(app).failures if f.plugin == "hello"]
    assert messages == ["tables greeting must start with 'hello_'"]


def test_a_missing_migrations_folder_is_reported(apps: Apps, plugin_root: Path) -> None:
    package = write_plugin_package(plugin_root, {"__init__.py": HOOKS})  # no versions/
    app = apps(hello=package)
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "does not exist" in host(app).failures[0].message


def test_upgrading_an_unknown_plugin_is_refused(apps: Apps) -> None:
    result = run(apps(), "db", "upgrade", "--plugin", "nope")
    assert result.exit_code == 1
    assert "Plugin 'nope' is not loaded" in result.output


# -- model table prefixes at start-up ----------------------------------------------------

def test_models_of_a_plugin_package_must_carry_its_prefix(apps: Apps, plugin_root: Path) -> None:
    package = write_plugin_package(plugin_root, {"__init__.py": HOOKS})
    app = apps(hello=package)

    class Base(DeclarativeBase):  # its own registry: the app's metadata stays the core's
        pass

    def model(name: str, table: str, module: str) -> type:
        return type(name, (Base,), {"__tablename__": table, "__module__": module,
                                    "id": mapped_column(sa.Integer, primary_key=True),
                                    "__annotations__": {"id": Mapped[int]}})

    # Kept referenced: the registry holds its mappers weakly.
    models = [model("Greeting", "hello_greeting", package.__name__ + ".models"),  # noqa: F841
              model("Reply", "reply", package.__name__ + ".models"),
              model("Unrelated", "unrelated", "some_other_package.models")]
    with app.app_context():
        offending = plugin_migrations.check_model_prefixes(host(app), Base.registry)
    assert offending == ["reply"]
    assert "table 'reply' (Reply) must start with 'hello_'" in host(app).failures[-1].message


@pytest.mark.parametrize(("module", "package"), [
    ("portal_hello.plugin", "portal_hello"),
    ("hello", "hello"),
    ("tests.test_something", "tests.test_something"),
    ("plugins.deals.plugin", "plugins.deals"),
])
def test_a_plugins_package_is_found_from_its_module(module: str, package: str) -> None:
    plugin = type("Plugin", (), {"__module__": module})()
    assert plugin_migrations.plugin_package(plugin) == package


def test_portal_check_reports_a_plugin_with_unapplied_migrations(apps: Apps, plugin_root: Path) -> None:
    from portal.deploy_check import database_findings

    assert run(apps(), "db", "upgrade").exit_code == 0  # the core only
    app = apps(hello=hello_plugin(plugin_root))
    with app.app_context():
        assert [f.setting for f in database_findings()] == ["plugin hello"]
        plugin_migrations.upgrade_all()
        assert database_findings() == []
