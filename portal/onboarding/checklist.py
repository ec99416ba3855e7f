"""The onboarding checklist on a partner's home page.

A checklist is built from *step providers*, kept per app in
``app.extensions["portal.onboarding_steps"]``. A provider takes the organization
and returns one :class:`ChecklistItem`, several, or ``None`` when the step does
not apply. The core registers its steps in :func:`init_app`; plugins add theirs
with :func:`register_step` (the plugin issue wires a hook to it)::

    def certified_step(organization):
        return ChecklistItem("certify", _("Get one person certified"), done=..., url=...)

    register_step(app, certified_step)

Providers should answer with aggregate queries: the checklist is on every home page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Union

import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask_babel import gettext as _

from portal.statements import run
from portal.models import Invitation, Organization, User, utcnow

EXTENSION_KEY = "portal.onboarding_steps"


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    url: str | None = None


StepResult = Union[ChecklistItem, Iterable[ChecklistItem], None]
StepProvider = Callable[[Organization], StepResult]


def register_step(app: Flask, provider: StepProvider) -> None:
    """Add a step provider to ``app``'s checklist (after those already registered)."""
    app.extensions.setdefault(EXTENSION_KEY, []).append(provider)


def step_providers(app: Flask | None = None) -> list[StepProvider]:
    app = app or current_app
    return list(app.extensions.get(EXTENSION_KEY, ()))


def checklist_for(organization: Organization | None) -> list[ChecklistItem]:
    """The organization's onboarding steps in registration order (empty for staff)."""
    if organization is None:
        return []
    items: list[ChecklistItem] = []
    for provider in step_providers():
        try:
            result = provider(organization)
        except Exception:  # noqa: BLE001 - a broken plugin step must not break the home page
            current_app.logger.exception("onboarding step provider %r failed", provider)
            continue
        if result is None:
            continue
        items.extend([result] if isinstance(result, ChecklistItem) else result)
    return items


def progress(items: list[ChecklistItem]) -> tuple[int, int]:
    """(done, total) of a checklist."""
    return sum(1 for item in items if item.done), len(items)


# -- core steps -----------------------------------------------------------------

PROFILE_FIELDS = ("website", "country", "description", "phone")


def profile_step(organization: Organization) -> ChecklistItem:
    done = all((getattr(organization, name) or "").strip() for name in PROFILE_FIELDS)
    return ChecklistItem(
        key="profile",
        label=_("Complete your organization profile"),
        done=done,
        url=url_for("organization.profile"),
    )


def colleague_step(organization: Organization) -> ChecklistItem:
    """Done once a second person is active or invited; one round trip, two aggregates."""
    users, invited = run(_COLLEAGUES, {"organization_id": organization.id, "now": utcnow()}).one()
    return ChecklistItem(
        key="invite_colleague",
        label=_("Invite a colleague"),
        done=bool(users > 1 or invited),
        url=url_for("organization.team"),
    )


# Built once: the checklist is on every partner home page.
_COLLEAGUES = sa.select(
    sa.select(sa.func.count(User.id))
    .where(User.organization_id == sa.bindparam("organization_id"), User.active.is_(True))
    .scalar_subquery(),
    sa.exists().where(
        Invitation.organization_id == sa.bindparam("organization_id"),
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > sa.bindparam("now"),
    ),
)

CORE_STEPS: tuple[StepProvider, ...] = (profile_step, colleague_step)


def init_app(app: Flask) -> None:
    """Start ``app``'s checklist with the core steps."""
    app.extensions[EXTENSION_KEY] = []
    for provider in CORE_STEPS:
        register_step(app, provider)
