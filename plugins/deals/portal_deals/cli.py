"""``portal deals …``: the plugin's commands (run them from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.plugins import setting

deals_group = AppGroup("deals", help="Deal registration: expiry and reminders.")


@deals_group.command("expire")
@click.option("--no-remind", is_flag=True, help="Only expire; send no reminders.")
def expire_command(no_remind: bool) -> None:
    """Expire protections whose period is over, then remind partners of those
    ending soon (``reminder_days`` setting).

    Idempotent and safe on several hosts at once: each registration is expired
    (and each reminder sent) by exactly one run. Suits cron, e.g. hourly.
    """
    from portal_deals import services

    expired = services.expire_due()
    click.echo(f"Expired: {expired}")
    if not no_remind:
        days = int(setting("deals", "reminder_days") or 0)
        reminded = services.remind_due(days) if days > 0 else []
        click.echo(f"Reminded: {len(reminded)}")
