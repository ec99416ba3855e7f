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

import flask
from flask import Flask, current_app, has_app_context, has_request_context
from flask_login import current_user

try:  # Flask >= 2.2 keeps its contexts in these variables (flask.globals)
    from flask.globals import _cv_app, _cv_request

    def _app_ctx() -> Any:
        return _cv_app.get(None)

    def _request_ctx() -> Any:
        return _cv_request.get(None)

except ImportError:  # pragma: no cover - a Flask without them: through the proxies

    class _ProxiedContext:
        """What a context gives (``app``, ``g``, ``request``), read through the proxies."""

        app = property(lambda self: current_app._get_current_object())
        g = property(lambda self: flask.g._get_current_object())
        request = property(lambda self: flask.request._get_current_object())

    def _app_ctx() -> Any:
        return _ProxiedContext() if has_app_context() else None

    def _request_ctx() -> Any:
        return _ProxiedContext() if has_request_context() else None


def app() -> Flask:
    """``current_app`` itself (RuntimeError outside an app context, as the proxy)."""
    ctx = _app_ctx()
    return current_app._get_current_object() if ctx is None else ctx.app  # type: ignore[attr-defined]


def app_globals() -> Any:
    """The app context's ``g`` (None outside one)."""
    ctx = _app_ctx()
    return None if ctx is None else ctx.g


def request_globals() -> Any:
    """The request's ``g`` (None outside a request)."""
    return None if _request_ctx() is None else app_globals()


def request_or_none() -> Any:
    """The current request, or None outside one."""
    ctx = _request_ctx()
    return None if ctx is None else ctx.request


def request() -> Any:
    """The current request itself (RuntimeError outside a request, as the proxy)."""
    found = request_or_none()
    return flask.request._get_current_object() if found is None else found  # type: ignore[attr-defined]


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
