"""The current app, request, ``g`` and signed-in user, read without a proxy.

``flask.current_app``, ``flask.request``, ``flask.g`` and Flask-Login's
``current_user`` are proxies: every attribute read through one looks the context
up again, and a read of ``current_user`` also asks Flask-Login whether the user is
loaded yet (two more proxy reads of ``g``). One such read costs ten to twenty times
the same read on the object itself, and a list page made a few hundred of them in
the portal's helpers (permissions, reach, plugins, locale, layout, CSRF). The
helpers that run several times a page take the object here once instead.

Each function answers exactly what the proxy would: tests compare them in and out
of a request, signed in and not (``tests/test_context.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context
from flask_login import current_user

try:  # Flask >= 2.2 keeps its contexts in these variables (flask.globals)
    from flask.globals import _cv_app, _cv_request
except ImportError:  # pragma: no cover - a Flask without them: use the proxies
    _cv_app = _cv_request = None


def app() -> Flask:
    """``current_app`` itself (RuntimeError outside an app context, as the proxy)."""
    if _cv_app is not None:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return ctx.app
    return current_app._get_current_object()  # type: ignore[attr-defined]


def app_globals() -> Any:
    """The app context's ``g`` (None outside one)."""
    if _cv_app is not None:
        ctx = _cv_app.get(None)
        return None if ctx is None else ctx.g
    from flask import g, has_app_context

    return g._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]


def request_globals() -> Any:
    """The request's ``g`` (None outside a request)."""
    if _cv_request is not None:
        if _cv_request.get(None) is None:
            return None
        return _cv_app.get().g
    from flask import g

    return g._get_current_object() if has_request_context() else None  # type: ignore[attr-defined]


def request() -> Any:
    """The current request itself (RuntimeError outside a request, as the proxy)."""
    if _cv_request is not None:
        ctx = _cv_request.get(None)
        if ctx is not None:
            return ctx.request
    from flask import request as proxy

    return proxy._get_current_object()  # type: ignore[attr-defined]


def request_or_none() -> Any:
    """The current request, or None outside one."""
    if _cv_request is not None:
        ctx = _cv_request.get(None)
        return None if ctx is None else ctx.request
    from flask import request as proxy

    return proxy._get_current_object() if has_request_context() else None  # type: ignore[attr-defined]


def user() -> Any:
    """The request's user, as ``current_user`` gives it: the signed-in ``User``,
    Flask-Login's anonymous user, or None outside a request. The first call of a
    request loads it (the session cookie, one query), as the proxy's would."""
    state = request_globals()
    if state is None:
        return None
    found = state.get("_login_user")  # where Flask-Login keeps the loaded user
    if found is None:
        return current_user._get_current_object()  # type: ignore[attr-defined]
    return found
