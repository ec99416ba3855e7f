"""pytest fixtures for testing the portal and its plugins.

Installing the portal registers this module with pytest (``pytest11`` entry point
``portal``), so a plugin's test suite has these fixtures without importing
anything. Say which of your plugins to load in your ``conftest.py``::

    import pytest

    @pytest.fixture
    def portal_plugins():
        return ["hello"]          # entry-point names (group "portal.plugins")

Then, in a test::

    def test_partner_sees_the_page(login_as):
        client = login_as("partner_user")
        assert client.get("/p/hello/").status_code == 200

Fixtures (function scope unless noted):

``portal_plugins``
    Entry-point names of the plugins to load. Default: none.
``portal_config``
    Settings to override in the test app, e.g. ``{"LANGUAGES": ["en", "de"]}``.
``portal_database_url`` (session)
    None for SQLite (a fresh file per test), or the per-worker PostgreSQL
    database when ``PORTAL_TEST_DATABASE_URL`` is set.
``portal_app``
    The app with the plugins loaded through their entry points, the schema of
    the core and of the plugins' models created, the ``portal_world`` built, and
    each plugin switched on for the world's programs. Its app context is pushed
    for the test; ``db.session`` is the one its requests use.
``portal_world``
    A :class:`portal.testing.World`: organization A (reseller program) and B
    (referral program), a user for every role, a channel manager of A.
``portal_empty_app``
    The same app on a database with no tables at all (its own SQLite file, or a
    scratch PostgreSQL database), to test migrations: ``portal db upgrade``.
``portal_client``
    An anonymous :class:`portal.testing.PortalClient` (sends CSRF tokens).
``login_as``
    ``login_as(role)`` returns a new client signed in as "partner_user",
    "partner_admin", "other_partner_user", "other_partner_admin" (organization B),
    "channel_manager" (manages A only), "vendor_admin", or "anonymous".
``outbox``
    ``outbox()`` returns the emails the test's app has written so far.
``portal_browser`` (session)
    A Chromium (``chromium`` on the PATH or ``PORTAL_CHROMIUM``) driven by
    Playwright, shared by every browser test of the process; skips the test when
    there is no browser. Open pages with ``portal_browser.new_context()``.

The module imports nothing from the portal until a fixture runs: pytest loads it
for every test run in an environment where the portal is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from portal.testing.client import PortalClient
    from portal.testing.world import World


@pytest.fixture
def portal_plugins() -> list[str]:
    """Entry-point names of the plugins under test (override in your conftest)."""
    return []


@pytest.fixture
def portal_config() -> dict[str, Any]:
    """Settings for the test app (override in your conftest or a test module)."""
    return {}


@pytest.fixture(scope="session")
def portal_database_url(request: pytest.FixtureRequest) -> str | None:
    from portal.testing.app import configured_database_url, worker_database_url

    base = configured_database_url()
    if not base:
        return None
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return worker_database_url(base, worker)


@pytest.fixture
def _portal_setup(
    tmp_path_factory: pytest.TempPathFactory,
    portal_database_url: str | None,
    portal_plugins: list[str],
    portal_config: dict[str, Any],
) -> Iterator[tuple[Flask, World]]:
    from portal.extensions import db
    from portal.plugins import host
    from portal.testing.app import make_app, reset_database
    from portal.testing.client import PortalClient
    from portal.testing.world import build_world, switch_on

    names = list(portal_plugins)
    config = {"PLUGINS": names, **portal_config}
    app = make_app(tmp_path_factory.mktemp("portal"), portal_database_url, **config)
    failures = [f for f in host(app).failures if f.plugin in names]
    if failures or set(names) - set(host(app).loaded):
        problems = "; ".join(f"{f.plugin} ({f.where}): {f.message}" for f in failures)
        pytest.fail(f"plugins {names} did not all load: {problems or 'not installed?'}",
                    pytrace=False)
    app.test_client_class = PortalClient
    reset_database(app)
    with app.app_context():
        world = build_world()
        switch_on(names, *world.programs)
        yield app, world
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def portal_empty_app(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    portal_plugins: list[str],
    portal_config: dict[str, Any],
) -> Iterator[Flask]:
    from portal.extensions import db
    from portal.testing.app import configured_database_url, make_app, worker_database_url
    from portal.testing.client import PortalClient

    base = configured_database_url()
    url = None
    if base:
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        url = worker_database_url(base, f"{worker}_empty")
    app = make_app(tmp_path_factory.mktemp("portal"), url, PLUGINS=list(portal_plugins),
                   **portal_config)
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def portal_app(_portal_setup: tuple[Flask, World]) -> Flask:
    return _portal_setup[0]


@pytest.fixture
def portal_world(_portal_setup: tuple[Flask, World]) -> World:
    return _portal_setup[1]


@pytest.fixture
def portal_client(portal_app: Flask) -> PortalClient:
    return portal_app.test_client()  # type: ignore[return-value]


@pytest.fixture
def login_as(portal_app: Flask, portal_world: World) -> Callable[[str], PortalClient]:
    """``login_as("partner_user")``: a new client, signed in as that role."""

    def login(role: str) -> PortalClient:
        user = portal_world.by_role(role)
        client: PortalClient = portal_app.test_client()  # type: ignore[assignment]
        if user is not None:
            client.login(user)
        return client

    return login


@pytest.fixture
def outbox() -> Callable[[], list[Any]]:
    """``outbox()``: the emails written so far by the test's app (the one whose
    app context is pushed: ``portal_app``, or the core's ``app``)."""
    from flask import current_app, has_app_context

    from portal.testing.mail import outbox_messages

    def messages() -> list[Any]:
        if not has_app_context():
            raise RuntimeError("outbox() needs the test's app: request portal_app (or app)")
        return outbox_messages(current_app._get_current_object())  # type: ignore[attr-defined]

    return messages


@pytest.fixture(scope="session")
def portal_browser() -> Iterator[Any]:
    """One Chromium per test process, shared by the core's and plugins' browser tests."""
    from portal.testing.browser import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if not executable:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                              headless=True)
        yield instance
        instance.close()
