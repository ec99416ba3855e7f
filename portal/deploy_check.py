"""What is unsafe for production: the checks behind ``portal check --deploy``.

Each check is a small function that reads the app's configuration and yields
:class:`Finding` objects; :data:`CHECKS` lists them in the order they are reported.
They take a plain mapping, so tests (and other tools) can run them without an app::

    findings = run_checks({"PORTAL_ENV": "production", "SECRET_KEY": "...", ...})

Runtime checks that need a database connection (:func:`database_findings`) are
separate because they need an application context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MIN_SECRET_KEY_LENGTH = 32

#: Secret keys that were ever written in docs, examples or tests: never for production.
EXAMPLE_SECRET_KEYS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "dev",
        "development",
        "secret",
        "secret-key",
        "your-secret-key",
        "replace-me-with-a-long-random-string-of-at-least-32-characters",
        "test-secret-key-not-for-production-0123456789",
    }
)

Config = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One thing that is unsafe for production, and how to fix it."""

    setting: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem} Fix: {self.fix}"


Check = Callable[[Config], Iterable[Finding]]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _hosts(config: Config) -> int:
    try:
        return int(config.get("HOSTS") or 1)
    except (TypeError, ValueError):
        return 1


def check_environment(config: Config) -> Iterator[Finding]:
    if config.get("PORTAL_ENV") == "development":
        yield Finding(
            "PORTAL_ENV",
            "is 'development': login cookies lose the Secure flag (meant for http on your own machine).",
            "remove PORTAL_ENV (the default is production) or set it to 'production'.",
        )
    if _truthy(config.get("DEBUG")):
        yield Finding(
            "DEBUG",
            "is on: the interactive debugger lets anyone who reaches it run code.",
            "unset FLASK_DEBUG and do not pass --debug in production.",
        )
    if _truthy(config.get("TESTING")):
        yield Finding("TESTING", "is on: errors are propagated instead of handled.",
                      "remove TESTING from the configuration.")


def check_secret_key(config: Config) -> Iterator[Finding]:
    key = config.get("SECRET_KEY")
    fix = (
        "remove it to use the key generated into the instance folder, or set "
        "PORTAL_SECRET_KEY to the output of `python3 -c \"import secrets; "
        "print(secrets.token_urlsafe(48))\"` (the same on every host)."
    )
    if not key:
        yield Finding("SECRET_KEY", "is missing: sessions and emailed links cannot be signed.", fix)
    elif str(key).strip().lower() in EXAMPLE_SECRET_KEYS:
        yield Finding("SECRET_KEY", "is an example value that is published.", fix)
    elif len(str(key)) < MIN_SECRET_KEY_LENGTH:
        yield Finding(
            "SECRET_KEY", f"is shorter than {MIN_SECRET_KEY_LENGTH} characters: it can be guessed.", fix
        )


MIN_SCRYPT_N = 2**15
MIN_PBKDF2_ITERATIONS = 600_000


def check_password_hashing(config: Config) -> Iterator[Finding]:
    """Tests lower the hashing cost to run fast; production must not."""
    method = str(config.get("PASSWORD_HASH_METHOD") or "scrypt")
    name, *params = method.split(":")
    weak = False
    try:
        if name == "scrypt":
            weak = bool(params) and int(params[0]) < MIN_SCRYPT_N
        elif name == "pbkdf2":
            weak = len(params) > 1 and int(params[1]) < MIN_PBKDF2_ITERATIONS
        else:
            weak = True
    except ValueError:
        weak = True
    if weak:
        yield Finding(
            "PASSWORD_HASH_METHOD",
            f"is {method!r}: stolen password hashes would be cheap to crack.",
            "remove the setting (the default is werkzeug's scrypt, N=32768).",
        )


def check_cookies(config: Config) -> Iterator[Finding]:
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if not _truthy(config.get(name)):
            yield Finding(
                name,
                "is off: the login cookie is also sent over plain http.",
                "serve over https and remove the setting (Secure is the production default).",
            )
    for name in ("SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY"):
        if not _truthy(config.get(name, True)):
            yield Finding(name, "is off: scripts in the page can read the login cookie.",
                          "remove the setting (HttpOnly is the default).")


def check_csrf(config: Config) -> Iterator[Finding]:
    if not _truthy(config.get("WTF_CSRF_ENABLED", True)):
        yield Finding("WTF_CSRF_ENABLED", "is off: other sites can submit forms as your users.",
                      "remove the setting (CSRF protection is on by default).")


def check_rate_limit_storage(config: Config) -> Iterator[Finding]:
    """``memory://`` counts per process: with several gunicorn workers (or hosts)
    an attacker gets each worker's allowance, and counts vanish on restart. It is
    accepted only when the operator declares a single process
    (``RATELIMIT_SINGLE_PROCESS = true``) on a single host."""
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith("memory://"):
        return
    if _hosts(config) > 1:
        yield Finding(
            "RATELIMIT_STORAGE_URI",
            f"is memory:// while HOSTS is {_hosts(config)}: every host counts login attempts on its own.",
            "point all hosts at one Redis: RATELIMIT_STORAGE_URI = \"redis://host:6379/0\" "
            "(pip install -e '.[redis]').",
        )
    elif not _truthy(config.get("RATELIMIT_SINGLE_PROCESS")):
        yield Finding(
            "RATELIMIT_STORAGE_URI",
            "is memory://: each worker process counts login attempts on its own.",
            "use Redis (RATELIMIT_STORAGE_URI = \"redis://127.0.0.1:6379/0\", pip install -e '.[redis]'), "
            "or set RATELIMIT_SINGLE_PROCESS = true if exactly one process serves.",
        )


