"""Security headers on every response: pages, partials, errors and static files."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request, session
from flask_wtf.csrf import generate_csrf

from portal import context
from portal.lru import app_store

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


#: Set on every response unless the view set its own.
BASELINE_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_BASELINE = tuple((name.lower(), (name, value)) for name, value in BASELINE_HEADERS)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def set_security_headers(response: Response) -> Response:
    # One pass over the response's headers (setdefault scans them, and raises and
    # catches a KeyError, once per header it adds).
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    missing = [header for name, header in _BASELINE if name not in present]
    if request.is_secure and "strict-transport-security" not in present:
        missing.append(HSTS)
    if "cache-control" not in present and (request.htmx or "text/html" in (response.mimetype or "")):
        # Pages carry per-user content and CSRF tokens: never cache them in shared caches.
        missing.append(("Cache-Control", "no-store"))
    headers.extend(missing)
    return response


#: A session's signed CSRF token is handed out again for this long; it stays
#: valid for ``WTF_CSRF_TIME_LIMIT`` (hours) after it was signed.
CSRF_REUSE_SECONDS = 300
#: Signed tokens kept per process, at most (one per recently active session).
CSRF_TOKENS_KEPT = 10_000


def csrf_token() -> str:
    """Jinja ``csrf_token()``: Flask-WTF's token for this session, signed at most
    :data:`CSRF_REUSE_SECONDS` ago.

    Flask-WTF signs the session's token again on every page (an HMAC over a new
    timestamp); a token signed a few minutes earlier is just as valid, for as long as
    ``WTF_CSRF_TIME_LIMIT`` allows, so the process keeps the signed token per session
    token for a while and the form posts it the same.
    """
    app, state = context.app(), context.app_globals()
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in state:
        return state.get(field)
    store = app_store(app, "portal.csrf_signed", CSRF_TOKENS_KEPT)
    raw = session.get(field)
    now = time.monotonic()
    found = store.get(raw) if isinstance(raw, str) else None
    if found is not None and now - found[1] < CSRF_REUSE_SECONDS:
        setattr(state, field, found[0])
        return found[0]
    token = generate_csrf()
    raw = session.get(field)
    if isinstance(raw, str):
        store.put(raw, (token, now))
    return token


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    # After CSRFProtect.init_app, which installs generate_csrf under this name twice:
    # as a Jinja global and through a context processor, whose value would win over
    # the global in every render_template. Drop the processor; the global serves.
    app.jinja_env.globals["csrf_token"] = csrf_token
    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if getattr(p, "__module__", None) != "flask_wtf.csrf"]
    # Flask-WTF's check looks up the view's exemptions before the method: look at
    # the method first, so that GET, HEAD and OPTIONS skip the rest.
    checks = app.before_request_funcs.setdefault(None, [])
    checks[:] = [_unsafe_methods_only(app, check) if getattr(check, "__module__", None) == "flask_wtf.csrf"
                 else check for check in checks]


def _unsafe_methods_only(app: Flask, check: Callable[[], Any]) -> Callable[[], Any]:
    def csrf_protect() -> Any:
        if request.method in app.config["WTF_CSRF_METHODS"]:
            return check()
        return None

    return csrf_protect
