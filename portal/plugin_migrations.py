"""Plugins' Alembic histories: one branch per plugin, each in its own version table.

A loaded plugin may return a folder of Alembic revisions from ``portal_migrations()``.
Its history is kept apart from the core's, the way Indico does it: the plugin's
revisions run in their own migration context whose version table is
``alembic_version_<plugin>``. So

* ``alembic_version`` only ever names core revisions: the core upgrades (and
  ``portal check``) keep working after a plugin is removed from ``PLUGINS``, while
  its tables and its version table stay untouched (disabling never drops data);
* enabling the plugin again and upgrading carries on where its history stopped.

A plugin revision may ``depends_on`` a core revision it needs. Alembic cannot
resolve that name in the plugin's own history, so it is checked here instead:
the core's version table must already include it (``portal db upgrade`` migrates
the core first, then each plugin).

Tables must carry the plugin's prefix (``hello_greeting``). Both the tables a
plugin's branch creates and the models a plugin package maps are checked; a
violation is reported as a plugin failure (log, admin plugins page).

``portal db upgrade`` (no revision, or ``head`` / ``heads``) upgrades the core and
every loaded plugin; ``--plugin NAME`` upgrades or downgrades one plugin's branch.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from alembic import command
from alembic import util as alembic_util
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate.cli import db as flask_migrate_db

from portal import MIGRATIONS_DIR
from portal.extensions import db
from portal.plugins import PluginHost, host

PLUGIN_ATTRIBUTE = "portal_plugin"  # Config.attributes key read by migrations/env.py
HOOK = "portal_migrations"
# Packages whose plugins are registered from a module inside them (the core's own
# hook implementations, test modules): the plugin's "package" is then the module.
SHARED_PACKAGES = frozenset({"portal", "tests", "plugins"})


def version_table(plugin: str) -> str:
    """The table holding ``plugin``'s applied revisions."""
    return f"alembic_version_{plugin}"


@dataclass(frozen=True)
class PluginBranch:
    plugin: str
    folder: Path

    @property
    def version_table(self) -> str:
        return version_table(self.plugin)


@dataclass
class Outcome:
    """What one upgrade or downgrade did to the core (``plugin`` is None) or a plugin."""

    plugin: str | None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    error: str | None = None
    new_tables: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"plugin {self.plugin}" if self.plugin else "core"


class MigrationFailed(click.ClickException):
    """A plugin's (or the core's) migration did not complete."""


# -- the branches ---------------------------------------------------------------

def branches(app: Flask | None = None) -> dict[str, PluginBranch]:
    """The migration folders of the loaded plugins, asked once per app."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get("portal.plugin_migrations")
    if cached is not None:
        return cached
    plugin_host = host(app)
    found: dict[str, PluginBranch] = {}
    for plugin, folder in plugin_host.call(HOOK):
        path = Path(folder)
        if not path.is_dir():
            plugin_host._fail(plugin, HOOK, f"migrations folder {str(path)!r} does not exist")
            continue
        found[plugin] = PluginBranch(plugin, path.resolve())
    app.extensions["portal.plugin_migrations"] = found
    return found


def branch(plugin: str) -> PluginBranch:
    found = branches()
    if plugin not in found:
        loaded = host().loaded
        reason = "has no migrations" if plugin in loaded else "is not loaded (PLUGINS)"
        raise MigrationFailed(f"Plugin {plugin!r} {reason}.")
    return found[plugin]


class BranchScripts(ScriptDirectory):
    """A plugin's revisions only (the core's env.py runs them).

    ``depends_on`` names that are not in the plugin's history are core revisions:
    they are taken out of Alembic's graph and kept in :attr:`core_dependencies`
    to be checked against the core's version table.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__(str(MIGRATIONS_DIR), version_locations=[str(folder)])
        self.core_dependencies: dict[str, tuple[str, ...]] = {}

    def _load_revisions(self) -> Iterator[Script]:
        scripts = list(super()._load_revisions())
        own = {s.revision for s in scripts} | {label for s in scripts for label in s.branch_labels}
        for script in scripts:
            wanted = alembic_util.to_tuple(script.dependencies, default=())
            foreign = tuple(name for name in wanted if name not in own)
            if foreign:
                self.core_dependencies[script.revision] = foreign
                kept = tuple(name for name in wanted if name not in foreign)
                script.dependencies = (kept[0] if len(kept) == 1 else kept) if kept else None
        yield from scripts


