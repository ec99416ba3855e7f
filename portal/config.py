"""Configuration: defaults in code, then the instance config file, then ``PORTAL_*``.

The order matters and is documented in the README:

1. :data:`DEFAULTS` below,
2. ``<instance>/portal.toml`` (upper-case keys, see ``instance/portal.toml.example``),
3. environment variables with the ``PORTAL_`` prefix (``PORTAL_DATABASE_URL``,
   ``PORTAL_SECRET_KEY``, ``PORTAL_PLUGINS``, ...),
4. the ``test_config`` mapping handed to :func:`portal.create_app` (tests only).
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from flask import Flask

ENV_PREFIX = "PORTAL_"
CONFIG_FILENAME = "portal.toml"
SECRET_KEY_FILENAME = "secret_key"

#: Languages the portal ships catalogs for. English is the source language.
SHIPPED_LANGUAGES = ("en", "de", "fr", "es", "pt_BR", "ja", "ar")

DEFAULTS: dict[str, Any] = {
    # "production" unless told otherwise: cookies are Secure, errors are terse.
    "PORTAL_ENV": "production",
    "PORTAL_NAME": "Partner Portal",
    # Where the portal is reachable; used for links in emails sent outside a request.
    "BASE_URL": "http://127.0.0.1:5000",
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "PLUGINS": [],
    # Themes: the folder name under THEMES_PATH (None: the repository's themes/).
    "THEME": "default",
    "THEMES_PATH": None,
    # Localization
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": list(SHIPPED_LANGUAGES),
    # Sessions and cookies
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # None: Secure unless PORTAL_ENV is development
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "PREFERRED_URL_SCHEME": "https",
    # Request limits
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    "MAX_FORM_PARTS": 200,
    # CSRF: htmx sends the token as the X-CSRFToken header
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "WTF_CSRF_SSL_STRICT": True,
    # werkzeug's scrypt (N=2**15, r=8, p=1). Tests lower the cost; production must not.
    "PASSWORD_HASH_METHOD": "scrypt",
    # Tokens sent by email
    "INVITATION_MAX_AGE": 7 * 24 * 3600,
    "PASSWORD_RESET_MAX_AGE": 2 * 3600,
    # Throttling (portal.throttle). Use redis://... when several workers serve.
    "RATELIMIT_STORAGE_URI": "memory://",
    # memory:// counts per process; say true only when one process serves.
    "RATELIMIT_SINGLE_PROCESS": False,
    # How many reverse proxies set X-Forwarded-* in front of the portal (0: none).
    "PROXY_COUNT": 0,
    "RATELIMIT_LOGIN": "10 per minute;50 per hour",
    "RATELIMIT_LOGIN_ACCOUNT": "5 per minute;20 per hour",
    "RATELIMIT_RESET": "5 per minute;20 per hour",
    "RATELIMIT_APPLY": "10 per hour",
    # Email: "outbox" writes .eml files into the instance; "smtp" sends them.
    "MAIL_BACKEND": "outbox",
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": False,  # STARTTLS
    "MAIL_USE_SSL": False,  # implicit TLS
    "MAIL_TIMEOUT": 10,
    "MAIL_DEFAULT_SENDER": "Partner Portal <portal@localhost>",
    # How many app hosts share this deployment (for `portal check --deploy`).
    "HOSTS": 1,
    "PAGE_SIZE": 25,
    # Search: "background" updates the index from a thread of each worker (the
    # request that made a change never waits for it); "inline" right after the
    # commit (tests, scripts); "off" only queues changes.
    "SEARCH_INDEXING": "background",
    # "module:callable" taking the app and returning a portal.search.backend.SearchBackend.
    "SEARCH_BACKEND": "portal.search.whoosh_backend:WhooshBackend.for_app",
    "SEARCH_POLL_SECONDS": 1.0,
}


def load(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` in the documented order and derive dependent settings."""
    app.config.from_mapping(DEFAULTS)
    config_file = Path(app.instance_path) / CONFIG_FILENAME
    if config_file.exists():
        app.config.from_file(str(config_file), load=tomllib.load, text=False)
    _load_environment(app)
    if test_config:
        app.config.from_mapping(test_config)
    _derive(app)


def _load_environment(app: Flask) -> None:
    """Read ``PORTAL_*`` variables. JSON values are decoded; ``PLUGINS`` may be a
    comma-separated list."""
    for key in sorted(os.environ):
        if not key.startswith(ENV_PREFIX) or key == "PORTAL_INSTANCE_PATH":
            continue
        name = key.removeprefix(ENV_PREFIX)
        if key == "PORTAL_ENV":
            name = key
        raw = os.environ[key]
        if name == "PLUGINS":
            value: Any = [p.strip() for p in raw.split(",") if p.strip()]
        else:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        app.config[name] = value


def is_development(app: Flask) -> bool:
    return app.config["PORTAL_ENV"] == "development" or app.debug


def _derive(app: Flask) -> None:
    config = app.config
    instance = Path(app.instance_path)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # A database server may drop idle connections (a restart, a failover): test each
    # one as it leaves the pool. A SQLite file has no server to lose, and the test
    # would be one more statement on every request.
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                      {"pool_pre_ping": not config["DATABASE_URL"].startswith("sqlite")})
    config.setdefault("OUTBOX_PATH", str(instance / "outbox"))
    config.setdefault("UPLOADS_PATH", str(instance / "uploads"))
    config.setdefault("SEARCH_INDEX_PATH", str(instance / "search"))
    secure = config.get("SESSION_COOKIE_SECURE")
    if secure is None:
        secure = not is_development(app)
    config["SESSION_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_SECURE"] = secure
    config["WTF_CSRF_SSL_STRICT"] = bool(secure)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = ensure_secret_key(instance)


def ensure_secret_key(instance: Path) -> str:
    """Return the instance's secret key, generating it (mode 0600) on first run."""
    path = instance / SECRET_KEY_FILENAME
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting at once must not write different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
