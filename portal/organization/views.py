from flask import Blueprint, render_template

from portal.permissions import permission_required

bp = Blueprint("organization", __name__, url_prefix="/organization")


@bp.get("/")
@permission_required("organization.view")
def profile():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")


@bp.get("/team")
@permission_required("team.view")
def team():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")
