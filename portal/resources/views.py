"""The resource library's routes: the library and its pages for readers (visitors
included, who see public pages), and the management screens for staff.

Every page is fetched through :mod:`portal.resources.queries`, so a page the
user may not open answers 404 wherever it is asked for.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.admin.common import PER_PAGE, render_list, saved_or_field_error, sort_order
from portal.errors import bad_request, conflict
from portal.events import emit
from portal.extensions import db
from portal.i18n import is_rtl, language_choices
from portal.models import (
    ResourceCategory,
    ResourcePage,
    ResourcePageTag,
    ResourceStatus,
    Tier,
)
from portal.permissions import can, permission_required
from portal.resources import pages
from portal.resources.forms import LibraryFilterForm, ManageFilterForm, ResourcePageForm
from portal.resources.markdown import render
from portal.resources.queries import get_visible_page_or_404, tag_counts, visible_pages
from portal.models.resource import BODY_MAX

bp = Blueprint("resources", __name__, url_prefix="/resources")

LIBRARY_ID = "resources-results"
MANAGE_ID = "resources-manage-results"
# Shown when a concurrent request took the address name between the check and the save.
SLUG_TAKEN = _l("Another page took this address name a moment ago. Choose another.")

LIBRARY_SORTS = {
    "published": (ResourcePage.published_at, ResourcePage.id),
    "title": (ResourcePage.title, ResourcePage.id),
}
MANAGE_SORTS = {
    "updated": (ResourcePage.updated_at, ResourcePage.id),
    "title": (ResourcePage.title, ResourcePage.id),
}


@bp.app_template_global()
def language_name(code: str) -> str:
    """A page's language in that language ("Deutsch"), as the switcher names it."""
    return dict(language_choices()).get(code, code)


def _filtered(stmt: sa.Select[Any], filters: dict[str, Any]) -> sa.Select[Any]:
    if "category" in filters:
        stmt = stmt.where(ResourcePage.category == ResourceCategory(filters["category"]))
    if "language" in filters:
        stmt = stmt.where(ResourcePage.language == filters["language"])
    if "tag" in filters:
        stmt = stmt.where(sa.exists().where(ResourcePageTag.page_id == ResourcePage.id,
                                            ResourcePageTag.tag == filters["tag"]))
    if "status" in filters:
        stmt = stmt.where(ResourcePage.status == ResourceStatus(filters["status"]))
    return stmt


# -- reading ------------------------------------------------------------------


@bp.get("")
@permission_required("resources.view", anonymous=True)
def library() -> Response:
    """Published pages the reader may open, newest first, filtered and paged."""
    form = LibraryFilterForm(formdata=request.args)
    filters = form.cleaned()
    sort, order_by = sort_order(LIBRARY_SORTS, "-published")
    stmt = (
        _filtered(visible_pages(drafts=False), filters)
        .options(selectinload(ResourcePage.tag_rows))
        .order_by(*order_by)
    )
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_list(
        "resources/library.html", "resources/_library_results.html", LIBRARY_ID,
        form=form, page=page, sort=sort, filters=filters, tags=tag_counts(),
    )


@bp.get("/<slug>", endpoint="page")
@permission_required("resources.view", anonymous=True)
def view_page(slug: str) -> str:
    page = get_visible_page_or_404(slug)
    return render_template(
        "resources/page.html",
        page=page,
        body=Markup(page.body_html),  # sanitized when saved (portal.resources.markdown)
        article_dir="rtl" if is_rtl(page.language) else "ltr",
        manage=can(current_user, "resources.manage"),
    )


# -- managing -----------------------------------------------------------------


@bp.get("/manage")
@permission_required("resources.manage")
def manage() -> Response:
    """Every page staff may edit, drafts included, most recently changed first."""
    form = ManageFilterForm(formdata=request.args)
    filters = form.cleaned()
    sort, order_by = sort_order(MANAGE_SORTS, "-updated")
    stmt = (
        _filtered(visible_pages(), filters)
        .options(selectinload(ResourcePage.programs),
                 selectinload(ResourcePage.tiers).selectinload(Tier.program))
        .order_by(*order_by)
    )
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_list(
        "resources/manage.html", "resources/_manage_results.html", MANAGE_ID,
        form=form, page=page, sort=sort,
    )


def _render_form(form: ResourcePageForm, page: ResourcePage | None, status: int | None = None,
                 preview: Markup | None = None) -> tuple[str, int]:
    if status is None:
        status = 400 if form.errors else 200
    return render_template("resources/form.html", form=form, page=page, preview=preview), status


