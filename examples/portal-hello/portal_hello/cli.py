"""``portal hello ...``: the plugin's commands."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal.extensions import db
from portal.models import Organization
from portal_hello.models import HelloGreeting

hello_group = AppGroup("hello", help="The hello plugin: greetings of partner organizations.")


@hello_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def stats_command(as_json: bool) -> None:
    """How many greetings each organization has, most first (one query)."""
    count = sa.func.count(HelloGreeting.id).label("greetings")
    rows = db.session.execute(
        sa.select(Organization.name, count)
        .join(HelloGreeting, HelloGreeting.organization_id == Organization.id)
        .group_by(Organization.id, Organization.name)
        .order_by(count.desc(), Organization.name)
    ).all()
    total = sum(n for _, n in rows)
    if as_json:
        click.echo(json.dumps({"total": total, "organizations": {name: n for name, n in rows}}))
        return
    for name, n in rows:
        click.echo(f"{name}: {n}")
    click.echo(f"Total: {total} greeting{'s' if total != 1 else ''} in {len(rows)} organization"
               f"{'s' if len(rows) != 1 else ''}")
