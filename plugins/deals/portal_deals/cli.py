"""``portal deals …``: the plugin's commands (run them from cron)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import click
from flask.cli import AppGroup

from portal.plugins import setting

deals_group = AppGroup("deals", help="Deal registration: expiry, reminders and attachment storage.")


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


class Age(click.ParamType):
    """A duration like ``90s``, ``30m``, ``1h`` or ``2d``, at least :attr:`minimum`."""

    name = "age"
    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    PATTERN = re.compile(r"(\d{1,6})([smhd])")
    #: Younger files may belong to an upload whose row is not committed yet.
    minimum = timedelta(minutes=1)

    def convert(self, value: Any, param: Any, ctx: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = self.PATTERN.fullmatch(str(value).strip().lower())
        if match is None:
            self.fail(f"{value!r} is not an age: write a number and a unit, like 90s, 30m, 1h or 2d.",
                      param, ctx)
        age = timedelta(seconds=int(match.group(1)) * self.UNITS[match.group(2)])
        if age < self.minimum:
            self.fail(f"{value!r} is too young: at least 1m, so that an upload in progress is never "
                      "swept.", param, ctx)
        return age


def _size(count: int, size: int) -> str:
    unit = "file" if count == 1 else "files"
    return f"{count} {unit}, {_bytes(size)}"


def _bytes(size: int) -> str:
    """``512 bytes``, ``1.5 MB (1572864 bytes)``."""
    if size < 1024:
        return f"{size} bytes"
    amount, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if amount < 1024:
            break
        amount, unit = amount / 1024, bigger
    return f"{amount:.1f} {unit} ({size} bytes)"


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % length == 0:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"


@deals_group.command("sweep-files")
@click.option("--dry-run", is_flag=True, help="Only report the orphaned files; remove nothing.")
@click.option("--older-than", type=Age(), default="1h", show_default=True,
              help="Leave files younger than this alone (s, m, h or d; at least 1m): an upload "
                   "writes its file before its attachment is committed.")
def sweep_files_command(dry_run: bool, older_than: timedelta) -> None:
    """Remove files in the attachment storage that no attachment refers to
    (left when removing a deleted attachment's file failed, or by a crash during
    an upload).

    Only the storage folder's own files with the names the portal gives are
    considered; subfolders, symbolic links and other files are never touched.
    Idempotent and safe on several hosts at once: a file another run removed
    first is counted as already gone. Exits with 1 if a file could not be removed.
    """
    from portal_deals import sweep

    report = sweep.sweep_orphans(older_than, dry_run=dry_run)
    click.echo(f"Attachment storage: {report.folder}")
    click.echo(f"Orphaned files older than {_age(older_than)}: {_size(report.orphans, report.orphan_bytes)}")
    if dry_run:
        click.echo("Dry run: nothing removed.")
    else:
        click.echo(f"Removed: {_size(report.removed, report.removed_bytes)}")
        click.echo(f"Already gone (removed by another run meanwhile): {report.already_gone}")
    click.echo(f"Left alone: {report.referenced} in use, {report.recent} younger than {_age(older_than)}, "
               f"{report.ignored} not the portal's (other names, folders, links)")
    for name, reason in report.failed:
        click.echo(f"Could not remove {name}: {reason}", err=True)
    if report.failed:
        raise click.exceptions.Exit(1)
