"""The partner's own organization: its profile (everyone in it) and editing it
(partner admins). The team pages live in :mod:`portal.organization.team`."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.events import emit
from portal.extensions import db
from portal.forms import set_country_choices
from portal.models import Organization
from portal.organization import queries
from portal.organization.forms import OrganizationForm
from portal.permissions import permission_required, require
from portal.scoping import get_visible_or_404

bp = Blueprint("organization", __name__, url_prefix="/organization")

def own_organization() -> Organization | None:
    """The current user's organization, fetched through the scoping layer (staff: None)."""
    if current_user.organization_id is None:
        return None
    return get_visible_or_404(Organization, current_user.organization_id)


@bp.get("/")
@permission_required("organization.view")
def profile():  # type: ignore[no-untyped-def]
    organization = own_organization()
    if organization is None:
        # Vendor staff belong to no organization: their view is the admin list.
        return redirect(url_for("admin.organizations"))
    return render_template(
        "organization/profile.html",
        organization=organization,
        memberships=queries.memberships(organization.id),
        contacts=queries.contacts(organization.id),
    )


@bp.route("/edit", methods=["GET", "POST"])
@permission_required("organization.edit")
def edit():  # type: ignore[no-untyped-def]
    organization = own_organization()
    if organization is None:
        return redirect(url_for("admin.organizations"))
    require("organization.edit", organization)
    form = OrganizationForm(obj=organization)
    set_country_choices(form.country)
    if form.validate_on_submit():
        if _name_taken(form.name.data, organization):
            form.name.errors.append(_("Another organization already uses this name."))
        else:
            before = organization.audit_state()
            organization.set_name(form.name.data)
            organization.website = form.website.data or None
            organization.country = form.country.data
            organization.phone = form.phone.data or None
            organization.description = form.description.data or None
            if organization.audit_state() != before:
                emit("organization.updated", organization, before=before)
            try:
                db.session.commit()
            except IntegrityError:
                # Another request took the name between our check and the commit.
                db.session.rollback()
                form.name.errors.append(_("Another organization already uses this name."))
            else:
                flash(_("The organization profile has been saved."), "success")
                return redirect(url_for("organization.profile"))
    status = 400 if form.errors else 200
    return render_template("organization/edit.html", form=form, organization=organization), status


def _name_taken(name: str, organization: Organization) -> bool:
    return db.session.scalar(
        sa.select(Organization.id).where(
            Organization.name_key == Organization.key_for(name), Organization.id != organization.id
        )
    ) is not None


# Registers the team routes and the notification rules on import; kept at the end
# because both use ``bp`` and ``own_organization`` defined above.
from portal.organization import notifications as _notifications  # noqa: E402,F401
from portal.organization import team as _team  # noqa: E402,F401
