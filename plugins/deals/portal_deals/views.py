"""The registrations: list, export, register, pre-check, detail, and the partner's
changes (submit, edit, withdraw, extension, won, lost), comments, attachments and
the vendor staff's internal notes.

Every route declares its permission; every registration is fetched through
:func:`portal_deals.queries.registration_or_404` (reach, and no drafts for staff).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import (Response, abort, current_app, flash, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.admin.common import render_list, sort_order
from portal.errors import render_error
from portal.extensions import db
from portal.models import Program, utcnow
from portal.permissions import can, permission_required
from portal.statements import Criteria
from portal.throttle import consume
from portal_deals import matching, present, queries, services, storage
from portal_deals.blueprint import PRECHECK_LIMIT_SETTING, bp, refusals_are_conflicts
from portal_deals.forms import (INDUSTRY_LABELS, LOST_REASON_LABELS, CommentForm, LostForm, NoteForm,
                                ReasonForm, StaffNoteForm, WonForm, registration_form)
from portal_deals.i18n import _
from portal_deals.models import (DealAttachment, DealComment, DealHistory,
                                 DealRegistration, DealStaffNote, DealStatus)
from portal_deals.rules import rules_for

PER_PAGE = 25
R = DealRegistration

SORTS = {
    "updated": (R.updated_at, R.id),
    "created": (R.created_at, R.id),
    "customer": (R.customer_key, R.id),
    "value": (R.value_reporting, R.id),
    "close": (R.expected_close, R.id),
    "expires": (R.expires_at, R.id),
}
LIST_STATUSES = [status for status in DealStatus]
STATUS_VALUES = frozenset(status.value for status in DealStatus)


# -- list and export -------------------------------------------------------------------

def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def filtered() -> tuple[Criteria, dict[str, Any]]:
    """The list's conditions from the request's filters (``status``, ``program``,
    ``organization`` for staff, ``q``: the start of the customer's name), with their
    values bound (:mod:`portal.statements`), and the filters as the page shows them."""
    criteria = Criteria()
    filters: dict[str, Any] = {}
    status = request.args.get("status", "")
    if status in STATUS_VALUES:
        chosen = DealStatus(status)
        if chosen in (DealStatus.APPROVED, DealStatus.EXPIRED):  # these depend on the time
            criteria.where(("status", status),
                           lambda: queries.status_condition(chosen, sa.bindparam("now")), now=utcnow())
        else:
            criteria.where(("status", status), lambda: queries.status_condition(chosen))
        filters["status"] = status
    program_id = _int_arg("program")
    if program_id is not None:
        criteria.where("program", lambda: R.program_id == sa.bindparam("program"), program=program_id)
        filters["program"] = program_id
    organization_id = _int_arg("organization")
    if organization_id is not None and not current_user.is_partner:
        criteria.where("organization", lambda: R.organization_id == sa.bindparam("organization"),
                       organization=organization_id)
        filters["organization"] = organization_id
    text = (request.args.get("q") or "").strip()[:100]
    if text:
        key = matching.company_key(text) or text.casefold()
        # A range on the normalized name: reads the customer-key index.
        criteria.where("q", lambda: sa.and_(R.customer_key >= sa.bindparam("key_from"),
                                            R.customer_key < sa.bindparam("key_to")),
                       key_from=key, key_to=key + "\U0010ffff")
        filters["q"] = text
    return criteria, filters


def _page_number() -> int:
    number = _int_arg("page") or 1
    return max(1, min(number, 10_000))


@bp.get("/")
@permission_required("deals.view")
def index() -> Any:
    criteria, filters = filtered()
    sort, order = sort_order(SORTS, "-updated")
    page = queries.list_page("deals.list", criteria, sort, order, _page_number(), PER_PAGE)
    programs = queries.programs_on()
    organizations = []
    if not current_user.is_partner:
        from portal.admin.common import organization_choices

        organizations = organization_choices(request.args.get("organization")).choices
    staff = not current_user.is_partner
    return render_list("deals/index.html", "deals/_results.html", "deal-results",
                       page=page, rows=present.rows(page.items, staff=staff),
                       sort=sort, filters=filters, programs=programs,
                       organizations=organizations, statuses=present.formatter().labels.items(),
                       count_cap=queries.COUNT_CAP, staff=staff)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = ("id", "status", "organization", "program", "customer", "website", "country",
               "industry", "contact", "contact_email", "contact_phone", "products", "value",
               "currency", "expected_close", "submitted_at", "expires_at", "final_value",
               "lost_reason", "updated_at")


@bp.get("/export.csv")
@permission_required("deals.export")
def export() -> Any:
    """The registrations the user sees, with the list's filters, as CSV (streamed)."""
    criteria, _filters = filtered()
    stmt = criteria.apply(sa.select(R)).params(criteria.params)
    rows = (queries.scoped_registrations(stmt, current_user)
            .options(selectinload(R.products), selectinload(R.organization), selectinload(R.program))
            .order_by(R.id))

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for registration in db.session.scalars(rows.execution_options(yield_per=500)):
            writer.writerow([_csv_cell(v) for v in (
                registration.id, registration.effective_status.value, registration.organization.name,
                registration.program.name, registration.customer_name, registration.customer_website,
                registration.customer_country, registration.customer_industry,
                registration.contact_name, registration.contact_email, registration.contact_phone,
                "; ".join(p.sku for p in registration.products), registration.value,
                registration.currency, registration.expected_close.isoformat(),
                registration.submitted_at.isoformat() if registration.submitted_at else "",
                registration.expires_at.isoformat() if registration.expires_at else "",
                registration.final_value, registration.lost_reason,
                registration.updated_at.isoformat(),
            )])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="deal-registrations.csv"'
    response.headers["Cache-Control"] = "no-store"  # an organization's data: no shared cache
    return response


# -- registering ---------------------------------------------------------------------------

def _program_for_new() -> tuple[Program | None, list[Program]]:
    programs = queries.eligible_programs(current_user.organization_id)
    wanted = request.values.get("program_id") or request.args.get("program")
    chosen = next((p for p in programs if str(p.id) == str(wanted)), None)
    if chosen is None and len(programs) == 1:
        chosen = programs[0]
    return chosen, programs


def _precheck_for(form: Any, exclude_id: int | None = None) -> services.Precheck | None:
    """The pre-check of what the form says about the customer (None: too little said)."""
    name = (form.customer_name.data or "").strip()
    if not matching.company_key(name):
        return None
    consume(PRECHECK_LIMIT_SETTING, key=f"deals-precheck:{current_user.id}")
    product_ids = [p for p in (form.products.data or []) if isinstance(p, int)]
    customer = matching.Customer.of(name, form.customer_website.data, form.contact_email.data,
                                    form.customer_country.data or None, product_ids)
    return services.precheck(customer, current_user.organization_id, exclude_id=exclude_id)


def _render_form(form: Any, program: Program | None, programs: list[Program], registration: Any = None,
                 status: int = 200, precheck: Any = None) -> Any:
    return render_template("deals/form.html", form=form, program=program, programs=programs,
                           registration=registration, precheck=precheck), status


@bp.route("/new", methods=["GET", "POST"])
@permission_required("deals.register")
@refusals_are_conflicts
def new() -> Any:
    program, programs = _program_for_new()
    if program is None:
        # Several programs: the partner picks one first (its rules shape the form).
        status = 400 if request.method == "POST" else 200
        return render_template("deals/choose_program.html", programs=programs), status
    form = registration_form(rules_for(program.id))
    action = request.form.get("action", "draft")
    if request.method == "POST" and action == "precheck":
        form.validate()  # fills the data; errors are shown, nothing is saved
        return _render_form(form, program, programs, precheck=_precheck_for(form) or False)
    if not form.validate_on_submit():
        return _render_form(form, program, programs, status=400 if form.is_submitted() else 200)
    registration = services.create(form.data_out(program.id), current_user.organization_id, current_user)
    if action == "submit":
        services.submit(registration, current_user)
    db.session.commit()
    _flash_outcome(registration, action)
    return redirect(url_for("deals.detail", registration_id=registration.id))


def _flash_outcome(registration: DealRegistration, action: str) -> None:
    if registration.status is DealStatus.APPROVED:
        flash(_("Approved: your registration of %(customer)s is protected until %(date)s.",
                customer=registration.customer_name,
                date=_format_date(registration.expires_at)), "success")
    elif registration.status is DealStatus.SUBMITTED:
        flash(_("Submitted: the channel team reviews your registration of %(customer)s.",
                customer=registration.customer_name), "success")
    else:
        flash(_("Saved as a draft. Submit it when it is complete."), "success")


def _format_date(value: Any) -> str:
    from flask_babel import format_date

    return format_date(value, "medium") if value else ""


@bp.post("/precheck")
@permission_required("deals.register")
def precheck() -> Any:
    """The pre-check alone (htmx, from the registration form): reveals nothing about
    other partners' registrations but that the customer appears protected."""
    program, _programs = _program_for_new()
    form = registration_form(rules_for(program.id) if program else rules_for(0))
    form.validate()
    exclude = request.form.get("registration_id", "")
    result = _precheck_for(form, int(exclude) if exclude.isdigit() else None)
    status = 200 if result is not None else 400
    return render_template("deals/_precheck.html", precheck=result if result is not None else False,
                           form=form), status


@bp.route("/<int:registration_id>/edit", methods=["GET", "POST"])
@permission_required("deals.register")
@refusals_are_conflicts
def edit(registration_id: int) -> Any:
    registration = queries.registration_or_404(registration_id)
    if registration.status not in services.EDITABLE:
        raise services.refusal("edit", registration)
    program = registration.program
    form = registration_form(rules_for(program.id))
    action = request.form.get("action", "draft")
    if request.method == "GET":
        form.fill(registration)
        return _render_form(form, program, [program], registration)
    if action == "precheck":
        form.validate()
        return _render_form(form, program, [program], registration,
                            precheck=_precheck_for(form, registration.id) or False)
    if not form.validate_on_submit():
        return _render_form(form, program, [program], registration, status=400)
    services.update(registration, form.data_out(program.id), current_user)
    if action == "submit":
        services.submit(registration, current_user)
    db.session.commit()
    _flash_outcome(registration, action)
    return redirect(url_for("deals.detail", registration_id=registration.id))


# -- one registration ----------------------------------------------------------------------

def detail_context(registration: DealRegistration) -> dict[str, Any]:
    history = db.session.scalars(
        sa.select(DealHistory).where(DealHistory.registration_id == registration.id)
        .options(selectinload(DealHistory.actor)).order_by(DealHistory.at, DealHistory.id))
    comments = db.session.scalars(
        sa.select(DealComment).where(DealComment.registration_id == registration.id)
        .options(selectinload(DealComment.author)).order_by(DealComment.created_at, DealComment.id))
    attachments_stmt = (sa.select(DealAttachment).where(DealAttachment.registration_id == registration.id)
                        .order_by(DealAttachment.created_at, DealAttachment.id))
    if can(current_user, "deals.colleague_attachments", registration):
        # Whether a file is a colleague's (the partner admin may delete it) needs its
        # uploader: all of them in one more query, not one query per file.
        attachments_stmt = attachments_stmt.options(selectinload(DealAttachment.uploaded_by))
    attachments = list(db.session.scalars(attachments_stmt))
    staff = not current_user.is_partner
    may_staff_note = can(current_user, "deals.staff_note", registration)
    # Read only for the staff who may write them: a partner's page never loads them.
    notes = services.staff_notes(registration) if may_staff_note else []
    matches = services.conflicts(registration) if staff and registration.status in (
        DealStatus.SUBMITTED, DealStatus.MORE_INFO, DealStatus.APPROVED) else []
    rules = rules_for(registration.program_id)
    return {
        "registration": registration,
        "history": list(history),
        "comments": list(comments),
        "attachments": attachments,
        "removable": {item.id for item in attachments
                      if services.attachment_deletion_refusal(current_user, registration, item) is None},
        "staff_notes": notes,
        "editable_notes": _allowed_notes(services.staff_note_edit_refusal, registration, notes),
        "removable_notes": _allowed_notes(services.staff_note_deletion_refusal, registration, notes),
        "matches": matches,
        "rules": rules,
        "extensions_left": services.extensions_left(registration),
        "staff": staff,
        "industry_labels": INDUSTRY_LABELS,
        "lost_reason_labels": LOST_REASON_LABELS,
        "status_labels": {s.value: s.label for s in DealStatus},
        "forms": {name: distinct_ids(name, form) for name, form in {
            "comment": CommentForm(), "reason": ReasonForm(), "note": NoteForm(),
            "won": WonForm(), "lost": LostForm(), "staff_note": StaffNoteForm(),
        }.items()},
        "may_register": can(current_user, "deals.register", registration),
        "may_review": can(current_user, "deals.review", registration),
        "may_comment": can(current_user, "deals.comment", registration),
        "may_staff_note": may_staff_note,
        "reaches": lambda other: can(current_user, "deals.view", other) and (
            other.status is not DealStatus.DRAFT or current_user.is_partner),
    }


def _allowed_notes(refusal: Any, registration: DealRegistration, notes: list[DealStaffNote]) -> set[int]:
    """The ids of the notes ``refusal`` lets the current user change (links shown)."""
    return {note.id for note in notes if refusal(current_user, registration, note) is None}


def distinct_ids(name: str, form: Any) -> Any:
    """The detail page holds several small forms: give their fields ids of their own
    (``lost-reason``, ``reason-reason``) so that every label names one field."""
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = f"{name}-{field.name}"
    return form


def _detail(registration: DealRegistration, status: int = 200, **overrides: Any) -> Any:
    context = detail_context(registration)
    context["forms"].update({name: distinct_ids(name, form)
                             for name, form in overrides.pop("forms", {}).items()})
    context.update(overrides)
    return render_template("deals/detail.html", **context), status


@bp.get("/<int:registration_id>")
@permission_required("deals.view")
def detail(registration_id: int) -> Any:
    registration = queries.registration_or_404(registration_id)
    return _detail(registration)


def settled(registration: DealRegistration) -> DealRegistration:
    """Before a change: a protection whose period is over expires now, for good
    (committed), whatever becomes of the change asked for."""
    if services.settle(registration):
        db.session.commit()
    return registration


def _own(registration_id: int) -> DealRegistration:
    """A registration the current partner may change (their organization's)."""
    registration = queries.registration_or_404(registration_id)
    if not can(current_user, "deals.register", registration):
        abort(403)
    return settled(registration)


def _done(registration: DealRegistration, message: str) -> Any:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.post("/<int:registration_id>/submit")
@permission_required("deals.register")
@refusals_are_conflicts
def submit(registration_id: int) -> Any:
    registration = _own(registration_id)
    services.submit(registration, current_user)
    db.session.commit()
    _flash_outcome(registration, "submit")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.post("/<int:registration_id>/withdraw")
@permission_required("deals.register")
@refusals_are_conflicts
def withdraw(registration_id: int) -> Any:
    registration = _own(registration_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"note": form})
    services.withdraw(registration, current_user, form.note.data or None)
    return _done(registration, _("The registration is withdrawn."))


