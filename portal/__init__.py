"""A self-hosted partner relationship management portal.

``create_app()`` is the application factory; ``hookimpl`` marks plugin hook
implementations (``from portal import hookimpl``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pluggy
import sqlalchemy as sa
from flask import Flask

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("portal")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(
    test_config: dict[str, Any] | None = None,
    instance_path: str | None = None,
    plugins: dict[str, Any] | None = None,
) -> Flask:
    """Build a portal application. Safe to call several times in one process.

    ``plugins`` registers plugin objects directly by name, besides those named in
    the ``PLUGINS`` setting (for tests and embedding).
    """
    from portal import config

    instance_path = instance_path or os.environ.get("PORTAL_INSTANCE_PATH") or None
    if instance_path:
        instance_path = str(Path(instance_path).resolve())
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config.load(app, test_config)
    if app.config["DATABASE_URL"].startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {})["timeout"] = app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000

    _init_extensions(app)
    _init_domain(app)
    _register_blueprints(app)
    _init_plugins(app, plugins)
    _init_search(app)
    _init_templates(app)
    _init_cli(app)
    _init_proxy(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal import errors, i18n, security, throttle
    from portal.auth.session import init_login
    from portal.extensions import csrf, db, htmx, migrate

    db.init_app(app)
    if app.config["DATABASE_URL"].startswith("sqlite"):
        # Only this app's engine: importing the portal must not change other
        # SQLite engines in the process (the pytest plugin imports it everywhere).
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
    from portal import settings_cache

    settings_cache.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    throttle.init_app(app)
    i18n.init_app(app)
    init_login(app)
    security.init_app(app)
    errors.init_app(app)


def _init_domain(app: Flask) -> None:
    from portal import audit, notifications
    from portal.events import EventDispatcher
    from portal.permissions import Policy
    from portal.resources import handlers as resource_handlers

    app.extensions["portal.policy"] = Policy()
    events = EventDispatcher()
    events.connect(audit.record, critical=True)
    # Pages written for a tier that is deleted lose it in the same transaction.
    events.connect(resource_handlers.on_event, critical=True)
    events.connect(notifications.on_event)
    app.extensions["portal.events"] = events
    from portal.onboarding import checklist

    checklist.init_app(app)  # core onboarding steps; plugins append theirs


def _register_blueprints(app: Flask) -> None:
    from portal.account.views import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.auth.views import bp as auth_bp
    from portal.branding import bp as branding_bp
    from portal.dashboard.views import bp as dashboard_bp
    from portal.health import bp as health_bp
    from portal.i18n import bp as language_bp
    from portal.notifications import bp as notifications_bp
    from portal.onboarding.views import bp as onboarding_bp
    from portal.organization.views import bp as organization_bp
    from portal.resources.views import bp as resources_bp

    for bp in (
        health_bp,
        language_bp,
        branding_bp,
        auth_bp,
        dashboard_bp,
        account_bp,
        organization_bp,
        notifications_bp,
        onboarding_bp,
        resources_bp,
        admin_bp,
    ):
        app.register_blueprint(bp)


def _init_plugins(app: Flask, extra: dict[str, Any] | None) -> None:
    from portal import plugins

    plugins.init_app(app, extra)


def _init_search(app: Flask) -> None:
    from portal import search

    search.init_app(app)


def _init_templates(app: Flask) -> None:
    from portal import templating

    templating.init_app(app)


def _init_proxy(app: Flask) -> None:
    """Behind ``PROXY_COUNT`` reverse proxies, take the client address, scheme and host
    from their X-Forwarded-* headers (throttling and audit need the real address)."""
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


def _init_cli(app: Flask) -> None:
    from portal.cli import register_commands

    register_commands(app)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, enforced foreign keys and NORMAL sync on every SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
