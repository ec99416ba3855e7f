"""The deployment's branding, edited by vendor admins (one row, id 1)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class Branding(db.Model):
    """Portal name, logo, favicon and colours overriding the theme (None: the theme's)."""

    __tablename__ = "branding"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_name: Mapped[str | None] = mapped_column(sa.String(80))
    # Random file names under <instance>/uploads/branding/
    logo: Mapped[str | None] = mapped_column(sa.String(64))
    favicon: Mapped[str | None] = mapped_column(sa.String(64))
    primary_color: Mapped[str | None] = mapped_column(sa.String(7))
    accent_color: Mapped[str | None] = mapped_column(sa.String(7))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    def audit_state(self) -> dict[str, object]:
        return {
            "portal_name": self.portal_name,
            "logo": self.logo,
            "favicon": self.favicon,
            "primary_color": self.primary_color,
            "accent_color": self.accent_color,
        }