def _is_sqlite(config: Config) -> bool:
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or config.get("DATABASE_URL") or "sqlite:")
    return url.startswith("sqlite")


def check_database(config: Config) -> Iterator[Finding]:
    if _is_sqlite(config) and _hosts(config) > 1:
        yield Finding(
            "DATABASE_URL",
            f"is SQLite while HOSTS is {_hosts(config)}: a SQLite file cannot be shared between hosts.",
            "use PostgreSQL: PORTAL_DATABASE_URL=postgresql+psycopg://user@db-host/portal "
            "(pip install -e '.[postgresql]').",
        )


def check_search(config: Config) -> Iterator[Finding]:
    whoosh = str(config.get("SEARCH_BACKEND") or "").startswith("portal.search.whoosh_backend")
    if whoosh and _hosts(config) > 1:
        yield Finding(
            "SEARCH_INDEX_PATH",
            f"is a Whoosh index on each host while HOSTS is {_hosts(config)}: only the host "
            "that indexes a change finds it, and each host rebuilds its own index.",
            "set SEARCH_BACKEND to a backend that several hosts share (the interface is "
            "portal/search/backend.py).",
        )


def check_mail(config: Config) -> Iterator[Finding]:
    backend = config.get("MAIL_BACKEND", "outbox")
    if backend == "outbox":
        yield Finding(
            "MAIL_BACKEND",
            "is 'outbox': invitations and password resets are written to the instance "
            "folder and nobody receives them.",
            "set MAIL_BACKEND = \"smtp\" with MAIL_SERVER, MAIL_PORT and MAIL_DEFAULT_SENDER; "
            "try it with `portal mail test --to you@example.com`.",
        )
    elif backend == "smtp" and config.get("MAIL_USERNAME"):
        if not (_truthy(config.get("MAIL_USE_TLS")) or _truthy(config.get("MAIL_USE_SSL"))):
            yield Finding(
                "MAIL_USE_TLS",
                "is off while MAIL_USERNAME is set: the SMTP password travels unencrypted.",
                "set MAIL_USE_TLS = true (STARTTLS, port 587) or MAIL_USE_SSL = true (port 465).",
            )


def check_base_url(config: Config) -> Iterator[Finding]:
    base_url = str(config.get("BASE_URL") or "")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname:
        yield Finding(
            "BASE_URL",
            f"is {base_url or 'empty'!r}: links in emails must use https and the public host name.",
            "set BASE_URL = \"https://partners.example.com\" (the address users type).",
        )


def check_request_limits(config: Config) -> Iterator[Finding]:
    if not config.get("MAX_CONTENT_LENGTH"):
        yield Finding(
            "MAX_CONTENT_LENGTH",
            "is unset: a client can send request bodies of any size.",
            "set MAX_CONTENT_LENGTH (the default is 16 MiB: 16777216).",
        )


def check_theme(config: Config) -> Iterator[Finding]:
    from portal.theming import theme_problem

    problem = theme_problem(config)
    if problem:
        yield Finding(
            "THEME",
            f"{problem} The portal falls back to the default theme.",
            "set THEME to the name of a folder under THEMES_PATH that holds a theme.toml.",
        )


#: Every configuration check, in report order. Plugins may append their own.
CHECKS: list[Check] = [
    check_environment,
    check_secret_key,
    check_password_hashing,
    check_cookies,
    check_csrf,
    check_rate_limit_storage,
    check_database,
    check_search,
    check_mail,
    check_base_url,
    check_request_limits,
    check_theme,
]


def run_checks(config: Config, checks: Iterable[Check] | None = None) -> list[Finding]:
    """Every finding of ``checks`` (default :data:`CHECKS`) on ``config``."""
    return [finding for check in (checks or CHECKS) for finding in check(config)]


def database_findings() -> list[Finding]:
    """Whether the database answers and carries the newest migration (app context)."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    from portal.extensions import db

    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError as error:
        return [
            Finding(
                "DATABASE_URL",
                f"cannot be reached ({type(error).__name__}).",
                "check the database URL, that the server runs and that the instance folder is writable.",
            )
        ]
    migrate = current_app.extensions["migrate"]
    heads = set(ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory)).get_heads())
    findings = []
    if current != heads:
        findings.append(
            Finding(
                "database",
                "is not at the newest migration.",
                "run `portal db upgrade`.",
            )
        )
    from portal.plugin_migrations import pending_plugins

    for plugin in pending_plugins():
        findings.append(
            Finding(
                f"plugin {plugin}",
                "has migrations that are not applied.",
                "run `portal db upgrade` (it upgrades the core and every loaded plugin).",
            )
        )
    return findings
