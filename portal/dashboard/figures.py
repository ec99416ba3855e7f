"""The vendor staff's home page figures. Each figure is one aggregate query scoped
to the viewer's reach (a channel manager counts only the organizations assigned
to them), so the page costs the same with ten partners or ten thousand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    AuditEntry,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerApplication,
    Program,
    User,
    utcnow,
)
from portal.scoping import organization_filter, scoped

RECENT_AUDIT_ENTRIES = 10
RECENTLY_ACTIVE_DAYS = 30


@dataclass(frozen=True)
class UserFigures:
    active: int  # accounts that may log in
    recently_active: int  # of those, logged in within RECENTLY_ACTIVE_DAYS


def organizations_by_status(user: User) -> list[tuple[OrganizationStatus, int]]:
    """How many organizations the user reaches, per status (every status listed)."""
    rows = db.session.execute(
        scoped(
            sa.select(Organization.status, sa.func.count(Organization.id)), Organization, user
        ).group_by(Organization.status)
    ).all()
    counts = dict(rows)
    return [(status, counts.get(status, 0)) for status in OrganizationStatus]


def pending_applications() -> int:
    """Applications waiting for review. They belong to no organization yet, and every
    staff member may review them, so the figure is the same for all staff."""
    return db.session.scalar(
        sa.select(sa.func.count(PartnerApplication.id)).where(
            PartnerApplication.status == ApplicationStatus.PENDING
        )
    ) or 0


def users(user: User) -> UserFigures:
    """Active accounts in the user's reach, and how many of them logged in lately."""
    since = utcnow() - timedelta(days=RECENTLY_ACTIVE_DAYS)
    active, recent = db.session.execute(
        scoped(
            sa.select(
                sa.func.count(User.id),
                sa.func.count(User.id).filter(User.last_login_at >= since),
            ).where(User.active.is_(True)),
            User,
            user,
        )
    ).one()
    return UserFigures(active=active or 0, recently_active=recent or 0)


def organizations_per_program(user: User) -> list[tuple[Program, int]]:
    """Every active program with the number of organizations (in reach) currently in it."""
    today = date.today()
    joined = sa.and_(
        Membership.program_id == Program.id,
        sa.or_(Membership.until.is_(None), Membership.until >= today),
        # In the join, not in WHERE: programs with no member in reach still show 0.
        organization_filter(user, Membership.organization_id),
    )
    rows = db.session.execute(
        # One membership per organization and program (a unique constraint), so
        # counting memberships counts organizations, without a DISTINCT sort.
        sa.select(Program, sa.func.count(Membership.id))
        .outerjoin(Membership, joined)
        .where(Program.active.is_(True))
        .group_by(Program.id)
        .order_by(Program.name)
    ).all()
    return [(program, count) for program, count in rows]


def recent_audit_entries(user: User, limit: int = RECENT_AUDIT_ENTRIES) -> list[AuditEntry]:
    """The latest audit entries the user may see."""
    return list(
        db.session.scalars(
            scoped(sa.select(AuditEntry), AuditEntry, user, walk=True)
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
