"""Partner organizations as vendor staff see them: the list, the detail page and
every action on an organization (profile, status, memberships, managers, invitations).

Channel managers see the organizations assigned to them and act on none of them;
vendor admins see and administer all. Reach is decided by :mod:`portal.scoping`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import (
    current_membership,
    paginate_in_reach,
    render_list,
    saved_or_field_error,
    sort_order,
)
from portal.admin.forms import (
    ManagerAssignForm,
    MembershipForm,
    NewOrganizationForm,
    OrganizationFilterForm,
    OrganizationForm,
    PartnerInviteForm,
    TierChangeForm,
)
from portal.errors import bad_request, conflict
from portal.events import emit
from portal.extensions import db
from portal.invitations import InvitationError, invite, revoke
from portal.models import (
    AuditEntry,
    Invitation,
    ManagerAssignment,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerType,
    Program,
    Role,
    Tier,
    User,
    utcnow,
)
from portal.permissions import can, permission_required, require
from portal.scoping import get_visible_or_404, scoped

RESULTS_ID = "organizations-results"
USERS_SHOWN = 50
AUDIT_SHOWN = 10
NAME_TAKEN = _l("An organization with this name already exists.")


SORTS = {
    "name": (Organization.name_key, Organization.id),
    "created": (Organization.created_at, Organization.id),
    "country": (Organization.country, Organization.name_key, Organization.id),
}


# -- the list -----------------------------------------------------------------


@bp.get("/organizations")
@permission_required("organizations.list")
def organizations() -> Response:
    form = OrganizationFilterForm(formdata=request.args)
    filters = form.cleaned()
    stmt = sa.select(Organization)
    if "q" in filters:
        stmt = stmt.where(
            Organization.name_key.contains(Organization.key_for(filters["q"]), autoescape=True)
        )
    if "status" in filters:
        stmt = stmt.where(Organization.status == OrganizationStatus(filters["status"]))
    if "partner_type" in filters:
        stmt = stmt.where(Organization.partner_type == PartnerType(filters["partner_type"]))
    if "country" in filters:
        stmt = stmt.where(Organization.country == filters["country"])
    for name, column in (("program", Membership.program_id), ("tier", Membership.tier_id)):
        if name in filters:
            members = sa.select(Membership.organization_id).where(
                column == int(filters[name]), current_membership()
            )
            stmt = stmt.where(Organization.id.in_(members))
    sort, order_by = sort_order(SORTS, "name")
    stmt = stmt.options(
        selectinload(Organization.memberships).selectinload(Membership.program),
        selectinload(Organization.memberships).selectinload(Membership.tier),
    )
    page = paginate_in_reach(stmt, Organization, order_by)
    return render_list(
        "admin/organizations/index.html",
        "admin/organizations/_results.html",
        RESULTS_ID,
        form=form,
        page=page,
        sort=sort,
    )


@bp.route("/organizations/new", methods=["GET", "POST"])
@permission_required("organization.administer")
def organization_new() -> Any:
    form = NewOrganizationForm()
    if form.validate_on_submit():
        with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
            organization = Organization(status=OrganizationStatus.ACTIVE)
            form.apply_to(organization)
            db.session.add(organization)
            emit("organization.created", organization, before=None)
            tier = form.chosen_tier()
            if tier is not None:
                membership = Membership(organization=organization, program_id=tier.program_id,
                                        tier=tier, since=date.today())
                db.session.add(membership)
                emit("membership.created", membership, before=None)
        if saved.ok:
            flash(_("Organization %(name)s created.", name=organization.name), "success")
            return redirect(url_for("admin.organization", organization_id=organization.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/organizations/new.html", form=form), status


# -- the detail page ----------------------------------------------------------


def _organization(organization_id: int) -> Organization:
    return get_visible_or_404(Organization, organization_id)


def _detail_context(organization: Organization, administer: bool, forms: dict[str, Any]) -> dict[str, Any]:
    """Everything the detail page shows; the action forms only for those who may act."""
    memberships = db.session.scalars(
        sa.select(Membership)
        .where(Membership.organization_id == organization.id)
        .options(selectinload(Membership.program).selectinload(Program.tiers),
                 selectinload(Membership.tier))
        .order_by(Membership.since.desc(), Membership.id)
    ).all()
    users_stmt = sa.select(User).where(User.organization_id == organization.id)
    user_count = db.session.scalar(sa.select(sa.func.count()).select_from(users_stmt.subquery()))
    users = db.session.scalars(users_stmt.order_by(User.name, User.id).limit(USERS_SHOWN)).all()
    invitations = db.session.scalars(
        sa.select(Invitation)
        .where(
            Invitation.organization_id == organization.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at.desc())
    ).all()
    managers = db.session.scalars(
        sa.select(User)
        .join(ManagerAssignment, ManagerAssignment.user_id == User.id)
        .where(ManagerAssignment.organization_id == organization.id)
        .order_by(User.name)
    ).all()
    entries = db.session.scalars(
        scoped(sa.select(AuditEntry), AuditEntry)
        .where(AuditEntry.organization_id == organization.id)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_SHOWN)
    ).all()
    from portal.admin.audit import subject_links

    context: dict[str, Any] = {
        "organization": organization,
        "memberships": memberships,
        "users": users,
        "user_count": user_count,
        "invitations": invitations,
        "managers": managers,
        "entries": entries,
        "subjects": subject_links(entries),
    }
    if administer:
        assigned = {m.id for m in managers}
        candidates = db.session.scalars(
            sa.select(User)
            .where(User.role == Role.CHANNEL_MANAGER, User.active.is_(True))
            .order_by(User.name)
        ).all()
        context.update(
            membership_form=forms.get("membership_form") or MembershipForm(formdata=None),
            manager_form=forms.get("manager_form") or ManagerAssignForm(
                formdata=None, managers=[m for m in candidates if m.id not in assigned]
            ),
            invite_form=forms.get("invite_form") or PartnerInviteForm(formdata=None),
        )
    return context


def _render_detail(organization: Organization, status: int = 200, **forms: Any) -> Any:
    administer = can(current_user, "organization.administer", organization)
    context = _detail_context(organization, administer, forms)
    return render_template("admin/organizations/detail.html", administer=administer,
                           **context), status


def _back(organization: Organization, anchor: str | None = None) -> Response:
    return redirect(url_for("admin.organization", organization_id=organization.id,
                            _anchor=anchor))


@bp.get("/organizations/<int:organization_id>")
@permission_required("organizations.list")
def organization(organization_id: int) -> Any:
    return _render_detail(_organization(organization_id))


@bp.route("/organizations/<int:organization_id>/edit", methods=["GET", "POST"])
@permission_required("organization.administer")
def organization_edit(organization_id: int) -> Any:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    form = OrganizationForm(organization=organization)
    if form.validate_on_submit():
        with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
            before = organization.audit_state()
            form.apply_to(organization)
            if organization.audit_state() != before:
                emit("organization.updated", organization, before=before)
        if saved.ok:
            flash(_("Profile saved."), "success")
            return _back(organization)
    status = 400 if form.is_submitted() else 200
    return render_template("admin/organizations/edit.html", form=form,
                           organization=organization), status


# -- status -------------------------------------------------------------------


def _set_status(organization_id: int, status: OrganizationStatus, event: str) -> Organization:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    if organization.status is status:
        conflict(_("The organization is already %(status)s.", status=status.label.lower()))
    before = organization.audit_state()
    organization.status = status
    emit(event, organization, before=before)
    db.session.commit()
    return organization


@bp.post("/organizations/<int:organization_id>/suspend")
@permission_required("organization.administer")
def organization_suspend(organization_id: int) -> Response:
    # Its users are locked out on their next request: User.is_active checks the organization.
    organization = _set_status(organization_id, OrganizationStatus.SUSPENDED,
                               "organization.suspended")
    flash(_("%(name)s is suspended. Its users can no longer sign in.", name=organization.name),
          "success")
    return _back(organization)


@bp.post("/organizations/<int:organization_id>/reactivate")
@permission_required("organization.administer")
def organization_reactivate(organization_id: int) -> Response:
    organization = _set_status(organization_id, OrganizationStatus.ACTIVE,
                               "organization.reactivated")
    flash(_("%(name)s is active again.", name=organization.name), "success")
    return _back(organization)


# -- memberships --------------------------------------------------------------


@bp.post("/organizations/<int:organization_id>/memberships")
@permission_required("organization.administer")
def organization_membership_add(organization_id: int) -> Any:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    form = MembershipForm()
    if not form.validate_on_submit():
        return _render_detail(organization, 400, membership_form=form)
    tier = form.chosen_tier()
    assert tier is not None  # the form requires a program with a tier
    existing = db.session.scalars(
        sa.select(Membership).where(Membership.organization_id == organization.id,
                                    Membership.program_id == tier.program_id)
    ).first()
    if existing is not None and existing.until is None:
        form.program.errors.append(_("The organization is already a member of this program."))
        return _render_detail(organization, 400, membership_form=form)
    if existing is not None:
        # One row per organization and program: an ended membership starts again.
        before = existing.audit_state()
        existing.tier = tier
        existing.since = date.today()
        existing.until = None
        emit("membership.restarted", existing, before=before)
    else:
        membership = Membership(organization=organization, program_id=tier.program_id,
                                tier=tier, since=date.today())
        db.session.add(membership)
        emit("membership.created", membership, before=None)
    db.session.commit()
    flash(_("Added to %(program)s at tier %(tier)s.", program=tier.program.name, tier=tier.name),
          "success")
    return _back(organization, "memberships")


def _membership(organization: Organization, membership_id: int) -> Membership:
    membership = get_visible_or_404(Membership, membership_id)
    if membership.organization_id != organization.id:
        abort(404)
    return membership


@bp.post("/organizations/<int:organization_id>/memberships/<int:membership_id>/tier")
@permission_required("organization.administer")
def organization_membership_tier(organization_id: int, membership_id: int) -> Response:
    organization = _organization(organization_id)
    membership = _membership(organization, membership_id)
    require("organization.administer", membership)
    form = TierChangeForm()
    if not form.validate_on_submit():
        bad_request(_("Choose a tier."))
    tier = db.session.get(Tier, form.tier.data)
    if tier is None or tier.program_id != membership.program_id:
        bad_request(_("“%(program)s” has no such tier. Choose one of its own tiers.",
                      program=membership.program.name))
    assert tier is not None
    if membership.until is not None:
        conflict(_("This membership has ended. Add the program again to restart it."))
    if tier.id != membership.tier_id:
        before = membership.audit_state()
        membership.tier = tier
        emit("membership.tier_changed", membership, before=before)
        db.session.commit()
        flash(_("%(program)s tier changed to %(tier)s.", program=membership.program.name,
                tier=tier.name), "success")
    return _back(organization, "memberships")


@bp.post("/organizations/<int:organization_id>/memberships/<int:membership_id>/end")
@permission_required("organization.administer")
def organization_membership_end(organization_id: int, membership_id: int) -> Response:
    organization = _organization(organization_id)
    membership = _membership(organization, membership_id)
    require("organization.administer", membership)
    if membership.until is not None:
        conflict(_("This membership has already ended."))
    before = membership.audit_state()
    membership.until = date.today()
    emit("membership.ended", membership, before=before)
    db.session.commit()
    flash(_("Membership in %(program)s ended.", program=membership.program.name), "success")
    return _back(organization, "memberships")


# -- channel managers ---------------------------------------------------------


def _manager_state(organization: Organization) -> dict[str, Any]:
    emails = db.session.scalars(
        sa.select(User.email)
        .join(ManagerAssignment, ManagerAssignment.user_id == User.id)
        .where(ManagerAssignment.organization_id == organization.id)
        .order_by(User.email)
    ).all()
    return {"managers": list(emails)}


@bp.post("/organizations/<int:organization_id>/managers")
@permission_required("organization.administer")
def organization_manager_assign(organization_id: int) -> Any:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    candidates = db.session.scalars(
        sa.select(User).where(User.role == Role.CHANNEL_MANAGER, User.active.is_(True))
    ).all()
    form = ManagerAssignForm(managers=candidates)
    if not form.validate_on_submit():
        return _render_detail(organization, 400, manager_form=form)
    manager = db.session.get(User, int(form.manager.data))
    assert manager is not None  # the choices are existing channel managers
    if db.session.get(ManagerAssignment, (organization.id, manager.id)) is not None:
        conflict(_("%(name)s already manages this organization.", name=manager.name))
    before = _manager_state(organization)
    db.session.add(ManagerAssignment(organization_id=organization.id, user_id=manager.id))
    db.session.flush()
    emit("organization.manager_assigned", organization, before=before,
         after=_manager_state(organization))
    db.session.commit()
    flash(_("%(name)s now manages this organization.", name=manager.name), "success")
    return _back(organization, "managers")


@bp.post("/organizations/<int:organization_id>/managers/<int:user_id>/remove")
@permission_required("organization.administer")
def organization_manager_unassign(organization_id: int, user_id: int) -> Response:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    assignment = db.session.get(ManagerAssignment, (organization.id, user_id))
    if assignment is None:
        abort(404)
    manager = db.session.get(User, user_id)
    before = _manager_state(organization)
    db.session.delete(assignment)
    db.session.flush()
    emit("organization.manager_unassigned", organization, before=before,
         after=_manager_state(organization))
    db.session.commit()
    flash(_("%(name)s no longer manages this organization.", name=manager.name if manager else ""),
          "success")
    return _back(organization, "managers")


# -- invitations --------------------------------------------------------------


@bp.post("/organizations/<int:organization_id>/invitations")
@permission_required("organization.administer")
def organization_invite(organization_id: int) -> Any:
    organization = _organization(organization_id)
    require("organization.administer", organization)
    form = PartnerInviteForm()
    if not form.validate_on_submit():
        return _render_detail(organization, 400, invite_form=form)
    if not organization.is_active:
        form.email.errors.append(_("Reactivate the organization before inviting people to it."))
    else:
        try:
            invite(form.email.data, Role(form.role.data), organization,
                   invited_by=current_user._get_current_object(),  # type: ignore[attr-defined]
                   name=form.name.data or None)
        except InvitationError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return _back(organization, "invitations")
    return _render_detail(organization, 400, invite_form=form)


@bp.post("/organizations/<int:organization_id>/invitations/<int:invitation_id>/revoke")
@permission_required("organization.administer")
def organization_invitation_revoke(organization_id: int, invitation_id: int) -> Response:
    organization = _organization(organization_id)
    invitation = get_visible_or_404(Invitation, invitation_id)
    if invitation.organization_id != organization.id:
        abort(404)
    require("organization.administer", invitation)
    if not invitation.is_pending:
        conflict(_("This invitation is no longer pending."))
    revoke(invitation, current_user._get_current_object())  # type: ignore[attr-defined]
    db.session.commit()
    flash(_("Invitation to %(email)s revoked.", email=invitation.email), "success")
    return _back(organization, "invitations")
