"""Countries by ISO 3166 code, named in the reader's language by Babel."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale

_CODES: frozenset[str] | None = None


def country_codes() -> frozenset[str]:
    global _CODES
    if _CODES is None:
        territories = Locale.parse("en").territories
        # Two-letter codes are countries; numeric codes are regions; ZZ is "unknown".
        _CODES = frozenset(c for c in territories if len(c) == 2 and c.isalpha() and c not in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "XK"})
    return _CODES


def country_name(code: str | None) -> str:
    if not code:
        return ""
    locale = get_locale() or Locale.parse("en")
    return locale.territories.get(code.upper(), code.upper())


def country_choices() -> list[tuple[str, str]]:
    locale = get_locale() or Locale.parse("en")
    return sorted(((c, locale.territories.get(c, c)) for c in country_codes()), key=lambda p: p[1])
