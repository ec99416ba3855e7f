from flask import Blueprint, render_template

from portal.permissions import permission_required

bp = Blueprint("onboarding", __name__)


@bp.get("/apply")
def apply():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")


@bp.get("/admin/applications")
@permission_required("applications.review")
def queue():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")
