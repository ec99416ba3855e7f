"""In-app notifications: raised from events, listed at ``/notifications``.

Which event notifies whom is declared with :func:`rule`::

    @rule("user.joined")
    def _tell_inviter(event):
        yield inviter, N_("%(name)s accepted your invitation."), {"name": ...}, url

Messages are msgids marked with ``N_`` and translated when displayed, in the
reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from portal.events import Event
from portal.extensions import db
from portal.models import Notification, User, utcnow
from portal.permissions import permission_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

Recipient = tuple[User, str, dict[str, Any], str | None]
Rule = Callable[[Event], Iterable[Recipient]]
_RULES: dict[str, list[Rule]] = {}


def N_(message: str) -> str:
    """Mark a msgid for extraction; it is translated when shown."""
    return message


def rule(event_name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        _RULES.setdefault(event_name, []).append(fn)
        return fn

    return register


def on_event(event: Event) -> None:
    """Event handler: store one notification per recipient the rules name."""
    for fn in _RULES.get(event.name, ()):
        for user, message, params, url in fn(event):
            if user is None or not user.active:
                continue
            if event.actor is not None and getattr(event.actor, "id", None) == user.id:
                continue  # nobody needs telling about what they did themselves
            db.session.add(
                Notification(user_id=user.id, event=event.name, message=message, params=params, url=url)
            )


def unread_count(user: User) -> int:
    from portal.auth.session import prefetched_unread

    prefetched = prefetched_unread(user)
    if prefetched is not None:
        return prefetched
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ) or 0


@bp.get("/")
@permission_required("notifications.view")
def index():  # type: ignore[no-untyped-def]
    page = db.paginate(
        sa.select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        per_page=25,
        error_out=False,
    )
    return render_template("notifications/index.html", page=page)


@bp.post("/read")
@permission_required("notifications.view")
def mark_all_read():  # type: ignore[no-untyped-def]
    db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    if request.htmx:
        return render_template("notifications/_badge.html", count=0)
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/open")
@permission_required("notifications.view")
def open_notification(notification_id: int):  # type: ignore[no-untyped-def]
    notification = db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == current_user.id
        )
    )
    if notification is None:
        from flask import abort

        abort(404)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    from portal.auth.views import is_safe_next

    return redirect(notification.url if is_safe_next(notification.url) else url_for("notifications.index"))
