"""The ``portal`` command: a Flask CLI group on the application factory.

Every Flask command works (``portal run``, ``portal shell``, ``portal routes``), and
so does Flask-Migrate's group (``portal db upgrade``). The portal's own commands are
registered on each app's ``app.cli`` by :func:`register_commands`, so
``flask --app portal <command>`` offers exactly the same commands.

* ``portal demo``: instance, migrations, demo data, then a local server.
* ``portal check [--deploy]``: what is unsafe for production (exit status 1 if anything).
* ``portal users create``: the first vendor admin of a real deployment.
* ``portal mail test``: one message through the configured mail backend.
* ``portal plugins list [--json]``: installed plugins, where they are on, what failed
  (the group lives in :mod:`portal.plugin_cli`).
"""

from __future__ import annotations

import copy
import smtplib
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from wtforms.validators import ValidationError

from portal.extensions import db
from portal.plugin_cli import plugins_group


def _create_app() -> Flask:
    from portal import create_app

    return create_app()


cli = FlaskGroup(
    name="portal",
    create_app=_create_app,
    help="Run and administer the partner portal. `portal demo` starts a demo on this machine.",
)


def main() -> None:
    """Console script entry point (``portal``)."""
    cli.main(prog_name="portal")


# -- portal demo -----------------------------------------------------------------

def _copied(value: Any) -> Any:
    """A deep copy where possible: create_app may adjust nested settings in place."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is shared instead
        return value


def demo_app(app: Flask, base_url: str) -> Flask:
    """A development twin of ``app`` (same instance, database and secret) for serving
    the demo over plain http: cookies without Secure, links to ``base_url``."""
    from portal import create_app

    config: dict[str, Any] = {key: _copied(value) for key, value in app.config.items()}
    # Served on this machine's address: no public host name to insist on.
    config.update(PORTAL_ENV="development", SESSION_COOKIE_SECURE=False, BASE_URL=base_url,
                  SERVER_NAME=None, PREFERRED_URL_SCHEME="http")
    for derived in ("REMEMBER_COOKIE_SECURE", "WTF_CSRF_SSL_STRICT"):
        config.pop(derived, None)
    # The same plugins, including those registered as objects (create_app(plugins=...)).
    from portal.plugins import builtin_names, configured_names, host as plugin_host

    if not configured_names(app):
        # A deployment that names no plugin gets the built-in ones in its demo.
        config["PLUGINS"] = builtin_names()

    return create_app(config, instance_path=app.instance_path,
                      plugins=dict(plugin_host(app).loaded))


def prepare_demo(app: Flask) -> Any:
    """Migrate the database (core and every loaded plugin) and seed the demo data."""
    from portal import demo, plugin_migrations

    with app.app_context():
        plugin_migrations.upgrade_all()
        # Events raised while seeding build links (notifications): give them a request.
        with app.test_request_context(base_url=app.config["BASE_URL"]):
            result = demo.seed()
        # Searchable from the first page: the index is built now, not by the first worker.
        from portal.search.indexer import drain

        drain(wait=True)
        return result


def remember_demo_plugins(configured: Flask, served: Flask) -> None:
    """The demo loads the built-in plugins when the configuration names none: write
    them into a new ``<instance>/portal.toml``, so that every later command on this
    instance (``portal search reindex``, gunicorn) loads the same ones."""
    from portal.config import CONFIG_FILENAME
    from portal.plugins import configured_names

    names = configured_names(served)
    if configured_names(configured) or not names:
        return
    path = Path(configured.instance_path) / CONFIG_FILENAME
    listed = ", ".join(f'"{name}"' for name in names)
    if path.exists():
        click.echo(f"Note: {path} names no PLUGINS, so other commands on this instance load "
                   f"none of the demo's. Add: PLUGINS = [{listed}]")
        return
    path.write_text("# Written by `portal demo`: the built-in plugins its demo data uses.\n"
                    f"PLUGINS = [{listed}]\n", encoding="utf-8")
    click.echo(f"The demo's plugins ({', '.join(names)}) are written to {path} for later commands.")


def echo_logins(result: Any, url: str) -> None:
    from portal import demo

    click.echo()
    click.secho(f"Partner portal demo: {url}", bold=True)
    click.echo(f"Every demo login uses the password: {demo.DEMO_PASSWORD}")
    click.echo()
    width = max(len(login.email) for login in result.logins)
    for login in result.logins:
        where = f"  ({login.organization})" if login.organization else ""
        click.echo(f"  {login.email:<{width}}  {login.role.value:<15}{where}".rstrip())
    click.echo()


def echo_plugin_failures(app: Flask) -> None:
    """Plugins whose migrations or demo data failed: the demo still runs without them."""
    from portal.plugins import host as plugin_host

    for failure in plugin_host(app).failures:
        click.secho(f"Plugin {failure.plugin} failed in {failure.where}: {failure.message}",
                    fg="yellow", err=True)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Prepare the instance and demo data, then exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Set up a demo portal with sample data and serve it on this machine."""
    from werkzeug.serving import run_simple

    from portal.demo import DemoRefused

    url = f"http://{host}:{port}"
    app = demo_app(current_app._get_current_object(), url)  # type: ignore[attr-defined]
    try:
        try:
            result = prepare_demo(app)
        except DemoRefused as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Instance folder: {app.instance_path}")
        click.echo(f"Demo data: {result.created} records created" if result.created
                   else "Demo data: already in place, nothing to add")
        echo_logins(result, url)
        echo_plugin_failures(app)
        remember_demo_plugins(current_app._get_current_object(), app)  # type: ignore[attr-defined]
        if not no_serve:
            click.echo("Serving the demo (development settings, plain http). Press Ctrl+C to stop.")
            run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        with app.app_context():
            db.engine.dispose()


