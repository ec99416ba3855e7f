"""What the current user may see: the one place that scopes queries.

Every query a partner can reach goes through :func:`scoped` (lists) or
:func:`get_visible_or_404` (single objects), so a partner never sees another
organization's record and a channel manager only the organizations assigned to them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from portal.extensions import db
from portal.models import ManagerAssignment, Organization, Role, User

T = TypeVar("T")


def managed_organization_ids(user: User) -> sa.Select[Any]:
    return sa.select(ManagerAssignment.organization_id).where(ManagerAssignment.user_id == user.id)


def organization_filter(user: User, column: Any) -> Any:
    """A WHERE clause limiting ``column`` (an organization id) to the user's reach."""
    if user.role is Role.VENDOR_ADMIN:
        return sa.true()
    if user.is_partner:
        return column == user.organization_id
    if user.role is Role.CHANNEL_MANAGER:
        return column.in_(managed_organization_ids(user))
    return sa.false()


def scoped(stmt: sa.Select[Any], model: type[Any], user: Any = None) -> sa.Select[Any]:
    """Limit a SELECT over ``model`` to the rows ``user`` (default: current) may see.

    ``model`` must be :class:`Organization` or carry an ``organization_id`` column.
    Rows with no organization (vendor-wide records) are visible to staff only.
    """
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return stmt.where(sa.false())
    column = model.id if model is Organization else model.organization_id
    return stmt.where(organization_filter(user, column))


def visible(model: type[T], user: Any = None) -> sa.Select[tuple[T]]:
    """``SELECT model`` limited to what ``user`` may see."""
    return scoped(sa.select(model), model, user)


def get_visible_or_404(model: type[T], ident: Any, user: Any = None) -> T:
    """Fetch one object the user may see, or answer 404 (never reveal it exists)."""
    pk = model.id  # type: ignore[attr-defined]
    obj = db.session.scalars(visible(model, user).where(pk == ident)).first()
    if obj is None:
        abort(404)
    return obj
