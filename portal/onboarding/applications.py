"""Partner applications: submit, approve, reject.

Each function changes state, emits its events and queues its emails; the caller
commits (or rolls back on :class:`ReviewConflict`, which leaves nothing behind).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal import invitations, mail
from portal.events import emit
from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    ManagerAssignment,
    Membership,
    Organization,
    PartnerApplication,
    PartnerType,
    Program,
    Role,
    User,
    utcnow,
)


class ReviewConflict(Exception):
    """The decision cannot be made in the current state; ``str()`` is for the reviewer."""


def normalize_company_name(name: str) -> str:
    return " ".join(name.split())


def refusals(company_name: str, contact_email: str) -> dict[str, str]:
    """Why an application may not be submitted, by form field (empty: it may)."""
    errors: dict[str, str] = {}
    name = normalize_company_name(company_name)
    if _exists(sa.select(User.id).where(User.email == contact_email)):
        errors["contact_email"] = _(
            "An account with this email address already exists. "
            "Log in instead, or use another address."
        )
    elif _pending(PartnerApplication.contact_email == contact_email):
        errors["contact_email"] = _(
            "There is already an application from this email address waiting for review."
        )
    name_key = Organization.key_for(name)
    if _exists(sa.select(Organization.id).where(Organization.name_key == name_key)):
        errors["company_name"] = _(
            "%(name)s is already a partner. Ask your colleagues to invite you.", name=name
        )
    # Applications keep no name key; SQLite's lower() folds ASCII letters only, which
    # covers the usual case differences (a stored "MÜLLER" would not match "Müller").
    elif _pending(sa.func.lower(PartnerApplication.company_name) == name.lower()):
        errors["company_name"] = _(
            "There is already an application for %(name)s waiting for review.", name=name
        )
    return errors


def _exists(stmt: sa.Select[Any]) -> bool:
    return db.session.scalar(stmt.limit(1)) is not None


def _pending(condition: Any) -> bool:
    return _exists(
        sa.select(PartnerApplication.id).where(
            PartnerApplication.status == ApplicationStatus.PENDING, condition
        )
    )


def submit(
    *,
    company_name: str,
    website: str | None,
    country: str,
    partner_type: PartnerType,
    program: Program,
    contact_name: str,
    contact_email: str,
    contact_phone: str | None,
    message: str | None,
    locale: str | None,
) -> PartnerApplication:
    """Store an application, tell the reviewers (event) and the applicant (email)."""
    application = PartnerApplication(
        company_name=normalize_company_name(company_name),
        website=website,
        country=country,
        partner_type=partner_type,
        program=program,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone or None,
        message=message or None,
        locale=locale,
        status=ApplicationStatus.PENDING,
    )
    db.session.add(application)
    emit("application.submitted", application, before=None)
    mail.send(
        application.contact_email,
        "application_received",
        locale=application.locale,
        application=application,
    )
    return application


def _ensure_pending(application: PartnerApplication) -> None:
    if application.status is not ApplicationStatus.PENDING:
        raise ReviewConflict(
            _("This application has already been decided (%(status)s).",
              status=application.status.label)
        )


def check_approvable(application: PartnerApplication) -> None:
    """Raise :class:`ReviewConflict` unless approving can succeed right now."""
    _ensure_pending(application)
    program = application.program
    if not program.active:
        raise ReviewConflict(
            _("The program %(program)s is not active. Activate it or reject the application.",
              program=program.name)
        )
    if program.entry_tier is None:
        raise ReviewConflict(
            _("The program %(program)s has no tiers: add a tier first.", program=program.name)
        )
    key = Organization.key_for(application.company_name)
    if _exists(sa.select(Organization.id).where(Organization.name_key == key)):
        raise ReviewConflict(
            _("An organization named %(name)s already exists. "
              "Reject this application or rename that organization first.",
              name=application.company_name)
        )
    if _exists(sa.select(User.id).where(User.email == application.contact_email)):
        raise ReviewConflict(
            _("An account for %(email)s already exists, so the contact cannot be invited.",
              email=application.contact_email)
        )


def approve(
    application: PartnerApplication, *, reviewer: User, manager: User | None = None
) -> Organization:
    """Create the organization, its membership at the entry tier, the manager
    assignment and the contact's invitation; mark the application approved.

    Raises :class:`ReviewConflict` before changing anything when it cannot succeed;
    a name taken by a concurrent request surfaces as ``IntegrityError`` at flush.
    """
    check_approvable(application)
    if manager is not None and (manager.role is not Role.CHANNEL_MANAGER or not manager.active):
        raise ReviewConflict(_("Choose an active channel manager."))
    program = application.program
    tier = program.entry_tier
    assert tier is not None  # checked above
    before = application.audit_state()

    organization = Organization(
        website=application.website,
        country=application.country,
        partner_type=application.partner_type,
    )
    organization.set_name(application.company_name)
    db.session.add(organization)
    db.session.flush()  # the unique name is enforced here, before anything else is written
    emit("organization.created", organization, before=None, actor=reviewer)

    membership = Membership(
        organization=organization, program=program, tier=tier, since=date.today()
    )
    db.session.add(membership)
    emit("membership.created", membership, before=None, actor=reviewer)

    if manager is not None:
        db.session.add(ManagerAssignment(organization_id=organization.id, user_id=manager.id))
        emit(
            "organization.manager_assigned",
            organization,
            before={"managers": []},
            after={"managers": [manager.email]},  # the shape the admin screens record
            actor=reviewer,
        )

    application.status = ApplicationStatus.APPROVED
    application.reviewed_by = reviewer
    application.reviewed_at = utcnow()
    application.organization = organization
    db.session.flush()
    emit("application.approved", application, before=before, actor=reviewer)

    # The decision first, then the invitation it announces.
    mail.send(
        application.contact_email,
        "application_approved",
        locale=application.locale,
        application=application,
        organization=organization,
        program=program,
        tier=tier,
    )
    try:
        invitations.invite(
            application.contact_email,
            Role.PARTNER_ADMIN,
            organization,
            invited_by=reviewer,
            name=application.contact_name,
            locale=application.locale,
        )
    except invitations.InvitationError as error:
        raise ReviewConflict(str(error)) from error
    return organization


def reject(application: PartnerApplication, *, reviewer: User, reason: str) -> None:
    """Mark the application rejected and tell the applicant why, in their language."""
    _ensure_pending(application)
    before = application.audit_state()
    application.status = ApplicationStatus.REJECTED
    application.decision_reason = reason
    application.reviewed_by = reviewer
    application.reviewed_at = utcnow()
    emit("application.rejected", application, before=before, actor=reviewer)
    mail.send(
        application.contact_email,
        "application_rejected",
        locale=application.locale,
        application=application,
        reason=reason,
    )
