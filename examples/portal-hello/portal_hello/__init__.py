"""An example third-party plugin for the partner portal: partners post greetings.

It is a distribution of its own (``portal-hello``), found by the portal only
through its entry point::

    [project.entry-points."portal.plugins"]
    hello = "portal_hello"

and it implements every hook of :mod:`portal.hookspecs`, so it doubles as a
worked example of each. Enable it with ``PLUGINS = ["hello"]``, run
``portal db upgrade``, then switch it on for a program on the admin plugins page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from markupsafe import Markup

from portal import hookimpl
from portal.extensions import db
from portal.models import Organization, OrganizationStatus, Role, User
from portal.onboarding.checklist import ChecklistItem
from portal.plugins import Setting, TierMetric, Widget, setting
from portal.templating import NavItem
from portal_hello import queries
from portal_hello.cli import hello_group
from portal_hello.i18n import _, _l
from portal_hello.models import HelloGreeting
from portal_hello.views import bp, greetings_of

NAME = "hello"
HERE = Path(__file__).resolve().parent


# -- setup -------------------------------------------------------------------

@hookimpl
def portal_plugin_info() -> dict[str, Any]:
    return {
        "label": _l("Hello"),
        "description": _l("Partners post short greetings for their colleagues."),
        "needs": [],
    }


@hookimpl
def portal_blueprints() -> Any:
    return bp


@hookimpl
def portal_permissions() -> dict[str, Any]:
    return {
        "hello.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN, Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN],
        "hello.post": [Role.PARTNER_USER, Role.PARTNER_ADMIN],
    }


@hookimpl
def portal_migrations() -> Path:
    return HERE / "migrations"


@hookimpl
def portal_cli_commands() -> Any:
    return hello_group


@hookimpl
def portal_settings() -> list[Setting]:
    return [
        Setting("greeting_prefix", _l("Greeting prefix"), "str", default="Hello",
                help=_l("Starts the welcome greeting written when someone joins, as in “Hello, Ann!”.")),
        Setting("show_on_dashboard", _l("Show the dashboard widget"), "bool", default=True),
    ]


@hookimpl
def portal_demo_data() -> None:
    """One greeting per active organization that has none yet (idempotent)."""
    has_greeting = sa.exists().where(HelloGreeting.organization_id == Organization.id)
    organizations = db.session.scalars(
        sa.select(Organization)
        .where(Organization.status == OrganizationStatus.ACTIVE, ~has_greeting)
        .order_by(Organization.id)
    )
    for organization in organizations:
        author = db.session.scalars(
            sa.select(User)
            .where(User.organization_id == organization.id, User.active.is_(True))
            .order_by(sa.case((User.role == Role.PARTNER_ADMIN, 0), else_=1), User.id)
            .limit(1)
        ).first()
        db.session.add(HelloGreeting(
            organization_id=organization.id,
            author_id=author.id if author else None,
            message=f"Hello from {organization.name}!",
        ))


# -- pages -------------------------------------------------------------------

@hookimpl
def portal_navigation(user: Any) -> NavItem:
    return NavItem("hello.index", _l("Greetings"), "hello.view", "all", "hello.")


@hookimpl
def portal_dashboard_widgets(user: Any) -> Widget | None:
    if not setting(NAME, "show_on_dashboard"):
        return None
    latest = greetings_of(user.organization_id) if user.is_partner else []
    body = render_template("hello/_widget.html", count=queries.visible_count(user), latest=latest)
    return Widget(title=_("Greetings"), body=Markup(body), priority=50)


@hookimpl
def portal_template_slot(slot: str, context: dict[str, Any]) -> Any:
    if slot == "head":
        href = url_for("hello.static", filename="hello.css")
        return Markup('<link rel="stylesheet" href="{}">').format(href)
    if slot == "dashboard_top":
        # (priority, content); Markup.format escapes the (translated) text it inserts.
        tip = _("Say hello: post a greeting for your colleagues on the Greetings page.")
        return (90, Markup('<p class="hello-tip muted">{}</p>').format(tip))
    return None


# -- domain ------------------------------------------------------------------

@hookimpl
def portal_event(event: Any) -> None:
    """Welcome each person who joins a partner organization with a greeting."""
    if event.name != "user.joined":
        return
    user = event.subject
    if user is None or user.organization_id is None:
        return
    prefix = setting(NAME, "greeting_prefix") or "Hello"
    db.session.add(HelloGreeting(
        organization_id=user.organization_id, author_id=None, message=f"{prefix}, {user.name}!"
    ))


@hookimpl
def portal_onboarding_steps(organization: Any) -> ChecklistItem:
    return ChecklistItem(
        key="hello.first_greeting",
        label=_("Post your first greeting"),
        done=queries.has_posted(organization.id),
        url=url_for("hello.index"),
    )


@hookimpl
def portal_tier_metrics() -> list[TierMetric]:
    return [TierMetric("greetings", _l("Greetings posted"),
                       lambda organization: queries.posted_count(organization.id))]


@hookimpl
def portal_search_kinds() -> dict[str, Any]:
    return {"hello.greeting": _l("Greetings")}


@hookimpl
def portal_searchable_documents(since: Any, keys: Any) -> Iterator[dict[str, Any]]:
    """One document per greeting: found by its organization and the staff who reach it."""
    stmt = sa.select(HelloGreeting).order_by(HelloGreeting.id)
    if keys is not None:
        ids = [int(k.split(":", 1)[1]) for k in keys
               if k.startswith("hello_greeting:") and k.split(":", 1)[1].isdigit()]
        if not ids:
            return
        stmt = stmt.where(HelloGreeting.id.in_(ids))
    if since is not None:
        stmt = stmt.where(HelloGreeting.created_at >= since)
    adapter = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    path = adapter.build("hello.index")
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    for greeting in db.session.scalars(stmt).yield_per(500):
        yield {
            "id": f"hello_greeting:{greeting.id}",
            "kind": "hello.greeting",
            "title": greeting.message[:80],
            "body": greeting.message,
            "url": f"{path}#greeting-{greeting.id}",
            "language": language,
            "audience": "organization",  # its organization and the staff who reach it
            "organization_id": greeting.organization_id,
            "permission": "hello.view",
            "updated_at": greeting.created_at,
        }
