"""Deal registrations in the portal's search index.

A registration's document is ``deals_registration:<id>``; any ``deal.*`` event
about it refreshes it. Only submitted and later registrations are searchable
(drafts are the partner's own working copies, invisible to staff), and only for
the organization's own people and the staff who reach it, holding ``deals.view``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.geography import country_name
from portal_deals.i18n import _l
from portal_deals.models import DealRegistration, DealStatus

TABLE = DealRegistration.__tablename__
KIND = "deals.registration"
KINDS = {KIND: _l("Deal registrations")}
BATCH = 500


def ids_of(keys: Any) -> list[int]:
    """Our registration ids among document ids such as ``deals_registration:12``."""
    found = []
    for key in keys or ():
        table, _, ident = str(key).partition(":")
        if table == TABLE and ident.isascii() and ident.isdigit() and len(ident) <= 18:
            found.append(int(ident))
    return found


def documents(since: Any = None, keys: Any = None) -> Iterator[dict[str, Any]]:
    stmt = (sa.select(DealRegistration)
            .where(DealRegistration.status != DealStatus.DRAFT)
            .options(selectinload(DealRegistration.products), selectinload(DealRegistration.organization))
            .order_by(DealRegistration.id))
    if keys is not None:
        ids = ids_of(keys)
        if not ids:
            return
        stmt = stmt.where(DealRegistration.id.in_(ids))
    if since is not None:
        stmt = stmt.where(DealRegistration.updated_at >= since)
    adapter = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    language = current_app.config["BABEL_DEFAULT_LOCALE"]
    for registration in db.session.scalars(stmt.execution_options(yield_per=BATCH)):
        products = [p.name for p in registration.products]
        body = "\n".join(part for part in (
            registration.customer_name, registration.customer_website or "",
            country_name(registration.customer_country) or registration.customer_country,
            registration.contact_name, ", ".join(products), registration.description or "",
            registration.organization.name,
        ) if part)
        yield {
            "id": f"{TABLE}:{registration.id}",
            "kind": KIND,
            "title": registration.customer_name,
            "summary": f"{registration.organization.name} · {', '.join(products)}",
            "body": body,
            "url": adapter.build("deals.detail", {"registration_id": registration.id}),
            "language": language,
            "audience": "organization",
            "organization_id": registration.organization_id,
            "permission": "deals.view",
            "tags": [registration.effective_status.value, *(p.sku for p in registration.products)],
            "updated_at": registration.updated_at,
        }