# -- portal check ----------------------------------------------------------------

@click.command("check")
@click.option("--deploy", is_flag=True,
              help="Also check that the configuration is safe for production.")
@with_appcontext
def check_command(deploy: bool) -> None:
    """Check the database (reachable, migrated) and, with --deploy, the configuration.

    Exits with status 1 when anything is found.
    """
    from portal.deploy_check import database_findings, run_checks

    findings = run_checks(current_app.config) if deploy else []
    findings += database_findings()
    for finding in findings:
        click.echo(f"- {finding}")
    if findings:
        click.echo(f"{len(findings)} problem(s) found.", err=True)
        click.get_current_context().exit(1)
    click.echo("No problems found.")


# -- portal settings-cache --------------------------------------------------------

@click.command("settings-cache")
@click.argument("action", type=click.Choice(["bump"]))
@with_appcontext
def settings_cache_command(action: str) -> None:
    """Make every worker read the settings again (after changing them with SQL).

    Changes made through the portal need nothing: they move the counter themselves.
    """
    from portal import settings_cache

    settings_cache.bump()
    click.echo("Settings version moved on: every worker reads the settings again.")


# -- portal users ----------------------------------------------------------------

users_group = AppGroup("users", help="Manage accounts from the command line.")

STAFF_ROLE_NAMES = ("vendor_admin", "channel_manager")


def password_problem(password: str, email: str) -> str | None:
    """The web forms' password rules (:class:`portal.forms.StrongPassword`) as a message."""
    from portal.forms import StrongPassword

    form = SimpleNamespace(email=SimpleNamespace(data=email))
    try:
        StrongPassword()(form, SimpleNamespace(data=password))
    except ValidationError as error:
        return str(error)
    return None


def _normalized_email(value: str) -> str:
    from portal.forms import normalize_email

    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from None
    return normalize_email(value)


@users_group.command("create")
@click.option("--email", required=True, help="The login email address.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", required=True, type=click.Choice(STAFF_ROLE_NAMES),
              help="vendor_admin may do everything; channel_manager reviews assigned partners.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of prompting.")
