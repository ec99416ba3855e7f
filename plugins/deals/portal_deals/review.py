"""The vendor side: the review queue (filters, age, bulk actions), decisions on one
registration (approve, reject, ask for more information, extensions), the rules of
engagement per program and the product catalogue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.admin.common import organization_choices, render_list, sort_order
from portal.events import emit
from portal.extensions import db
from portal.models import Program, utcnow
from portal.permissions import can, permission_required
from portal.statements import Criteria
from portal_deals import present, queries, services
from portal_deals.blueprint import bp, refusals_are_conflicts
from portal_deals.forms import (BULK_ACTIONS, OPTIONAL_FIELD_LABELS, BulkForm, NoteForm, ProductForm,
                                ReasonForm, RulesForm, format_extra_fields)
from portal_deals.i18n import _, ngettext
from portal_deals.models import REASON_MAX, DealProduct, DealRegistration, DealRules, DealStatus
from portal_deals.rules import rules_for
from portal_deals.views import PER_PAGE, _detail, _int_arg, _page_number, settled

R = DealRegistration
QUEUE_SORTS = {
    "age": (R.submitted_at, R.id),
    "value": (R.value_reporting, R.id),
    "conflict": (R.conflict_score, R.id),
}
#: What the queue shows: submitted ones (default), those waiting for the partner,
#: extension requests.
QUEUE_VIEWS = ("submitted", "more_info", "extension")
BULK_MAX = 100


def _reviewable(registration_id: int) -> DealRegistration:
    registration = queries.registration_or_404(registration_id)
    if not can(current_user, "deals.review", registration):
        abort(403)
    return settled(registration)


def queue_query() -> tuple[Criteria, dict[str, Any]]:
    """The queue's conditions from the request's view and filters, with their values
    bound (:mod:`portal.statements`), and the filters as the page shows them."""
    view = request.args.get("view", "submitted")
    if view not in QUEUE_VIEWS:
        view = "submitted"
    filters: dict[str, Any] = {"view": view}
    criteria = Criteria()
    if view == "extension":
        criteria.where(("view", view), lambda: sa.and_(R.status == DealStatus.APPROVED,
                                                       R.extension_requested_at.is_not(None)))
    else:
        status = DealStatus(view)
        criteria.where(("view", view), lambda: R.status == status)
    organization_id = _int_arg("organization")
    if organization_id is not None:
        criteria.where("organization", lambda: R.organization_id == sa.bindparam("organization"),
                       organization=organization_id)
        filters["organization"] = organization_id
    program_id = _int_arg("program")
    if program_id is not None:
        criteria.where("program", lambda: R.program_id == sa.bindparam("program"), program=program_id)
        filters["program"] = program_id
    if request.args.get("conflicts") == "1":
        criteria.where("conflicts", lambda: R.conflict_score.is_not(None))
        filters["conflicts"] = "1"
    older = _int_arg("older")
    if older is not None and 0 < older <= 3650:
        criteria.where("older", lambda: R.submitted_at <= sa.bindparam("submitted_before"),
                       submitted_before=utcnow() - timedelta(days=older))
        filters["older"] = older
    return criteria, filters


@bp.get("/review")
@permission_required("deals.review")
def queue() -> Any:
    criteria, filters = queue_query()
    sort, order = sort_order(QUEUE_SORTS, "age")
    if filters["view"] == "extension" and sort.removeprefix("-") == "age":
        order = [R.extension_requested_at.desc() if sort.startswith("-") else R.extension_requested_at.asc(),
                 R.id.asc()]
    page = queries.list_page("deals.queue", criteria, sort, order, _page_number(), PER_PAGE)
    return render_list("deals/queue.html", "deals/_queue.html", "deal-queue",
                       page=page, rows=present.rows(page.items, staff=True, queue=True), sort=sort, filters=filters, programs=queries.programs_on(),
                       organizations=organization_choices(request.args.get("organization")).choices,
                       bulk_actions=BULK_ACTIONS, bulk_reason_max=REASON_MAX, count_cap=queries.COUNT_CAP)


@bp.post("/review/bulk")
@permission_required("deals.review")
def bulk() -> Any:
    """Approve or reject the ticked registrations; each one is decided on its own
    (one that cannot be, because it changed meanwhile or conflicts, is reported)."""
    form = BulkForm()
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.isascii() and v.isdigit()
                  and len(v) <= 18})
    if not form.validate_on_submit() or not ids or len(ids) > BULK_MAX:
        if not ids:
            flash(_("Tick the registrations to decide on first."), "error")
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("deals.queue"))
    done, refused = 0, []
    for registration_id in ids:
        registration = db.session.scalars(
            queries.visible_registrations(current_user).where(R.id == registration_id)).first()
        if registration is None:
            continue
        try:
            with db.session.begin_nested():
                if form.action.data == "approve":
                    services.approve(registration, current_user)
                else:
                    services.reject(registration, current_user, form.reason.data.strip())
            done += 1
        except (services.TransitionRefused, services.ClaimTaken):
            db.session.refresh(registration)
            refused.append(registration.customer_name)
    db.session.commit()
    if done:
        flash(ngettext("%(num)d registration decided.", "%(num)d registrations decided.", done), "success")
    if refused:
        flash(_("Not decided (changed meanwhile, or already protected elsewhere): %(names)s.",
                names=", ".join(refused)), "error")
    return redirect(url_for("deals.queue"))


@bp.post("/<int:registration_id>/approve")
@permission_required("deals.review")
@refusals_are_conflicts
def approve(registration_id: int) -> Any:
    registration = _reviewable(registration_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"note": form})
    services.approve(registration, current_user, note=form.note.data or None)
    db.session.commit()
    flash(_("Approved: %(customer)s is protected until %(date)s.", customer=registration.customer_name,
            date=_date(registration.expires_at)), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


def _date(value: Any) -> str:
    from flask_babel import format_date

    return format_date(value, "medium") if value else ""


@bp.post("/<int:registration_id>/reject")
@permission_required("deals.review")
@refusals_are_conflicts
def reject(registration_id: int) -> Any:
    registration = _reviewable(registration_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"reason": form})
    services.reject(registration, current_user, form.reason.data)
    db.session.commit()
    flash(_("Rejected. The partner is told why."), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.post("/<int:registration_id>/request-info")
@permission_required("deals.review")
@refusals_are_conflicts
def request_info(registration_id: int) -> Any:
    registration = _reviewable(registration_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"reason": form})
    services.request_info(registration, current_user, form.reason.data)
    db.session.commit()
    flash(_("Your question is sent to the partner."), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.post("/<int:registration_id>/extension/grant")
@permission_required("deals.review")
@refusals_are_conflicts
def grant_extension(registration_id: int) -> Any:
    registration = _reviewable(registration_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"note": form})
    services.grant_extension(registration, current_user, form.note.data or None)
    db.session.commit()
    flash(_("Extended: protected until %(date)s.", date=_date(registration.expires_at)), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.post("/<int:registration_id>/extension/decline")
@permission_required("deals.review")
@refusals_are_conflicts
def decline_extension(registration_id: int) -> Any:
    registration = _reviewable(registration_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"note": form})
    services.decline_extension(registration, current_user, form.note.data or None)
    db.session.commit()
    flash(_("The extension is declined."), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


# -- rules of engagement ----------------------------------------------------------------------

@bp.get("/rules")
@permission_required("deals.configure")
def rules() -> Any:
    programs = list(db.session.scalars(sa.select(Program).options(selectinload(Program.tiers))
                                       .order_by(Program.name)))
    on = {p.id for p in queries.programs_on()}
    return render_template("deals/rules.html", programs=programs, on=on,
                           rules={p.id: rules_for(p.id) for p in programs},
                           field_labels=OPTIONAL_FIELD_LABELS)


@bp.route("/rules/<int:program_id>", methods=["GET", "POST"])
@permission_required("deals.configure")
def rules_edit(program_id: int) -> Any:
    program = db.session.get(Program, program_id)
    if program is None:
        abort(404)
    current = rules_for(program_id)
    form = RulesForm()
    form.setup(program_id)
    if request.method == "GET":
        form.protection_days.data = current.protection_days
        form.max_extensions.data = current.max_extensions
        form.extension_days.data = current.extension_days
        form.auto_approve_tiers.data = sorted(current.auto_approve_tier_ids)
        form.required_fields.data = sorted(current.required_fields)
        form.extra_fields.data = format_extra_fields(list(current.extra_fields))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("deals/rules_edit.html", program=program, form=form), status
    row = db.session.get(DealRules, program_id)
    before = row.audit_state() if row is not None else None
    if row is None:
        row = DealRules(program_id=program_id)
        db.session.add(row)
    row.protection_days = form.protection_days.data
    row.max_extensions = form.max_extensions.data or 0
    row.extension_days = form.extension_days.data
    row.auto_approve_tier_ids = sorted(form.auto_approve_tiers.data or [])
    row.required_fields = sorted(form.required_fields.data or [])
    row.extra_fields = form.parsed_extra
    emit("deal.rules_changed", row, before=before, organization_id=None)
    db.session.commit()
    flash(_("The rules of engagement of %(program)s are saved.", program=program.name), "success")
    return redirect(url_for("deals.rules"))


# -- the product catalogue ------------------------------------------------------------------------

@bp.route("/products", methods=["GET", "POST"])
@permission_required("deals.configure")
def products() -> Any:
    form = ProductForm()
    if form.validate_on_submit():
        product = DealProduct(sku=form.sku.data, name=form.name.data, active=True)
        db.session.add(product)
        emit("deal.product_added", product, before=None, organization_id=None)
        db.session.commit()
        flash(_("%(name)s is in the catalogue.", name=product.name), "success")
        return redirect(url_for("deals.products"))
    catalogue = db.session.scalars(sa.select(DealProduct).order_by(DealProduct.active.desc(),
                                                                   DealProduct.name))
    status = 400 if form.is_submitted() else 200
    return render_template("deals/products.html", form=form, products=list(catalogue)), status


@bp.post("/products/<int:product_id>/toggle")
@permission_required("deals.configure")
def product_toggle(product_id: int) -> Any:
    product = db.session.get(DealProduct, product_id)
    if product is None:
        abort(404)
    before = product.audit_state()
    product.active = not product.active
    emit("deal.product_changed", product, before=before, organization_id=None)
    db.session.commit()
    message = (_("%(name)s is offered again.", name=product.name) if product.active
               else _("%(name)s is no longer offered for new registrations.", name=product.name))
    flash(message, "success")
    return redirect(url_for("deals.products"))
