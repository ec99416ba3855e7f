"""The resource library as a source of search documents.

:func:`searchable_documents` yields one document per *published* page with the
same audience the page view enforces (drafts are for staff and are never
indexed), and :data:`KINDS` names the four kinds, one per category. The search
engine calls both; a page's id in the index is ``resource_page:<id>``, so the
``resource.*`` events (whose subject is the page) refresh its document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from portal.audience import Audience
from portal.extensions import db
from portal.models import ResourcePage, ResourcePageTag, ResourceStatus
from portal.models.resource import resource_page_program, resource_page_tier
from portal.resources.markdown import plain_text

KINDS = {
    "resource.guide": _l("Program guides"),
    "resource.announcement": _l("Announcements"),
    "resource.policy": _l("Policies"),
    "resource.other": _l("Other resources"),
}

ID_PREFIX = f"{ResourcePage.__tablename__}:"
#: Pages read per round trip; their tags, programs and tiers come in one query each.
BATCH = 500


def document_id(page_id: int) -> str:
    return f"{ID_PREFIX}{page_id}"


def _page_ids(keys: Iterable[str]) -> list[int]:
    ids = []
    for key in keys:
        prefix, _, number = str(key).partition(":")
        if f"{prefix}:" == ID_PREFIX and number.isascii() and number.isdigit():
            ids.append(int(number))
    return sorted(set(ids))


def _grouped(table: Any, column: Any, page_ids: list[int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(table.c.page_id, column).where(table.c.page_id.in_(page_ids)).order_by(column)
    )
    for page_id, value in rows:
        grouped[page_id].append(value)
    return grouped


def _audience(page: ResourcePage, programs: list[int], tiers: list[int]) -> Any:
    """The page's audience in the form search documents use."""
    if page.audience is Audience.PROGRAMS:
        return {"programs": programs} if programs else "staff"
    if page.audience is Audience.TIERS:
        return {"tiers": tiers} if tiers else "staff"
    return page.audience.value  # public, partners or staff


def _url_builder() -> Any:
    """Paths of page views, outside a request too (``portal search reindex``)."""
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    adapter = current_app.url_map.bind("", script_name=root)
    return lambda slug: adapter.build("resources.page", {"slug": slug})


def _batches(since: datetime | None, ids: list[int] | None) -> Iterator[list[ResourcePage]]:
    stmt = (
        sa.select(ResourcePage)
        .where(ResourcePage.status == ResourceStatus.PUBLISHED)
        .order_by(ResourcePage.id)
    )
    if since is not None:
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        stmt = stmt.where(ResourcePage.updated_at >= since)
    if ids is None:
        result = db.session.execute(stmt.execution_options(yield_per=BATCH))
        yield from (list(batch) for batch in result.scalars().partitions())
        return
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        yield list(db.session.scalars(stmt.where(ResourcePage.id.in_(chunk))))


def count() -> int:
    """How many pages :func:`searchable_documents` yields when asked for all."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ResourcePage)
                             .where(ResourcePage.status == ResourceStatus.PUBLISHED)) or 0


def count() -> int:
    """How many documents a full :func:`searchable_documents` yields (one COUNT),
    for a rebuild's progress bar."""
    return db.session.scalar(
        sa.select(sa.func.count(ResourcePage.id))
        .where(ResourcePage.status == ResourceStatus.PUBLISHED)
    ) or 0


def searchable_documents(since: datetime | None = None,
                         keys: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    """One search document per published page.

    ``keys`` (a set of ids like ``{"resource_page:3"}``, or None for all) limits
    the pages to those; ids of other sources are ignored. ``since`` (a datetime,
    or None) limits them to pages changed since then. An id asked for that is not
    yielded (a draft, a deleted page) is one the index should drop.
    """
    ids = None if keys is None else _page_ids(keys)
    if ids == []:
        return
    url_for_slug = _url_builder()
    for pages in _batches(since, ids):
        if not pages:
            continue
        page_ids = [page.id for page in pages]
        tags = _grouped(ResourcePageTag.__table__, ResourcePageTag.__table__.c.tag, page_ids)
        programs = _grouped(resource_page_program, resource_page_program.c.program_id, page_ids)
        tiers = _grouped(resource_page_tier, resource_page_tier.c.tier_id, page_ids)
        for page in pages:
            yield {
                "id": document_id(page.id),
                "kind": f"resource.{page.category.value}",
                "title": page.title,
                "body": plain_text(page.body),
                "summary": page.summary or "",
                "url": url_for_slug(page.slug),
                "language": page.language,
                "tags": tags.get(page.id, []),
                "audience": _audience(page, programs.get(page.id, []), tiers.get(page.id, [])),
                "organization_id": None,
                "updated_at": page.updated_at,
            }
