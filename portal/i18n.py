"""Locale and timezone selection, and Babel formatting helpers for templates.

Locale: the user's own setting, else the language switcher's cookie, else the
browser's Accept-Language, else the deployment default.
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import available_timezones

import flask_babel
from babel import Locale
from flask import Blueprint, Flask, Response, current_app, redirect, request
from flask_login import current_user

from portal import context
from portal.extensions import babel

LOCALE_COOKIE = "portal_locale"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    config = context.app().config
    available = config["LANGUAGES"]
    user = context.user()
    if user is None:  # outside a request
        return config["BABEL_DEFAULT_LOCALE"]
    user_locale = getattr(user, "locale", None)
    if user_locale in available:
        return user_locale
    request = context.request()
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in available:
        return cookie
    best = request.accept_languages.best_match(list(available))
    return best or config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    config = context.app().config
    user = context.user()
    tz = getattr(user, "timezone", None) if user is not None else None
    return tz or config["BABEL_DEFAULT_TIMEZONE"]


def language_choices() -> list[tuple[str, str]]:
    """(code, name in its own language) for each shipped language."""
    return list(_language_names(tuple(current_app.config["LANGUAGES"])))


@functools.lru_cache(maxsize=8)
def _language_names(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    names = []
    for code in codes:
        name = Locale.parse(code).get_display_name(code) or code
        names.append((code, name[:1].upper() + name[1:]))
    return tuple(names)


_TIMEZONES: list[str] | None = None


def timezone_choices() -> list[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = sorted(tz for tz in available_timezones() if "/" in tz or tz == "UTC")
    return _TIMEZONES


@functools.lru_cache(maxsize=64)
def is_rtl(locale: str) -> bool:
    return Locale.parse(locale).character_order == "right-to-left"


def _babel_state() -> SimpleNamespace | None:
    """Flask-Babel's per-context state (the request's locale, time zone and
    translations), as ``flask_babel._get_current_context`` finds it.

    Flask-Babel's own reads ``g`` three times through its proxy, and every
    ``get_locale``, ``gettext`` and format filter calls it: about 25 times a list
    page, a twentieth of the page's work. This takes ``g`` once.
    """
    state = context.app_globals()
    if state is None:
        return None
    found = state.get("_flask_babel")
    if found is None:
        found = state._flask_babel = SimpleNamespace()
    return found


#: Flask-Babel's own ``_get_current_context`` (tests compare the two).
flask_babel_state = getattr(flask_babel, "_get_current_context", None)


def _install_babel_state() -> None:
    if flask_babel_state is not None:  # Flask-Babel 4 (pinned): its functions look the name up
        flask_babel._get_current_context = _babel_state


def init_app(app: Flask) -> None:
    from portal.catalogs import ensure_compiled

    compiled = ensure_compiled(TRANSLATIONS_DIR, Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compiled))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    _install_babel_state()
    from portal import plugin_i18n

    plugin_i18n.init_app(app)  # each plugin's own catalog (domain = plugin name)


bp = Blueprint("language", __name__)

#: How long the switcher's choice is remembered in the browser.
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600


@bp.post("/language")
def switch() -> Response:
    """The language switcher: remembered in a cookie, and saved as the user's own
    setting when someone is logged in (their setting comes first otherwise)."""
    from portal.auth.views import is_safe_next
    from portal.extensions import db

    locale = request.form.get("locale", "")
    target = request.form.get("next") or "/"
    if not is_safe_next(target):
        target = "/"
    if locale not in languages():
        from portal.errors import bad_request
        from flask_babel import gettext as _

        bad_request(_("This language is not available."))
    if getattr(current_user, "is_authenticated", False) and current_user.locale != locale:
        current_user.locale = locale
        db.session.commit()
    response = redirect(target)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=LOCALE_COOKIE_MAX_AGE,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response
