"""In-app notifications. The message is stored untranslated with its parameters and
rendered in the reader's language when shown.

A plugin's message is a msgid of its own translation domain: it says so with the
parameter ``"_domain": "<plugin>"`` (see :data:`DOMAIN_PARAM`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

#: The parameter naming the translation domain of a plugin's message.
DOMAIN_PARAM = "_domain"


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(sa.String(80))
    # A msgid marked with N_() where the notification is raised.
    message: Mapped[str] = mapped_column(sa.String(500))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    url: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def render(self) -> str:
        params = dict(self.params or {})
        domain = params.pop(DOMAIN_PARAM, None)
        if domain:
            from portal.plugin_i18n import domain as plugin_domain

            return plugin_domain(str(domain)).gettext(self.message, **params)
        return gettext(self.message, **params)