@bp.post("/<int:registration_id>/extension")
@permission_required("deals.register")
@refusals_are_conflicts
def request_extension(registration_id: int) -> Any:
    registration = _own(registration_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"reason": form})
    services.request_extension(registration, current_user, form.reason.data)
    return _done(registration, _("Extension requested: the channel team decides on it."))


@bp.post("/<int:registration_id>/won")
@permission_required("deals.register")
@refusals_are_conflicts
def won(registration_id: int) -> Any:
    registration = _own(registration_id)
    form = WonForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"won": form})
    services.win(registration, current_user, form.final_value.data, form.note.data or None)
    return _done(registration, _("Congratulations: the deal is marked won."))


@bp.post("/<int:registration_id>/lost")
@permission_required("deals.register")
@refusals_are_conflicts
def lost(registration_id: int) -> Any:
    registration = _own(registration_id)
    form = LostForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"lost": form})
    services.lose(registration, current_user, form.reason.data, form.note.data or None)
    return _done(registration, _("The deal is marked lost."))


# -- comments and attachments ------------------------------------------------------------

@bp.post("/<int:registration_id>/comments")
@permission_required("deals.comment")
def add_comment(registration_id: int) -> Any:
    registration = queries.registration_or_404(registration_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"comment": form})
    services.comment(registration, current_user, form.body.data)
    return _done(registration, _("Your comment is added."))


