"""Column types shared by the core and plugin models."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """What :meth:`process_result_value` gives, in one step per value.

        A list page reads a few datetimes a row. Run as a type decorator does it,
        each is parsed (SQLite keeps text), handed on through two Python calls and
        copied by ``replace(tzinfo=…)``, which alone costs five times a parse. On
        SQLite the stored text is read with its UTC offset instead; text in
        another form (written outside the portal) goes the general way.
        """
        parse = self.impl_instance.result_processor(dialect, coltype)
        if parse is None:  # the driver returns datetimes (PostgreSQL: naive, in UTC)
            return _utc_datetime
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                found = _from_iso(value + "+00:00")
                if found.tzinfo is not None:  # a date alone would come back naive
                    return found
            except (TypeError, ValueError):  # not the portal's own text
                pass
            parsed = parse(value)
            return None if parsed is None else parsed.replace(tzinfo=timezone.utc)

        return process


_from_iso = datetime.fromisoformat


def _utc_datetime(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=timezone.utc)


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """A portable enum stored as its value in a VARCHAR with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda e: [member.value for member in e],
        name=enum_cls.__name__.lower(),
    )
