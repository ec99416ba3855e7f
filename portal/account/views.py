from flask import Blueprint, render_template

from portal.permissions import permission_required

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/")
@permission_required("account.edit")
def settings():  # type: ignore[no-untyped-def]
    return render_template("dashboard/home.html")
