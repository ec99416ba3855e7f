"""``GET /healthz``: the state of the database and the search index, as JSON."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from portal.extensions import db
from tests.conftest import PortalClient, make_app


def test_healthz_answers_ok_as_json_without_login(client: PortalClient, app: Flask) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "backend": db.engine.dialect.name}
    assert body["search"] == {"ok": True, "state": "not_built", "documents": 0, "waiting": 0}


def test_healthz_carries_the_security_headers(client: PortalClient) -> None:
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'portal.db'}"
    app = make_app(tmp_path, url)
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is False
    assert body["database"]["error"] == "OperationalError"
    # Says what is wrong, never how: no paths, no SQL, no traceback.
    text = response.get_data(as_text=True)
    assert "no-such-dir" not in text and "Traceback" not in text


def test_healthz_reports_a_built_search_index(client: PortalClient, app: Flask) -> None:
    from portal.search.indexer import rebuild
    from portal.testing import factories

    factories.resource_page("Indexed page", "public")
    db.session.commit()
    rebuild()
    body = client.get("/healthz").get_json()
    assert body["search"] == {"ok": True, "state": "ready", "documents": 1, "waiting": 0}
    assert body["status"] == "ok"


def test_healthz_reports_a_corrupt_search_index_but_keeps_serving(client: PortalClient,
                                                                  app: Flask) -> None:
    from portal.testing import damage_index, index_now

    index_now()
    damage_index()
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200  # the database is fine: the portal still serves
    assert body["status"] == "degraded"
    assert body["search"]["ok"] is False and body["search"]["state"] == "corrupt"
