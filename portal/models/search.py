"""The search index's to-do list: documents changed since the index last saw them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class SearchQueueEntry(db.Model):
    """One changed document id (``"resource_page:12"``), written in the same
    transaction as the change itself, so a committed change is never lost to the
    index, and removed only after the index has committed it."""

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
