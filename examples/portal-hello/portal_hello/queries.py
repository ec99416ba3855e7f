"""Aggregate queries shared by the page, the widget, the metric and the CLI."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.extensions import db
from portal.scoping import scoped
from portal_hello.models import HelloGreeting


def visible_count(user: Any) -> int:
    """Greetings ``user`` may see (their organization's, or those they reach)."""
    stmt = scoped(sa.select(sa.func.count(HelloGreeting.id)), HelloGreeting, user)
    return db.session.scalar(stmt) or 0


def posted_count(organization_id: int) -> int:
    """Greetings people of the organization posted (welcome greetings not counted)."""
    return db.session.scalar(
        sa.select(sa.func.count(HelloGreeting.id)).where(
            HelloGreeting.organization_id == organization_id,
            HelloGreeting.author_id.is_not(None),
        )
    ) or 0


def has_posted(organization_id: int) -> bool:
    return bool(db.session.scalar(
        sa.select(
            sa.exists().where(
                HelloGreeting.organization_id == organization_id,
                HelloGreeting.author_id.is_not(None),
            )
        )
    ))
