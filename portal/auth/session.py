"""Login sessions: Flask-Login wiring.

A session id is ``"<user id>:<session token>"``. Rotating the user's session
token (password change, deactivation) ends every session and remember-me cookie
of that user at once; a deactivated user or organization is refused on every
request because the loader checks ``is_active``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from portal.extensions import db, login_manager
from portal.models import Notification, Organization, SettingsVersion, User
from portal.settings_cache import written_table


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    # One query for what every signed-in page needs: the user, their organization
    # (is it active?), their unread notifications and the settings version.
    row = db.session.execute(_SIGNED_IN, {"id": int(user_id)}).one_or_none()
    if row is None:
        return None
    user, _organization, unread, version = row  # user.organization: found in the session
    if user.session_token != token or not user.is_active:
        return None
    g._portal_unread = (user.id, unread or 0)
    if "_portal_settings_version" not in g:
        g._portal_settings_version = version
    return user


def prefetched_unread(user: User) -> int | None:
    """The unread count read with the signed-in user (None: not read, or
    notifications changed since)."""
    found = g.get("_portal_unread") if has_request_context() else None
    return found[1] if found and found[0] == user.id else None


def _notifications_changed(conn: sa.Connection, clauseelement: Any, *args: Any) -> None:
    if has_request_context() and written_table(clauseelement) == Notification.__tablename__:
        g.pop("_portal_unread", None)


# The organization is a second entity rather than a joined load of the relationship
# (less work per row); loading User.organization then finds it in the session.
_SIGNED_IN = (
    sa.select(
        User,
        Organization,
        sa.select(sa.func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User).scalar_subquery(),
        sa.select(SettingsVersion.value).where(SettingsVersion.id == 1).scalar_subquery(),
    )
    .outerjoin(Organization, Organization.id == User.organization_id)
    .where(User.id == sa.bindparam("id"))
)


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
    from portal.auth.cookie import KeptCookieSessions

    app.session_interface = KeptCookieSessions()
    login_manager.init_app(app)
    with app.app_context():
        sa.event.listen(db.engine, "after_execute", _notifications_changed)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
