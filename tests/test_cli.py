"""The ``portal`` command: demo, check, users create, mail test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from portal import cli, demo
from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    AuditEntry,
    Invitation,
    ManagerAssignment,
    Organization,
    PartnerApplication,
    Program,
    Role,
    User,
)
from tests import factories
from tests.conftest import PortalClient, make_app, outbox_messages
from tests.test_migrations import PG_URL, scratch_postgresql_url

STRONG_PASSWORD = "Tangerine-Kettle-Orbit-42"

PRODUCTION_LIKE = {
    "PORTAL_ENV": "production",
    "TESTING": False,
    "SECRET_KEY": "k3Jx9-Vq2LzR8wT5nYb1HcF7mD4sAe6PuGi0oKtW",
    "BASE_URL": "https://partners.example.com",
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "smtp.example.com",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "RATELIMIT_SINGLE_PROCESS": True,
    "PASSWORD_HASH_METHOD": "scrypt",
}


@pytest.fixture
def empty_database_url(worker_id: str) -> str | None:
    """SQLite in the instance folder, or a scratch PostgreSQL database of our own."""
    return scratch_postgresql_url(f"cli_{worker_id}") if PG_URL else None


def build_app(tmp_path: Path, database_url: str | None, **overrides: Any) -> Flask:
    app = make_app(tmp_path, database_url, **overrides)
    app.test_client_class = PortalClient
    return app


@pytest.fixture
def fresh_app(tmp_path: Path, empty_database_url: str | None) -> Iterator[Flask]:
    """An app whose database has no tables yet (``portal demo`` migrates it)."""
    app = build_app(tmp_path, empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def row_counts() -> dict[str, int]:
    db.session.rollback()  # see what the command committed, not a stale snapshot
    # The metadata also holds installed plugins' tables once a test loaded them;
    # only the branches of loaded plugins create theirs.
    existing = set(sa.inspect(db.engine).get_table_names())
    with db.engine.connect() as connection:
        return {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
            if table.name in existing
        }


def run_demo(app: Flask) -> Any:
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    return result


# -- portal demo -----------------------------------------------------------------

def test_demo_twice_creates_nothing_new(fresh_app: Flask) -> None:
    first = run_demo(fresh_app)
    counts = row_counts()
    second = run_demo(fresh_app)
    assert row_counts() == counts
    assert counts["users"] >= 10
    assert "records created" in first.output
    assert "nothing to add" in second.output


def test_demo_writes_its_plugins_for_the_instances_later_commands(fresh_app: Flask) -> None:
    import tomllib

    from portal.plugins import builtin_names

    output = run_demo(fresh_app).output
    config = Path(fresh_app.instance_path) / "portal.toml"
    assert tomllib.loads(config.read_text())["PLUGINS"] == builtin_names()
    assert "written to" in output
    # Once written, a second run leaves the file alone.
    config.write_text('PLUGINS = ["deals"]\n')
    run_demo(fresh_app)
    assert config.read_text() == 'PLUGINS = ["deals"]\n'


def test_demo_prints_the_url_and_the_logins(fresh_app: Flask) -> None:
    output = run_demo(fresh_app).output
    assert "http://127.0.0.1:5000" in output
    assert demo.DEMO_PASSWORD in output
    for login in demo.demo_logins():
        assert login.email in output


def test_demo_data_covers_programs_tiers_roles_and_onboarding(fresh_app: Flask) -> None:
    run_demo(fresh_app)
    programs = {p.name: [t.name for t in p.tiers] for p in db.session.scalars(sa.select(Program))}
    assert programs["Reseller"] == ["Registered", "Silver", "Gold", "Platinum"]
    assert programs["Referral"] == ["Registered", "Preferred"]
    assert "Technology Alliance" in programs

    organizations = db.session.scalars(sa.select(Organization)).all()
    assert len(organizations) >= 4
    assert len({o.country for o in organizations}) >= 4
    assert len({m.program_id for o in organizations for m in o.memberships}) >= 2
    assert len({m.tier.name for o in organizations for m in o.memberships}) >= 3
    for organization in organizations:
        roles = [u.role for u in organization.users]
        assert roles.count(Role.PARTNER_ADMIN) == 1, organization.name
        assert 1 <= roles.count(Role.PARTNER_USER) <= 3, organization.name

    roles = db.session.scalars(sa.select(User.role)).all()
    assert roles.count(Role.VENDOR_ADMIN) == 1
    assert roles.count(Role.CHANNEL_MANAGER) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ManagerAssignment)) >= 4
    pending = db.session.scalars(
        sa.select(PartnerApplication).where(PartnerApplication.status == ApplicationStatus.PENDING)
    ).all()
    assert len(pending) >= 2
    assert [i.state for i in db.session.scalars(sa.select(Invitation))] == ["pending"]
    emails = db.session.scalars(sa.select(User.email)).all()
    assert all(e.endswith(".example.com") for e in emails)


def test_demo_records_its_changes_in_the_audit_log_but_sends_no_email(fresh_app: Flask) -> None:
    run_demo(fresh_app)
    events = set(db.session.scalars(sa.select(AuditEntry.event)))
    assert {"organization.created", "user.created", "application.submitted"} <= events
    assert outbox_messages(fresh_app) == []


def test_demo_logins_work_with_the_documented_password(fresh_app: Flask) -> None:
    run_demo(fresh_app)
    for email in ("admin@vendor.example.com", "emea.manager@vendor.example.com",
                  "admin@brightpath.example.com", "lea.fischer@brightpath.example.com"):
        client = fresh_app.test_client()
        response = client.post("/login", data={"email": email, "password": demo.DEMO_PASSWORD})
        assert response.status_code == 302, (email, response.get_data(as_text=True)[:500])
        assert client.get("/").status_code == 200


def test_demo_refuses_a_database_with_real_accounts(fresh_app: Flask) -> None:
    flask_migrate.upgrade()
    factories.user(Role.VENDOR_ADMIN, email="real.admin@customer.example")
    db.session.commit()
    result = fresh_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 1
    assert "not demo data" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_demo_serves_over_plain_http_even_from_a_production_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}

    def fake_run_simple(host: str, port: int, application: Flask, **options: Any) -> None:
        served.update(host=host, port=port, app=application, **options)

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    app = build_app(tmp_path, None, PORTAL_ENV="production", TESTING=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    result = app.test_cli_runner().invoke(args=["demo", "--port", "5099"])
    assert result.exit_code == 0, result.output
    served_app = served["app"]
    assert (served["host"], served["port"], served["threaded"]) == ("127.0.0.1", 5099, True)
    assert served_app.config["PORTAL_ENV"] == "development"
    assert served_app.config["SESSION_COOKIE_SECURE"] is False
    assert served_app.config["REMEMBER_COOKIE_SECURE"] is False
    assert served_app.config["BASE_URL"] == "http://127.0.0.1:5099"
    assert served_app.config["SERVER_NAME"] is None
    assert served_app.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert served_app.instance_path == app.instance_path
    for application in (app, served_app):
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


# -- portal check ----------------------------------------------------------------

def test_check_deploy_lists_findings_for_a_development_config(fresh_app: Flask) -> None:
    flask_migrate.upgrade()
    result = fresh_app.test_cli_runner().invoke(args=["check", "--deploy"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("- ")]
    settings = {line[2:].split(":")[0] for line in lines}
    assert {"PORTAL_ENV", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "SECRET_KEY",
            "MAIL_BACKEND", "BASE_URL", "RATELIMIT_STORAGE_URI", "TESTING",
            "PASSWORD_HASH_METHOD"} <= settings
    assert all("Fix:" in line for line in lines)


def test_check_deploy_is_clean_on_a_production_config(tmp_path: Path,
                                                      empty_database_url: str | None) -> None:
    app = build_app(tmp_path, empty_database_url, **PRODUCTION_LIKE)
    with app.app_context():
        flask_migrate.upgrade()
        result = app.test_cli_runner().invoke(args=["check", "--deploy"])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


def test_check_finds_a_database_that_is_not_migrated(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "portal db upgrade" in result.output
    flask_migrate.upgrade()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output


def test_check_finds_an_unreachable_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'portal.db'}"
    app = build_app(tmp_path, url)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["check"])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1
    assert "DATABASE_URL: cannot be reached" in result.output


# -- portal users create ---------------------------------------------------------

def create_user(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["users", "create", *args], input=input)


def test_users_create_makes_a_vendor_admin_from_stdin(app: Flask) -> None:
    result = create_user(app, "--email", " Boss@Vendor.Example ", "--name", "Ada  Boss",
                         "--role", "vendor_admin", "--password-stdin", input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalars(sa.select(User).where(User.email == "boss@vendor.example")).one()
    assert (user.name, user.role, user.organization_id) == ("Ada Boss", Role.VENDOR_ADMIN, None)
    assert user.check_password(STRONG_PASSWORD)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.subject_id == user.id)).one()
    assert entry.event == "user.created"
    assert "id" in result.output and STRONG_PASSWORD not in result.output


def test_users_create_prompts_until_the_password_is_strong_and_confirmed(app: Flask) -> None:
    answers = f"short\n{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n"
    result = create_user(app, "--email", "cm@vendor.example", "--name", "Cam Manager",
                         "--role", "channel_manager", input=answers)
    assert result.exit_code == 0, result.output
    assert "Use at least 10 characters" in result.output
    user = db.session.scalars(sa.select(User).where(User.email == "cm@vendor.example")).one()
    assert user.role is Role.CHANNEL_MANAGER and user.check_password(STRONG_PASSWORD)


def test_users_create_asks_again_when_the_confirmation_differs(app: Flask) -> None:
    answers = f"{STRONG_PASSWORD}\nsomething-else-entirely\n{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n"
    result = create_user(app, "--email", "cm@vendor.example", "--name", "Cam",
                         "--role", "channel_manager", input=answers)
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 10"), ("aaaaaaaaaaaa", "too easy"), ("boss-password-1", "email address")],
)
def test_users_create_refuses_a_weak_password(app: Flask, password: str, message: str) -> None:
    result = create_user(app, "--email", "boss@vendor.example", "--name", "Boss",
                         "--role", "vendor_admin", "--password-stdin", input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(sa.select(User.id).where(User.email == "boss@vendor.example")) is None


def test_users_create_refuses_an_existing_email(app: Flask, world: Any) -> None:
    result = create_user(app, "--email", world.vendor_admin.email.upper(), "--name", "Again",
                         "--role", "vendor_admin", "--password-stdin", input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 1
    assert "already exists" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--email", "not-an-email", "--name", "X", "--role", "vendor_admin"],
        ["--email", "x@vendor.example", "--name", "X", "--role", "partner_admin"],
        ["--email", "x@vendor.example", "--name", "   ", "--role", "vendor_admin"],
        ["--email", "x@vendor.example", "--role", "vendor_admin"],
    ],
)
def test_users_create_rejects_bad_arguments(app: Flask, args: list[str]) -> None:
    result = create_user(app, *args, "--password-stdin", input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 2, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_users_create_explains_an_unmigrated_database(fresh_app: Flask) -> None:
    result = create_user(fresh_app, "--email", "a@vendor.example", "--name", "A",
                         "--role", "vendor_admin", "--password-stdin", input=STRONG_PASSWORD + "\n")
    assert result.exit_code == 1
    assert "portal db upgrade" in result.output


# -- portal mail test ------------------------------------------------------------

def test_mail_test_writes_to_the_outbox_by_default(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@vendor.example"])
    assert result.exit_code == 0, result.output
    (message,) = outbox_messages(app)
    assert message["To"] == "ops@vendor.example"
    assert "outbox" in result.output


def test_mail_test_sends_through_a_real_smtp_server(app: Flask, smtp_server: Any) -> None:
    port, received = smtp_server
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    result = app.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@vendor.example"])
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [m["To"] for m in received] == ["ops@vendor.example"]


def test_mail_test_reports_an_smtp_failure(app: Flask) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port,
                      MAIL_TIMEOUT=2)
    result = app.test_cli_runner().invoke(args=["mail", "test", "--to", "ops@vendor.example"])
    assert result.exit_code == 1
    assert "failed" in result.output


# -- the command itself ----------------------------------------------------------

PORTAL_COMMANDS = {"demo", "check", "users", "mail", "db", "run", "shell", "routes"}


def test_portal_group_offers_flask_and_portal_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    # FlaskGroup sets FLASK_RUN_FROM_CLI (app.run() becomes a no-op): undo it afterwards.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    result = CliRunner().invoke(cli.cli, ["--help"], prog_name="portal")
    assert result.exit_code == 0, result.output
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert PORTAL_COMMANDS <= listed


def test_flask_app_portal_finds_the_factory_and_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    app = ScriptInfo(app_import_path="portal").load_app()
    assert {"demo", "check", "users", "mail", "db"} <= set(app.cli.commands)
    assert app.instance_path == str(tmp_path / "instance")


def test_portal_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "portal"
    if not script.exists():
        pytest.skip("the portal console script is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path / "instance")
    done = subprocess.run([str(script), "check"], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    # A new instance has an empty database: check says to migrate it, and exits 1.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "portal db upgrade" in done.stdout
    assert (tmp_path / "instance" / "secret_key").exists()
