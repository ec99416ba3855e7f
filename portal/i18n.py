"""Locale and timezone selection, and Babel formatting helpers for templates.

Locale: the user's own setting, else the language switcher's cookie, else the
browser's Accept-Language, else the deployment default.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import available_timezones

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_login import current_user

from portal.extensions import babel

LOCALE_COOKIE = "portal_locale"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    available = languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in available:
        return user_locale
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in available:
        return cookie
    best = request.accept_languages.best_match(available)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    tz = getattr(current_user, "timezone", None) if current_user else None
    return tz or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for each shipped language."""
    return [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in languages()]


_TIMEZONES: list[str] | None = None


def timezone_choices() -> list[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = sorted(tz for tz in available_timezones() if "/" in tz or tz == "UTC")
    return _TIMEZONES


def is_rtl(locale: str) -> bool:
    return Locale.parse(locale).character_order == "right-to-left"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    from portal import plugin_i18n

    plugin_i18n.init_app(app)  # each plugin's own catalog (domain = plugin name)
