"""Fixtures of the core's tests: an app per test on its own database, a
CSRF-aware client, and a ``world`` of two partner organizations with a user for
every role.

The machinery is the portal's test kit (:mod:`portal.testing`), the same one
third-party plugins test with; its pytest plugin adds ``outbox`` and the
``portal_*`` fixtures. Set ``PORTAL_TEST_DATABASE_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1/test``) to run the suite on
PostgreSQL: each xdist worker gets its own database, the schema is created once
and every table is emptied before each test.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from portal.extensions import db
from portal.testing.app import configured_database_url, make_app, reset_database
from portal.testing.client import CSRF_RAW, PortalClient
from portal.testing.mail import link_in, message_text, outbox_messages
from portal.testing.world import World, build_world

__all__ = [
    "CSRF_RAW",
    "PG_URL",
    "PortalClient",
    "World",
    "link_in",
    "make_app",
    "message_text",
    "outbox_messages",
    "reset_database",
]

PG_URL = configured_database_url()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def database_url(portal_database_url: str | None) -> str | None:
    return portal_database_url


@pytest.fixture
def app(tmp_path: Any, database_url: str | None) -> Any:
    """An app with no plugin loaded, on an empty database, its context pushed."""
    application = make_app(tmp_path, database_url)
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> PortalClient:
    app.test_client_class = PortalClient
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def world(app: Flask) -> World:
    return build_world()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1: yields (port, received messages)."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Collector(Message):
        def handle_message(self, message):  # type: ignore[no-untyped-def]
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collector(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()
