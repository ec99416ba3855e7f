"""People as vendor staff see them: the user list, a user's page, deactivation,
role changes and staff invitations.

Vendor admins see everyone; channel managers the users of the organizations they
manage (not other staff). Only vendor admins change anything.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.audit import subject_links
from portal.admin.common import (
    organization_choices,
    organization_name_matches,
    paginate_in_reach,
    render_list,
    sort_order,
)
from portal.admin.forms import RoleForm, StaffInviteForm, UserFilterForm
from portal.errors import bad_request, conflict
from portal.events import emit
from portal.extensions import db
from portal.invitations import InvitationError, invite
from portal.models import AuditEntry, Invitation, Role, User, utcnow
from portal.permissions import can, permission_required, require
from portal.scoping import get_visible_or_404, scoped

RESULTS_ID = "users-results"
AUDIT_SHOWN = 10

SORTS = {
    "name": (User.name, User.id),
    "email": (User.email,),
    "created": (User.created_at, User.id),
}


@bp.get("/users")
@permission_required("users.list")
def users() -> Response:
    form = UserFilterForm(formdata=request.args,
                          organizations=organization_choices(request.args.get("organization")))
    filters = form.cleaned()
    stmt = sa.select(User).options(joinedload(User.organization))
    if "q" in filters:
        needle = filters["q"].lower()
        stmt = stmt.where(sa.or_(
            sa.func.lower(User.name).contains(needle, autoescape=True),
            sa.func.lower(User.email).contains(needle, autoescape=True),
        ))
    if "role" in filters:
        stmt = stmt.where(User.role == Role(filters["role"]))
    if "organization" in filters:
        stmt = stmt.where(User.organization_id == int(filters["organization"]))
    if "organization_name" in filters:
        named = organization_name_matches(filters["organization_name"])
        stmt = stmt.where(User.organization_id.in_(named))
    if "active" in filters:
        stmt = stmt.where(User.active.is_(filters["active"] == "yes"))
    sort, order_by = sort_order(SORTS, "name")
    page = paginate_in_reach(stmt, User, order_by)
    return render_list("admin/users/index.html", "admin/users/_results.html", RESULTS_ID,
                       form=form, page=page, sort=sort)


def _render_user(user: User, status: int = 200, role_form: RoleForm | None = None) -> Any:
    entries = db.session.scalars(
        scoped(sa.select(AuditEntry), AuditEntry)
        .where(AuditEntry.subject_type == User.__tablename__, AuditEntry.subject_id == user.id)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_SHOWN)
    ).all()
    administer = can(current_user, "user.administer", user)
    return render_template(
        "admin/users/detail.html",
        user=user,
        administer=administer,
        role_form=role_form or (RoleForm(formdata=None, user=user) if administer else None),
        entries=entries,
        subjects=subject_links(entries),
    ), status


@bp.get("/users/<int:user_id>")
@permission_required("users.list")
def user(user_id: int) -> Any:
    return _render_user(get_visible_or_404(User, user_id))


def _administered(user_id: int) -> User:
    person = get_visible_or_404(User, user_id)
    require("user.administer", person)
    return person


def _active_vendor_admins() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.role == Role.VENDOR_ADMIN,
                                                User.active.is_(True))
    ) or 0


def _is_last_vendor_admin(person: User) -> bool:
    return person.role is Role.VENDOR_ADMIN and person.active and _active_vendor_admins() <= 1


@bp.post("/users/<int:user_id>/deactivate")
@permission_required("user.administer")
def user_deactivate(user_id: int) -> Response:
    person = _administered(user_id)
    if person.id == current_user.id:
        conflict(_("You cannot deactivate your own account."))
    if not person.active:
        conflict(_("This account is already deactivated."))
    if _is_last_vendor_admin(person):
        conflict(_("This is the last active vendor administrator."))
    before = person.audit_state()
    person.active = False
    person.end_sessions()  # signed-in browsers and remember-me cookies stop working now
    emit("user.deactivated", person, before=before)
    db.session.commit()
    flash(_("%(name)s is deactivated and signed out everywhere.", name=person.name), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/reactivate")
@permission_required("user.administer")
def user_reactivate(user_id: int) -> Response:
    person = _administered(user_id)
    if person.active:
        conflict(_("This account is already active."))
    before = person.audit_state()
    person.active = True
    emit("user.reactivated", person, before=before)
    db.session.commit()
    flash(_("%(name)s can sign in again.", name=person.name), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.post("/users/<int:user_id>/role")
@permission_required("user.administer")
def user_role(user_id: int) -> Any:
    person = _administered(user_id)
    form = RoleForm(user=person)
    if not form.validate_on_submit():
        return _render_user(person, 400, role_form=form)
    role = Role(form.role.data)
    if role.is_partner != person.is_partner:
        # The choices already prevent it; a forged request gets a reason, not a 500.
        bad_request(_("Partner users keep partner roles and staff keep staff roles."))
    if role is person.role:
        return redirect(url_for("admin.user", user_id=person.id))
    if role is not Role.VENDOR_ADMIN and _is_last_vendor_admin(person):
        conflict(_("This is the last active vendor administrator; make someone else one first."))
    before = person.audit_state()
    person.role = role
    emit("user.role_changed", person, before=before)
    db.session.commit()
    flash(_("%(name)s is now %(role)s.", name=person.name, role=role.label), "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/invite", methods=["GET", "POST"])
@permission_required("staff.invite")
def user_invite() -> Any:
    form = StaffInviteForm()
    if form.validate_on_submit():
        try:
            invite(form.email.data, Role(form.role.data), None,
                   invited_by=current_user._get_current_object(),  # type: ignore[attr-defined]
                   name=form.name.data or None)
        except InvitationError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("admin.user_invite"))
    pending = db.session.scalars(
        sa.select(Invitation)
        .where(Invitation.organization_id.is_(None), Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .options(joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc())
        .limit(50)
    ).all()
    status = 400 if form.is_submitted() else 200
    return render_template("admin/users/invite.html", form=form, pending=pending), status
