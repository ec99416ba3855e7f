"""Who hears about onboarding events in the portal (imported by the views)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask import url_for

from portal.events import Event
from portal.extensions import db
from portal.models import STAFF_ROLES, User
from portal.notifications import N_, Recipient, rule


@rule("application.submitted")
def _tell_reviewers(event: Event) -> Iterator[Recipient]:
    """Every active vendor admin and channel manager may review a new application."""
    application = event.subject
    url = url_for("onboarding.review", application_id=application.id)
    params = {"company": application.company_name, "program": application.program.name}
    reviewers = db.session.scalars(
        sa.select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
    )
    for reviewer in reviewers:
        yield reviewer, N_("%(company)s applied to the %(program)s program."), params, url
