"""Configuration: defaults < instance portal.toml < PORTAL_* environment < test config;
the instance folder and its secret key; what ``portal check --deploy`` flags."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from portal import create_app, deploy_check
from portal.config import DEFAULTS
from portal.extensions import db

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "instance" / "portal.toml.example"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PORTAL_* variable from the shell (or the test run) leaks into these apps."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)
    yield


def new_app(instance: Path, test_config: dict[str, Any] | None = None) -> Flask:
    return create_app(test_config, instance_path=str(instance))


def write_config(instance: Path, text: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "portal.toml").write_text(text)


# -- layering ------------------------------------------------------------------------

def test_defaults_apply_without_any_configuration(tmp_path: Path) -> None:
    app = new_app(tmp_path / "instance")
    assert app.config["PAGE_SIZE"] == DEFAULTS["PAGE_SIZE"]
    assert app.config["PORTAL_ENV"] == "production"
    assert app.config["MAIL_BACKEND"] == "outbox"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'portal.db'}"
    assert app.config["OUTBOX_PATH"] == str(tmp_path / "instance" / "outbox")


def test_each_layer_overrides_the_one_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    instance = tmp_path / "instance"
    write_config(instance, 'PAGE_SIZE = 30\nMAIL_PORT = 2525\nPORTAL_NAME = "Acme Partners"\nHOSTS = 2\n')
    assert new_app(instance).config["PAGE_SIZE"] == 30  # file over defaults

    monkeypatch.setenv("PORTAL_PAGE_SIZE", "40")
    monkeypatch.setenv("PORTAL_HOSTS", "3")
    app = new_app(instance)
    assert app.config["PAGE_SIZE"] == 40  # environment over file
    assert app.config["HOSTS"] == 3
    assert app.config["MAIL_PORT"] == 2525  # the file still counts where env is silent
    assert app.config["PORTAL_NAME"] == "Acme Partners"

    app = new_app(instance, {"PAGE_SIZE": 50})
    assert app.config["PAGE_SIZE"] == 50  # test config over everything


def test_environment_values_are_decoded_as_json_when_they_can_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_MAIL_USE_TLS", "true")
    monkeypatch.setenv("PORTAL_MAIL_PORT", "587")
    monkeypatch.setenv("PORTAL_MAIL_SERVER", "smtp.example.com")
    monkeypatch.setenv("PORTAL_LANGUAGES", '["en"]')
    config = new_app(tmp_path / "instance").config
    assert config["MAIL_USE_TLS"] is True
    assert config["MAIL_PORT"] == 587
    assert config["MAIL_SERVER"] == "smtp.example.com"
    assert config["LANGUAGES"] == ["en"]


def test_portal_env_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_ENV", "development")
    assert new_app(tmp_path / "instance").config["PORTAL_ENV"] == "development"


def test_portal_database_url_selects_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    assert new_app(tmp_path / "instance").config["SQLALCHEMY_DATABASE_URI"] == url


def test_portal_plugins_is_a_comma_separated_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_PLUGINS", " deals, training,,mdf ")
    assert new_app(tmp_path / "instance").config["PLUGINS"] == ["deals", "training", "mdf"]


def test_plugins_default_to_none(tmp_path: Path) -> None:
    assert new_app(tmp_path / "instance").config["PLUGINS"] == []


def test_portal_instance_path_moves_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "state" / "portal"
    write_config(instance, 'PORTAL_NAME = "From the instance"\n')
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.instance_path == str(instance)
    assert app.config["PORTAL_NAME"] == "From the instance"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'portal.db'}"
    assert (instance / "secret_key").exists()


def test_instance_path_argument_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "from-env"))
    app = new_app(tmp_path / "from-argument")
    assert app.instance_path == str(tmp_path / "from-argument")


# -- the secret key ------------------------------------------------------------------

def test_secret_key_is_generated_once_into_the_instance_and_reused(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = new_app(instance).config["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert key_file.read_text().strip() == first
    assert new_app(instance).config["SECRET_KEY"] == first
    assert new_app(tmp_path / "other").config["SECRET_KEY"] != first


def test_a_configured_secret_key_is_used_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 48)
    instance = tmp_path / "instance"
    assert new_app(instance).config["SECRET_KEY"] == "s" * 48
    assert not (instance / "secret_key").exists()


# -- cookies -------------------------------------------------------------------------

def test_cookies_are_secure_by_default(tmp_path: Path) -> None:
    config = new_app(tmp_path / "instance").config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] and config["REMEMBER_COOKIE_HTTPONLY"]
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_cookies_are_not_secure_in_development(tmp_path: Path) -> None:
    config = new_app(tmp_path / "instance", {"PORTAL_ENV": "development"}).config
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_SECURE"] is False


def test_an_explicit_cookie_setting_wins(tmp_path: Path) -> None:
    config = new_app(tmp_path / "instance", {"SESSION_COOKIE_SECURE": False}).config
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_SECURE"] is False


def test_session_cookie_is_sent_with_secure_flag_in_production(tmp_path: Path) -> None:
    app = new_app(tmp_path / "instance", {"SERVER_NAME": "portal.test"})
    response = app.test_client().get("/login", base_url="https://portal.test")
    cookie = response.headers.get("Set-Cookie", "")
    assert "session=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# -- reverse proxies -----------------------------------------------------------------

def _client_address(app: Flask, **headers: str) -> str:
    app.add_url_rule("/_address", "address", lambda: request.remote_addr or "")
    return app.test_client().get("/_address", headers=headers,
                                 environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_data(as_text=True)


def test_forwarded_headers_are_ignored_without_a_trusted_proxy(tmp_path: Path) -> None:
    app = new_app(tmp_path / "instance")
    assert _client_address(app, **{"X-Forwarded-For": "203.0.113.9"}) == "10.0.0.2"


def test_proxy_count_trusts_the_proxys_forwarded_address(tmp_path: Path) -> None:
    app = new_app(tmp_path / "instance", {"PROXY_COUNT": 1})
    assert _client_address(app, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}) == "203.0.113.9"


# -- the example configuration -------------------------------------------------------

# Read with a default where they are used rather than listed in DEFAULTS.
KNOWN_SETTINGS = set(DEFAULTS) | {"SECRET_KEY", "RATELIMIT_SINGLE_PROCESS", "PROXY_COUNT"}


def test_example_config_names_only_known_settings_with_valid_values() -> None:
    text = EXAMPLE_CONFIG.read_text()
    active = tomllib.loads(text)
    # Commented-out settings must be valid TOML and real settings too, once uncommented.
    commented = [
        line.lstrip("#").strip() for line in text.splitlines()
        if re.match(r"^#\s*[A-Z][A-Z0-9_]+\s*=", line)
    ]
    suggested = tomllib.loads("\n".join(commented))
    assert set(active) <= KNOWN_SETTINGS, set(active) - KNOWN_SETTINGS
    assert set(suggested) <= KNOWN_SETTINGS, set(suggested) - KNOWN_SETTINGS
    assert {"DATABASE_URL", "SECRET_KEY", "RATELIMIT_STORAGE_URI", "MAIL_SERVER"} <= set(suggested)
    assert suggested["SECRET_KEY"] in deploy_check.EXAMPLE_SECRET_KEYS


def test_example_config_works_as_an_instance_config(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    write_config(instance, EXAMPLE_CONFIG.read_text())
    app = new_app(instance)
    assert app.config["BASE_URL"].startswith("https://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        assert app.test_client().get("/healthz").status_code == 200
        db.session.remove()
        db.engine.dispose()


# -- portal check --deploy: the checks themselves ------------------------------------

PRODUCTION = {
    "PORTAL_ENV": "production",
    "DEBUG": False,
    "TESTING": False,
    "SECRET_KEY": "k3Jx9-Vq2LzR8wT5nYb1HcF7mD4sAe6PuGi0oKtW",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://portal@db.internal/portal",
    "HOSTS": 3,
    "SEARCH_BACKEND": "acme_search.backend:SharedBackend.for_app",
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "smtp.example.com",
    "MAIL_USERNAME": "portal",
    "MAIL_USE_TLS": True,
    "BASE_URL": "https://partners.example.com",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
}


def settings(**changes: Any) -> set[str]:
    """The settings flagged once ``changes`` are applied to a clean production config."""
    config = {**PRODUCTION, **changes}
    return {finding.setting for finding in deploy_check.run_checks(config)}


def test_a_production_config_has_no_findings() -> None:
    assert deploy_check.run_checks(PRODUCTION) == []


def test_the_default_configuration_is_not_production_ready(tmp_path: Path) -> None:
    findings = deploy_check.run_checks(new_app(tmp_path / "instance").config)
    # The generated secret and the Secure cookies are fine; the rest needs a decision.
    assert {f.setting for f in findings} == {"RATELIMIT_STORAGE_URI", "MAIL_BACKEND", "BASE_URL"}


@pytest.mark.parametrize(
    ("changes", "flagged"),
    [
        ({"PORTAL_ENV": "development"}, "PORTAL_ENV"),
        ({"DEBUG": True}, "DEBUG"),
        ({"TESTING": True}, "TESTING"),
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "too-short-secret"}, "SECRET_KEY"),
        ({"SECRET_KEY": "test-secret-key-not-for-production-0123456789"}, "SECRET_KEY"),
        ({"PASSWORD_HASH_METHOD": "scrypt:1024:8:1"}, "PASSWORD_HASH_METHOD"),
        ({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}, "PASSWORD_HASH_METHOD"),
        ({"PASSWORD_HASH_METHOD": "plain"}, "PASSWORD_HASH_METHOD"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
        ({"REMEMBER_COOKIE_SECURE": False}, "REMEMBER_COOKIE_SECURE"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
        ({"RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_SINGLE_PROCESS": True},
         "RATELIMIT_STORAGE_URI"),  # three hosts: one process each is still three counters
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/portal/portal.db"}, "DATABASE_URL"),
        ({"SEARCH_BACKEND": "portal.search.whoosh_backend:WhooshBackend.for_app"},
         "SEARCH_INDEX_PATH"),
        ({"MAIL_BACKEND": "outbox"}, "MAIL_BACKEND"),
        ({"MAIL_USE_TLS": False}, "MAIL_USE_TLS"),
        ({"BASE_URL": "http://partners.example.com"}, "BASE_URL"),
        ({"BASE_URL": ""}, "BASE_URL"),
        ({"MAX_CONTENT_LENGTH": None}, "MAX_CONTENT_LENGTH"),
    ],
)
def test_each_unsafe_setting_is_flagged(changes: dict[str, Any], flagged: str) -> None:
    assert settings(**changes) == {flagged}


@pytest.mark.parametrize("method", ["scrypt", "scrypt:65536:8:1", "pbkdf2:sha256",
                                    "pbkdf2:sha256:1000000"])
def test_strong_password_hashing_passes(method: str) -> None:
    assert settings(PASSWORD_HASH_METHOD=method) == set()


def test_memory_rate_limits_pass_only_for_one_declared_process_on_one_host() -> None:
    single_host = {"HOSTS": 1, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/portal.db",
                   "RATELIMIT_STORAGE_URI": "memory://"}
    assert settings(**single_host) == {"RATELIMIT_STORAGE_URI"}
    assert settings(**single_host, RATELIMIT_SINGLE_PROCESS=True) == set()


def test_every_finding_names_a_fix_on_one_line() -> None:
    config = {**PRODUCTION, "PORTAL_ENV": "development", "SECRET_KEY": "x", "HOSTS": 2,
              "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_STORAGE_URI": "memory://",
              "MAIL_BACKEND": "outbox", "BASE_URL": "http://x", "MAX_CONTENT_LENGTH": 0}
    findings = deploy_check.run_checks(config)
    assert len(findings) >= 7
    for finding in findings:
        line = str(finding)
        assert "\n" not in line and "Fix: " in line and finding.fix
