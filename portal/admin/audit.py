"""The audit log viewer: newest first, filtered, paginated in the database.

Vendor admins read every entry; channel managers only the entries of the
organizations they manage (vendor-wide entries have no organization and stay hidden).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload
from flask import request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import (
    organization_choices,
    organization_name_matches,
    paginate_in_reach,
    render_list,
)
from portal.admin.forms import AuditFilterForm
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    Program,
    ResourcePage,
    Tier,
    User,
)
from portal.permissions import permission_required
from portal.scoping import scoped

RESULTS_ID = "audit-results"
PER_PAGE = 50


@dataclass(frozen=True)
class SubjectLink:
    label: str
    url: str | None


# subject_type → (model, label, link). Each type is loaded with one query per page.
_SUBJECTS: dict[str, tuple[Any, Callable[[Any], str], Callable[[Any], str | None]]] = {
    "organization": (Organization, lambda o: o.name,
                     lambda o: url_for("admin.organization", organization_id=o.id)),
    "users": (User, lambda u: u.email, lambda u: url_for("admin.user", user_id=u.id)),
    "program": (Program, lambda p: p.name, lambda p: url_for("admin.program", program_id=p.id)),
    "tier": (Tier, lambda t: t.name,
             lambda t: url_for("admin.program", program_id=t.program_id)),
    "membership": (Membership, lambda m: str(m.id),
                   lambda m: url_for("admin.organization", organization_id=m.organization_id)),
    "invitation": (Invitation, lambda i: i.email, lambda i: None),
    "resource_page": (ResourcePage, lambda p: p.title,
                      lambda p: url_for("resources.edit", page_id=p.id)),
}


def subject_links(entries: Iterable[AuditEntry]) -> dict[tuple[str, int], SubjectLink]:
    """A label and link for each entry's subject, one query per subject type."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.subject_type in _SUBJECTS and entry.subject_id is not None:
            wanted[entry.subject_type].add(entry.subject_id)
    links: dict[tuple[str, int], SubjectLink] = {}
    for subject_type, ids in wanted.items():
        model, label, link = _SUBJECTS[subject_type]
        stmt = sa.select(model).where(model.id.in_(ids))
        if model is Membership:
            stmt = stmt.options(selectinload(Membership.program))
        for obj in db.session.scalars(stmt):
            if subject_type == "membership":
                name = _("%(program)s membership", program=obj.program.name)
            else:
                name = label(obj)
            links[(subject_type, obj.id)] = SubjectLink(name, link(obj))
    return links


@bp.app_template_filter("audit_value")
def format_value(value: Any) -> str:
    """A before/after value as text: lists and mappings as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _utc_midnight(day: date) -> datetime:
    """Midnight at the start of ``day`` in the reader's timezone, in UTC."""
    tz = get_timezone()
    if hasattr(tz, "localize"):  # pytz
        local = tz.localize(datetime.combine(day, time.min))
    else:
        local = datetime.combine(day, time.min, tzinfo=tz)
    return local.astimezone(timezone.utc)


def event_names() -> list[str]:
    """The names of the events the current user may see entries of, in order.

    ``SELECT DISTINCT event`` reads every entry in reach; this is one query that
    costs one index seek per name instead. A loose index scan (a recursive query
    asking for the name after the last one) lists every name recorded; each is kept
    if one entry in reach has it, found through ``ix_audit_entry_event_organization``
    with one seek per organization in reach at worst, however long the log grows.
    """
    first = sa.select(sa.func.min(AuditEntry.event).label("name"))
    names = first.cte("event_names", recursive=True)
    following = sa.select(sa.func.min(AuditEntry.event)).where(AuditEntry.event > names.c.name)
    names = names.union_all(
        sa.select(following.scalar_subquery()).where(names.c.name.is_not(None))
    )
    entry = aliased(AuditEntry)
    in_reach = scoped(sa.select(entry.id).where(entry.event == names.c.name), entry)
    return list(db.session.scalars(
        sa.select(names.c.name)
        .where(names.c.name.is_not(None), in_reach.exists())
        .order_by(names.c.name)
    ))


@bp.get("/audit")
@permission_required("audit.view")
def audit() -> Response:
    form = AuditFilterForm(formdata=request.args, events=event_names(),
                           organizations=organization_choices(request.args.get("organization")))
    filters = form.cleaned()
    stmt = sa.select(AuditEntry)
    if "event" in filters:
        stmt = stmt.where(AuditEntry.event == filters["event"])
    if "actor" in filters:
        stmt = stmt.where(sa.func.lower(AuditEntry.actor_label).contains(
            filters["actor"].lower(), autoescape=True))
    if "organization" in filters:
        stmt = stmt.where(AuditEntry.organization_id == int(filters["organization"]))
    if "organization_name" in filters:
        named = organization_name_matches(filters["organization_name"])
        stmt = stmt.where(AuditEntry.organization_id.in_(named))
    if "date_from" in filters:
        stmt = stmt.where(AuditEntry.occurred_at >= _utc_midnight(filters["date_from"]))
    if "date_to" in filters:
        stmt = stmt.where(
            AuditEntry.occurred_at < _utc_midnight(filters["date_to"] + timedelta(days=1))
        )
    newest_first = (AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    page = paginate_in_reach(stmt, AuditEntry, newest_first, per_page=PER_PAGE)
    return render_list(
        "admin/audit/index.html",
        "admin/audit/_results.html",
        RESULTS_ID,
        form=form,
        page=page,
        subjects=subject_links(page.items),
    )
