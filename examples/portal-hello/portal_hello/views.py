"""The plugin's pages, mounted under ``/p/hello``: the greetings of the
organizations the user reaches, and a form for partners to post one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.events import emit
from portal.extensions import db
from portal.forms import PortalForm
from portal.permissions import can, permission_required
from portal.scoping import visible
from portal_hello.i18n import _, _l
from portal_hello.models import MESSAGE_MAX, HelloGreeting

bp = Blueprint("hello", __name__, template_folder="templates", static_folder="static")

PER_PAGE = 20


class GreetingForm(PortalForm):
    message = TextAreaField(
        _l("Your greeting"),
        validators=[DataRequired(), Length(max=MESSAGE_MAX)],
        description=_l("At most %(count)d characters.", count=MESSAGE_MAX),
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )


def _render(form: GreetingForm | None, status: int = 200) -> Any:
    stmt = visible(HelloGreeting, walk=True).order_by(
        HelloGreeting.created_at.desc(), HelloGreeting.id.desc()
    )
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    context = {"page": page, "form": form, "show_organization": not current_user.is_partner}
    if request.htmx and request.method == "GET":
        # Paging with htmx swaps only the list (hx-boost in _greetings.html).
        return render_template("hello/_greetings.html", **context), status
    return render_template("hello/index.html", **context), status


@bp.get("/")
@permission_required("hello.view")
def index() -> Any:
    return _render(GreetingForm() if can(current_user, "hello.post") else None)


@bp.post("/")
@permission_required("hello.post")
def post() -> Any:
    form = GreetingForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    greeting = HelloGreeting(
        organization_id=current_user.organization_id,
        author_id=current_user.id,
        message=form.message.data,
    )
    db.session.add(greeting)
    emit("hello.greeted", greeting, before=None)
    db.session.commit()
    flash(_("Your greeting is posted."), "success")
    return redirect(url_for("hello.index"))


def greetings_of(organization_id: int, limit: int = 3) -> list[HelloGreeting]:
    return list(db.session.scalars(
        sa.select(HelloGreeting)
        .where(HelloGreeting.organization_id == organization_id)
        .order_by(HelloGreeting.created_at.desc(), HelloGreeting.id.desc())
        .limit(limit)
    ))