def _core_scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


def _heads(connection: sa.Connection, table: str = "alembic_version") -> tuple[str, ...]:
    context = MigrationContext.configure(connection, opts={"version_table": table})
    return tuple(sorted(context.get_current_heads()))


def applied_heads(plugin: str | None = None) -> tuple[str, ...]:
    """Revisions recorded in the core's (or ``plugin``'s) version table."""
    with db.engine.connect() as connection:
        return _heads(connection, version_table(plugin) if plugin else "alembic_version")


def missing_core_dependencies(scripts: BranchScripts) -> list[str]:
    """Core revisions the plugin's revisions depend on that the database lacks."""
    scripts.get_heads()  # builds the revision map, which fills core_dependencies
    needed = sorted({name for names in scripts.core_dependencies.values() for name in names})
    if not needed:
        return []
    core = _core_scripts()
    applied: set[str] = set()
    for head in applied_heads():
        applied.update(script.revision for script in core.walk_revisions("base", head))
    missing = []
    for name in needed:
        try:
            revision = core.get_revision(name)
        except CommandError:
            revision = None
        if revision is None or revision.revision not in applied:
            missing.append(name)
    return missing


def _config(plugin: str | None, x_arg: Any = None) -> Any:
    migrate = current_app.extensions["migrate"]
    config = migrate.migrate.get_config(migrate.directory, x_arg=x_arg)
    if plugin:
        config.attributes[PLUGIN_ATTRIBUTE] = plugin
    return config


def _table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


# -- running ----------------------------------------------------------------------

def upgrade_core(revision: str = "heads", sql: bool = False, tag: str | None = None,
                 x_arg: Any = None) -> Outcome:
    """Flask-Migrate's upgrade of the core history (errors raise)."""
    outcome = Outcome(None, before=() if sql else applied_heads())
    try:
        command.upgrade(_config(None, x_arg), revision, sql=sql, tag=tag)
    except CommandError as error:
        raise MigrationFailed(f"Core migrations failed: {error}") from None
    outcome.after = () if sql else applied_heads()
    return outcome


def _run_branch(plugin: str, direction: str, revision: str, sql: bool, tag: str | None,
                x_arg: Any) -> Outcome:
    found = branch(plugin)
    scripts = BranchScripts(found.folder)
    outcome = Outcome(plugin)
    if not sql:
        outcome.before = applied_heads(plugin)
        if direction == "upgrade":
            missing = missing_core_dependencies(scripts)
            if missing:
                raise MigrationFailed(
                    f"Plugin {plugin!r} needs core revision(s) {', '.join(missing)}: "
                    "upgrade the core first (`portal db upgrade`)."
                )
        tables_before = _table_names()

    starting_rev = None
    if ":" in revision:
        if not sql:
            raise MigrationFailed("A revision range is only allowed with --sql.")
        starting_rev, revision = revision.split(":", 1)
    if direction == "downgrade" and sql and revision == "-1":
        revision = "heads:-1"

    def step(rev: Any, context: Any) -> Any:
        if direction == "upgrade":
            return scripts._upgrade_revs(revision, rev)
        return scripts._downgrade_revs(revision, rev)

    try:
        with EnvironmentContext(_config(plugin, x_arg), scripts, fn=step, as_sql=sql,
                                starting_rev=starting_rev, destination_rev=revision, tag=tag):
            scripts.run_env()
    except CommandError as error:
        raise MigrationFailed(f"Plugin {plugin!r}: {error}") from None
    if not sql:
        outcome.after = applied_heads(plugin)
        outcome.new_tables = sorted(_table_names() - tables_before)
        _check_new_tables(plugin, outcome.new_tables)
    return outcome


def upgrade_plugin(plugin: str, revision: str = "heads", sql: bool = False,
                   tag: str | None = None, x_arg: Any = None) -> Outcome:
    """Upgrade one loaded plugin's branch (errors raise :class:`MigrationFailed`)."""
    return _run_branch(plugin, "upgrade", revision, sql, tag, x_arg)


