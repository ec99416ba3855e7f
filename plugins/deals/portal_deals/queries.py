"""What the current user may see of deal registrations, and the read-side aggregates.

Every query a page, a widget, the export or search makes goes through
:func:`visible_registrations` (lists) or :func:`registration_or_404` (one), which
apply the portal's reach (:mod:`portal.scoping`) and one rule of this plugin:
drafts are the partner's own working copies, so vendor staff never see them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload

from portal import settings_cache
from portal.extensions import db
from portal.models import Membership, Organization, Program, ProgramPlugin, utcnow
from portal.scoping import bound_reach, reach_kind, reach_params, scoped, visible
from portal.statements import Criteria, records, run, shaped
from portal_deals.i18n import _l
from portal_deals.models import DealProduct, DealRegistration, DealStatus, registration_product

NAME = "deals"
#: Counts shown on lists and the dashboard stop here ("500+"): their cost stays
#: the same however many registrations pile up.
COUNT_CAP = 500


def visible_registrations(user: Any = None, *, walk: bool = False) -> sa.Select[Any]:
    """``SELECT DealRegistration`` limited to what ``user`` (default: current) may see."""
    user = user if user is not None else current_user
    stmt = visible(DealRegistration, user, walk=walk)
    if getattr(user, "is_staff", False):
        stmt = stmt.where(DealRegistration.status != DealStatus.DRAFT)
    return stmt


def scoped_registrations(stmt: sa.Select[Any], user: Any = None) -> sa.Select[Any]:
    """Any SELECT over registrations (a count, a sum) limited like :func:`visible_registrations`."""
    user = user if user is not None else current_user
    stmt = scoped(stmt, DealRegistration, user)
    if getattr(user, "is_staff", False):
        stmt = stmt.where(DealRegistration.status != DealStatus.DRAFT)
    return stmt


def registration_or_404(registration_id: int, user: Any = None) -> DealRegistration:
    """One registration the user may see, or 404 (never "exists but forbidden")."""
    registration = db.session.scalars(
        visible_registrations(user)
        .where(DealRegistration.id == registration_id)
        .options(selectinload(DealRegistration.products))
    ).first()
    if registration is None:
        abort(404)
    return registration


def status_condition(status: DealStatus, now: Any = None) -> sa.ColumnElement[bool]:
    """A WHERE clause for the status as a reader sees it: a protection that has run
    out is "expired" even before ``portal deals expire`` ran. ``now``: a time (default:
    the current one) or a bind parameter."""
    now = utcnow() if now is None else now
    column = DealRegistration.status
    if status is DealStatus.APPROVED:
        return sa.and_(column == DealStatus.APPROVED, DealRegistration.expires_at > now)
    if status is DealStatus.EXPIRED:
        return sa.or_(column == DealStatus.EXPIRED,
                      sa.and_(column == DealStatus.APPROVED, DealRegistration.expires_at <= now))
    return column == status


def not_lapsed(now: datetime | None = None) -> sa.ColumnElement[bool]:
    now = now or utcnow()
    return sa.or_(DealRegistration.status != DealStatus.APPROVED, DealRegistration.expires_at > now)


def capped_count(stmt: sa.Select[Any], cap: int = COUNT_CAP) -> int:
    """How many rows ``stmt`` selects, counting no further than ``cap`` (then ``cap``)."""
    return db.session.scalar(sa.select(_capped_count_subquery(stmt, cap))) or 0


def _capped_count_subquery(stmt: sa.Select[Any], cap: int = COUNT_CAP) -> sa.ScalarSelect[int]:
    limited = stmt.with_only_columns(sa.literal(1)).order_by(None).limit(cap).subquery()
    return sa.select(sa.func.count()).select_from(limited).scalar_subquery()


# -- list pages ----------------------------------------------------------------------

R = DealRegistration
#: What a list row shows of a registration (read as plain columns, no ORM objects).
LIST_COLUMNS = (R.id, R.organization_id, R.program_id, R.status, R.customer_name, R.value, R.currency,
                R.expected_close, R.expires_at, R.updated_at, R.submitted_at, R.conflict_score)


class ListPage(Pagination):
    """A page of a registrations list: rows of :data:`LIST_COLUMNS` (with the
    partner's and the program's names for staff), the count capped at :data:`COUNT_CAP`.

    The capped count rides along in the page's own query (an uncorrelated scalar
    subquery, which SQLite and PostgreSQL evaluate once); only a page past the end,
    which has no row to carry it, counts on its own.
    """

    _carried_total: int | None = None

    def _query_items(self) -> list[Any]:
        args = self._query_args
        # Plain columns, no ORM entities: the session's connection runs the kept statement.
        items = records(db.session.connection().execute(
            args["select"], {**args["params"], "limit": self.per_page, "offset": self._query_offset}
        ))
        if items:
            self._carried_total = items[0].capped_total
        return items

    def _query_count(self) -> int:
        if self._carried_total is not None:
            return self._carried_total
        counted = sa.select(_capped_count_subquery(self._query_args["rows"]()))
        return db.session.connection().execute(counted, self._query_args["params"]).scalar() or 0


def list_page(name: str, criteria: Criteria, sort: str, order: list[Any], page: int,
              per_page: int, user: Any = None) -> ListPage:
    """One page of the registrations ``user`` (default: current) may see that meet
    ``criteria``, sorted by ``sort`` (``order``: its ORDER BY columns), with each
    row's products and the capped count: one query.

    The statement is kept per list ``name``, shape of the criteria, reach and sort
    (:mod:`portal.statements`); this request's values are bound when it runs.
    """
    user = user if user is not None else current_user
    # The rows may walk the ORDER BY index and test each one's organization (a broad
    # reach), stopping at the page; the count starts from the organizations in reach
    # (see portal.scoping.organization_filter).
    walk, count = reach_kind(user, walk=True), reach_kind(user)
    staff = bool(getattr(user, "is_staff", False))

    def rows(kind: str = count) -> sa.Select[Any]:
        stmt = criteria.apply(sa.select(R)).where(bound_reach(kind, R.organization_id))
        if staff:  # drafts are the partner's own working copies
            stmt = stmt.where(R.status != DealStatus.DRAFT)
        return stmt

    select = shaped((name, criteria.shape, walk, count, staff, sort),
                    lambda: _list_statement(rows(walk), rows(count), order, staff=staff))
    return ListPage(page=page, per_page=per_page, max_per_page=per_page, error_out=False,
                    select=select, rows=rows, params={**criteria.params, **reach_params(user)})


def _list_statement(rows: sa.Select[Any], counted: sa.Select[Any], order: list[Any], *,
                    staff: bool) -> sa.Select[Any]:
    select = rows.with_only_columns(*LIST_COLUMNS, _PRODUCTS_LINE,
                                    _capped_count_subquery(counted).label("capped_total"))
    if staff:  # a partner's rows are all its own organization's
        select = (select.join(Organization, Organization.id == R.organization_id)
                  .join(Program, Program.id == R.program_id)
                  .add_columns(Organization.name.label("organization_name"),
                               Program.name.label("program_name")))
    return select.order_by(*order).limit(sa.bindparam("limit")).offset(sa.bindparam("offset"))


#: Between the names that :class:`names_list` joins (no product name holds it).
NAMES_SEPARATOR = "\x1f"


class names_list(sa.sql.functions.GenericFunction[str]):
    """``names_list(name)``: the names of a group in one string, joined by
    :data:`NAMES_SEPARATOR` in no particular order (an aggregate: ``string_agg``
    on PostgreSQL, ``group_concat`` elsewhere); :func:`names_line` sorts them."""

    type = sa.String()
    inherit_cache = True


@compiles(names_list, "postgresql")
def _names_list_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, chr(31))"


@compiles(names_list)
def _names_list_default(element: Any, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, char(31))"


def names_line(joined: str | None) -> str:
    """What :class:`names_list` returned, sorted and joined by ", "."""
    return ", ".join(sorted(joined.split(NAMES_SEPARATOR))) if joined else ""


#: The products of each row, by name, as one line: a correlated subquery on the
#: registration's links (its primary key's range), in the page's own query.
_PRODUCTS_LINE = (
    sa.select(names_list(DealProduct.name))
    .select_from(registration_product)
    .join(DealProduct, DealProduct.id == registration_product.c.product_id)
    .where(registration_product.c.registration_id == R.id)
    .correlate(R)
    .scalar_subquery()
    .label("products_line")
)


# -- programs ------------------------------------------------------------------------

class ProgramChoice(NamedTuple):
    id: int
    name: str


def programs_on() -> list[ProgramChoice]:
    """The programs the plugin is switched on for, by name (kept per worker until
    settings change: programs and program plugins are watched tables)."""
    return list(settings_cache.cached("deals.programs_on", None, _read_programs_on))


def _read_programs_on() -> tuple[ProgramChoice, ...]:
    return tuple(ProgramChoice(*row) for row in db.session.execute(
        sa.select(Program.id, Program.name)
        .join(ProgramPlugin, sa.and_(ProgramPlugin.program_id == Program.id, ProgramPlugin.plugin == NAME))
        .order_by(Program.name)
    ))


def eligible_programs(organization_id: int | None) -> list[Program]:
    """The programs an organization may register deals in: it is a current member
    and the plugin is on for the program."""
    if organization_id is None:
        return []
    today = utcnow().date()
    return list(db.session.scalars(
        sa.select(Program)
        .join(Membership, Membership.program_id == Program.id)
        .join(ProgramPlugin, sa.and_(ProgramPlugin.program_id == Program.id, ProgramPlugin.plugin == NAME))
        .where(
            Membership.organization_id == organization_id,
            sa.or_(Membership.until.is_(None), Membership.until >= today),
        )
        .order_by(Program.name)
    ))


# -- aggregates (dashboard, tier metric) --------------------------------------------

# The home page's statements are built once (with bind parameters) rather than for
# every request: building a SQLAlchemy statement costs more than running these.
R = DealRegistration
_OVER = (R.expires_at <= sa.bindparam("now")).label("over")
_PIPELINE = (sa.select(R.status, _OVER, sa.func.count())
             .where(R.organization_id == sa.bindparam("organization_id"))
             .group_by(R.status, _OVER))
_WON_SINCE = (sa.select(sa.func.coalesce(sa.func.sum(R.final_value_reporting), 0), sa.func.count())
              .where(R.organization_id == sa.bindparam("organization_id"), R.status == DealStatus.WON,
                     R.closed_at >= sa.bindparam("since")))


def pipeline(organization_id: int, now: datetime | None = None) -> dict[DealStatus, int]:
    """Registrations of one organization per state as read now (one grouped query):
    a protection whose period is over counts as expired."""
    rows = run(_PIPELINE, {"organization_id": organization_id, "now": now or utcnow()})
    found = {status: 0 for status in DealStatus}
    for status, over, count in rows:
        if status is DealStatus.APPROVED and over:
            status = DealStatus.EXPIRED
        found[status] += count
    return found


def quarter_start(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    month = 3 * ((now.month - 1) // 3) + 1
    return datetime(now.year, month, 1, tzinfo=timezone.utc)


def won_value(organization_id: int, since: datetime) -> tuple[Decimal, int]:
    """Won value (reporting currency) and number of deals won since ``since``."""
    total, count = run(_WON_SINCE, {"organization_id": organization_id, "since": since}).one()
    return Decimal(total or 0), int(count or 0)


def won_last_twelve_months(organization_id: int) -> tuple[Decimal, int]:
    return won_value(organization_id, utcnow() - timedelta(days=365))


def review_queue_condition() -> sa.ColumnElement[bool]:
    """What waits for a reviewer: submitted registrations and extension requests."""
    return sa.or_(
        DealRegistration.status == DealStatus.SUBMITTED,
        sa.and_(DealRegistration.status == DealStatus.APPROVED,
                DealRegistration.extension_requested_at.is_not(None)),
    )


#: Age buckets of the review queue chart: (from days, to days).
AGE_BUCKETS = ((0, 1), (1, 3), (3, 7), (7, None))
AGE_LABELS = (_l("Less than a day"), _l("1 to 3 days"), _l("3 to 7 days"), _l("More than a week"))


def queue_ages(user: Any, now: datetime | None = None) -> list[int]:
    """Submitted registrations in reach waiting 0–1, 1–3, 3–7 and 7+ days (capped counts)."""
    now = now or utcnow()
    counts = []
    for start, end in AGE_BUCKETS:
        stmt = scoped_registrations(sa.select(DealRegistration.id), user).where(
            DealRegistration.status == DealStatus.SUBMITTED,
            DealRegistration.submitted_at <= now - timedelta(days=start),
        )
        if end is not None:
            stmt = stmt.where(DealRegistration.submitted_at > now - timedelta(days=end))
        counts.append(capped_count(stmt))
    return counts


def has_registered(organization_id: int) -> bool:
    """Whether the organization has submitted a registration (drafts do not count)."""
    return bool(run(_HAS_REGISTERED, {"organization_id": organization_id}).scalar())


_HAS_REGISTERED = sa.select(sa.exists().where(
    DealRegistration.organization_id == sa.bindparam("organization_id"),
    DealRegistration.status != DealStatus.DRAFT,
))


