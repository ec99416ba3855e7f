"""Onboarding: the public "Become a partner" form and the vendor's review queue.

Applications are vendor-wide records (no organization until approved), so they are
not fetched through :mod:`portal.scoping`: every review route requires
``applications.review``, which only vendor staff hold.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.errors import conflict
from portal.extensions import db
from portal.models import ApplicationStatus, PartnerApplication, PartnerType, Program
from portal.onboarding import applications
from portal.onboarding import notifications as _notifications  # noqa: F401 - registers rules
from portal.onboarding.forms import ApplicationForm, ApproveForm, RejectForm, open_programs
from portal.permissions import permission_required
from portal.throttle import consume

bp = Blueprint("onboarding", __name__)

APPLIED_KEY = "onboarding.applied_email"


# -- the public application form ----------------------------------------------

@bp.route("/apply", methods=["GET", "POST"])
def apply():  # type: ignore[no-untyped-def]
    """Anyone may apply; the form is throttled per client and guarded by a honeypot."""
    if request.method == "POST":
        consume("RATELIMIT_APPLY")
    programs = open_programs()
    form = ApplicationForm(programs=programs)
    if form.is_submitted() and form.is_bot:
        # Pretend it worked: a bot that learns nothing does not adapt.
        current_app.logger.info("application honeypot filled from %s", request.remote_addr)
        session[APPLIED_KEY] = (form.contact_email.data or "")[:254]
        return redirect(url_for("onboarding.applied"))
    if form.validate_on_submit():
        for name, message in applications.refusals(
            form.company_name.data, form.contact_email.data
        ).items():
            getattr(form, name).errors.append(message)
        if not form.errors:
            program = next(p for p in programs if str(p.id) == form.program_id.data)
            application = applications.submit(
                company_name=form.company_name.data,
                website=form.website.data,
                country=form.country.data,
                partner_type=PartnerType(form.partner_type.data),
                program=program,
                contact_name=form.contact_name.data,
                contact_email=form.contact_email.data,
                contact_phone=form.contact_phone.data,
                message=form.message.data,
                locale=str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            )
            db.session.commit()
            session[APPLIED_KEY] = application.contact_email
            return redirect(url_for("onboarding.applied"))
    status = 400 if form.errors else 200
    return render_template("onboarding/apply.html", form=form, programs=programs), status


@bp.get("/apply/thanks")
def applied():  # type: ignore[no-untyped-def]
    return render_template("onboarding/thanks.html", email=session.pop(APPLIED_KEY, None))


# -- the review queue -----------------------------------------------------------

STATUS_FILTERS = {s.value: s for s in ApplicationStatus}
ALL = "all"
SORTS = {
    "submitted": (PartnerApplication.created_at.asc(), PartnerApplication.id.asc()),
    "-submitted": (PartnerApplication.created_at.desc(), PartnerApplication.id.desc()),
    "company": (PartnerApplication.company_name.asc(), PartnerApplication.id.asc()),
    "-company": (PartnerApplication.company_name.desc(), PartnerApplication.id.desc()),
}
MAX_SEARCH = 100


def _queue_filters() -> dict[str, Any]:
    """The queue's query arguments, each checked against what it may be."""
    status = request.args.get("status", ApplicationStatus.PENDING.value)
    if status != ALL and status not in STATUS_FILTERS:
        status = ApplicationStatus.PENDING.value
    program_id = request.args.get("program", type=int)
    q = (request.args.get("q") or "").strip()[:MAX_SEARCH]
    # Pending work is served oldest first; decided applications newest first.
    default_sort = "submitted" if status == ApplicationStatus.PENDING.value else "-submitted"
    sort = request.args.get("sort", default_sort)
    if sort not in SORTS:
        sort = default_sort
    return {"status": status, "program": program_id, "q": q, "sort": sort}


