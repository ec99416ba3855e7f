"""The team page: a partner organization's people and open invitations, and the
partner admin's actions on them (invite, resend, revoke, deactivate, reactivate,
change role).

Every action works on the current user's own organization only: objects are
fetched through :mod:`portal.scoping`, so another organization's ids answer 404,
and invitations always go to ``current_user.organization``. Row actions answer
an htmx request with the updated row (plus a status message swapped out of band)
and a plain form post with a redirect back to the team page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal import invitations
from portal.errors import bad_request, conflict
from portal.events import emit
from portal.extensions import db
from portal.forms import set_language_choices
from portal.models import Invitation, Organization, Role, User, utcnow
from portal.organization import queries
from portal.organization.forms import InviteForm, RoleForm, team_role_choices
from portal.organization.views import bp, own_organization
from portal.permissions import can, permission_required, require
from portal.scoping import get_visible_or_404, scoped

#: Sort keys of the people table (``?sort=-last_login`` sorts descending).
MEMBER_SORTS: dict[str, Any] = {
    "name": User.name,
    "email": User.email,
    "role": User.role,
    "active": User.active,
    "last_login": User.last_login_at,
}
DEFAULT_SORT = "name"


# -- the page ------------------------------------------------------------------

@bp.get("/team")
@permission_required("team.view")
def team():  # type: ignore[no-untyped-def]
    organization = own_organization()
    if organization is None:
        # Vendor staff have no team page of their own: the admin user list is theirs.
        return redirect(url_for("admin.users"))
    if request.htmx and request.htmx.target == "team-members":
        return render_template("organization/_members.html", **_members_context(organization))
    if request.htmx and request.htmx.target == "team-invitations":
        return render_template("organization/_invitations.html", **_invitations_context(organization))
    return _render_page(organization, _invite_form() if _may_manage(organization) else None)


def _render_page(organization: Organization, invite_form: InviteForm | None, status: int = 200):  # type: ignore[no-untyped-def]
    context = {**_members_context(organization), **_invitations_context(organization)}
    return render_template("organization/team.html", invite_form=invite_form, **context), status


def _members_context(organization: Organization) -> dict[str, Any]:
    sort = request.args.get("sort", DEFAULT_SORT)
    if sort.lstrip("-") not in MEMBER_SORTS:
        sort = DEFAULT_SORT
    column = MEMBER_SORTS[sort.lstrip("-")]
    order = sa.nulls_last(column.desc()) if sort.startswith("-") else sa.nulls_last(column.asc())
    stmt = scoped(sa.select(User).where(User.organization_id == organization.id), User)
    members = db.paginate(
        stmt.order_by(order, User.id), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return {
        "organization": organization,
        "members": members,
        "sort": sort,
        "role_choices": team_role_choices(),
        "manage": _may_manage(organization),
    }


def _invitations_context(organization: Organization) -> dict[str, Any]:
    stmt = scoped(
        sa.select(Invitation).where(
            Invitation.organization_id == organization.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        ),
        Invitation,
    )
    pending = db.paginate(
        stmt.options(selectinload(Invitation.invited_by)).order_by(
            Invitation.created_at.desc(), Invitation.id.desc()
        ),
        page=request.args.get("ipage", 1, type=int),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return {"organization": organization, "pending": pending, "manage": _may_manage(organization)}


def _may_manage(organization: Organization) -> bool:
    return can(current_user, "team.manage", organization)


def _invite_form() -> InviteForm:
    form = InviteForm()
    set_language_choices(form.locale)
    if not form.is_submitted():
        form.locale.data = current_user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    return form


# -- invitations -----------------------------------------------------------------

@bp.post("/team/invite")
@permission_required("team.manage")
def invite():  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    form = _invite_form()
    if form.validate_on_submit():
        error = _foreign_invitation_error(form.email.data, organization)
        if error:
            form.email.errors.append(error)
        else:
            try:
                invitations.invite(
                    form.email.data,
                    Role(form.role.data),
                    organization,  # never an id from the form: always the inviter's own
                    invited_by=current_user._get_current_object(),
                    name=form.name.data or None,
                    locale=form.locale.data,
                )
            except invitations.InvitationError as exc:
                form.email.errors.append(str(exc))
            else:
                db.session.commit()
                flash(_("We have sent an invitation to %(email)s.", email=form.email.data), "success")
                return redirect(url_for("organization.team"))
    return _render_page(organization, form, 400)


def _foreign_invitation_error(email: str, organization: Organization) -> str | None:
    """Refuse to replace another organization's open invitation (inviting the same
    address would otherwise revoke it)."""
    previous = invitations.pending_invitation(email)
    if previous is not None and previous.organization_id != organization.id:
        return _("This person already has an open invitation to the portal.")
    return None


@bp.post("/team/invitations/<int:invitation_id>/resend")
@permission_required("team.manage")
def resend_invitation(invitation_id: int):  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    invitation = _invitation_or_404(invitation_id, organization)
    _require_open(invitation)
    try:
        fresh = invitations.invite(
            invitation.email,
            invitation.role,
            organization,
            invited_by=current_user._get_current_object(),
            name=invitation.name,
            locale=invitation.locale,
        )
    except invitations.InvitationError as exc:
        conflict(str(exc))
    if invitation.revoked_at is None:  # an expired one: invite() only replaces pending ones
        invitation.revoked_at = utcnow()
    db.session.commit()
    message = _("We have sent a new invitation to %(email)s.", email=fresh.email)
    return _invitation_response(fresh, invitation, message)


@bp.post("/team/invitations/<int:invitation_id>/revoke")
@permission_required("team.manage")
def revoke_invitation(invitation_id: int):  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    invitation = _invitation_or_404(invitation_id, organization)
    _require_open(invitation)
    invitations.revoke(invitation, by=current_user._get_current_object())
    db.session.commit()
    message = _("The invitation to %(email)s is revoked.", email=invitation.email)
    return _invitation_response(None, invitation, message)


def _invitation_or_404(invitation_id: int, organization: Organization) -> Invitation:
    invitation = get_visible_or_404(Invitation, invitation_id)
    if invitation.organization_id != organization.id:
        abort(404)
    require("team.manage", invitation)
    return invitation


def _require_open(invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        conflict(_("This invitation has already been accepted."))
    if invitation.revoked_at is not None:
        conflict(_("This invitation has been revoked or replaced by a newer one."))


def _invitation_response(fresh: Invitation | None, old: Invitation, message: str):  # type: ignore[no-untyped-def]
    if request.htmx:
        return render_template(
            "organization/_invitation_action.html",
            invitation=fresh,
            replaced=old,
            message=message,
            manage=True,
        )
    flash(message, "success")
    return redirect(url_for("organization.team"))


# -- people ----------------------------------------------------------------------

@bp.post("/team/users/<int:user_id>/deactivate")
@permission_required("team.manage")
def deactivate(user_id: int):  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    colleague = _colleague_or_404(user_id, organization)
    if colleague.id == current_user.id:
        conflict(_("You cannot deactivate your own account. Ask another administrator."))
    if colleague.active:
        _protect_last_admin(colleague, organization)
        before = colleague.audit_state()
        colleague.active = False
        colleague.end_sessions()  # they are logged out everywhere at once
        emit("user.deactivated", colleague, before=before)
        db.session.commit()
    return _member_response(colleague, _("%(name)s is deactivated and can no longer log in.", name=colleague.name))


@bp.post("/team/users/<int:user_id>/reactivate")
@permission_required("team.manage")
def reactivate(user_id: int):  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    colleague = _colleague_or_404(user_id, organization)
    if not colleague.active:
        before = colleague.audit_state()
        colleague.active = True
        emit("user.reactivated", colleague, before=before)
        db.session.commit()
    return _member_response(colleague, _("%(name)s is active again.", name=colleague.name))


@bp.post("/team/users/<int:user_id>/role")
@permission_required("team.manage")
def change_role(user_id: int):  # type: ignore[no-untyped-def]
    organization = _managed_organization()
    colleague = _colleague_or_404(user_id, organization)
    form = RoleForm()
    if not form.validate_on_submit():
        bad_request(_("Choose a role from the list."))
    role = Role(form.role.data)
    if role is not colleague.role:
        if role is not Role.PARTNER_ADMIN:
            _protect_last_admin(colleague, organization)
        before = colleague.audit_state()
        colleague.role = role
        emit("user.role_changed", colleague, before=before)
        db.session.commit()
    message = _("%(name)s is now %(role)s.", name=colleague.name, role=role.label)
    if colleague.id == current_user.id and request.htmx:
        # Your own rights changed: the whole page must be drawn again.
        flash(message, "success")
        response = current_app.response_class(status=204)
        response.headers["HX-Refresh"] = "true"
        return response
    return _member_response(colleague, message)


def _colleague_or_404(user_id: int, organization: Organization) -> User:
    colleague = get_visible_or_404(User, user_id)
    # Vendor admins reach every organization; this page is about one.
    if colleague.organization_id != organization.id:
        abort(404)
    require("team.manage", colleague)
    return colleague


def _protect_last_admin(colleague: User, organization: Organization) -> None:
    """An organization must keep one active partner admin to manage it."""
    if colleague.role is not Role.PARTNER_ADMIN or not colleague.active:
        return
    if queries.active_admin_count(organization.id, excluding=colleague.id) == 0:
        conflict(
            _(
                "%(name)s is the last active administrator of %(organization)s. "
                "Make someone else an administrator first.",
                name=colleague.name,
                organization=organization.name,
            )
        )


def _managed_organization() -> Organization:
    """The organization whose team the current user manages (404 for staff: no team)."""
    organization = own_organization()
    if organization is None:
        abort(404)
    require("team.manage", organization)
    return organization


def _member_response(colleague: User, message: str):  # type: ignore[no-untyped-def]
    if request.htmx:
        return render_template(
            "organization/_member_action.html",
            member=colleague,
            message=message,
            manage=True,
            role_choices=team_role_choices(),
        )
    flash(message, "success")
    return redirect(url_for("organization.team"))
