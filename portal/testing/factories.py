"""Small builders for test data. Each returns a flushed object (commit it, or let
the test's requests see it through the shared session).

Passwords are hashed once per (method, password): a suite creates thousands of
users, and the test config's cheap scrypt still costs a few milliseconds."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date
from typing import Any

from portal.extensions import db
from portal.models import (
    ManagerAssignment,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerType,
    Program,
    ResourceCategory,
    ResourcePage,
    ResourceStatus,
    Role,
    Tier,
    User,
    utcnow,
)

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

TIER_NAMES = ("Registered", "Silver", "Gold", "Platinum")


_HASHES: dict[tuple[str, str], str] = {}


def _hash(password: str) -> str:
    """Hash each test password once per method (see the module docstring)."""
    from flask import current_app
    from werkzeug.security import generate_password_hash

    method = current_app.config["PASSWORD_HASH_METHOD"]
    if (method, password) not in _HASHES:
        _HASHES[(method, password)] = generate_password_hash(password, method=method)
    return _HASHES[(method, password)]


def program(name: str | None = None, tiers: tuple[str, ...] = TIER_NAMES) -> Program:
    n = next(_seq)
    name = name or f"Program {n}"
    prog = Program(name=name, slug=name.lower().replace(" ", "-"), description=f"The {name} program")
    prog.tiers = [Tier(name=t, rank=i + 1) for i, t in enumerate(tiers)]
    db.session.add(prog)
    db.session.flush()
    return prog


def organization(
    name: str | None = None,
    *,
    country: str = "DE",
    partner_type: PartnerType = PartnerType.RESELLER,
    status: OrganizationStatus = OrganizationStatus.ACTIVE,
    program: Program | None = None,
    tier: Tier | None = None,
) -> Organization:
    org = Organization(country=country, partner_type=partner_type, status=status,
                       website=None)
    org.set_name(name or f"Partner {next(_seq)} GmbH")
    db.session.add(org)
    db.session.flush()
    if program is not None:
        db.session.add(
            Membership(organization=org, program=program, tier=tier or program.tiers[0],
                       since=date(2025, 1, 1))
        )
        db.session.flush()
    return org


def user(
    role: Role = Role.PARTNER_USER,
    organization: Organization | None = None,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    active: bool = True,
) -> User:
    n = next(_seq)
    person = User(
        email=email or f"{role.value.replace('_', '.')}{n}@example.com",
        name=name or f"{role.value.replace('_', ' ').title()} {n}",
        role=role,
        organization=organization,
        active=active,
    )
    person.password_hash = _hash(password)
    db.session.add(person)
    db.session.flush()
    return person


def assign_manager(manager: User, org: Organization) -> None:
    db.session.add(ManagerAssignment(organization_id=org.id, user_id=manager.id))
    db.session.flush()


def resource_page(
    title: str | None = None,
    audience: Any = "partners",
    *,
    programs: Iterable[Program] = (),
    tiers: Iterable[Tier] = (),
    published: bool = True,
    tags: Iterable[str] = (),
    language: str = "en",
    category: str = "guide",
    body: str = "Some **guidance** for partners.",
    summary: str | None = None,
    slug: str | None = None,
) -> ResourcePage:
    """A page of the resource library (published unless ``published=False``)."""
    from portal.audience import Audience
    from portal.resources.forms import slugify

    n = next(_seq)
    title = title or f"Resource page {n}"
    page = ResourcePage(
        title=title,
        slug=slug or f"{slugify(title)}-{n}",
        summary=summary,
        body=body,
        category=ResourceCategory(category),
        language=language,
        audience=Audience(audience),
        status=ResourceStatus.PUBLISHED if published else ResourceStatus.DRAFT,
        published_at=utcnow() if published else None,
    )
    page.programs = list(programs)
    page.tiers = list(tiers)
    page.set_tags(tags)
    db.session.add(page)
    db.session.flush()
    return page