def _preview_requested(form: ResourcePageForm) -> Markup | None:
    """The "Preview" button (without JavaScript): render the text, save nothing."""
    if not (form.is_submitted() and request.form.get("action") == "preview"):
        return None
    return Markup(render((form.body.data or "")[:BODY_MAX]))


@bp.route("/manage/new", methods=["GET", "POST"])
@permission_required("resources.manage")
def new() -> Any:
    form = ResourcePageForm()
    preview = _preview_requested(form)
    if preview is not None:
        return _render_form(form, None, 200, preview)
    if form.validate_on_submit():
        page = ResourcePage()
        with saved_or_field_error(form.slug, str(SLUG_TAKEN)) as saved:
            pages.apply_form(form, page, current_user)
            pages.touch(page, current_user)
            db.session.add(page)
            emit("resource.created", page, before=None)
            if request.form.get("action") == "publish":
                before = page.audit_state()
                pages.publish(page)
                emit("resource.published", page, before=before)
        if saved.ok:
            if page.is_published:
                flash(_("“%(title)s” is published.", title=page.title), "success")
            else:
                flash(_("“%(title)s” is saved as a draft.", title=page.title), "success")
            return redirect(url_for("resources.page", slug=page.slug))
    return _render_form(form, None, 400 if form.is_submitted() else 200)


@bp.route("/manage/<int:page_id>/edit", methods=["GET", "POST"])
@permission_required("resources.manage")
def edit(page_id: int) -> Any:
    page = get_visible_page_or_404(page_id=page_id)
    form = ResourcePageForm(page=page)
    preview = _preview_requested(form)
    if preview is not None:
        return _render_form(form, page, 200, preview)
    if form.validate_on_submit():
        with saved_or_field_error(form.slug, str(SLUG_TAKEN)) as saved:
            before = page.audit_state()
            pages.apply_form(form, page, current_user)
            if page.audit_state() != before:
                pages.touch(page, current_user)
                emit("resource.updated", page, before=before)
        if saved.ok:
            flash(_("The page is saved."), "success")
            return redirect(url_for("resources.page", slug=page.slug))
    return _render_form(form, page, 400 if form.is_submitted() else 200)


def _back(page: ResourcePage) -> Response:
    """Back to where the action was taken: the management list or the page."""
    if request.form.get("back") == "manage":
        return redirect(url_for("resources.manage"))
    return redirect(url_for("resources.page", slug=page.slug))


@bp.post("/manage/<int:page_id>/publish")
@permission_required("resources.manage")
def publish(page_id: int) -> Response:
    page = get_visible_page_or_404(page_id=page_id)
    if page.is_published:
        conflict(_("This page is already published."))
    before = page.audit_state()
    pages.publish(page)
    pages.touch(page, current_user)
    emit("resource.published", page, before=before)
    db.session.commit()
    flash(_("“%(title)s” is published.", title=page.title), "success")
    return _back(page)


@bp.post("/manage/<int:page_id>/unpublish")
@permission_required("resources.manage")
def unpublish(page_id: int) -> Response:
    page = get_visible_page_or_404(page_id=page_id)
    if not page.is_published:
        conflict(_("This page is not published."))
    before = page.audit_state()
    pages.unpublish(page)
    pages.touch(page, current_user)
    emit("resource.unpublished", page, before=before)
    db.session.commit()
    flash(_("“%(title)s” is a draft again: only staff can read it.", title=page.title), "success")
    return _back(page)


@bp.route("/manage/<int:page_id>/delete", methods=["GET", "POST"])
@permission_required("resources.manage")
def delete(page_id: int) -> Any:
    """GET asks for confirmation (works without JavaScript); POST deletes."""
    page = get_visible_page_or_404(page_id=page_id)
    if request.method == "GET":
        return render_template("resources/delete.html", page=page)
    before = page.audit_state()
    # Before the row goes: the audit entry and search see the page as it was.
    emit("resource.deleted", page, before=before, after={})
    db.session.delete(page)
    db.session.commit()
    flash(_("“%(title)s” is deleted.", title=before["title"]), "success")
    return redirect(url_for("resources.manage"))


@bp.post("/manage/preview")
@permission_required("resources.manage")
def preview() -> str:
    """The live preview beside the editor (htmx): the text as readers will see it."""
    body = request.form.get("body", "")
    if len(body) > BODY_MAX:
        bad_request(_("The text is longer than %(count)d characters.", count=BODY_MAX))
    return render_template("resources/_preview.html", preview=Markup(render(body)))
