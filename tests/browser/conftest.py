"""Browser tests: the portal served on 127.0.0.1 by a thread, driven by real Chromium.

Chromium comes from Debian (``apt-get install chromium``); Playwright only drives
it (``playwright install`` is never needed). Without a browser these tests skip
with the reason; ``.ci/run`` installs one.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from portal.extensions import db
from portal.models import Role
from portal.testing.browser import CHROMIUM_ARGS, chromium_path  # noqa: F401 (re-exported)
from tests import factories
from tests.conftest import make_app, reset_database

CHROMIUM = chromium_path()
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser(portal_browser: Any) -> Any:
    """The test kit's Chromium: one Playwright per process, shared with plugins' tests."""
    return portal_browser


class LiveServer:
    def __init__(self, app: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = app
        self.url = f"http://127.0.0.1:{self.port}"
        app.config["BASE_URL"] = self.url
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_app(tmp_path: Path, database_url: str | None) -> Iterator[Any]:
    app = make_app(tmp_path, database_url, SERVER_NAME=None, BASE_URL="http://127.0.0.1")
    reset_database(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app: Any) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(
        f"{msg.text} (at {msg.location.get('url')}:{msg.location.get('lineNumber')})")
        if msg.type == "error" else None)
    page.console_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def vendor(live_app: Any) -> Any:
    """A Reseller program with tiers and a vendor admin who reviews applications."""
    program = factories.program("Reseller")
    admin = factories.user(Role.VENDOR_ADMIN, email="vendor.admin@vendor.example", name="Vera Vendor")
    db.session.commit()
    return program, admin
