"""Read-side queries about one partner organization, shared by the profile, the
team page and the partner dashboard. Each is a single statement whose cost does
not grow with the total data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal import settings_cache
from portal.extensions import db
from portal.statements import run
from portal.models import ManagerAssignment, Membership, Program, Role, Tier, User


class ProgramRef(NamedTuple):
    id: int
    name: str
    slug: str


class TierRef(NamedTuple):
    id: int
    name: str
    rank: int


@dataclass(frozen=True)
class MembershipView:
    """A membership as the partner sees it: program, tier and the tier to reach next
    (plain values, no ORM objects: kept between requests, see below)."""

    program: ProgramRef
    tier: TierRef
    since: date
    until: date | None
    next_tier_name: str | None


def memberships(organization_id: int) -> list[MembershipView]:
    """The organization's current memberships, with each program's next tier name
    (kept per worker until settings change: memberships, programs and tiers are
    watched tables)."""
    today = date.today()
    return list(settings_cache.cached("organization.memberships", (organization_id, today),
                                      lambda: _read_memberships(organization_id, today)))


def _read_memberships(organization_id: int, today: date) -> tuple[MembershipView, ...]:
    next_tier = aliased(Tier)
    next_tier_name = (
        sa.select(next_tier.name)
        .where(next_tier.program_id == Membership.program_id, next_tier.rank > Tier.rank)
        .order_by(next_tier.rank)
        .limit(1)
        .correlate(Membership, Tier)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Program.id, Program.name, Program.slug, Tier.id, Tier.name, Tier.rank,
                  Membership.since, Membership.until, next_tier_name)
        .join(Program, Membership.program_id == Program.id)
        .join(Tier, Membership.tier_id == Tier.id)
        .where(
            Membership.organization_id == organization_id,
            sa.or_(Membership.until.is_(None), Membership.until >= today),
        )
        .order_by(Program.name)
    ).all()
    return tuple(
        MembershipView(program=ProgramRef(*row[0:3]), tier=TierRef(*row[3:6]), since=row[6],
                       until=row[7], next_tier_name=row[8])
        for row in rows
    )


def contacts(organization_id: int) -> list[User]:
    """The active channel managers assigned to the organization ("your contacts")."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(ManagerAssignment, ManagerAssignment.user_id == User.id)
            .where(ManagerAssignment.organization_id == organization_id, User.active.is_(True))
            .order_by(User.name)
        )
    )


def team_size(organization_id: int) -> int:
    """How many active people the organization has on the portal."""
    return run(_TEAM_SIZE, {"organization_id": organization_id}).scalar() or 0


# Built once (the onboarding checklist asks on every partner home page).
_TEAM_SIZE = sa.select(sa.func.count(User.id)).where(
    User.organization_id == sa.bindparam("organization_id"), User.active.is_(True)
)


def active_admin_count(organization_id: int, *, excluding: int | None = None) -> int:
    """Active partner admins of the organization (optionally not counting one user)."""
    stmt = sa.select(sa.func.count(User.id)).where(
        User.organization_id == organization_id,
        User.role == Role.PARTNER_ADMIN,
        User.active.is_(True),
    )
    if excluding is not None:
        stmt = stmt.where(User.id != excluding)
    return db.session.scalar(stmt) or 0
