"""Who may see which page of the resource library: the one place that decides.

A page is visible to a user when its audience tokens meet the user's reach
(:func:`portal.audience.reach_tokens`, vendor admins reach everything) and it is
published, or the user writes pages (drafts are for staff only). The library,
the page view, the management screens and the tag counts all filter through
:func:`visibility`, in SQL, so a page a list shows is a page that opens, and a
page that does not open answers 404 — never 403, which would tell it exists.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from portal.audience import reach_tokens
from portal.extensions import db
from portal.models import ResourcePage, ResourcePageAudience, ResourcePageTag, ResourceStatus
from portal.permissions import can

#: How many tags the library offers as filters (the most used ones).
TAGS_SHOWN = 30


def _user(user: Any) -> Any:
    return current_user if user is None else user


def may_see_drafts(user: Any = None) -> bool:
    """Drafts are work in progress of the staff who write pages."""
    return can(_user(user), "resources.manage")


def visibility(user: Any = None, *, drafts: bool = True) -> sa.ColumnElement[bool]:
    """The WHERE clause of the pages ``user`` (default: current) may open.

    ``drafts=False`` leaves drafts out even for staff (the library lists only what
    readers see). Reach is read from the database now, so an ended membership or
    a changed tier counts from the next request on.
    """
    user = _user(user)
    reach = reach_tokens(user)
    clauses: list[sa.ColumnElement[bool]] = []
    if not (drafts and may_see_drafts(user)):
        clauses.append(ResourcePage.status == ResourceStatus.PUBLISHED)
    if not reach.everything:
        # One primary-key probe per page: (page_id, token) is the key.
        clauses.append(
            sa.exists().where(
                ResourcePageAudience.page_id == ResourcePage.id,
                ResourcePageAudience.token.in_(sorted(reach.tokens)),
            )
        )
    return sa.and_(sa.true(), *clauses)


def visible_pages(user: Any = None, *, drafts: bool = True) -> sa.Select[tuple[ResourcePage]]:
    """``SELECT resource_page`` limited to what ``user`` may open."""
    return sa.select(ResourcePage).where(visibility(user, drafts=drafts))


def get_visible_page_or_404(
    slug: str | None = None, *, page_id: int | None = None, user: Any = None
) -> ResourcePage:
    """One page by slug or id that ``user`` may open, or 404."""
    stmt = visible_pages(user)
    if page_id is not None:
        stmt = stmt.where(ResourcePage.id == page_id)
    else:
        stmt = stmt.where(ResourcePage.slug == slug)
    page = db.session.scalars(stmt).first()
    if page is None:
        abort(404)
    return page


def may_see(page: ResourcePage, user: Any = None) -> bool:
    """Whether ``user`` may open ``page`` (the same rule, for one loaded page)."""
    user = _user(user)
    if not page.is_published and not may_see_drafts(user):
        return False
    return reach_tokens(user).allows(page.audience_tokens())


def tag_counts(user: Any = None, limit: int = TAGS_SHOWN) -> list[tuple[str, int]]:
    """The most used tags of the pages the library shows ``user``: one GROUP BY."""
    pages = sa.select(ResourcePage.id).where(visibility(user, drafts=False))
    rows = db.session.execute(
        sa.select(ResourcePageTag.tag, sa.func.count())
        .where(ResourcePageTag.page_id.in_(pages))
        .group_by(ResourcePageTag.tag)
        .order_by(sa.func.count().desc(), ResourcePageTag.tag)
        .limit(limit)
    )
    return [(tag, count) for tag, count in rows]
