"""``GET /healthz``: the state of the database and the search index, as JSON."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

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
    path = Path(current_app.config["SEARCH_INDEX_PATH"])
    if not path.exists() or not any(path.glob("*.toc")):
        # Not built yet: search is the resource-search issue; nothing is broken.
        return {"ok": True, "state": "not_built"}
    from whoosh.filedb.filestore import FileStorage

    storage = FileStorage(str(path))
    try:
        ix = storage.open_index()
        try:
            with ix.searcher() as searcher:
                count = searcher.doc_count()
        finally:
            ix.close()
        return {"ok": True, "state": "ready", "documents": count}
    except Exception as error:  # noqa: BLE001 - report, never raise
        return {"ok": False, "state": "corrupt", "error": type(error).__name__}
    finally:
        storage.close()


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    database = database_state()
    search = search_state()
    ok = bool(database["ok"]) and bool(search["ok"])
    body = {"status": "ok" if ok else "degraded", "database": database, "search": search}
    return jsonify(body), 200 if database["ok"] else 503
