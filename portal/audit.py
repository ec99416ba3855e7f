"""Writes every event into the append-only audit log."""

from __future__ import annotations

from typing import Any

from portal.events import Event
from portal.extensions import db
from portal.models import AuditEntry


def _jsonable(state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {k: (v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v))
            for k, v in state.items()}


def record(event: Event) -> None:
    """Event handler: one audit entry per event, in the same transaction."""
    actor = event.actor
    db.session.add(
        AuditEntry(
            event=event.name,
            actor_id=getattr(actor, "id", None),
            actor_label=getattr(actor, "email", None),
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            organization_id=event.organization_id,
            summary=event.data.get("summary"),
            before=_jsonable(event.before),
            after=_jsonable(event.after),
            ip_address=event.ip_address,
        )
    )
