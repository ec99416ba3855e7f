"""Security headers on every response: pages, partials, errors and static files."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

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


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.htmx or "text/html" in (response.mimetype or ""):
        # Pages carry per-user content and CSRF tokens: never cache them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
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
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field in g:
        return g.get(field)
    store = app_store(current_app, "portal.csrf_signed", CSRF_TOKENS_KEPT)
    raw = session.get(field)
    now = time.monotonic()
    found = store.get(raw) if isinstance(raw, str) else None
    if found is not None and now - found[1] < CSRF_REUSE_SECONDS:
        setattr(g, field, found[0])
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
