"""``portal plugins ...``: the plugin commands.

* ``portal plugins list [--json]``: each installed or loaded plugin with its version,
  distribution, whether it is loaded, the programs it is on for and the hooks it
  implements, then every failure recorded while loading it (the admin plugins page
  shows the same).

More commands join :data:`plugins_group` (``@plugins_group.command(...)``).
"""

from __future__ import annotations

import json
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup

plugins_group = AppGroup("plugins", help="Installed plugins: list them, and more.")


def _as_dict(item: Any) -> dict[str, Any]:
    return {
        "name": item.name,
        "label": str(item.label),
        "version": item.version,
        "distribution": item.distribution,
        "installed": item.installed,
        "configured": item.configured,
        "loaded": item.loaded,
        "status": item.status,
        "programs": [name for _, name in item.programs],
        "hooks": item.hooks,
        "settings": [setting.name for setting in item.settings],
    }


def _failure_dict(failure: Any) -> dict[str, Any]:
    return {
        "plugin": failure.plugin,
        "where": failure.where,
        "message": failure.message,
        "details": failure.details,
        "at": failure.at.isoformat(),
        "count": failure.count,
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List installed and loaded plugins, where they are on, and their failures."""
    from portal.plugins import host, overview, programs_by_plugin

    try:
        programs = programs_by_plugin()
        database_ready = True
    except sa.exc.SQLAlchemyError:
        # A fresh instance: the plugins are still worth listing.
        from portal.extensions import db

        db.session.rollback()
        programs, database_ready = {}, False
    items = overview(programs)
    failures = host().failures
    if as_json:
        click.echo(json.dumps({
            "plugins": [_as_dict(item) for item in items],
            "failures": [_failure_dict(failure) for failure in failures],
            "database_ready": database_ready,
        }, indent=2))
        return
    if not database_ready:
        click.echo("The database is not ready (run `portal db upgrade`): programs are not shown.",
                   err=True)
    if not items:
        click.echo("No plugins installed or loaded. Install one with pip and name it in "
                   "PLUGINS (or PORTAL_PLUGINS).")
    else:
        rows = [["NAME", "VERSION", "DISTRIBUTION", "LOADED", "PROGRAMS", "HOOKS"]]
        for item in items:
            rows.append([
                item.name,
                item.version or "-",
                item.distribution or "-",
                "yes" if item.loaded else ("no (failed)" if item.status == "failed"
                                           else "no (not installed)" if item.status == "not_installed"
                                           else "no"),
                ", ".join(name for _, name in item.programs) or "-",
                ", ".join(item.hooks) or "-",
            ])
        for line in _table(rows):
            click.echo(line)
    if failures:
        click.echo()
        click.echo(f"Failures ({len(failures)}):")
        for failure in failures:
            times = f" ({failure.count} times)" if failure.count > 1 else ""
            click.echo(f"- {failure.plugin} [{failure.where}] {failure.message}{times}")


# The plugin author's kit: `portal plugins new NAME` and `portal plugins docs`.
from portal.plugin_scaffold import docs_command, new_command  # noqa: E402

plugins_group.add_command(new_command)
plugins_group.add_command(docs_command)