def create_user_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a vendor staff account (e.g. the first vendor admin)."""
    from portal.events import emit
    from portal.models import Role, User

    email = _normalized_email(email)
    name = " ".join(name.split())
    if not name:
        raise click.BadParameter("must not be empty", param_hint="--name")
    try:
        taken = db.session.scalar(sa.select(User.id).where(User.email == email)) is not None
    except sa.exc.SQLAlchemyError:
        raise click.ClickException(
            "The database is not ready. Run `portal db upgrade` first."
        ) from None
    if taken:
        raise click.ClickException(f"An account with the email address {email} already exists.")

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = password_problem(password, email)
        if problem:
            raise click.ClickException(f"Password refused: {problem}")
    else:
        def check(value: str) -> str:
            problem = password_problem(value, email)
            if problem:
                raise click.UsageError(problem)
            return value

        password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                value_proc=check)

    user = User(email=email, name=name, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    emit("user.created", user, before=None, actor=None, summary="Created with `portal users create`")
    db.session.commit()
    click.echo(f"Created {role} {email} (id {user.id}). Log in at "
               f"{current_app.config['BASE_URL'].rstrip('/')}/login")


# -- portal mail -----------------------------------------------------------------

mail_group = AppGroup("mail", help="Email delivery.")


@mail_group.command("test")
@click.option("--to", "to", required=True, help="Who receives the test message.")
def mail_test_command(to: str) -> None:
    """Send a test message through the configured MAIL_BACKEND."""
    from portal import mail

    config = current_app.config
    to = _normalized_email(to)
    message = mail.Mail(
        to=to,
        subject=f"Test message from {config['PORTAL_NAME']}",
        text=(
            f"This is a test message from {config['PORTAL_NAME']} at {config['BASE_URL']}.\n"
            "If you can read it, the portal's email settings work.\n"
        ),
    ).to_message(config["MAIL_DEFAULT_SENDER"])
    backend = config["MAIL_BACKEND"]
    if backend == "outbox":
        path = mail.write_to_outbox(message, Path(config["OUTBOX_PATH"]))
        click.echo(f"MAIL_BACKEND is 'outbox': the message was written to {path}")
    elif backend == "smtp":
        try:
            mail.send_smtp(message)
        except (smtplib.SMTPException, OSError) as error:
            raise click.ClickException(
                f"Sending through {config['MAIL_SERVER']}:{config['MAIL_PORT']} failed: {error}"
            ) from None
        click.echo(f"Sent to {to} through {config['MAIL_SERVER']}:{config['MAIL_PORT']}.")
    else:
        raise click.ClickException(f"Unknown MAIL_BACKEND {backend!r}: use 'outbox' or 'smtp'.")


# -- portal translations ---------------------------------------------------------

translations_group = AppGroup("translations", help="Message catalogs (see README, Translations).")


@translations_group.command("compile")
@with_appcontext
def translations_compile_command() -> None:
    """Compile every translations/<lang>/LC_MESSAGES/*.po whose .mo is missing or stale."""
    from portal.catalogs import ensure_compiled
    from portal.i18n import TRANSLATIONS_DIR

    target = ensure_compiled(TRANSLATIONS_DIR, Path(current_app.instance_path) / "translations")
    click.echo(f"Catalogs compiled in {target}")


# -- registration ----------------------------------------------------------------

COMMANDS = (demo_command, check_command, settings_cache_command, users_group, mail_group, plugins_group,
            translations_group)


#: Commands FlaskGroup itself answers before ``app.cli``'s.
FLASK_COMMANDS = ("run", "shell", "routes")


def register_commands(app: Flask) -> None:
    """Add the portal's commands to ``app.cli`` (called by :func:`portal.create_app`)."""
    for command in COMMANDS:
        app.cli.add_command(command)
    from portal import plugin_migrations, plugins

    # `portal db`: Flask-Migrate's group whose upgrade also runs every plugin's branch.
    app.cli.add_command(plugin_migrations.db_group)
    # Keep last: plugins' commands may not take a name the core uses.
    plugins.register_cli_commands(app, reserved=FLASK_COMMANDS)
