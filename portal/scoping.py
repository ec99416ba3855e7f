"""What the current user may see: the one place that scopes queries.

Every query a partner can reach goes through :func:`scoped` (lists) or
:func:`get_visible_or_404` (single objects), so a partner never sees another
organization's record and a channel manager only the organizations assigned to them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort

from portal import context
from portal.extensions import db
from portal.models import ManagerAssignment, Organization, Role, User

T = TypeVar("T")


#: From this many managed organizations on, a channel manager's reach is "broad":
#: ``walk=True`` queries then test each row's organization as they read it (see
#: :func:`organization_filter`). Tests may monkeypatch it.
BROAD_REACH = 200


def managed_organization_ids(user: User) -> sa.Select[Any]:
    return sa.select(ManagerAssignment.organization_id).where(ManagerAssignment.user_id == user.id)


def has_broad_reach(user: User) -> bool:
    """Whether a channel manager manages at least :data:`BROAD_REACH` organizations.

    Counting stops there (an index range of at most that many entries), so the check
    costs the same whatever the number of organizations.
    """
    from portal import settings_cache

    # Manager assignments are a watched table: kept per worker until they change.
    return settings_cache.cached("scoping.broad_reach", (user.id, BROAD_REACH),
                                 lambda: _count_managed(user, BROAD_REACH) >= BROAD_REACH)


def _count_managed(user: User, cap: int) -> int:
    first = managed_organization_ids(user).limit(cap).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(first)) or 0


def organization_filter(user: User, column: Any, *, walk: bool = False) -> Any:
    """A WHERE clause limiting ``column`` (an organization id) to the user's reach.

    A channel manager's two shapes (:func:`reach_clause`) select the same rows; they
    differ in what the database does first. ``IN (managed ids)`` starts from the manager's organizations: best for
    counts, and for small reaches. With ``walk=True`` and a broad reach, the test is
    a correlated ``EXISTS`` (one primary-key probe per row), so a query that reads an
    index in its ORDER BY (newest audit entries, users by name) stops after LIMIT
    rows instead of sorting everything the manager reaches. SQLite follows the shape;
    PostgreSQL plans both as the same semi-join.
    """
    return reach_clause(reach_kind(user, walk=walk), column, user.organization_id, user.id)


def reach_kind(user: Any, *, walk: bool = False) -> str:
    """Which shape :func:`organization_filter` takes for ``user``: ``"all"`` (a vendor
    admin), ``"organization"`` (a partner), ``"managed"`` or ``"managed-walk"`` (a
    channel manager: ``IN`` or ``EXISTS``), ``"none"`` (anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return "none"
    if user.role is Role.VENDOR_ADMIN:
        return "all"
    if user.is_partner:
        return "organization"
    if user.role is Role.CHANNEL_MANAGER:
        return "managed-walk" if walk and has_broad_reach(user) else "managed"
    return "none"


def reach_clause(kind: str, column: Any, organization_id: Any, user_id: Any) -> Any:
    """The WHERE clause of a :func:`reach_kind`, for the partner's organization and
    the manager's user id (values, or bind parameters: see :func:`bound_reach`)."""
    if kind == "all":
        return sa.true()
    if kind == "organization":
        return column == organization_id
    if kind == "managed-walk":
        return sa.exists().where(
            ManagerAssignment.organization_id == column, ManagerAssignment.user_id == user_id
        )
    if kind == "managed":
        return column.in_(
            sa.select(ManagerAssignment.organization_id).where(ManagerAssignment.user_id == user_id)
        )
    return sa.false()


def bound_reach(kind: str, column: Any) -> Any:
    """:func:`reach_clause` with bind parameters, for a statement kept per shape
    (:mod:`portal.statements`); :func:`reach_params` gives their values."""
    return reach_clause(kind, column, sa.bindparam("reach_organization"), sa.bindparam("reach_user"))


def reach_params(user: Any) -> dict[str, Any]:
    return {"reach_organization": getattr(user, "organization_id", None),
            "reach_user": getattr(user, "id", None)}


def scoped(
    stmt: sa.Select[Any], model: type[Any], user: Any = None, *, walk: bool = False
) -> sa.Select[Any]:
    """Limit a SELECT over ``model`` to the rows ``user`` (default: current) may see.

    ``model`` must be :class:`Organization` or carry an ``organization_id`` column.
    Rows with no organization (vendor-wide records) are visible to staff only.
    ``walk=True`` for a query that reads rows in an indexed order and stops at a
    LIMIT (a page of a list), never for a count: see :func:`organization_filter`.
    """
    user = user if user is not None else context.user()
    if not getattr(user, "is_authenticated", False):
        return stmt.where(sa.false())
    column = model.id if model is Organization else model.organization_id
    return stmt.where(organization_filter(user, column, walk=walk))


def visible(model: type[T], user: Any = None, *, walk: bool = False) -> sa.Select[tuple[T]]:
    """``SELECT model`` limited to what ``user`` may see (``walk``: see :func:`scoped`)."""
    return scoped(sa.select(model), model, user, walk=walk)


def get_visible_or_404(model: type[T], ident: Any, user: Any = None) -> T:
    """Fetch one object the user may see, or answer 404 (never reveal it exists)."""
    pk = model.id  # type: ignore[attr-defined]
    obj = db.session.scalars(visible(model, user).where(pk == ident)).first()
    if obj is None:
        abort(404)
    return obj
