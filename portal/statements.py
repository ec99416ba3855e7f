"""Statements built once per shape, run with the request's values bound.

A list page's query differs from one request to the next in its values (which
organization, which status, what time it is now) far more often than in its shape
(which filters are set, which sort). Building it with SQLAlchemy's operators on
every request costs more than running it: each ``column == value`` makes new
expression objects, the statement's cache key is worked out from them, and a
statement that is not the one SQLAlchemy compiled first has its result columns
matched up again. So the hot lists build their statement once per shape, with
``bindparam()`` where the values go, keep it for the process, and execute the same
object with the values as parameters.

    criteria = Criteria()
    if status:
        criteria.where(("status", status), lambda: Deal.status == status)
    if program_id is not None:
        criteria.where("program", lambda: Deal.program_id == bindparam("program"),
                       program=program_id)
    stmt = shaped(("deals.list", criteria.shape, sort),
                  lambda: criteria.apply(select(Deal)).order_by(...))
    db.session.connection().execute(stmt, criteria.params)

A condition's key must name everything its clause is built from except the bound
values: two requests with the same keys get the same statement. The bind
parameters carry no value of their own (SQLAlchemy then requires one at execution),
so a statement kept from one request can never run with another request's values.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

#: Shapes kept per process, at most (a bound, not a target: a list has a few dozen).
MAX_SHAPES = 2000

_SHAPES: dict[Hashable, Any] = {}


def shaped(key: Hashable, build: Callable[[], T]) -> T:
    """The statement kept for ``key``, built by ``build()`` the first time."""
    found = _SHAPES.get(key)
    if found is None:
        if len(_SHAPES) >= MAX_SHAPES:
            _SHAPES.clear()
        found = _SHAPES[key] = build()
    return found


@dataclass
class Criteria:
    """The WHERE conditions of one request: their keys (the shape) and bound values."""

    parts: list[tuple[Hashable, Callable[[], Any]]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def where(self, key: Hashable, clause: Callable[[], Any], **values: Any) -> None:
        """Add the condition ``clause()`` (called only when a statement is built),
        whose bind parameters get ``values``."""
        self.parts.append((key, clause))
        self.params.update(values)

    @property
    def shape(self) -> tuple[Hashable, ...]:
        return tuple(key for key, _ in self.parts)

    def apply(self, stmt: Any) -> Any:
        for _, clause in self.parts:
            stmt = stmt.where(clause())
        return stmt


def run(stmt: Any, params: dict[str, Any] | None = None) -> Any:
    """Run a Core statement (a kept one, typically) on the ORM session's connection
    and return its result.

    ``db.session.execute`` takes a Core SELECT through the ORM's execution layer as
    well (events, execution options, the result wrapped for ORM use): about as much
    work again as the statement itself on a hot page. Pending ORM changes are flushed
    first, as the session would, so the result sees them.
    """
    from portal.extensions import db

    session = db.session()
    session.flush()
    return session.connection().execute(stmt, params or {})


_RECORD_TYPES: dict[tuple[str, ...], type[tuple[Any, ...]]] = {}


def records(result: Any) -> list[Any]:
    """The rows of a Core result as named tuples of its column names.

    A SQLAlchemy ``Row`` read by attribute (``row.status``) first looks the name
    up on its class, which fails with an exception, before finding the column:
    about a microsecond a value, 15 values a row, 25 rows a page. A named tuple's
    fields are read at the cost of an index. One tuple type is made per set of
    column names, and kept.

    The names are the result's keys (SQLAlchemy already tells apart columns that
    share a name: ``name``, ``name_1``). A label that is not an identifier, or
    starts with ``_``, cannot be a field: ``ValueError`` names it.
    """
    keys = tuple(result.keys())
    kind = _RECORD_TYPES.get(keys)
    if kind is None:
        if len(_RECORD_TYPES) >= MAX_SHAPES:
            _RECORD_TYPES.clear()
        kind = _RECORD_TYPES[keys] = namedtuple("Record", keys)  # type: ignore[misc]
    new = tuple.__new__
    return [new(kind, row) for row in result.all()]
