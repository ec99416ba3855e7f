"""Plugin state the core keeps per deployment: the plugins' settings.

(Which plugin is on for which program is :class:`portal.models.ProgramPlugin`.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow


class PluginSetting(db.Model):
    """One stored value of a plugin's declared setting (no row: the declared default).

    Keyed by the plugin's name, like ``ProgramPlugin``: switching a plugin off or
    removing it from ``PLUGINS`` keeps its settings for when it comes back.
    """

    __tablename__ = "plugin_setting"

    plugin: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
