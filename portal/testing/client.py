"""The test client: CSRF-aware, htmx-aware, and with a fresh ``g`` per request."""

from __future__ import annotations

from typing import Any

from flask.globals import _cv_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from portal.testing.factories import PASSWORD

#: The session half of the CSRF token the test client uses.
CSRF_RAW = "0" * 40


class PortalClient(FlaskClient):
    """A test client that sends a valid CSRF token with every unsafe request,
    the way the browser form (hidden field) or htmx (X-CSRFToken header) does.

    ``csrf=False`` leaves the token out; ``htmx=True`` sends ``HX-Request``.
    Install it with ``app.test_client_class = PortalClient``.
    """

    def open(self, *args: Any, csrf: bool = True, htmx: bool = False, **kwargs: Any) -> Any:
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if htmx:
            headers["HX-Request"] = "true"
        if csrf and method not in ("GET", "HEAD", "OPTIONS"):
            with self.session_transaction() as session:
                session.setdefault("csrf_token", CSRF_RAW)
                raw = session["csrf_token"]
            serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
            headers.setdefault("X-CSRFToken", serializer.dumps(raw))
        kwargs["headers"] = headers
        # Requests reuse the test's app context (so tests share its db.session);
        # give each request a fresh ``g`` as a real server would, or the logged-in
        # user and the locale cached there would leak from one request to the next.
        ctx = _cv_app.get(None)
        if ctx is not None:
            ctx.g = self.application.app_ctx_globals_class()
        return super().open(*args, **kwargs)

    def login(self, user: Any, password: str = PASSWORD) -> Any:
        """Sign in through the login form; fails the test unless it succeeds."""
        response = self.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response
