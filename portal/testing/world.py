"""A small world to test in: two partner organizations in two programs, a user
for every role, and helpers to switch plugins on and off per program."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Organization, Program, ProgramPlugin, Role, User
from portal.testing import factories

#: The roles ``login_as`` knows, in the order a test table lists them.
LOGIN_ROLES = (
    "anonymous",
    "partner_user",
    "partner_admin",
    "other_partner_user",
    "channel_manager",
    "vendor_admin",
)


@dataclass
class World:
    reseller: Program
    referral: Program
    org_a: Organization  # in the reseller program (second tier)
    org_b: Organization  # in the referral program
    admin_a: User  # partner_admin of A
    user_a: User  # partner_user of A
    admin_b: User
    user_b: User
    manager: User  # channel_manager of A (not of B)
    vendor_admin: User

    @property
    def programs(self) -> list[Program]:
        return [self.reseller, self.referral]

    def by_role(self, name: str) -> User | None:
        """The user playing ``name`` (None for "anonymous").

        Plugin-kit names: "partner_user", "partner_admin" (both of A),
        "other_partner_user", "other_partner_admin" (of B), "channel_manager"
        (manages A only), "vendor_admin". The core's tests also use
        "partner_user_a", "partner_admin_a", "partner_user_b", "partner_admin_b".
        """
        users = {
            "anonymous": None,
            "partner_user": self.user_a,
            "partner_admin": self.admin_a,
            "other_partner_user": self.user_b,
            "other_partner_admin": self.admin_b,
            "partner_user_a": self.user_a,
            "partner_admin_a": self.admin_a,
            "partner_user_b": self.user_b,
            "partner_admin_b": self.admin_b,
            "channel_manager": self.manager,
            "vendor_admin": self.vendor_admin,
        }
        if name not in users:
            raise KeyError(f"unknown role {name!r}; use one of {', '.join(LOGIN_ROLES)}")
        return users[name]


def build_world() -> World:
    """Create the world's records in the current app's database and commit."""
    reseller = factories.program("Reseller")
    referral = factories.program("Referral", tiers=("Registered", "Preferred"))
    org_a = factories.organization("Acme Networks GmbH", program=reseller, tier=reseller.tiers[1])
    org_b = factories.organization("Globex Systems Ltd", country="GB", program=referral)
    manager = factories.user(Role.CHANNEL_MANAGER, email="manager@vendor.example")
    factories.assign_manager(manager, org_a)
    world = World(
        reseller=reseller,
        referral=referral,
        org_a=org_a,
        org_b=org_b,
        admin_a=factories.user(Role.PARTNER_ADMIN, org_a, email="admin@acme.example"),
        user_a=factories.user(Role.PARTNER_USER, org_a, email="user@acme.example"),
        admin_b=factories.user(Role.PARTNER_ADMIN, org_b, email="admin@globex.example"),
        user_b=factories.user(Role.PARTNER_USER, org_b, email="user@globex.example"),
        manager=manager,
        vendor_admin=factories.user(Role.VENDOR_ADMIN, email="admin@vendor.example"),
    )
    db.session.commit()
    return world


def _names(plugins: str | Iterable[str]) -> list[str]:
    return [plugins] if isinstance(plugins, str) else list(plugins)


def switch_on(plugins: str | Iterable[str], *programs: Program, commit: bool = True) -> None:
    """Switch plugins on for programs (what a vendor admin does in the admin UI)."""
    for name in _names(plugins):
        for program in programs:
            if db.session.get(ProgramPlugin, (program.id, name)) is None:
                db.session.add(ProgramPlugin(program_id=program.id, plugin=name))
    db.session.flush()
    if commit:
        db.session.commit()


def switch_off(plugins: str | Iterable[str], *programs: Program, commit: bool = True) -> None:
    """Switch plugins off for the given programs, or for every program when none
    is given. Their data stays."""
    for name in _names(plugins):
        stmt = sa.delete(ProgramPlugin).where(ProgramPlugin.plugin == name)
        if programs:
            stmt = stmt.where(ProgramPlugin.program_id.in_([p.id for p in programs]))
        db.session.execute(stmt)
    db.session.flush()
    if commit:
        db.session.commit()
