"""The deal registration tables (all prefixed ``deals_``).

* :class:`DealProduct` — the catalogue the vendor maintains;
* :class:`DealRules` — the rules of engagement of one program;
* :class:`DealRegistration` — one partner's opportunity, with its state;
* :class:`DealClaim` — the protection an approved registration holds, one row per
  (customer key, product), unique: two registrations can never both protect the
  same customer for the same product, whatever the timing;
* :class:`DealHistory`, :class:`DealComment`, :class:`DealAttachment`;
* :class:`DealStaffNote` — vendor staff's internal notes, never shown to partners.

Registrations are read through :mod:`portal_deals.queries`, which scopes them to
what the user may see.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import Organization, Program, User
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal_deals.i18n import _l

NAME_MAX = 200
TEXT_MAX = 5000
REASON_MAX = 1000
STAFF_NOTE_MAX = 2000


class DealStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    MORE_INFO = "more_info"
    APPROVED = "approved"
    REJECTED = "rejected"
    WON = "won"
    LOST = "lost"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    DealStatus.DRAFT: _l("Draft"),
    DealStatus.SUBMITTED: _l("Submitted"),
    DealStatus.MORE_INFO: _l("More information needed"),
    DealStatus.APPROVED: _l("Protected"),
    DealStatus.REJECTED: _l("Rejected"),
    DealStatus.WON: _l("Won"),
    DealStatus.LOST: _l("Lost"),
    DealStatus.EXPIRED: _l("Expired"),
    DealStatus.WITHDRAWN: _l("Withdrawn"),
}

#: The states in which a registration still claims its customer (conflicts count).
ACTIVE = (DealStatus.SUBMITTED, DealStatus.MORE_INFO, DealStatus.APPROVED)
#: The states a partner may still change their mind in (withdraw).
OPEN = (DealStatus.DRAFT, DealStatus.SUBMITTED, DealStatus.MORE_INFO, DealStatus.APPROVED)
#: The states in which the person who attached a file may still delete it (vendor
#: staff who review the registration may delete any attachment in any state).
ATTACHMENTS_REMOVABLE = (DealStatus.DRAFT, DealStatus.SUBMITTED, DealStatus.MORE_INFO)
CLOSED = (DealStatus.REJECTED, DealStatus.WON, DealStatus.LOST, DealStatus.EXPIRED,
          DealStatus.WITHDRAWN)


class DealProduct(db.Model):
    """A product partners can register deals for (the vendor's catalogue)."""

    __tablename__ = "deals_product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def audit_state(self) -> dict[str, object]:
        return {"sku": self.sku, "name": self.name, "active": self.active}


class DealRules(db.Model):
    """A program's rules of engagement. A program without a row uses the defaults."""

    __tablename__ = "deals_rules"

    program_id: Mapped[int] = mapped_column(
        sa.ForeignKey("program.id", ondelete="CASCADE"), primary_key=True
    )
    protection_days: Mapped[int] = mapped_column(default=90)
    max_extensions: Mapped[int] = mapped_column(default=1)
    extension_days: Mapped[int] = mapped_column(default=30)
    #: Tiers whose partners' registrations are approved at once when nothing conflicts.
    auto_approve_tier_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    #: Optional fields this program requires (see ``forms.OPTIONAL_FIELDS``).
    required_fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Extra fields: [{"key": "partner_role", "label": "Your role", "required": true}]
    extra_fields: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {
            "program_id": self.program_id,
            "protection_days": self.protection_days,
            "max_extensions": self.max_extensions,
            "extension_days": self.extension_days,
            "auto_approve_tier_ids": list(self.auto_approve_tier_ids or []),
            "required_fields": list(self.required_fields or []),
            "extra_fields": list(self.extra_fields or []),
        }


registration_product = sa.Table(
    "deals_registration_product",
    db.metadata,
    sa.Column("registration_id", sa.ForeignKey("deals_registration.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("product_id", sa.ForeignKey("deals_product.id", ondelete="RESTRICT"),
              primary_key=True, index=True),
)


def effective_status(status: DealStatus, expires_at: datetime | None,
                     now: datetime | None = None) -> DealStatus:
    """The status as read now: an approved registration whose protection period is
    over reads as expired even before ``portal deals expire`` ran."""
    if status is DealStatus.APPROVED and expires_at is not None and expires_at <= (now or utcnow()):
        return DealStatus.EXPIRED
    return status


def waiting_days(submitted_at: datetime | None, now: datetime | None = None) -> int:
    """Days since a registration was submitted (the review queue's age)."""
    if submitted_at is None:
        return 0
    return max(0, ((now or utcnow()) - submitted_at).days)


class DealRegistration(db.Model):
    """A partner's registered opportunity."""

    __tablename__ = "deals_registration"
    __table_args__ = (
        # The partner's list (and its counts) within one organization, by state.
        sa.Index("ix_deals_registration_org_status_updated", "organization_id", "status", "updated_at"),
        sa.Index("ix_deals_registration_org_updated", "organization_id", "updated_at"),
        # Vendor staff's list across organizations, newest changes first.
        sa.Index("ix_deals_registration_updated", "updated_at"),
        # The review queue: oldest first, within a state (vendor admins) or per
        # organization in a manager's reach.
        sa.Index("ix_deals_registration_status_submitted", "status", "submitted_at"),
        sa.Index("ix_deals_registration_org_status_submitted", "organization_id", "status", "submitted_at"),
        # Won value per organization over a period (dashboard, tier metric).
        sa.Index("ix_deals_registration_org_status_closed", "organization_id", "status", "closed_at",
                 "final_value_reporting"),
        # Expiry and reminders: protected registrations by end of protection.
        sa.Index("ix_deals_registration_status_expires", "status", "expires_at"),
        # Extension requests waiting for a decision (few rows carry a value).
        sa.Index("ix_deals_registration_extension_requested", "extension_requested_at"),
        # Conflict candidates: the same customer by name, stem or domain.
        sa.Index("ix_deals_registration_customer_key", "customer_key", "status"),
        sa.Index("ix_deals_registration_customer_stem", "customer_stem", "status"),
        sa.Index("ix_deals_registration_customer_domain", "customer_domain", "status"),
        sa.Index("ix_deals_registration_domain_label", "domain_label", "status"),
        sa.CheckConstraint("value > 0", name="value_positive"),
        sa.CheckConstraint("extensions_used >= 0", name="extensions_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("program.id", ondelete="RESTRICT"),
                                            index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[DealStatus] = mapped_column(enum_column(DealStatus), default=DealStatus.DRAFT)

    # The end customer, as entered and normalized for conflict detection.
    customer_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    customer_key: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    customer_stem: Mapped[str] = mapped_column(sa.String(16))
    customer_website: Mapped[str | None] = mapped_column(sa.String(300))
    customer_domain: Mapped[str | None] = mapped_column(sa.String(253))
    domain_label: Mapped[str | None] = mapped_column(sa.String(63))
    customer_country: Mapped[str] = mapped_column(sa.String(2))
    customer_industry: Mapped[str | None] = mapped_column(sa.String(40))
    contact_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))

    value: Mapped[Decimal] = mapped_column(sa.Numeric(16, 2))
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: ``value`` in the deployment's reporting currency (None: no rate known).
    value_reporting: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    expected_close: Mapped[date] = mapped_column(sa.Date)
    description: Mapped[str | None] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    protected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extensions_used: Mapped[int] = mapped_column(default=0)
    extension_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_reason: Mapped[str | None] = mapped_column(sa.Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    final_value_reporting: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 2))
    lost_reason: Mapped[str | None] = mapped_column(sa.String(40))
    #: The reviewer's reason (rejection), question (more information) or the
    #: partner's note (lost, withdrawn): the latest one; the history keeps all.
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: The strongest conflict found when it was submitted (None: none found).
    conflict_score: Mapped[int | None]

    organization: Mapped[Organization] = relationship()
    program: Mapped[Program] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    products: Mapped[list[DealProduct]] = relationship(
        secondary=registration_product, order_by="DealProduct.name"
    )

    # -- state as read now -------------------------------------------------------
    @property
    def lapsed(self) -> bool:
        """Approved, but its protection period is over (the expiry command may not
        have run yet): shown and treated as expired."""
        return effective_status(self.status, self.expires_at) is not self.status

    @property
    def effective_status(self) -> DealStatus:
        return effective_status(self.status, self.expires_at)

    @property
    def is_protected(self) -> bool:
        return self.effective_status is DealStatus.APPROVED

    @property
    def waiting_days(self) -> int:
        """Days since it was submitted (the review queue's age)."""
        return waiting_days(self.submitted_at)

    @property
    def product_ids(self) -> set[int]:
        return {product.id for product in self.products}

    def audit_state(self) -> dict[str, object]:
        return {
            "status": self.status.value if self.status else None,
            "customer_name": self.customer_name,
            "customer_website": self.customer_website,
            "customer_country": self.customer_country,
            "customer_industry": self.customer_industry,
            "contact_name": self.contact_name,
            "contact_email": self.contact_email,
            "contact_phone": self.contact_phone,
            "products": sorted(p.sku for p in self.products),
            "value": str(self.value) if self.value is not None else None,
            "currency": self.currency,
            "expected_close": self.expected_close.isoformat() if self.expected_close else None,
            "program_id": self.program_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "extensions_used": self.extensions_used,
            "final_value": str(self.final_value) if self.final_value is not None else None,
            "lost_reason": self.lost_reason,
            "note": self.note,
        }

    def __repr__(self) -> str:
        return f"<DealRegistration {self.id} {self.customer_name!r} {self.status.value}>"


class DealClaim(db.Model):
    """The protection an approved registration holds: one row per customer key
    (``name:<key>`` or ``domain:<domain>``) and product. The primary key makes the
    database refuse a second protection of the same customer and product."""

    __tablename__ = "deals_claim"

    key: Mapped[str] = mapped_column(sa.String(260), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_product.id", ondelete="CASCADE"), primary_key=True
    )
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_registration.id", ondelete="CASCADE"), index=True
    )


