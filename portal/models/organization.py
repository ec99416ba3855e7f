"""Partner organizations and the vendor staff who manage them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.program import Membership
    from portal.models.user import User


class PartnerType(enum.Enum):
    RESELLER = "reseller"
    REFERRAL = "referral"
    TECHNOLOGY = "technology"
    SERVICE_PROVIDER = "service_provider"

    @property
    def label(self) -> str:
        return str(PARTNER_TYPE_LABELS[self])


PARTNER_TYPE_LABELS = {
    PartnerType.RESELLER: _l("Reseller"),
    PartnerType.REFERRAL: _l("Referral partner"),
    PartnerType.TECHNOLOGY: _l("Technology partner"),
    PartnerType.SERVICE_PROVIDER: _l("Service provider"),
}


class OrganizationStatus(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return str(ORGANIZATION_STATUS_LABELS[self])


ORGANIZATION_STATUS_LABELS = {
    OrganizationStatus.ACTIVE: _l("Active"),
    OrganizationStatus.SUSPENDED: _l("Suspended"),
}


class Organization(db.Model):
    """A partner company. The vendor itself is not an organization."""

    __tablename__ = "organization"
    # The organization list's "country" order (the name order uses name_key's index).
    __table_args__ = (sa.Index("ix_organization_country_name_key", "country", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Lower-cased name: one partner company, one organization.
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    website: Mapped[str | None] = mapped_column(sa.String(300))
    country: Mapped[str] = mapped_column(sa.String(2))
    partner_type: Mapped[PartnerType] = mapped_column(enum_column(PartnerType))
    status: Mapped[OrganizationStatus] = mapped_column(
        enum_column(OrganizationStatus), default=OrganizationStatus.ACTIVE, index=True
    )
    description: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )
    managers: Mapped[list[User]] = relationship(
        secondary="manager_assignment", back_populates="managed_organizations", viewonly=True
    )

    @staticmethod
    def key_for(name: str) -> str:
        return " ".join(name.casefold().split())

    def set_name(self, name: str) -> None:
        self.name = " ".join(name.split())
        self.name_key = self.key_for(name)

    @property
    def is_active(self) -> bool:
        return self.status is OrganizationStatus.ACTIVE

    def audit_state(self) -> dict[str, object]:
        return {
            "name": self.name,
            "website": self.website,
            "country": self.country,
            "partner_type": self.partner_type.value if self.partner_type else None,
            "status": self.status.value if self.status else None,
            "description": self.description,
            "phone": self.phone,
        }

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"


class ManagerAssignment(db.Model):
    """Which channel managers look after which partner organizations."""

    __tablename__ = "manager_assignment"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
