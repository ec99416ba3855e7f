"""Settings every page reads, kept in each worker process until they change.

Every page shows the branding and asks which plugins are on for the signed-in
partner's organization; both change only when staff change settings. Each worker
process keeps what it read, under the value of one counter
(:class:`~portal.models.SettingsVersion`), and reads that counter once per request:
the kept values are used for as long as it has not moved.

The counter moves in the same transaction as the change. Any INSERT, UPDATE or
DELETE that SQLAlchemy runs on one of the :data:`WATCHED` tables (ORM flushes and
Core statements alike) adds one to it, once per transaction. So a change made by
one worker is seen by every other worker, on this host or another, from its next
request on; a rolled-back change moves nothing. Changes made outside the portal
(SQL typed into ``psql``) are not seen until ``portal settings-cache bump`` or a
restart.

    value = settings_cache.cached("branding", None, compute)

computes on the first call under the current version and returns the kept value
afterwards. Plugins whose own tables feed such values add them with :func:`watch`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.sql.dml import UpdateBase

from portal import context
from portal.extensions import db

T = TypeVar("T")

#: Tables whose rows feed the cached values: branding, programs and tiers, the
#: memberships and program plugins that decide which plugins are on, the
#: organizations and manager assignments that decide who reaches what, plugin settings.
WATCHED: set[str] = {
    "branding", "program", "tier", "membership", "program_plugin", "organization",
    "manager_assignment", "plugin_setting",
}
#: Kept values per process, at most (a bound, not a target: one per organization
#: with signed-in partners and a few more).
MAX_ENTRIES = 20_000

_BUMP = "UPDATE settings_version SET value = value + 1 WHERE id = 1"
_READ = sa.text("SELECT value FROM settings_version WHERE id = 1")
_FLAG = "portal.settings_bumped"
_MISSING = object()


def watch(*tables: str) -> None:
    """Count changes to these tables too (a plugin whose settings live in its own tables)."""
    WATCHED.update(tables)


class SettingsCache:
    """The values one process keeps, each under the version it was computed at."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.entries: dict[tuple[str, Any], tuple[int, Any]] = {}

    def get(self, version: int, name: str, key: Any) -> Any:
        found = self.entries.get((name, key))
        if found is None or found[0] != version:
            return _MISSING
        return found[1]

    def put(self, version: int, name: str, key: Any, value: Any) -> None:
        if self.version is None or version > self.version:
            # Everything kept is older than this version: drop it all at once.
            self.version = version
            self.entries.clear()
        elif version < self.version:
            return  # computed by a request that started before the latest change
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        self.entries[(name, key)] = (version, value)


def current_version() -> int | None:
    """The settings version, read once per request (None: no counter to read,
    e.g. before ``portal db upgrade`` or in a failed transaction: nothing is kept)."""
    state = context.request_globals()
    if state is not None and "_portal_settings_version" in state:
        return state._portal_settings_version
    try:
        version = db.session.execute(_READ).scalar()
    except sa.exc.SQLAlchemyError:
        version = None
    if state is not None:
        state._portal_settings_version = version
    return version


def cached(name: str, key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, kept under the current settings version in this process.

    Only requests keep values, and only until they change a setting themselves:
    what they read afterwards comes from their own transaction, which may still
    roll back, so it is computed again each time instead of kept.
    """
    state = context.request_globals()
    if state is None or state.get("_portal_settings_changed"):
        return compute()
    version = current_version()
    if version is None:
        return compute()
    store: SettingsCache = context.app().extensions["portal.settings_cache"]
    value = store.get(version, name, key)
    if value is _MISSING:
        value = compute()
        store.put(version, name, key, value)
    return value


def bump() -> None:
    """Move the counter on by hand (after changing settings outside the portal)."""
    db.session.execute(sa.text(_BUMP))
    db.session.commit()


# -- counting changes -------------------------------------------------------------

def written_table(clauseelement: Any) -> str | None:
    """The table an executed INSERT, UPDATE or DELETE writes (None: another statement)."""
    if not isinstance(clauseelement, UpdateBase):
        return None
    return getattr(getattr(clauseelement, "table", None), "name", None)


def _after_execute(conn: sa.Connection, clauseelement: Any, *args: Any) -> None:
    if conn.info.get(_FLAG) or written_table(clauseelement) not in WATCHED:
        return
    conn.info[_FLAG] = True
    conn.exec_driver_sql(_BUMP)
    state = context.request_globals()
    if state is not None:
        # This request changed a setting: nothing it reads from now on is kept.
        state._portal_settings_changed = True


def _transaction_ended(conn: sa.Connection, *args: Any) -> None:
    conn.info.pop(_FLAG, None)


def init_app(app: Flask) -> None:
    app.extensions["portal.settings_cache"] = SettingsCache()
    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "after_execute", _after_execute)
        for name in ("commit", "rollback", "rollback_savepoint"):
            # A rolled-back savepoint takes the bump with it: count again.
            sa.event.listen(engine, name, _transaction_ended)
