"""Changing pages: what the editor's form, publishing and the demo data share.

These functions change a page in the session and nothing else; the caller emits
the event (``resource.created``, ``resource.updated``…) and commits, as every
state change in the portal does.
"""

from __future__ import annotations

from typing import Any

from portal.audience import Audience
from portal.models import Program, ResourceCategory, ResourcePage, ResourceStatus, Tier, utcnow
from portal.resources.forms import ResourcePageForm, unique_slug


def apply_form(form: ResourcePageForm, page: ResourcePage, user: Any) -> None:
    """Copy a validated form onto ``page`` (new or existing)."""
    page.title = form.title.data
    page.slug = form.slug.data or unique_slug(form.title.data, exclude_id=page.id)
    page.summary = form.summary.data or None
    page.body = form.body.data
    page.category = ResourceCategory(form.category.data)
    page.language = form.language.data
    audience = form.chosen_audience
    page.audience = audience
    # Only the audience in force keeps its choices: programs ticked before the
    # author switched to "all partners" must not linger in the page's state.
    programs, tiers = form.programs.data, form.tiers.data
    page.programs = form.chosen(Program, programs) if audience is Audience.PROGRAMS else []
    page.tiers = form.chosen(Tier, tiers) if audience is Audience.TIERS else []
    page.set_tags(form.parsed_tags)
    if page.author_id is None and page.id is None:
        page.author_id = getattr(user, "id", None)


def touch(page: ResourcePage, user: Any) -> None:
    """Record who changed the page and when (tags or programs alone do not
    update the page's row, so ``updated_at`` is set here, for search's ``since``)."""
    page.updated_at = utcnow()
    page.updated_by_id = getattr(user, "id", None)


def publish(page: ResourcePage) -> None:
    """Publish; the first publication's date stays when a page is published again."""
    page.status = ResourceStatus.PUBLISHED
    if page.published_at is None:
        page.published_at = utcnow()


def unpublish(page: ResourcePage) -> None:
    page.status = ResourceStatus.DRAFT
