"""Applications from companies that want to become partners."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.organization import PartnerType
from portal.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.organization import Organization
    from portal.models.program import Program
    from portal.models.user import User


class ApplicationStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(APPLICATION_STATUS_LABELS[self])


APPLICATION_STATUS_LABELS = {
    ApplicationStatus.PENDING: _l("Pending review"),
    ApplicationStatus.APPROVED: _l("Approved"),
    ApplicationStatus.REJECTED: _l("Rejected"),
}


class PartnerApplication(db.Model):
    """A "Become a partner" application, reviewed by vendor staff."""

    __tablename__ = "partner_application"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(sa.String(200))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    country: Mapped[str] = mapped_column(sa.String(2))
    partner_type: Mapped[PartnerType] = mapped_column(enum_column(PartnerType))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="RESTRICT"))
    contact_name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(254), index=True)
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    message: Mapped[str | None] = mapped_column(sa.Text)
    # The applicant's language at the time of applying: the decision email uses it.
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus), default=ApplicationStatus.PENDING, index=True
    )
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    program: Mapped[Program] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {
            "company_name": self.company_name,
            "contact_email": self.contact_email,
            "program_id": self.program_id,
            "status": self.status.value if self.status else None,
            "decision_reason": self.decision_reason,
            "organization_id": self.organization_id,
        }
