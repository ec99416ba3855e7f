"""Rules of engagement per program, and the deployment's money settings.

A program without a :class:`DealRules` row uses :data:`DEFAULTS`. Currencies: a
registration may be in the reporting currency or in any currency the
``exchange_rates`` setting gives a rate for (``USD=0.92`` : one US dollar is 0.92
of the reporting currency), so every value can also be summed in one currency
(dashboard, tier metric).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from babel.numbers import list_currencies

from portal.extensions import db
from portal.models import Membership, utcnow
from portal.plugins import setting
from portal_deals.models import DealRules

NAME = "deals"


@dataclass(frozen=True)
class Rules:
    """The rules of one program as the code reads them (a row, or the defaults)."""

    program_id: int | None = None
    protection_days: int = 90
    max_extensions: int = 1
    extension_days: int = 30
    auto_approve_tier_ids: frozenset[int] = frozenset()
    required_fields: frozenset[str] = frozenset()
    extra_fields: tuple[dict[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, row: DealRules) -> Rules:
        return cls(
            program_id=row.program_id,
            protection_days=row.protection_days,
            max_extensions=row.max_extensions,
            extension_days=row.extension_days,
            auto_approve_tier_ids=frozenset(int(t) for t in row.auto_approve_tier_ids or ()),
            required_fields=frozenset(row.required_fields or ()),
            extra_fields=tuple(row.extra_fields or ()),
        )


DEFAULTS = Rules()
#: Limits a vendor admin can set (and the form checks).
MAX_PROTECTION_DAYS = 730
MAX_EXTENSIONS = 10
MAX_EXTENSION_DAYS = 365
MAX_EXTRA_FIELDS = 10


def rules_for(program_id: int) -> Rules:
    row = db.session.get(DealRules, program_id)
    return Rules.of(row) if row is not None else Rules(program_id=program_id)


def tier_of(organization_id: int, program_id: int) -> int | None:
    """The organization's current tier in the program (None: not a member now)."""
    today = utcnow().date()
    return db.session.scalar(
        sa.select(Membership.tier_id).where(
            Membership.organization_id == organization_id,
            Membership.program_id == program_id,
            sa.or_(Membership.until.is_(None), Membership.until >= today),
        )
    )


# -- money -------------------------------------------------------------------------

_RATE = re.compile(r"([A-Za-z]{3})\s*=\s*([0-9]+(?:\.[0-9]+)?)")
CENT = Decimal("0.01")


def reporting_currency() -> str:
    code = str(setting(NAME, "reporting_currency") or "EUR").strip().upper()
    return code if code in list_currencies() else "EUR"


def exchange_rates() -> dict[str, Decimal]:
    """Currency → value of one unit in the reporting currency (the reporting
    currency itself is 1). Entries Babel does not know as currencies are ignored."""
    known = list_currencies()
    rates = {reporting_currency(): Decimal(1)}
    for code, rate in _RATE.findall(str(setting(NAME, "exchange_rates") or "")):
        code = code.upper()
        try:
            value = Decimal(rate)
        except InvalidOperation:
            continue
        if code in known and value > 0:
            rates.setdefault(code, value)
    return rates


def accepted_currencies() -> list[str]:
    """The reporting currency first, then the others by code."""
    rates = exchange_rates()
    first = reporting_currency()
    return [first, *sorted(code for code in rates if code != first)]


def in_reporting_currency(amount: Decimal | None, currency: str) -> Decimal | None:
    if amount is None:
        return None
    rate = exchange_rates().get(currency)
    if rate is None:
        return None
    return (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
