"""Who hears about what happens to a registration: in-app notifications and email,
each in the recipient's own language.

Called from the plugin's ``portal_event`` hook, inside the transaction of the
change: a rolled-back change notifies nobody and sends nothing (mail is delivered
after the commit). In-app messages are stored as msgids of the ``deals`` domain
and translated when read; emails are rendered now, in the recipient's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal import mail
from portal.extensions import db
from portal.models import ManagerAssignment, Notification, Role, User
from portal_deals.i18n import N_
from portal_deals.models import DealRegistration

DOMAIN = "deals"

#: event → (who hears: "partner" or "staff", in-app msgid, send an email too)
NOTICES: dict[str, tuple[str, str, bool]] = {
    "deal.submitted": ("staff", N_("%(organization)s registered a deal with %(customer)s for review."), True),
    "deal.approved": ("partner", N_("Your deal registration for %(customer)s is approved and protected."), True),
    "deal.rejected": ("partner", N_("Your deal registration for %(customer)s was rejected."), True),
    "deal.info_requested": ("partner", N_("The channel team needs more information about %(customer)s."), True),
    "deal.extension_requested": ("staff", N_("%(organization)s asks to extend the protection of %(customer)s."), True),
    "deal.extended": ("partner", N_("The protection of %(customer)s is extended."), True),
    "deal.extension_declined": ("partner", N_("The extension for %(customer)s was declined."), True),
    "deal.expired": ("partner", N_("The protection of %(customer)s has expired."), True),
    "deal.expiry_reminder": ("partner", N_("The protection of %(customer)s ends soon: extend it or close the deal."), True),
    "deal.won": ("staff", N_("%(organization)s won the deal with %(customer)s."), False),
    "deal.withdrawn": ("staff", N_("%(organization)s withdrew the registration for %(customer)s."), False),
}
COMMENT_NOTICE = N_("New comment on the registration for %(customer)s.")


def detail_path(registration_id: int) -> str:
    """The registration's page as a path (also outside a request)."""
    adapter = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build("deals.detail", {"registration_id": registration_id})


def _active(users: Iterable[User]) -> list[User]:
    return [u for u in users if u.active]


def partner_recipients(registration: DealRegistration) -> list[User]:
    """The person who registered it; if they left, the organization's admins."""
    creator = registration.created_by
    if creator is not None and creator.active and creator.organization_id == registration.organization_id:
        return [creator]
    return _active(db.session.scalars(
        sa.select(User).where(User.organization_id == registration.organization_id,
                              User.role == Role.PARTNER_ADMIN).order_by(User.id)))


def staff_recipients(registration: DealRegistration) -> list[User]:
    """The organization's channel managers; if it has none, the vendor admins."""
    managers = _active(db.session.scalars(
        sa.select(User).join(ManagerAssignment, ManagerAssignment.user_id == User.id)
        .where(ManagerAssignment.organization_id == registration.organization_id).order_by(User.id)))
    if managers:
        return managers
    return _active(db.session.scalars(
        sa.select(User).where(User.role == Role.VENDOR_ADMIN).order_by(User.id)))


def on_event(event: Any) -> None:
    if not event.name.startswith("deal.") or not isinstance(event.subject, DealRegistration):
        return
    registration = event.subject
    if event.name == "deal.commented":
        side = "staff" if getattr(event.actor, "is_partner", False) else "partner"
        notice: tuple[str, str, bool] | None = (side, COMMENT_NOTICE, True)
    else:
        notice = NOTICES.get(event.name)
    if notice is None:
        return
    side, message, email = notice
    if event.name == "deal.approved" and event.data.get("automatic"):
        email = True
    recipients = partner_recipients(registration) if side == "partner" else staff_recipients(registration)
    params = {"customer": registration.customer_name, "organization": registration.organization.name}
    path = detail_path(registration.id)
    actor_id = getattr(event.actor, "id", None)
    for user in recipients:
        if user.id == actor_id:
            continue  # nobody needs telling about what they did themselves
        db.session.add(Notification(user_id=user.id, event=event.name, message=message,
                                    params={**params, "_domain": DOMAIN}, url=path))
        if email:
            mail.send(user.email, "deals/notice", locale=user.locale, kind=event.name,
                      registration=registration, recipient=user,
                      url=mail.absolute_url("deals.detail", registration_id=registration.id),
                      note=registration.note, comment=(event.after or {}).get("comment"))