def downgrade_plugin(plugin: str, revision: str = "-1", sql: bool = False,
                     tag: str | None = None, x_arg: Any = None) -> Outcome:
    """Downgrade one plugin's branch (``base`` removes everything it created)."""
    return _run_branch(plugin, "downgrade", revision, sql, tag, x_arg)


def upgrade_all(sql: bool = False, tag: str | None = None, x_arg: Any = None) -> list[Outcome]:
    """The core to its head, then every loaded plugin's branch to its heads.

    A plugin whose migrations fail is recorded as a failure of that plugin (and in
    its outcome); the others are still upgraded. A core failure raises.
    """
    outcomes = [upgrade_core("heads", sql=sql, tag=tag, x_arg=x_arg)]
    plugin_host = host()
    for plugin in branches():
        try:
            outcomes.append(upgrade_plugin(plugin, sql=sql, tag=tag, x_arg=x_arg))
        except Exception as error:  # noqa: BLE001 - one plugin must not stop the others
            db.session.rollback()
            message = error.format_message() if isinstance(error, click.ClickException) \
                else f"{type(error).__name__}: {error}"
            plugin_host._fail(plugin, HOOK, message)
            outcomes.append(Outcome(plugin, error=message))
    return outcomes


def branch_state(plugin: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(applied revisions, newest revisions) of a loaded plugin's branch."""
    return applied_heads(plugin), tuple(BranchScripts(branch(plugin).folder).get_heads())


def pending_plugins() -> list[str]:
    """Loaded plugins whose branch is not at its newest revision (for ``portal check``)."""
    pending = []
    for name in branches():
        applied, heads = branch_state(name)
        if set(applied) != set(heads):
            pending.append(name)
    return pending


# -- the table prefix ---------------------------------------------------------------

def _check_new_tables(plugin: str, tables: Iterable[str]) -> None:
    bad = [name for name in tables if not name.startswith(plugin + "_") and name != version_table(plugin)]
    if bad:
        host()._fail(plugin, HOOK, f"tables {', '.join(sorted(bad))} must start with {plugin + '_'!r}")


def plugin_package(plugin: Any) -> str | None:
    """The importable package a plugin object comes from (its models live there)."""
    if isinstance(plugin, types.ModuleType):
        module = plugin.__name__
        if hasattr(plugin, "__path__"):  # a package: everything inside it
            return module
    else:
        module = type(plugin).__module__
    parent = module.rpartition(".")[0]
    # "portal_hello.plugin" → "portal_hello"; "tests.test_x" stays itself: a shared
    # package ("tests") holds other plugins and the core's models too.
    if not parent or parent in SHARED_PACKAGES:
        return module
    return parent


def check_model_prefixes(plugin_host: PluginHost, registry: Any = None) -> list[str]:
    """Report mapped tables of a plugin's package that lack the plugin's prefix.

    Called at start-up after the plugins are loaded (their models are imported by
    then). Returns the offending table names.
    """
    registry = registry if registry is not None else db.Model.registry
    packages = {}
    for name, plugin in plugin_host.loaded.items():
        package = plugin_package(plugin)
        if package and package.split(".")[0] != "portal":
            packages[name] = package
    if not packages:
        return []
    offending: list[str] = []
    for mapper in list(registry.mappers):
        module = mapper.class_.__module__
        table = mapper.local_table
        if mapper.inherits is not None and table is mapper.inherits.local_table:
            continue  # single-table inheritance: the parent's table
        for name, package in packages.items():
            if module == package or module.startswith(package + "."):
                table_name = getattr(table, "name", None)
                if table_name and not table_name.startswith(name + "_"):
                    offending.append(table_name)
                    plugin_host._fail(name, "models",
                                      f"table {table_name!r} ({mapper.class_.__name__}) must start "
                                      f"with {name + '_'!r}")
    return offending


def init_app(app: Flask) -> None:
    """Start-up checks on the loaded plugins' models (called by the plugin host)."""
    check_model_prefixes(host(app))


# -- the `portal db` group ---------------------------------------------------------------

def _echo(outcomes: Iterable[Outcome]) -> bool:
    ok = True
    for outcome in outcomes:
        if outcome.error:
            ok = False
            click.secho(f"{outcome.label}: FAILED: {outcome.error}", fg="red", err=True)
            continue
        after = ", ".join(outcome.after) or "base"
        change = "unchanged" if outcome.before == outcome.after else \
            f"{', '.join(outcome.before) or 'base'} -> {after}"
        tables = f" (new tables: {', '.join(outcome.new_tables)})" if outcome.new_tables else ""
        click.echo(f"{outcome.label}: at {after}, {change}{tables}")
    return ok


@click.command("upgrade")
@click.option("--sql", is_flag=True, help="Don't emit SQL to database - dump to standard output instead.")
@click.option("--tag", default=None, help='Arbitrary "tag" name - can be used by custom env.py scripts.')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts.")
@click.option("--plugin", default=None, metavar="NAME", help="Upgrade only this plugin's branch.")
@click.argument("revision", required=False)
@with_appcontext
def upgrade_command(sql: bool, tag: str | None, x_arg: tuple[str, ...],
                    plugin: str | None, revision: str | None) -> None:
    """Upgrade the core and every loaded plugin to their newest revisions.

    With a REVISION, only the core moves there; with --plugin NAME, only that
    plugin's branch (to REVISION, default its newest).
    """
    x_arg = list(x_arg) or None  # type: ignore[assignment]
    if plugin:
        outcomes = [upgrade_plugin(plugin, revision or "heads", sql=sql, tag=tag, x_arg=x_arg)]
    elif revision in (None, "head", "heads"):
        outcomes = upgrade_all(sql=sql, tag=tag, x_arg=x_arg)
    else:
        outcomes = [upgrade_core(revision, sql=sql, tag=tag, x_arg=x_arg)]
    if not sql and not _echo(outcomes):
        raise MigrationFailed("Some plugin migrations failed (see above).")


@click.command("downgrade")
@click.option("--sql", is_flag=True, help="Don't emit SQL to database - dump to standard output instead.")
@click.option("--tag", default=None, help='Arbitrary "tag" name - can be used by custom env.py scripts.')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts.")
@click.option("--plugin", default=None, metavar="NAME", help="Downgrade only this plugin's branch.")
@click.argument("revision", default="-1")
@with_appcontext
def downgrade_command(sql: bool, tag: str | None, x_arg: tuple[str, ...],
                      plugin: str | None, revision: str) -> None:
    """Revert the core (or, with --plugin NAME, that plugin's branch) to REVISION.

    ``portal db downgrade --plugin hello base`` drops every table of the plugin.
    """
    x_arg = list(x_arg) or None  # type: ignore[assignment]
    if plugin:
        outcome = downgrade_plugin(plugin, revision, sql=sql, tag=tag, x_arg=x_arg)
    else:
        if sql and revision == "-1":
            revision = "head:-1"
        outcome = Outcome(None, before=() if sql else applied_heads())
        try:
            command.downgrade(_config(None, x_arg), revision, sql=sql, tag=tag)
        except CommandError as error:
            raise MigrationFailed(f"Core migrations failed: {error}") from None
        outcome.after = () if sql else applied_heads()
    if not sql:
        _echo([outcome])


@click.command("plugins")
@with_appcontext
def plugins_status_command() -> None:
    """Each loaded plugin's migration branch: its folder and applied revisions."""
    found = branches()
    if not found:
        click.echo("No loaded plugin has migrations.")
        return
    for name, item in found.items():
        applied, heads = branch_state(name)
        state = "up to date" if set(applied) == set(heads) else "needs `portal db upgrade`"
        click.echo(f"{name}: at {', '.join(applied) or 'base'} of {', '.join(heads) or '-'} "
                   f"({state}); {item.folder}")


def _db_group() -> AppGroup:
    """Flask-Migrate's ``db`` group with an upgrade and downgrade that know plugins."""
    group = AppGroup(
        "db",
        help="Database migrations of the core and the loaded plugins.",
        params=list(flask_migrate_db.params),
        callback=flask_migrate_db.callback,
    )
    for name, cmd in flask_migrate_db.commands.items():
        if name not in ("upgrade", "downgrade"):
            group.add_command(cmd, name)
    group.add_command(upgrade_command)
    group.add_command(downgrade_command)
    group.add_command(plugins_status_command)
    return group


db_group = _db_group()
