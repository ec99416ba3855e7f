"""People: accounts, roles and invitations."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.organization import Organization


class Role(enum.Enum):
    PARTNER_USER = "partner_user"
    PARTNER_ADMIN = "partner_admin"
    CHANNEL_MANAGER = "channel_manager"
    VENDOR_ADMIN = "vendor_admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_partner(self) -> bool:
        return self in PARTNER_ROLES

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES


ROLE_LABELS = {
    Role.PARTNER_USER: _l("Partner user"),
    Role.PARTNER_ADMIN: _l("Partner administrator"),
    Role.CHANNEL_MANAGER: _l("Channel manager"),
    Role.VENDOR_ADMIN: _l("Vendor administrator"),
}
PARTNER_ROLES = frozenset({Role.PARTNER_USER, Role.PARTNER_ADMIN})
STAFF_ROLES = frozenset({Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN})


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(db.Model):
    """A person who logs in: a partner's employee or vendor staff.

    Partner users belong to exactly one organization; vendor staff to none.
    """

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "(role IN ('partner_user', 'partner_admin')) = (organization_id IS NOT NULL)",
            name="partner_has_organization",
        ),
        # Covers the staff dashboard's count of active and recently active users,
        # per organization in reach, without reading the table.
        sa.Index("ix_users_organization_active", "organization_id", "active", "last_login_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)  # the user list's order
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="RESTRICT"), index=True
    )
    job_title: Mapped[str | None] = mapped_column(sa.String(200))
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the login session id: rotating it ends every session of the user.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="users")
    managed_organizations: Mapped[list[Organization]] = relationship(
        secondary="manager_assignment", back_populates="managers", viewonly=True
    )

    # -- Flask-Login -------------------------------------------------------
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        """A deactivated user, or a user of a suspended organization, is locked out."""
        if not self.active:
            return False
        return self.organization is None or self.organization.is_active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    # -- passwords ---------------------------------------------------------
    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every existing login session and remember-me cookie."""
        self.session_token = new_session_token()

    # -- roles -------------------------------------------------------------
    @property
    def is_partner(self) -> bool:
        return self.role.is_partner

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_vendor_admin(self) -> bool:
        return self.role is Role.VENDOR_ADMIN

    def audit_state(self) -> dict[str, object]:
        return {
            "email": self.email,
            "name": self.name,
            "role": self.role.value,
            "organization_id": self.organization_id,
            "job_title": self.job_title,
            "locale": self.locale,
            "timezone": self.timezone,
            "active": self.active,
        }

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Invitation(db.Model):
    """An emailed invitation to create an account. Its link is signed, expires and
    can be used once."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    organization: Mapped[Organization | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "pending"
