from flask import Blueprint, render_template

from portal.permissions import permission_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@permission_required("dashboard.view")
def home():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")
