"""Rows of the lists, formatted once per request.

A list page shows 25 rows with a value and three dates each. Formatting them in
the template with Flask-Babel's filters looks the locale and the time zone up
again for every value; here they are read once per request and Babel formats
directly, and each status label is translated once. Same output, a fraction of
the cost: the lists stay cheap however they are filtered.
"""

from __future__ import annotations

from functools import lru_cache
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from babel import Locale
from babel.dates import format_date as babel_date
from babel.numbers import format_decimal
from flask import g, url_for
from flask_babel import get_locale, get_timezone

from portal.models import utcnow
from portal_deals.models import DealStatus, effective_status, waiting_days
from portal_deals.i18n import N_, translations
from portal_deals.queries import names_line


# Kept by the locale's code: a request's Locale is a new object, and a key that is not
# the same object is compared field by field on every hit.
@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


@lru_cache(maxsize=8192)
def _date(value: date, locale: str) -> str:
    return babel_date(value, "medium", locale=_locale(locale))


@lru_cache(maxsize=8192)
def _datetime_date(value: datetime, timezone: Any, locale: str) -> str:
    """The day of ``value`` in ``timezone``, formatted."""
    return _date(value.astimezone(timezone).date(), locale)


@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    found = _locale(locale)
    return found.currency_formats["standard"].apply(amount, found, currency=currency,
                                                     currency_digits=True)


@lru_cache(maxsize=4096)
def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=_locale(locale))


@lru_cache(maxsize=1024)
def _month(value: date, locale: str) -> str:
    return babel_date(value, "MMM", locale=_locale(locale))


_LABELS: dict[str, dict[DealStatus, str]] = {}


def _labels(locale: str) -> dict[DealStatus, str]:
    """The status labels in ``locale``, translated once per process and locale."""
    found = _LABELS.get(locale)
    if found is None:
        found = _LABELS[locale] = {status: str(status.label) for status in DealStatus}
    return found


class Formatter:
    """Dates and money in the request's locale and time zone. Formatting is a pure
    function of (value, locale): the results are kept (bounded), as the same rows
    are shown again and again."""

    def __init__(self) -> None:
        self.locale = get_locale()
        self.locale_code = str(self.locale)
        self.timezone = get_timezone()
        self.labels = _labels(self.locale_code)
        self.now = utcnow()
        self._catalog: Any = None

    @property
    def catalog(self) -> Any:
        """The plugin's translations in the request's locale, looked up once."""
        if self._catalog is None:
            self._catalog = translations.domain.get_translations()
        return self._catalog

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return _datetime_date(value, self.timezone, self.locale_code)
        return _date(value, self.locale_code)

    def money(self, amount: Decimal | None, currency: str) -> str:
        if amount is None:
            return ""
        return _money(amount, currency, self.locale_code)

    def number(self, value: int) -> str:
        return _number(value, self.locale_code)

    def month(self, value: date) -> str:
        """The month's short name (a chart's label)."""
        return _month(value, self.locale_code)


def formatter() -> Formatter:
    found = g.get("_deals_formatter")
    if found is None:
        found = g._deals_formatter = Formatter()
    return found


class Row(NamedTuple):
    """What a list row shows of one registration."""

    id: int
    url: str
    customer: str
    organization: str
    program: str
    products: str
    value: str
    status: str
    status_label: str
    expected_close: str
    protected_until: str
    updated: str
    waiting_days: int
    conflict_score: int | None
    #: The review queue's texts (empty on the lists): the tick box's label, the
    #: conflict score and the days waited.
    choose_label: str = ""
    conflict_label: str = ""
    waiting_label: str = ""


#: The review queue's texts, translated once per page (see :func:`rows`).
CHOOSE = N_("Choose %(customer)s")
SCORE = N_("%(score)d of 100")


def rows(page: list[Any], *, staff: bool, queue: bool = False) -> list[Row]:
    """The rows of a list page (:func:`portal_deals.queries.list_page`); ``queue``:
    with the review queue's texts, each message translated once for the page."""
    fmt = formatter()
    # One URL built, the others by its pattern (the id is the last part).
    base = url_for("deals.detail", registration_id=0)[:-1]
    now = fmt.now
    if queue:
        catalog = fmt.catalog
        choose = catalog.ugettext(CHOOSE)
        score = catalog.ugettext(SCORE)
    found = []
    for item in page:
        status = effective_status(item.status, item.expires_at, now)
        waited = waiting_days(item.submitted_at, now)
        texts = ()
        if queue:
            texts = (
                choose % {"customer": item.customer_name},
                score % {"score": item.conflict_score} if item.conflict_score is not None else "",
                catalog.ungettext("%(num)d day", "%(num)d days", waited) % {"num": waited},
            )
        found.append(Row(
            item.id,
            f"{base}{item.id}",
            item.customer_name,
            item.organization_name if staff else "",
            item.program_name if staff else "",
            names_line(item.products_line),
            fmt.money(item.value, item.currency),
            status.value,
            fmt.labels[status],
            fmt.date(item.expected_close),
            fmt.date(item.expires_at) if status is DealStatus.APPROVED else "",
            fmt.date(item.updated_at),
            waited,
            item.conflict_score,
            *texts,
        ))
    return found
