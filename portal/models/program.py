"""Partner programs, their ordered tiers, and organizations' memberships."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from portal.models.organization import Organization


class Program(db.Model):
    """A partner program the vendor runs (Reseller, Referral, Technology Alliance…)."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # Whether the public application form offers this program.
    accepts_applications: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tiers: Mapped[list[Tier]] = relationship(
        back_populates="program", order_by="Tier.rank", cascade="all, delete-orphan"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="program")

    @property
    def entry_tier(self) -> Tier | None:
        """The lowest tier: where an approved applicant starts."""
        return self.tiers[0] if self.tiers else None

    def audit_state(self) -> dict[str, object]:
        return {
            "name": self.name,
            "slug": self.slug,
            "description": self.description,
            "accepts_applications": self.accepts_applications,
            "active": self.active,
        }


class Tier(db.Model):
    """A level within a program. ``rank`` orders tiers: 1 is the entry tier."""

    __tablename__ = "tier"
    __table_args__ = (
        sa.UniqueConstraint("program_id", "rank"),
        sa.UniqueConstraint("program_id", "name"),
        sa.CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80))
    rank: Mapped[int]
    description: Mapped[str | None] = mapped_column(sa.Text)
    # Requirements measured by tier metrics, e.g. {"certified_people": 2}.
    requirements: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    program: Mapped[Program] = relationship(back_populates="tiers")

    def audit_state(self) -> dict[str, object]:
        return {
            "program_id": self.program_id,
            "name": self.name,
            "rank": self.rank,
            "description": self.description,
            "requirements": self.requirements,
        }


class Membership(db.Model):
    """An organization's place in a program, at a tier, since a date (until a date)."""

    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "program_id"),
        # Covers the member counts per program and per tier (programs page, staff
        # dashboard) without reading the table.
        sa.Index("ix_membership_program_tier", "program_id", "tier_id", "until", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="RESTRICT"), index=True
    )
    tier_id: Mapped[int] = mapped_column(sa.ForeignKey("tier.id", ondelete="RESTRICT"))
    since: Mapped[date] = mapped_column(sa.Date, default=date.today)
    until: Mapped[date | None] = mapped_column(sa.Date)

    organization: Mapped[Organization] = relationship(back_populates="memberships")
    program: Mapped[Program] = relationship(back_populates="memberships")
    tier: Mapped[Tier] = relationship()

    @property
    def is_current(self) -> bool:
        return self.until is None or self.until >= date.today()

    def audit_state(self) -> dict[str, object]:
        return {
            "organization_id": self.organization_id,
            "program_id": self.program_id,
            "tier_id": self.tier_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


class ProgramPlugin(db.Model):
    """A plugin switched on for a program (no row: off). Keyed by the plugin's
    name, so switching a plugin off or uninstalling it never touches its data."""

    __tablename__ = "program_plugin"

    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), primary_key=True
    )
    plugin: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
