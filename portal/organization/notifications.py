"""In-app notifications about a partner's team."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask import has_request_context, url_for

from portal.events import Event
from portal.extensions import db
from portal.models import Invitation, User
from portal.notifications import N_, Recipient, rule


@rule("user.joined")
def tell_inviter_invitation_accepted(event: Event) -> Iterator[Recipient]:
    """The person who sent an invitation learns that it was accepted."""
    newcomer = event.subject
    if not isinstance(newcomer, User):
        return
    invitation = db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.user_id == newcomer.id)
        .order_by(Invitation.accepted_at.desc(), Invitation.id.desc())
        .limit(1)
    ).first()
    if invitation is None or invitation.invited_by is None:
        return
    if newcomer.organization is not None:
        where = newcomer.organization.name
        endpoint = "organization.team"
    else:
        from portal.branding import portal_name

        where = portal_name()
        endpoint = "admin.users"
    url = url_for(endpoint) if has_request_context() else None
    yield (
        invitation.invited_by,
        N_("%(name)s accepted your invitation and joined %(organization)s."),
        {"name": newcomer.name, "organization": where},
        url,
    )
