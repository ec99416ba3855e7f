"""Dashboard widgets: the partner's pipeline and won value, the reviewer's queue.

Every figure is an aggregate query over indexed columns of one organization, or a
capped count (:data:`portal_deals.queries.COUNT_CAP`) of the reviewer's reach, so
the home page costs the same with ten or a hundred thousand registrations.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from flask import url_for
from flask_babel import format_decimal
from markupsafe import Markup

from portal import settings_cache
from portal.statements import run
from portal.templating import render_fragment
from portal.models import Membership, Program, Tier, utcnow
from portal_deals import charts, present, queries
from portal_deals.models import DealRegistration, DealStatus
from portal_deals.rules import reporting_currency

#: The pipeline chart's rows, in the order a deal lives them.
PIPELINE = (DealStatus.DRAFT, DealStatus.SUBMITTED, DealStatus.MORE_INFO, DealStatus.APPROVED,
            DealStatus.WON, DealStatus.LOST, DealStatus.EXPIRED)
MONTHS = 6
METRIC = "won_deal_value"


def _month_starts(now: datetime, count: int) -> list[datetime]:
    starts = []
    year, month = now.year, now.month
    for _ in range(count):
        starts.append(datetime(year, month, 1, tzinfo=timezone.utc))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(starts))


R = DealRegistration
_BUCKET = sa.case(*[(R.closed_at >= sa.bindparam(f"m{index}"), index) for index in reversed(range(12))],
                  else_=-1).label("bucket")
_WON_BY_MONTH = (sa.select(_BUCKET, sa.func.coalesce(sa.func.sum(R.final_value_reporting), 0),
                           sa.func.count())
                 .where(R.organization_id == sa.bindparam("organization_id"), R.status == DealStatus.WON,
                        R.closed_at >= sa.bindparam("m0"))
                 .group_by(_BUCKET))
_OWN_TIER = aliased(Tier)
_NEXT_TIERS = (sa.select(Program.name, Tier.name, Tier.requirements, Membership.program_id)
               .join(_OWN_TIER, _OWN_TIER.id == Membership.tier_id)
               .join(Tier, sa.and_(Tier.program_id == Membership.program_id, Tier.rank > _OWN_TIER.rank))
               .join(Program, Program.id == Membership.program_id)
               .where(Membership.organization_id == sa.bindparam("organization_id"),
                      sa.or_(Membership.until.is_(None), Membership.until >= sa.bindparam("today")))
               .order_by(Program.name, Tier.rank))


def won_by_month(organization_id: int, now: datetime | None = None) -> list[tuple[datetime, Decimal, int]]:
    """Won value and deals of each of the last twelve months, oldest first: one
    grouped query over the (organization, status, closed) index."""
    starts = _month_starts(now or utcnow(), 12)
    params: dict[str, Any] = {f"m{index}": start for index, start in enumerate(starts)}
    rows = run(_WON_BY_MONTH, {"organization_id": organization_id, **params})
    totals = {int(index): (Decimal(total or 0), int(count)) for index, total, count in rows}
    return [(start, *totals.get(index, (Decimal(0), 0))) for index, start in enumerate(starts)]


def next_requirements(organization_id: int) -> list[dict[str, Any]]:
    """For each current membership, the next tier that asks for won deal value (one
    query, kept per worker until settings change: memberships and tiers are watched)."""
    today = utcnow().date()
    found = settings_cache.cached("deals.next_requirements", (organization_id, today),
                                  lambda: _read_next_requirements(organization_id, today))
    return [dict(item) for item in found]


def _read_next_requirements(organization_id: int, today: Any) -> tuple[dict[str, Any], ...]:
    rows = run(_NEXT_TIERS, {"organization_id": organization_id, "today": today})
    found, done = [], set()
    for program, tier, requirements, program_id in rows:
        needed = (requirements or {}).get(METRIC)
        if needed and program_id not in done:
            done.add(program_id)
            found.append({"program": program, "tier": tier, "needed": Decimal(str(needed))})
    return tuple(found)


def partner_widget(user: Any) -> Markup:
    organization_id = user.organization_id
    currency = reporting_currency()
    pipeline = queries.pipeline(organization_id)
    fmt = present.formatter()
    labels = fmt.labels
    # One URL built, the others by its pattern (status values are plain words).
    base = url_for("deals.index", status="_")[:-1]
    rows = [(status.value, labels[status], pipeline[status], fmt.number(pipeline[status]),
             base + status.value) for status in PIPELINE]
    rows += [(status.value, labels[status], pipeline[status], fmt.number(pipeline[status]),
              base + status.value)
             for status in (DealStatus.REJECTED, DealStatus.WITHDRAWN) if pipeline[status]]
    months = won_by_month(organization_id)
    quarter = queries.quarter_start()
    quarter_value = sum((value for start, value, _n in months if start >= quarter), Decimal(0))
    quarter_count = sum(n for start, _v, n in months if start >= quarter)
    # The tier metric's own figure (a rolling 365 days, not calendar months).
    year_value, year_count = queries.won_last_twelve_months(organization_id)
    columns = charts.columns([(fmt.month(start.date()), value, fmt.money(value, currency))
                              for start, value, _n in months[-MONTHS:]])
    return render_fragment(
        "deals/_widget_partner.html", bars=charts.bars(rows), columns=columns,
        quarter_value=fmt.money(quarter_value, currency), quarter_count=quarter_count,
        year_value=fmt.money(year_value, currency), year_count=year_count,
        requirements=[{**r, "needed_display": fmt.money(r["needed"], currency),
                       "missing": fmt.money(max(Decimal(0), r["needed"] - year_value), currency),
                       "reached": year_value >= r["needed"]} for r in next_requirements(organization_id)],
        total=sum(pipeline.values()), chart_width=charts.WIDTH, chart_height=charts.HEIGHT,
    )


def staff_widget(user: Any) -> Markup:
    ages = queries.queue_ages(user)
    labels = queries.AGE_LABELS
    rows = [(f"age{index}", labels[index], count,
             format_decimal(count) + ("+" if count >= queries.COUNT_CAP else ""), None)
            for index, count in enumerate(ages)]
    waiting = queries.capped_count(queries.scoped_registrations(
        sa.select(DealRegistration.id), user).where(DealRegistration.status == DealStatus.SUBMITTED))
    extensions = queries.capped_count(queries.scoped_registrations(
        sa.select(DealRegistration.id), user).where(DealRegistration.status == DealStatus.APPROVED,
                                                    DealRegistration.extension_requested_at.is_not(None)))
    return render_fragment(
        "deals/_widget_staff.html", bars=charts.bars(rows), waiting=waiting, extensions=extensions,
        cap=queries.COUNT_CAP,
    )
