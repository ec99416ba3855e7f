"""The signed session cookie, verified once per worker rather than on every request.

Flask's cookie sessions build a serializer, check the HMAC and decode the tagged
JSON of the cookie on every request; a signed-in browser sends the same cookie on
every page until the session changes. :class:`KeptCookieSessions` keeps what a
cookie was verified to hold, keyed by the cookie's exact text under the current
keys, and only checks its age again when the same cookie comes back:

* a changed byte is another key, so it is verified afresh (and refused if forged);
* an expired cookie is refused as Flask refuses it, from its signing time;
* changing ``SECRET_KEY`` or its fallbacks starts a new store;
* only sessions of plain values are kept (a session holding a list, such as
  pending flash messages, is decoded each time), so no request can change what
  another one reads.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.lru import LRUStore

#: Verified cookies kept per worker (one per recently active session).
COOKIES_KEPT = 10_000

_PLAIN = (str, int, float, bool, bytes, type(None))


class KeptCookieSessions(SecureCookieSessionInterface):
    def __init__(self, kept: int = COOKIES_KEPT) -> None:
        self.kept = kept
        self._keys: tuple[Any, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None
        self._verified = LRUStore(kept)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:  # one serializer per set of keys, and a new store
            self._serializer = super().get_signing_serializer(app)
            self._verified = LRUStore(self.kept)
            self._keys = keys
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = app.permanent_session_lifetime.total_seconds()
        verified = self._verified.get(value)
        if verified is not None:
            data, signed_at = verified
            if 0 <= time.time() - signed_at <= max_age:
                return self.session_class(data)
        try:
            data, signed = serializer.loads(value, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(item, _PLAIN) for item in data.values()):
            self._verified.put(value, (data, signed.timestamp()))
        return self.session_class(data)
