"""Charts drawn on the server as SVG: no script, no chart library, no inline style
(the portal's CSP forbids both), and every figure also written out as text.

:func:`bars` gives the rows of a horizontal bar chart; :func:`columns` the bars of a
column chart with its SVG geometry. Templates draw them (``deals/_charts.html``);
colours come from CSS classes in ``static/deals.css``, and right-to-left pages
mirror the bars there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Bar:
    key: str  # a CSS modifier: deals-chart__fill--<key>
    label: Any
    value: float
    display: str  # the value as the page shows it (formatted for the locale)
    percent: float  # of the longest bar, 0..100
    url: str | None = None


def bars(rows: list[tuple[str, Any, float | int | Decimal, str, str | None]]) -> list[Bar]:
    """``rows``: (key, label, value, display, url). Bars are scaled to the largest."""
    largest = max((float(value) for _k, _l, value, _d, _u in rows), default=0.0)
    return [Bar(key, label, float(value), display,
                round(100.0 * float(value) / largest, 1) if largest > 0 else 0.0, url)
            for key, label, value, display, url in rows]


@dataclass(frozen=True)
class Column:
    label: Any
    display: str
    x: float
    y: float
    width: float
    height: float


#: The column chart's drawing area (SVG user units).
WIDTH, HEIGHT, GAP = 300.0, 100.0, 8.0


def columns(rows: list[tuple[Any, float | int | Decimal, str]]) -> list[Column]:
    """``rows``: (label, value, display), left to right."""
    if not rows:
        return []
    largest = max(float(value) for _l, value, _d in rows)
    width = (WIDTH - GAP * (len(rows) + 1)) / len(rows)
    found = []
    for index, (label, value, display) in enumerate(rows):
        height = HEIGHT * float(value) / largest if largest > 0 else 0.0
        height = max(height, 1.0) if float(value) > 0 else 0.0
        found.append(Column(label, display, x=round(GAP + index * (width + GAP), 2),
                            y=round(HEIGHT - height, 2), width=round(width, 2), height=round(height, 2)))
    return found
