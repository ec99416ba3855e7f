"""Domain events and the dispatcher that fans them out.

Code that changes state calls :func:`emit` inside the same transaction, e.g.::

    before = org.audit_state()
    org.status = OrganizationStatus.SUSPENDED
    emit("organization.suspended", org, before=before)
    db.session.commit()

The dispatcher hands each event to every connected handler in order: the audit
log first (same transaction, so a change and its audit entry land together),
then notifications, then anything else connected (plugins' event hooks arrive
with the plugin issue). A handler that raises is logged; the others still run,
except the audit log, whose failure aborts the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user

from portal.extensions import db

Handler = Callable[["Event"], None]


@dataclass
class Event:
    name: str
    subject: Any = None
    actor: Any = None
    organization_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def subject_type(self) -> str | None:
        if self.subject is None:
            return None
        return getattr(self.subject, "__tablename__", type(self.subject).__name__.lower())

    @property
    def subject_id(self) -> int | None:
        return getattr(self.subject, "id", None)

    @property
    def ip_address(self) -> str | None:
        return request.remote_addr if has_request_context() else None


class EventDispatcher:
    """One per app (``app.extensions["portal.events"]``)."""

    def __init__(self) -> None:
        self._critical: list[Handler] = []
        self._handlers: list[Handler] = []

    def connect(self, handler: Handler, *, critical: bool = False) -> None:
        """Add a handler. A critical handler's exception aborts the change."""
        (self._critical if critical else self._handlers).append(handler)

    def dispatch(self, event: Event) -> None:
        for handler in self._critical:
            handler(event)
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one broken handler must not stop the rest
                current_app.logger.exception("event handler %r failed on %s", handler, event.name)


def dispatcher() -> EventDispatcher:
    return current_app.extensions["portal.events"]


def _default_actor() -> Any:
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user._get_current_object()  # type: ignore[attr-defined]
    return None


def emit(
    name: str,
    subject: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: Any = ...,
    organization_id: int | None = None,
    **data: Any,
) -> Event:
    """Raise a domain event. ``after`` defaults to ``subject.audit_state()``."""
    if subject is not None:
        db.session.flush()  # the subject needs its id
    if after is None and hasattr(subject, "audit_state"):
        after = subject.audit_state()
    if organization_id is None and subject is not None:
        from portal.permissions import organization_id_of

        organization_id = organization_id_of(subject)
    event = Event(
        name=name,
        subject=subject,
        actor=_default_actor() if actor is ... else actor,
        organization_id=organization_id,
        before=before,
        after=after,
        data=data,
    )
    dispatcher().dispatch(event)
    return event
