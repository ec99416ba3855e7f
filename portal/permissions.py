"""Who may do what: the one place that decides.

Each permission is granted to roles. For objects that belong to a partner
organization, :func:`can` also checks reach: a partner reaches only its own
organization, a channel manager the organizations assigned to them, a vendor admin
every organization. Routes declare what they need with :func:`permission_required`
and fetch objects through :mod:`portal.scoping`, which applies the same reach to
queries; no route re-implements either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from flask import abort

from portal import context
from portal.models import ManagerAssignment, Organization, Role, User
from portal.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

PARTNER = (Role.PARTNER_USER, Role.PARTNER_ADMIN)
STAFF = (Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN)
EVERYONE = PARTNER + STAFF

#: The core's permissions and the roles that hold them. Plugins add their own
#: through :meth:`Policy.grant` (see the plugin issue).
CORE_GRANTS: dict[str, tuple[Role, ...]] = {
    # partner side
    "dashboard.view": EVERYONE,
    "account.edit": EVERYONE,
    "organization.view": EVERYONE,
    "organization.edit": (Role.PARTNER_ADMIN, Role.VENDOR_ADMIN),
    "team.view": EVERYONE,
    "team.manage": (Role.PARTNER_ADMIN, Role.VENDOR_ADMIN),
    "notifications.view": EVERYONE,
    # The resource library: visitors who are not signed in read its public pages
    # through the same routes (``permission_required(..., anonymous=True)``).
    "resources.view": EVERYONE,
    "resources.manage": STAFF,
    # vendor side
    "admin.access": STAFF,
    "organizations.list": STAFF,
    "organization.administer": (Role.VENDOR_ADMIN,),
    "users.list": STAFF,
    "user.administer": (Role.VENDOR_ADMIN,),
    "staff.invite": (Role.VENDOR_ADMIN,),
    "programs.manage": (Role.VENDOR_ADMIN,),
    "programs.view": STAFF,
    "applications.review": STAFF,
    "audit.view": STAFF,
    # Channel managers see which plugins are on where (read-only); only vendor
    # admins switch them and edit their settings.
    "plugins.view": STAFF,
    "plugins.manage": (Role.VENDOR_ADMIN,),
    "branding.manage": (Role.VENDOR_ADMIN,),
}


class Policy:
    """The permission table of one app (plugins extend it, see ``Policy.grant``)."""

    def __init__(self, grants: dict[str, Iterable[Role]] | None = None) -> None:
        self._grants: dict[str, frozenset[Role]] = {}
        for name, roles in (grants or CORE_GRANTS).items():
            self.grant(name, roles)

    def grant(self, permission: str, roles: Iterable[Role]) -> None:
        self._grants[permission] = self._grants.get(permission, frozenset()) | frozenset(roles)

    def roles_for(self, permission: str) -> frozenset[Role]:
        try:
            return self._grants[permission]
        except KeyError:
            raise LookupError(f"unknown permission {permission!r}") from None

    def __contains__(self, permission: str) -> bool:
        return permission in self._grants

    def permissions(self) -> list[str]:
        return sorted(self._grants)


def policy() -> Policy:
    return context.app().extensions["portal.policy"]


def organization_id_of(obj: Any) -> int | None:
    """The partner organization an object belongs to (None for vendor-wide objects)."""
    if isinstance(obj, Organization):
        return obj.id
    return getattr(obj, "organization_id", None)


def reaches(user: User, organization_id: int | None) -> bool:
    """Whether ``user`` may act on records of ``organization_id``."""
    if user.role is Role.VENDOR_ADMIN:
        return True
    if organization_id is None:
        # Vendor-wide objects: staff only.
        return user.is_staff
    if user.is_partner:
        return user.organization_id == organization_id
    return (
        db.session.get(ManagerAssignment, (organization_id, user.id)) is not None
    )


def can(user: Any, permission: str, obj: Any = None) -> bool:
    """Whether ``user`` holds ``permission`` (on ``obj``, when one is given)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not user.is_active:
        return False
    if user.role not in policy().roles_for(permission):
        return False
    if obj is None:
        return True
    return reaches(user, organization_id_of(obj))


def require(permission: str, obj: Any = None) -> None:
    """Abort with 403 unless the current user holds ``permission`` (on ``obj``)."""
    if not can(context.user(), permission, obj):
        abort(403)


def permission_required(permission: str, *, anonymous: bool = False) -> Callable[[F], F]:
    """Route decorator: anonymous users go to the login page, others get 403.

    ``anonymous=True`` lets visitors who are not signed in through instead: the
    view must then show them only what is public (the resource library does).
    """

    def decorator(view: F) -> F:
        view.required_permission = permission  # type: ignore[attr-defined]

        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = context.user()
            if not user.is_authenticated:
                if anonymous:
                    return view(*args, **kwargs)
                return context.app().login_manager.unauthorized()  # type: ignore[attr-defined]
            require(permission)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
