"""Inviting people: partner admins invite colleagues, vendor admins invite staff,
and approved applications invite their contact as partner admin."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import mail
from portal.auth.tokens import invitation_token
from portal.events import emit
from portal.extensions import db
from portal.models import Invitation, Organization, Role, User, utcnow


class InvitationError(ValueError):
    """The invitation cannot be made; ``str(error)`` is a message for the user."""


def pending_invitation(email: str) -> Invitation | None:
    return db.session.scalars(
        sa.select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    ).first()


def invite(
    email: str,
    role: Role,
    organization: Organization | None,
    *,
    invited_by: User | None,
    name: str | None = None,
    locale: str | None = None,
) -> Invitation:
    """Create an invitation and queue its email (sent when the transaction commits).

    A pending invitation for the same address is revoked and replaced, so the
    newest link is the only one that works.
    """
    from flask_babel import gettext as _

    if role.is_partner != (organization is not None):
        raise ValueError("partner roles need an organization; staff roles must not have one")
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise InvitationError(_("An account with this email address already exists."))
    previous = pending_invitation(email)
    if previous is not None:
        if previous.organization_id != (organization.id if organization else None):
            # Never let one organization cancel another's invitation.
            raise InvitationError(_("This person already has a pending invitation elsewhere."))
        previous.revoked_at = utcnow()
    invitation = Invitation(
        email=email,
        name=name,
        role=role,
        organization=organization,
        invited_by=invited_by,
        locale=locale,
        expires_at=utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"]),
    )
    db.session.add(invitation)
    db.session.flush()
    emit(
        "user.invited",
        invitation,
        actor=invited_by,
        after={"email": email, "role": role.value, "organization_id": invitation.organization_id},
    )
    send_invitation_email(invitation)
    return invitation


def send_invitation_email(invitation: Invitation) -> None:
    link = mail.absolute_url("auth.accept_invitation", token=invitation_token(invitation))
    mail.send(
        invitation.email,
        "invitation",
        locale=invitation.locale,
        invitation=invitation,
        link=link,
        organization=invitation.organization,
        inviter=invitation.invited_by,
    )


def revoke(invitation: Invitation, by: User) -> None:
    invitation.revoked_at = utcnow()
    emit(
        "invitation.revoked",
        invitation,
        actor=by,
        after={"email": invitation.email, "state": "revoked"},
    )


def accept(invitation: Invitation, name: str, password: str, locale: str | None) -> User:
    """Create the account an invitation promised. The caller commits."""
    user = User(
        email=invitation.email,
        name=name,
        role=invitation.role,
        organization_id=invitation.organization_id,
        locale=locale or invitation.locale,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    invitation.accepted_at = utcnow()
    invitation.user_id = user.id
    emit("user.joined", user, actor=user, before=None)
    return user
