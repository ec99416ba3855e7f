"""The shared column types (portal.models.types)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.models.types import UTCDateTime


def _general_way(dialect: sa.engine.Dialect, text_or_value: object) -> object:
    """What the type decorator's generic processing gives: the dialect's own
    parsing, then ``process_result_value``."""
    impl = UTCDateTime().dialect_impl(dialect).impl_instance
    parse = impl.result_processor(dialect, None)
    parsed = parse(text_or_value) if parse else text_or_value
    return UTCDateTime().process_result_value(parsed, dialect)


@pytest.mark.parametrize("text", [
    "2026-03-04 05:06:07.000008",  # as the portal writes it
    "2026-03-04 05:06:07",  # CURRENT_TIMESTAMP
    "2026-03-04T05:06:07.123456",
    "2026-03-04 05:06:07.5",
    "2026-03-04 05:06:07+02:00",  # another writer's offset: dropped, as before
    "2026-03-04",
])
def test_sqlite_text_reads_as_the_general_way_gives_it(text):
    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    fast = process(text)
    assert fast == _general_way(dialect, text)
    assert fast.tzinfo is timezone.utc
    assert process(None) is None


def test_driver_datetimes_get_the_utc_offset():
    dialect = postgresql.dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    naive = datetime(2026, 3, 4, 5, 6, 7, 8)
    assert process(naive) == naive.replace(tzinfo=timezone.utc) == _general_way(dialect, naive)
    assert process(None) is None


def test_a_round_trip_through_the_database_keeps_the_instant(app):
    table = sa.Table("test_utc_round_trip", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("at", UTCDateTime()))
    moment = datetime(2026, 3, 4, 7, 6, 7, 8, tzinfo=timezone(timedelta(hours=2)))
    with db.engine.begin() as connection:
        table.create(connection)
        try:
            connection.execute(table.insert(), [{"id": 1, "at": moment}, {"id": 2, "at": None}])
            rows = connection.execute(sa.select(table.c.at).order_by(table.c.id)).scalars().all()
        finally:
            table.drop(connection)
    assert rows[0] == moment and rows[0].tzinfo is timezone.utc
    assert rows[0].hour == 5
    assert rows[1] is None


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
