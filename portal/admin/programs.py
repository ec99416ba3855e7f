"""Partner programs and their ordered tiers.

Staff can look; vendor admins create and edit programs, add, rename, reorder and
delete tiers and set the requirements that tier metrics measure. Member counts
come from one aggregate query per page, never one query per tier.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portal.admin import bp
from portal.admin.common import PER_PAGE, current_membership, saved_or_field_error
from portal.admin.forms import NewProgramForm, ProgramForm, TierEditForm, TierForm
from portal.errors import conflict
from portal.events import emit
from portal.extensions import db
from portal.models import Membership, Program, Tier
from portal.permissions import can, permission_required

SLUG_MAX = 64
# Shown when a concurrent request took the name between the form's check and the save.
NAME_TAKEN = _l("This name was taken a moment ago. Choose another.")


def slugify(name: str) -> str:
    """``"Technology Alliance"`` → ``"technology-alliance"`` (ASCII; ``program`` if nothing is left)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX].strip("-") or "program"


def unique_slug(name: str) -> str:
    base = slugify(name)
    taken = set(db.session.scalars(
        sa.select(Program.slug).where(Program.slug.startswith(base, autoescape=True))
    ))
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug = base[: SLUG_MAX - len(suffix)] + suffix
        n += 1
    return slug


def member_counts(program_ids: Iterable[int]) -> dict[int, int]:
    """Current members per tier of the given programs: one GROUP BY query."""
    ids = list(program_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.tier_id, sa.func.count(Membership.id))
        .where(Membership.program_id.in_(ids), current_membership())
        .group_by(Membership.tier_id)
    )
    return {tier_id: count for tier_id, count in rows}


@bp.get("/programs")
@permission_required("programs.view")
def programs() -> Any:
    stmt = sa.select(Program).options(selectinload(Program.tiers)).order_by(Program.name)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    counts = member_counts(p.id for p in page.items)
    return render_template("admin/programs/index.html", page=page, counts=counts)