class DealHistory(db.Model):
    """One step of a registration's life, shown on its page."""

    __tablename__ = "deals_history"
    __table_args__ = (sa.Index("ix_deals_history_registration_at", "registration_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_registration.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    note: Mapped[str | None] = mapped_column(sa.Text)

    actor: Mapped[User | None] = relationship()


class DealComment(db.Model):
    """A message between the partner and the channel team about a registration."""

    __tablename__ = "deals_comment"
    __table_args__ = (sa.Index("ix_deals_comment_registration_created", "registration_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_registration.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {"registration_id": self.registration_id, "body": self.body}


class DealAttachment(db.Model):
    """A file attached to a registration, stored under ``<uploads>/deals/``."""

    __tablename__ = "deals_attachment"
    __table_args__ = (sa.Index("ix_deals_attachment_registration", "registration_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_registration.id", ondelete="CASCADE")
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {"registration_id": self.registration_id, "filename": self.filename,
                "content_type": self.content_type, "size": self.size}


class DealStaffNote(db.Model):
    """An internal note of vendor staff about a registration. Partners never see
    it: not on the page, in the export, in search, in notifications or the history."""

    __tablename__ = "deals_staff_note"
    __table_args__ = (sa.Index("ix_deals_staff_note_registration_created", "registration_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("deals_registration.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its author last changed it (None: never edited).
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {"registration_id": self.registration_id, "body": self.body}
