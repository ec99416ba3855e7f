"""Helpers shared by the vendor-side lists: sorting, paging and htmx partials."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Response, make_response, render_template, request
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from portal.extensions import db
from portal.models import Membership, Organization
from portal.scoping import scoped, visible

PER_PAGE = 25


def paginate_in_reach(
    stmt: sa.Select[Any], model: type[Any], order_by: Sequence[Any], per_page: int = PER_PAGE
) -> Pagination:
    """One page of ``stmt`` (not yet scoped) limited to the current user's reach.

    The page's rows and the total come from two shapes of the same scoped query
    (see ``portal.scoping.organization_filter``): the rows walk the ORDER BY index
    and stop after the page, the total counts from the manager's organizations.
    """
    items = scoped(stmt, model, walk=True).order_by(*order_by)
    page = db.paginate(items, per_page=per_page, error_out=False, count=False)
    counted = scoped(stmt, model).options(lazyload("*")).order_by(None).subquery()
    page.total = db.session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
    return page


def current_membership() -> sa.ColumnElement[bool]:
    """Memberships in force today (``until`` today still counts, as ``is_current`` says)."""
    return sa.or_(Membership.until.is_(None), Membership.until >= date.today())


#: Up to this many organizations in reach, list filters offer them in a select;
#: beyond it, a name search (a select of thousands is slow to render and to use).
ORGANIZATION_SELECT_MAX = 100


@dataclass(frozen=True)
class OrganizationChoices:
    """What an organization filter offers.

    ``searchable`` False: ``choices`` holds every organization in reach, for a select.
    ``searchable`` True: there are too many for a select, so the filter is a name
    search; ``choices`` then holds only the organization asked for by id
    (``?organization=<id>``, as linked from an organization's page), if it is in reach.
    """

    choices: list[tuple[int, str]]
    searchable: bool


def organization_choices(requested: str | None = None) -> OrganizationChoices:
    """The organization filter for the current user: a few cheap queries at any size."""
    few = _organizations_in_reach()
    if few is not None:
        return OrganizationChoices(list(few), searchable=False)
    chosen: list[tuple[int, str]] = []
    # Digits only, and few enough to fit a 64-bit integer column.
    if requested and requested.isascii() and requested.isdigit() and len(requested) <= 18:
        row = db.session.execute(
            visible(Organization).with_only_columns(Organization.id, Organization.name)
            .where(Organization.id == int(requested))
        ).first()
        if row is not None:
            chosen.append((row.id, row.name))
    return OrganizationChoices(chosen, searchable=True)


def _organizations_in_reach() -> tuple[tuple[int, str], ...] | None:
    """(id, name) of every organization the current user reaches, by name, when
    there are few enough for a select (else None). Organizations and manager
    assignments are watched tables: kept per worker until they change."""
    from portal import settings_cache

    def read() -> tuple[tuple[int, str], ...] | None:
        in_reach = visible(Organization, walk=True).with_only_columns(Organization.id)
        # Counting stops at the threshold: the cost does not grow with the organizations.
        few = db.session.scalar(
            sa.select(sa.func.count()).select_from(
                in_reach.limit(ORGANIZATION_SELECT_MAX + 1).subquery()
            )
        ) or 0
        if few > ORGANIZATION_SELECT_MAX:
            return None
        rows = db.session.execute(
            visible(Organization).with_only_columns(Organization.id, Organization.name)
            .order_by(Organization.name_key)
        )
        return tuple((row.id, row.name) for row in rows)

    key = (current_user.id, current_user.role, ORGANIZATION_SELECT_MAX)
    return settings_cache.cached("admin.organizations_in_reach", key, read)


def organization_name_matches(text: str) -> sa.Select[Any]:
    """Ids of the organizations whose name contains ``text`` (case-insensitive)."""
    return sa.select(Organization.id).where(
        Organization.name_key.contains(Organization.key_for(text), autoescape=True)
    )


def sort_order(
    orders: dict[str, Sequence[Any]], default: str
) -> tuple[str, list[Any]]:
    """The ``sort`` query argument checked against a whitelist.

    ``orders`` maps a key to its ORDER BY columns; ``-key`` sorts descending.
    An unknown key falls back to ``default`` rather than failing. The ORDER BY
    expressions are built once per whitelist and key (``orders`` is a module's
    constant).
    """
    raw = request.args.get("sort", default)
    key = raw.removeprefix("-")
    if key not in orders:
        raw, key = default, default.removeprefix("-")
    built = _ORDERS.get((id(orders), raw))
    if built is None or built[0] is not orders:
        columns = orders[key]
        clauses = [column.desc() if raw.startswith("-") else column.asc() for column in columns]
        built = _ORDERS[(id(orders), raw)] = (orders, clauses)
    return raw, list(built[1])


#: (id of the whitelist, sort) -> (the whitelist, its ORDER BY clauses).
_ORDERS: dict[tuple[int, str], tuple[Any, list[Any]]] = {}


def wants_partial(target_id: str) -> bool:
    """Whether to answer with only the results fragment.

    htmx asks for it from the filter form, sort links and pager, all aimed at
    ``#target_id``. A history-restore request (a cache miss after Back) needs the
    whole page, as does any htmx request aimed somewhere else.
    """
    htmx = request.htmx
    if not htmx or htmx.history_restore_request:
        return False
    return htmx.target in (None, target_id)


def render_list(template: str, partial: str, target_id: str, **context: Any) -> Response:
    """The full page, or only its results fragment for htmx."""
    name = partial if wants_partial(target_id) else template
    response = make_response(render_template(name, results_id=target_id, **context))
    # The same URL answers a page or a fragment: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


@dataclass
class Saved:
    ok: bool = False


@contextmanager
def saved_or_field_error(field: Any, message: str) -> Iterator[Saved]:
    """Run the block's changes and commit them, reporting success on ``saved.ok``.

    The forms check names are free first; this catches the rare concurrent request
    that took the name in between (a unique constraint on flush or commit), rolls
    back and shows ``message`` beside ``field`` instead of a 500.
    """
    from portal.extensions import db

    saved = Saved()
    try:
        yield saved
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        field.errors.append(message)
    else:
        saved.ok = True
