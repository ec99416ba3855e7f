"""``GET /healthz``: the state of the database and the search index, as JSON."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify

from portal.extensions import db

bp = Blueprint("health", __name__)


def database_state() -> dict[str, object]:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return {"ok": True, "backend": db.engine.dialect.name}
    except Exception as error:  # noqa: BLE001 - report, never raise
        db.session.rollback()
        return {"ok": False, "backend": db.engine.dialect.name, "error": type(error).__name__}


def search_state() -> dict[str, object]:
    """The index's state (``ready``, ``not_built``, ``corrupt``), its size and the
    changes waiting for it; never raises."""
    from portal.models import SearchQueueEntry
    from portal.search import service

    try:
        state = dict(service().backend.state())
    except Exception as error:  # noqa: BLE001 - report, never raise
        return {"ok": False, "state": "unavailable", "error": type(error).__name__}
    try:
        state["waiting"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(SearchQueueEntry)) or 0
    except Exception:  # noqa: BLE001 - the database check reports its own failure
        db.session.rollback()
    return state


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    database = database_state()
    search = search_state()
    ok = bool(database["ok"]) and bool(search["ok"])
    body = {"status": "ok" if ok else "degraded", "database": database, "search": search}
    return jsonify(body), 200 if database["ok"] else 503