def _queue_statement(filters: dict[str, Any]) -> sa.Select[Any]:
    stmt = sa.select(PartnerApplication)
    if filters["status"] != ALL:
        stmt = stmt.where(PartnerApplication.status == STATUS_FILTERS[filters["status"]])
    if filters["program"]:
        stmt = stmt.where(PartnerApplication.program_id == filters["program"])
    if filters["q"]:
        escaped = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            sa.or_(
                PartnerApplication.company_name.ilike(pattern, escape="\\"),
                PartnerApplication.contact_name.ilike(pattern, escape="\\"),
                PartnerApplication.contact_email.ilike(pattern, escape="\\"),
            )
        )
    return stmt.order_by(*SORTS[filters["sort"]])


@bp.get("/admin/applications")
@permission_required("applications.review")
def queue():  # type: ignore[no-untyped-def]
    filters = _queue_filters()
    page = db.paginate(
        _queue_statement(filters), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    context = {"page": page, "filters": filters}
    if request.htmx:
        return render_template("onboarding/_queue_list.html", **context)
    pending_count = db.session.scalar(
        sa.select(sa.func.count(PartnerApplication.id)).where(
            PartnerApplication.status == ApplicationStatus.PENDING
        )
    )
    programs = db.session.scalars(sa.select(Program).order_by(Program.name)).all()
    return render_template(
        "onboarding/queue.html",
        statuses=list(ApplicationStatus),
        programs=programs,
        pending_count=pending_count or 0,
        **context,
    )


def _application_or_404(application_id: int) -> PartnerApplication:
    application = db.session.get(PartnerApplication, application_id)
    if application is None:
        abort(404)
    return application


def _render_review(
    application: PartnerApplication,
    approve_form: ApproveForm | None = None,
    reject_form: RejectForm | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    pending = application.status is ApplicationStatus.PENDING
    blocker = None
    if pending:
        try:
            applications.check_approvable(application)
        except applications.ReviewConflict as error:
            blocker = str(error)
    return render_template(
        "onboarding/review.html",
        application=application,
        approve_form=approve_form or ApproveForm(reviewer=current_user, formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
        approve_blocker=blocker,
        pending=pending,
    ), status


@bp.get("/admin/applications/<int:application_id>")
@permission_required("applications.review")
def review(application_id: int):  # type: ignore[no-untyped-def]
    return _render_review(_application_or_404(application_id))


@bp.post("/admin/applications/<int:application_id>/approve")
@permission_required("applications.review")
def review_approve(application_id: int):  # type: ignore[no-untyped-def]
    application = _application_or_404(application_id)
    if application.status is not ApplicationStatus.PENDING:
        conflict(_("This application has already been decided."))
    form = ApproveForm(reviewer=current_user)
    if not form.validate_on_submit():
        return _render_review(application, approve_form=form, status=400)
    reviewer = current_user._get_current_object()  # type: ignore[attr-defined]
    try:
        organization = applications.approve(application, reviewer=reviewer, manager=form.manager)
        db.session.commit()
    except applications.ReviewConflict as error:
        db.session.rollback()
        conflict(str(error))
    except sa.exc.IntegrityError:
        # Someone created an organization of this name since the checks ran.
        db.session.rollback()
        conflict(_("An organization with this name was created meanwhile. Nothing was changed."))
    flash(
        _("%(name)s is now a partner. We invited %(email)s as its administrator.",
          name=organization.name, email=application.contact_email),
        "success",
    )
    return redirect(url_for("onboarding.review", application_id=application.id))


@bp.post("/admin/applications/<int:application_id>/reject")
@permission_required("applications.review")
def review_reject(application_id: int):  # type: ignore[no-untyped-def]
    application = _application_or_404(application_id)
    if application.status is not ApplicationStatus.PENDING:
        conflict(_("This application has already been decided."))
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_review(application, reject_form=form, status=400)
    applications.reject(
        application,
        reviewer=current_user._get_current_object(),  # type: ignore[attr-defined]
        reason=form.reason.data,
    )
    db.session.commit()
    flash(_("The application of %(name)s was rejected; we told the applicant.",
            name=application.company_name), "success")
    return redirect(url_for("onboarding.queue"))
