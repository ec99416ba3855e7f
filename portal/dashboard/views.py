"""The home page: a partner's organization at a glance, or the staff's figures."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from portal.dashboard import figures
from portal.models import Organization
from portal.onboarding.checklist import checklist_for
from portal.organization import queries
from portal.permissions import permission_required
from portal.plugins import dashboard_widgets

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@permission_required("dashboard.view")
def home():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.is_partner:
        # A partner sees their own organization, which was loaded (and found active)
        # with the signed-in user.
        organization = user.organization
        if organization is None:
            abort(404)
        return _partner_home(organization)
    return render_template(
        "dashboard/staff.html",
        organizations_by_status=figures.organizations_by_status(user),
        pending_applications=figures.pending_applications(),
        user_figures=figures.users(user),
        organizations_per_program=figures.organizations_per_program(user),
        recent_audit=figures.recent_audit_entries(user),
        recent_days=figures.RECENTLY_ACTIVE_DAYS,
        widgets=dashboard_widgets(user),
    )


def _partner_home(organization: Organization):  # type: ignore[no-untyped-def]
    return render_template(
        "dashboard/partner.html",
        organization=organization,
        memberships=queries.memberships(organization.id),
        team_size=queries.team_size(organization.id),
        checklist=checklist_for(organization),
        widgets=dashboard_widgets(current_user),
    )
