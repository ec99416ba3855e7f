"""Plugins' command-line commands (``portal_cli_commands``) and demo data
(``portal_demo_data``, run by ``portal demo``)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import sqlalchemy as sa
from flask import Flask

from portal import demo, hookimpl
from portal.cli import cli as portal_group
from portal.extensions import db
from portal.models import Program, User
from portal.plugins import host
from tests.conftest import make_app
from tests.test_plugin_migrations import (  # noqa: F401 - plugin_root is a fixture
    plugin_root,
    revision_file,
    write_plugin_package,
)


@click.group("hello", help="Greetings from the hello plugin.")
def hello_group() -> None:
    pass


@hello_group.command("greet")
@click.argument("name")
def greet(name: str) -> None:
    click.echo(f"Hello, {name}!")


class CommandsPlugin:
    def __init__(self, *commands: Any) -> None:
        self.commands = list(commands)

    @hookimpl
    def portal_cli_commands(self):  # type: ignore[no-untyped-def]
        return self.commands


class RaisingCommandsPlugin:
    @hookimpl
    def portal_cli_commands(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("no commands today")


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Any]:
    made: list[Flask] = []

    def build_app(**plugins: Any) -> Flask:
        app = make_app(tmp_path, None, plugins=plugins)
        made.append(app)
        return app

    yield build_app
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def failures(app: Flask) -> list[tuple[str, str, str]]:
    return [(f.plugin, f.where, f.message) for f in host(app).failures]


# -- portal_cli_commands ---------------------------------------------------------------

def test_a_plugins_commands_run_under_portal(build: Any) -> None:
    app = build(hello=CommandsPlugin(hello_group))
    result = app.test_cli_runner().invoke(args=["hello", "greet", "Ada"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, Ada!\n"
    assert failures(app) == []


def test_portal_help_lists_a_plugins_commands(build: Any) -> None:
    app = build(hello=CommandsPlugin(hello_group))
    result = app.test_cli_runner().invoke(portal_group, ["--help"])
    assert result.exit_code == 0, result.output
    assert "hello" in result.output and "Greetings from the hello plugin." in result.output


@pytest.mark.parametrize("taken", ["users", "db", "demo", "run", "routes"])
def test_a_command_named_like_a_core_command_is_refused(build: Any, taken: str) -> None:
    @click.command(taken)
    def impostor() -> None:
        click.echo("impostor")

    app = build(hello=CommandsPlugin(impostor))
    assert failures(app) == [
        ("hello", "portal_cli_commands", f"command {taken!r} clashes with an existing `portal` command")]
    assert app.cli.commands.get(taken) is not impostor
    if taken == "users":
        result = app.test_cli_runner().invoke(args=["users", "--help"])
        assert "Manage accounts" in result.output


def test_two_plugins_cannot_take_the_same_command_name(build: Any) -> None:
    app = build(first=CommandsPlugin(hello_group), second=CommandsPlugin(hello_group))
    [(plugin, where, message)] = failures(app)  # whichever came second
    assert where == "portal_cli_commands"
    assert message == f"command 'hello' is taken by plugin {({'first', 'second'} - {plugin}).pop()!r}"
    assert app.test_cli_runner().invoke(args=["hello", "greet", "Bo"]).output == "Hello, Bo!\n"


def test_a_plugin_returning_something_else_or_raising_is_reported(build: Any) -> None:
    app = build(odd=CommandsPlugin("not a command"), raising=RaisingCommandsPlugin(),
                hello=CommandsPlugin(hello_group))
    assert sorted(f[:2] for f in failures(app)) == [
        ("odd", "portal_cli_commands"), ("raising", "portal_cli_commands")]
    assert app.test_cli_runner().invoke(args=["hello", "greet", "Cy"]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["check", "--help"]).exit_code == 0


# -- portal_demo_data ------------------------------------------------------------------

# A plugin package with a module-level blueprint, a migration and demo data that
# looks its record up first (idempotent), written by each test under tmp_path.
DEMO_PLUGIN = '''
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint

from portal import hookimpl
from portal.extensions import db
from portal.models import User

bp = Blueprint("hello", __name__)
calls = []


@bp.get("/")
def index():
    return "hello"


@hookimpl
def portal_blueprints():
    return bp


@hookimpl
def portal_migrations():
    return Path(__file__).parent / "versions"


@hookimpl
def portal_demo_data():
    # After the core's demo data: the vendor admin exists already.
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@vendor.example.com"))
    calls.append(admin.email)
    exists = db.session.scalar(sa.text("SELECT count(*) FROM hello_greeting"))
    if not exists:
        db.session.execute(sa.text("INSERT INTO hello_greeting (text) VALUES (:text)"),
                           {"text": f"Welcome, {admin.name}"})
'''


class BrokenDemoPlugin:
    """Adds a record, then raises: the record must not stay."""

    @hookimpl
    def portal_demo_data(self):  # type: ignore[no-untyped-def]
        db.session.add(Program(name="Half-made program", slug="half-made"))
        db.session.flush()
        raise RuntimeError("demo data exploded")


class BadRowsDemoPlugin:
    """Adds a record that cannot be flushed (no email): found at the flush."""

    @hookimpl
    def portal_demo_data(self):  # type: ignore[no-untyped-def]
        db.session.add(User(name="Nobody"))


@pytest.fixture
def demo_plugin(plugin_root: Path) -> Any:  # noqa: F811 - the imported fixture
    return write_plugin_package(plugin_root, {
        "__init__.py": DEMO_PLUGIN,
        "versions/h001_greeting.py": textwrap.dedent(revision_file("h001", "hello_greeting",
                                                                   depends_on=None)),
    })


def run_demo(app: Flask) -> Any:
    with app.app_context():
        return app.test_cli_runner().invoke(args=["demo", "--no-serve"])


def greetings(app: Flask) -> list[str]:
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT text FROM hello_greeting")))


def test_demo_migrates_the_plugin_and_adds_its_demo_data_after_the_core(
    build: Any, demo_plugin: Any
) -> None:
    app = build(hello=demo_plugin)
    result = run_demo(app)
    assert result.exit_code == 0, result.output
    assert demo_plugin.calls == ["admin@vendor.example.com"]
    assert greetings(app) == ["Welcome, Vera Lindqvist"]
    second = run_demo(app)
    assert second.exit_code == 0, second.output
    assert "nothing to add" in second.output
    assert len(greetings(app)) == 1
    assert "Plugin" not in result.output + second.output


def test_a_raising_plugin_is_reported_and_the_demo_goes_on(build: Any, demo_plugin: Any) -> None:
    app = build(broken=BrokenDemoPlugin(), badrows=BadRowsDemoPlugin(), hello=demo_plugin)
    result = run_demo(app)
    assert result.exit_code == 0, result.output
    assert "Plugin broken failed in portal_demo_data: RuntimeError: demo data exploded" in result.output
    assert "Plugin badrows failed in portal_demo_data" in result.output
    assert "records created" in result.output
    with app.app_context():
        slugs = set(db.session.scalars(sa.select(Program.slug)))
        assert "half-made" not in slugs  # rolled back to the plugin's savepoint
        assert len(slugs) == len(demo.PROGRAMS)  # the core's demo data stayed
        assert db.session.scalar(sa.select(User.id).where(User.name == "Nobody")) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) >= 10
    assert len(greetings(app)) == 1  # the healthy plugin's data is in


def test_plugin_demo_data_runs_inside_the_demos_transaction(build: Any) -> None:
    from portal.cli import prepare_demo

    seen: list[tuple[bool, int, bool]] = []

    class Watching:
        @hookimpl
        def portal_demo_data(self):  # type: ignore[no-untyped-def]
            mine = db.session.scalar(sa.select(User.id).where(User.email == demo.VENDOR_ADMIN_EMAIL))
            with db.engine.connect() as other:  # what is committed so far
                committed = other.scalar(sa.select(sa.func.count()).select_from(User.__table__))
            seen.append((mine is not None, committed, db.session().in_nested_transaction()))

    app = build(watching=Watching())
    prepare_demo(app)
    assert seen == [(True, 0, True)]  # sees the core's records, none committed yet
    with app.app_context():
        assert demo.seed_plugins() == []
        db.session.rollback()