@bp.route("/programs/new", methods=["GET", "POST"])
@permission_required("programs.manage")
def program_new() -> Any:
    form = NewProgramForm()
    if form.validate_on_submit():
        with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
            program = Program(slug=unique_slug(form.name.data))
            _apply(form, program)
            program.tiers = [Tier(name=form.entry_tier.data, rank=1, requirements={})]
            db.session.add(program)
            emit("program.created", program, before=None)
            emit("tier.created", program.tiers[0], before=None)
        if saved.ok:
            flash(_("Program %(name)s created.", name=program.name), "success")
            return redirect(url_for("admin.program", program_id=program.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/programs/form.html", form=form, program=None), status


def _apply(form: ProgramForm, program: Program) -> None:
    program.name = form.name.data
    program.description = form.description.data or None
    program.accepts_applications = bool(form.accepts_applications.data)
    program.active = bool(form.active.data)


def _program(program_id: int) -> Program:
    # Programs are vendor-wide (no organization): staff reach all of them.
    return db.get_or_404(Program, program_id)


def _tier(program: Program, tier_id: int) -> Tier:
    tier = db.session.get(Tier, tier_id)
    if tier is None or tier.program_id != program.id:
        abort(404)
    return tier


def _render_program(program: Program, status: int = 200, tier_form: TierForm | None = None) -> Any:
    manage = can(current_user, "programs.manage")
    return render_template(
        "admin/programs/detail.html",
        program=program,
        counts=member_counts([program.id]),
        manage=manage,
        tier_form=tier_form or (TierForm(formdata=None, program=program) if manage else None),
    ), status


@bp.get("/programs/<int:program_id>")
@permission_required("programs.view")
def program(program_id: int) -> Any:
    return _render_program(_program(program_id))


@bp.route("/programs/<int:program_id>/edit", methods=["GET", "POST"])
@permission_required("programs.manage")
def program_edit(program_id: int) -> Any:
    program = _program(program_id)
    form = ProgramForm(program=program)
    if form.validate_on_submit():
        with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
            before = program.audit_state()
            _apply(form, program)
            if program.audit_state() != before:
                emit("program.updated", program, before=before)
        if saved.ok:
            flash(_("Program saved."), "success")
            return redirect(url_for("admin.program", program_id=program.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/programs/form.html", form=form, program=program), status


# -- tiers --------------------------------------------------------------------


@bp.post("/programs/<int:program_id>/tiers")
@permission_required("programs.manage")
def program_tier_add(program_id: int) -> Any:
    program = _program(program_id)
    form = TierForm(program=program)
    if not form.validate_on_submit():
        return _render_program(program, 400, tier_form=form)
    with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
        top = db.session.scalar(sa.select(sa.func.max(Tier.rank)).where(Tier.program_id == program.id))
        tier = Tier(program=program, name=form.name.data, description=form.description.data or None,
                    rank=(top or 0) + 1, requirements={})
        db.session.add(tier)
        emit("tier.created", tier, before=None)
    if not saved.ok:
        return _render_program(program, 400, tier_form=form)
    flash(_("Tier %(name)s added.", name=tier.name), "success")
    return redirect(url_for("admin.program", program_id=program.id, _anchor="tiers"))


@bp.route("/programs/<int:program_id>/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
@permission_required("programs.manage")
def program_tier_edit(program_id: int, tier_id: int) -> Any:
    program = _program(program_id)
    tier = _tier(program, tier_id)
    form = TierEditForm(program=program, tier=tier)
    if form.validate_on_submit():
        with saved_or_field_error(form.name, str(NAME_TAKEN)) as saved:
            before = tier.audit_state()
            tier.name = form.name.data
            tier.description = form.description.data or None
            tier.requirements = form.parsed_requirements
            if tier.audit_state() != before:
                emit("tier.updated", tier, before=before)
        if saved.ok:
            flash(_("Tier %(name)s saved.", name=tier.name), "success")
            return redirect(url_for("admin.program", program_id=program.id, _anchor="tiers"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/programs/tier_edit.html", form=form, program=program,
                           tier=tier), status


@bp.post("/programs/<int:program_id>/tiers/<int:tier_id>/move")
@permission_required("programs.manage")
def program_tier_move(program_id: int, tier_id: int) -> Response:
    program = _program(program_id)
    tier = _tier(program, tier_id)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    # "Up" means a higher tier (a larger rank): the list shows the entry tier first.
    if direction == "up":
        neighbour_stmt = sa.select(Tier).where(Tier.program_id == program.id,
                                               Tier.rank > tier.rank).order_by(Tier.rank.asc())
    else:
        neighbour_stmt = sa.select(Tier).where(Tier.program_id == program.id,
                                               Tier.rank < tier.rank).order_by(Tier.rank.desc())
    neighbour = db.session.scalars(neighbour_stmt.limit(1)).first()
    if neighbour is None:
        conflict(_("%(name)s is already the highest tier.", name=tier.name) if direction == "up"
                 else _("%(name)s is already the entry tier.", name=tier.name))
    assert neighbour is not None
    before, neighbour_before = tier.audit_state(), neighbour.audit_state()
    own_rank, other_rank = tier.rank, neighbour.rank
    # UNIQUE(program_id, rank) holds after every statement: park one tier on a free
    # rank above all others, then swap. (rank >= 1 rules out 0 or negatives.)
    top = db.session.scalar(sa.select(sa.func.max(Tier.rank)).where(Tier.program_id == program.id))
    tier.rank = (top or 0) + 1
    db.session.flush()
    neighbour.rank = own_rank
    db.session.flush()
    tier.rank = other_rank
    emit("tier.moved", tier, before=before)
    emit("tier.moved", neighbour, before=neighbour_before)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        conflict(_("The tiers were reordered by someone else meanwhile. Reload and try again."))
    return redirect(url_for("admin.program", program_id=program.id, _anchor="tiers"))


@bp.post("/programs/<int:program_id>/tiers/<int:tier_id>/delete")
@permission_required("programs.manage")
def program_tier_delete(program_id: int, tier_id: int) -> Response:
    program = _program(program_id)
    tier = _tier(program, tier_id)
    used = db.session.scalar(sa.select(sa.func.count(Membership.id)).where(Membership.tier_id == tier.id))
    if used:
        conflict(_("%(name)s is used by %(count)d memberships (ended ones included); move them "
                   "to another tier first.", name=tier.name, count=used))
    if len(program.tiers) <= 1:
        conflict(_("A program needs at least one tier."))
    before = tier.audit_state()
    emit("tier.deleted", tier, before=before, after={})
    program.tiers.remove(tier)
    db.session.delete(tier)
    db.session.commit()
    flash(_("Tier %(name)s deleted.", name=before["name"]), "success")
    return redirect(url_for("admin.program", program_id=program.id, _anchor="tiers"))
