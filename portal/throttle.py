"""Throttling of login, password reset and public forms, one limiter per app.

Built on ``limits`` (the library under Flask-Limiter) rather than Flask-Limiter's
extension object, which keeps its storage on a module-level instance and so cannot
serve two apps in one process. Windows are moving windows: a blocked client or
account is free again once old attempts age out, so an attacker can slow a
victim's logins down but never lock the account for good.

Storage is ``RATELIMIT_STORAGE_URI``: ``memory://`` for one process, ``redis://``
when several workers or hosts serve (``portal check --deploy`` says so).
"""

from __future__ import annotations

import math
import time

from flask import Flask, abort, current_app, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class Throttle:
    def __init__(self, app: Flask) -> None:
        self.storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self.limiter = MovingWindowRateLimiter(self.storage)

    def _items(self, rule: str):  # type: ignore[no-untyped-def]
        return parse_many(current_app.config[rule])

    def retry_after(self, rule: str, key: str) -> int | None:
        """Seconds to wait, or None when ``key`` may try again now."""
        waits = []
        for item in self._items(rule):
            if not self.limiter.test(item, rule, key):
                stats = self.limiter.get_window_stats(item, rule, key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    def hit(self, rule: str, key: str) -> None:
        for item in self._items(rule):
            self.limiter.hit(item, rule, key)

    def reset(self) -> None:
        self.storage.reset()


def throttle() -> Throttle:
    return current_app.extensions["portal.throttle"]


def client_key() -> str:
    return request.remote_addr or "unknown"


def guard(rule: str, key: str | None = None) -> None:
    """Answer 429 (with Retry-After) when ``key`` has used up ``rule``."""
    wait = throttle().retry_after(rule, key or client_key())
    if wait is not None:
        abort(_too_many(wait))


def _too_many(wait: int):  # type: ignore[no-untyped-def]
    from portal.errors import render_error

    response = render_error(429)
    response.headers["Retry-After"] = str(wait)
    return response


def consume(rule: str, key: str | None = None) -> None:
    """Guard, then count this attempt (for forms where every try counts)."""
    guard(rule, key)
    throttle().hit(rule, key or client_key())


def init_app(app: Flask) -> None:
    app.extensions["portal.throttle"] = Throttle(app)
