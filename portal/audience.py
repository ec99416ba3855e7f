"""Who a piece of content is for: one rule shared by the resource library and search.

Content carries *audience tokens*; a user holds *reach tokens*; the user may see
the content when the two sets meet (vendor admins see everything). Both sides are
computed here and nowhere else, so a page that opens for a user is exactly a page
that search finds for them.

Content tokens (:func:`content_tokens`):

* ``public``: everyone, signed in or not;
* ``partners``: every signed-in partner;
* ``program:<id>``: partners whose organization is a current member of the program;
* ``tier:<id>``: partners at that tier *or a higher one* of its program (a Gold
  guide is for Gold and Platinum);
* ``org:<id>``: records owned by one organization (a deal, a claim): its own people
  and the channel managers assigned to it;
* ``staff``: vendor staff. Every audience but an organization's own records also
  carries it, since staff see all vendor content.

A user's tokens (:func:`reach_tokens`) are read from the database when asked, so a
membership that ends or a tier that changes takes effect on the next request.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from flask_babel import lazy_gettext as _l

from portal.extensions import db
from portal.models import ManagerAssignment, Membership, Role, Tier, utcnow

PUBLIC = "public"
PARTNERS = "partners"
STAFF = "staff"


class Audience(enum.Enum):
    """Who a piece of vendor content is for (the resource library's choices)."""

    PUBLIC = "public"
    PARTNERS = "partners"
    PROGRAMS = "programs"
    TIERS = "tiers"
    STAFF = "staff"

    @property
    def label(self) -> str:
        return str(AUDIENCE_LABELS[self])


AUDIENCE_LABELS = {
    Audience.PUBLIC: _l("Everyone, including visitors who are not signed in"),
    Audience.PARTNERS: _l("All partners"),
    Audience.PROGRAMS: _l("Partners in certain programs"),
    Audience.TIERS: _l("Partners at certain tiers (and higher)"),
    Audience.STAFF: _l("Vendor staff only"),
}


def content_tokens(
    audience: Audience | str | Mapping[str, Any],
    *,
    program_ids: Iterable[int] = (),
    tier_ids: Iterable[int] = (),
    organization_id: int | None = None,
) -> list[str]:
    """The tokens of a piece of content.

    ``audience`` is an :class:`Audience`, one of the strings ``public``,
    ``partners``, ``programs``, ``tiers``, ``staff`` and ``organization`` (the
    record belongs to ``organization_id``), or a mapping ``{"programs": [ids]}`` /
    ``{"tiers": [ids]}`` (what plugins hand to search). An audience naming no
    program or tier, or an organization record without an organization, is for
    staff only: a mistake never widens who sees a thing.
    """
    if isinstance(audience, Mapping):
        program_ids = list(audience.get("programs") or ())
        tier_ids = list(audience.get("tiers") or ())
        kind = "programs" if program_ids else "tiers" if tier_ids else STAFF
    else:
        kind = audience.value if isinstance(audience, Audience) else str(audience)
    if kind == "organization":
        return [f"org:{int(organization_id)}"] if organization_id is not None else [STAFF]
    tokens = {STAFF}
    if kind == PUBLIC:
        tokens.add(PUBLIC)
    elif kind == PARTNERS:
        tokens.add(PARTNERS)
    elif kind == "programs":
        tokens.update(f"program:{int(i)}" for i in program_ids)
    elif kind == "tiers":
        tokens.update(f"tier:{int(i)}" for i in tier_ids)
    elif kind != STAFF:
        raise ValueError(f"unknown audience {audience!r}")
    return sorted(tokens)


class Reach:
    """A user's tokens; ``everything`` for vendor admins (no filter at all)."""

    def __init__(self, tokens: Iterable[str] = (), *, everything: bool = False) -> None:
        self.tokens = frozenset(tokens)
        self.everything = everything

    def allows(self, tokens: Iterable[str]) -> bool:
        return self.everything or not self.tokens.isdisjoint(tokens)

    @property
    def cache_key(self) -> str:
        return "*" if self.everything else ",".join(sorted(self.tokens))

    def __repr__(self) -> str:
        return f"<Reach {self.cache_key}>"


def reach_tokens(user: Any) -> Reach:
    """What ``user`` (or an anonymous visitor) reaches, read from the database now."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Reach({PUBLIC})
    if user.role is Role.VENDOR_ADMIN:
        return Reach(everything=True)
    if user.role is Role.CHANNEL_MANAGER:
        managed = db.session.scalars(
            sa.select(ManagerAssignment.organization_id).where(ManagerAssignment.user_id == user.id)
        )
        return Reach({PUBLIC, PARTNERS, STAFF, *(f"org:{i}" for i in managed)})
    tokens = {PUBLIC, PARTNERS, f"org:{user.organization_id}"}
    today = utcnow().date()
    # Each current membership: its program, its tier and every tier below it.
    own_tier = aliased(Tier)
    rows = db.session.execute(
        sa.select(Membership.program_id, Tier.id)
        .join(own_tier, own_tier.id == Membership.tier_id)
        .join(Tier, sa.and_(Tier.program_id == Membership.program_id, Tier.rank <= own_tier.rank))
        .where(
            Membership.organization_id == user.organization_id,
            sa.or_(Membership.until.is_(None), Membership.until >= today),
        )
    )
    for program_id, tier_id in rows:
        tokens.add(f"program:{program_id}")
        tokens.add(f"tier:{tier_id}")
    return Reach(tokens)


def user_may_see(user: Any, tokens: Iterable[str]) -> bool:
    """Whether ``user`` may see content carrying ``tokens``."""
    return reach_tokens(user).allows(tokens)
