"""Keeping pages' audiences true when the programs and tiers they name change.

A tier that is deleted leaves the pages written for it: each such page loses the
tier (a tier audience with no tier left is for staff only) and is updated like
any other change, with ``resource.updated``, so the audit log says why its
audience shrank and search refreshes its document. Without this, the page's
stored tokens would still name the tier's id, and SQLite may give that id to
the next tier created.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.events import Event, emit
from portal.extensions import db
from portal.models import ResourcePage
from portal.models.resource import resource_page_tier
from portal.resources.pages import touch


def on_event(event: Event) -> None:
    """Event handler (critical: a tier is not deleted while a page still names it)."""
    if event.name != "tier.deleted" or event.subject_id is None:
        return
    tier_id = event.subject_id
    pages = db.session.scalars(
        sa.select(ResourcePage)
        .join(resource_page_tier, resource_page_tier.c.page_id == ResourcePage.id)
        .where(resource_page_tier.c.tier_id == tier_id)
        .order_by(ResourcePage.id)
    ).all()
    for page in pages:
        before = page.audit_state()
        page.tiers = [tier for tier in page.tiers if tier.id != tier_id]
        touch(page, event.actor)
        emit("resource.updated", page, before=before, actor=event.actor)
