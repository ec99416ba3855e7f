"""Login sessions: Flask-Login wiring.

A session id is ``"<user id>:<session token>"``. Rotating the user's session
token (password change, deactivation) ends every session and remember-me cookie
of that user at once; a deactivated user or organization is refused on every
request because the loader checks ``is_active``.
"""

from __future__ import annotations

from flask import Flask, Response, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from portal.extensions import db, login_manager
from portal.models import User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if request.htmx:
        # A redirect would be swapped into the page fragment: ask htmx to navigate instead.
        response = Response(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