@bp.post("/<int:registration_id>/attachments")
@permission_required("deals.comment")
def add_attachment(registration_id: int) -> Any:
    registration = queries.registration_or_404(registration_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _detail(registration, 400, attachment_error=_("Choose a file to attach."))
    data = upload.read(storage.MAX_BYTES + 1)
    filename = storage.clean_filename(upload.filename)
    try:
        kind = storage.check(data, filename)
    except storage.AttachmentRefused as refused:
        return _detail(registration, 400, attachment_error=str(refused))
    stored = storage.save(data, kind)
    try:
        services.attach(registration, current_user, filename, stored, kind.content_type, len(data))
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.delete(stored)
        raise
    flash(_("%(name)s is attached.", name=filename), "success")
    return redirect(url_for("deals.detail", registration_id=registration.id))


@bp.get("/<int:registration_id>/attachments/<int:attachment_id>")
@permission_required("deals.view")
def attachment(registration_id: int, attachment_id: int) -> Any:
    registration = queries.registration_or_404(registration_id)
    item = _child_or_404(DealAttachment, registration, attachment_id)
    path = storage.path_of(item.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=item.content_type, as_attachment=True,
                         download_name=item.filename, max_age=0)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _child_or_404(model: Any, registration: DealRegistration, child_id: int) -> Any:
    """The registration's attachment or staff note ``child_id`` (404 for another
    registration's, or none)."""
    item = db.session.scalar(sa.select(model).where(
        model.id == child_id, model.registration_id == registration.id))
    if item is None:
        abort(404)
    return item


@contextmanager
def _undone_if_refused(gone: type[Exception]) -> Iterator[None]:
    """Run a service's change: refused meanwhile (403 with its reason) or its object
    gone meanwhile (404), nothing of it is kept."""
    try:
        yield
    except services.ActionForbidden as forbidden:
        db.session.rollback()
        abort(render_error(403, forbidden.message))
    except gone:
        db.session.rollback()
        abort(404)


def _to_detail(registration: DealRegistration) -> Any:
    """Back to the registration's page; an htmx request is told to load it whole
    (a redirect would be followed inside the XMLHttpRequest and swapped in)."""
    url = url_for("deals.detail", registration_id=registration.id)
    if getattr(request, "htmx", None):
        response = Response(status=200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def _remove_stored_file(stored_name: str) -> None:
    """Remove a deleted attachment's file. The deletion is committed already: a
    file that cannot be removed is logged for the operator, not shown as an error."""
    try:
        storage.delete(stored_name)
    except Exception:  # noqa: BLE001 - the row is gone; a leftover file must not fail the request
        current_app.logger.exception(
            "deals: the file %s of a deleted attachment could not be removed; remove it by hand",
            stored_name)


@bp.route("/<int:registration_id>/attachments/<int:attachment_id>/delete", methods=["GET", "POST"])
@permission_required("deals.comment")
@refusals_are_conflicts
def delete_attachment(registration_id: int, attachment_id: int) -> Any:
    """GET asks for confirmation (works without JavaScript); POST deletes the row,
    commits, then removes the file."""
    registration = queries.registration_or_404(registration_id)
    if request.method == "POST":
        settled(registration)
    item = _child_or_404(DealAttachment, registration, attachment_id)
    refused = services.attachment_deletion_refusal(current_user, registration, item)
    if isinstance(refused, services.ActionForbidden):
        return render_error(403, refused.message)
    if refused is not None:
        raise refused  # 409, with its reason
    if request.method == "GET":
        return render_template("deals/attachment_delete.html", registration=registration, item=item)
    filename = item.filename
    with _undone_if_refused(services.AttachmentGone):
        stored_name = services.delete_attachment(registration, item, current_user)
    db.session.commit()
    _remove_stored_file(stored_name)
    flash(_("%(name)s is deleted.", name=filename), "success")
    return _to_detail(registration)


# -- staff notes ---------------------------------------------------------------------------

def _noted(registration_id: int) -> DealRegistration:
    """A registration whose staff notes the current user may read and write."""
    registration = queries.registration_or_404(registration_id)
    if not can(current_user, "deals.staff_note", registration):
        abort(403)
    return registration


@bp.post("/<int:registration_id>/staff-notes")
@permission_required("deals.staff_note")
def add_staff_note(registration_id: int) -> Any:
    registration = _noted(registration_id)
    form = StaffNoteForm()
    if not form.validate_on_submit():
        return _detail(registration, 400, forms={"staff_note": form})
    services.add_staff_note(registration, current_user, form.text.data)
    return _done(registration, _("Your staff note is added. Partners do not see it."))


def _render_note_edit(registration: DealRegistration, note: DealStaffNote, form: Any,
                      status: int = 200) -> Any:
    return render_template("deals/staff_note_edit.html", registration=registration, note=note,
                           form=distinct_ids("staff_note_edit", form)), status


@bp.route("/<int:registration_id>/staff-notes/<int:note_id>/edit", methods=["GET", "POST"])
@permission_required("deals.staff_note")
def edit_staff_note(registration_id: int, note_id: int) -> Any:
    """GET shows the note in a form (its author only); POST saves it, validated
    like a new note."""
    registration = _noted(registration_id)
    note = _child_or_404(DealStaffNote, registration, note_id)
    refused = services.staff_note_edit_refusal(current_user, registration, note)
    if refused is not None:
        return render_error(403, refused.message)
    form = StaffNoteForm()
    if request.method == "GET":
        form.text.data = note.body
        return _render_note_edit(registration, note, form)
    if not form.validate_on_submit():
        return _render_note_edit(registration, note, form, 400)
    with _undone_if_refused(services.StaffNoteGone):
        services.edit_staff_note(registration, note, current_user, form.text.data)
    return _done(registration, _("Your staff note is changed. Partners do not see it."))


@bp.route("/<int:registration_id>/staff-notes/<int:note_id>/delete", methods=["GET", "POST"])
@permission_required("deals.staff_note")
def delete_staff_note(registration_id: int, note_id: int) -> Any:
    """GET asks for confirmation (works without JavaScript); POST deletes the note
    (its author, or a vendor admin)."""
    registration = _noted(registration_id)
    note = _child_or_404(DealStaffNote, registration, note_id)
    refused = services.staff_note_deletion_refusal(current_user, registration, note)
    if refused is not None:
        return render_error(403, refused.message)
    if request.method == "GET":
        return render_template("deals/staff_note_delete.html", registration=registration, note=note)
    with _undone_if_refused(services.StaffNoteGone):
        services.delete_staff_note(registration, note, current_user)
    db.session.commit()
    flash(_("The staff note is deleted."), "success")
    return _to_detail(registration)
