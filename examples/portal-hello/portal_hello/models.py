"""The plugin's table: greetings, each owned by one partner organization.

Tables carry the plugin's prefix (``hello_``). Rows are read through
``portal.scoping`` so a partner only ever sees its own organization's.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models import Organization, User
from portal.models.types import UTCDateTime, utcnow

MESSAGE_MAX = 280


class HelloGreeting(db.Model):
    """A short message a partner posts. ``author`` is None for the welcome
    greetings the plugin writes itself when someone joins."""

    __tablename__ = "hello_greeting"
    # The page lists one organization's newest greetings first.
    __table_args__ = (sa.Index("ix_hello_greeting_organization_created", "organization_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organization.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.String(MESSAGE_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    organization: Mapped[Organization] = relationship()
    author: Mapped[User | None] = relationship()

    def audit_state(self) -> dict[str, object]:
        return {"message": self.message, "author_id": self.author_id}
