"""Read-side queries about one partner organization, shared by the profile, the
team page and the partner dashboard. Each is a single statement whose cost does
not grow with the total data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import ManagerAssignment, Membership, Program, Role, Tier, User


@dataclass(frozen=True)
class MembershipView:
    """A membership as the partner sees it: program, tier and the tier to reach next."""

    program: Program
    tier: Tier
    since: date
    until: date | None
    next_tier_name: str | None


def memberships(organization_id: int) -> list[MembershipView]:
    """The organization's current memberships, with each program's next tier name."""
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
        sa.select(Membership, Program, Tier, next_tier_name)
        .join(Program, Membership.program_id == Program.id)
        .join(Tier, Membership.tier_id == Tier.id)
        .where(
            Membership.organization_id == organization_id,
            sa.or_(Membership.until.is_(None), Membership.until >= date.today()),
        )
        .order_by(Program.name)
    ).all()
    return [
        MembershipView(program=program, tier=tier, since=m.since, until=m.until, next_tier_name=nxt)
        for m, program, tier, nxt in rows
    ]


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
    return db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.organization_id == organization_id, User.active.is_(True)
        )
    ) or 0


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
