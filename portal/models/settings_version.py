"""One counter that every change to the portal's settings moves on (one row, id 1).

What a page reads on every request but changes only when staff change settings
(branding, the plugins on for an organization's programs) is kept in each worker
process and used for as long as this number has not moved. See
:mod:`portal.settings_cache`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class SettingsVersion(db.Model):
    __tablename__ = "settings_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), default=0)


# A schema made with create_all (tests, `portal db` on an empty database) gets its
# row at once; migration 0008 inserts it for an existing one.
sa.event.listen(
    SettingsVersion.__table__, "after_create",
    sa.DDL("INSERT INTO settings_version (id, value) VALUES (1, 0)"),
)
