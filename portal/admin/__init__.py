"""The vendor side: organizations, users, programs and tiers, the audit log."""

from flask import Blueprint, render_template

from portal.permissions import permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/organizations")
@permission_required("organizations.list")
def organizations():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")


@bp.get("/users")
@permission_required("users.list")
def users():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")


@bp.get("/programs")
@permission_required("programs.view")
def programs():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")


@bp.get("/audit")
@permission_required("audit.view")
def audit():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")
