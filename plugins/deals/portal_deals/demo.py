"""Demo data for ``portal demo``: a product catalogue, rules of engagement for the
Reseller and Referral programs, and registrations in every state, including a
conflict for the channel manager to review.

Idempotent: the catalogue and rules are looked up before they are created, and
registrations are only added to a database that has none. The first run also
switches the plugin on for the two programs (a vendor admin may switch it off
later; the demo does not switch it on again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Organization, Program, ProgramPlugin, Tier, User, utcnow
from portal_deals import matching, services
from portal_deals.models import (DealClaim, DealHistory, DealProduct, DealRegistration, DealRules,
                                 DealStatus)
from portal_deals.rules import in_reporting_currency

S = DealStatus

PRODUCTS = (
    ("NET-FW-100", "Firewall Appliance 100"),
    ("NET-FW-500", "Firewall Appliance 500"),
    ("SEC-EDR", "Endpoint Protection"),
    ("CLD-BKP", "Cloud Backup"),
    ("SUP-PREM", "Premium Support"),
)


@dataclass(frozen=True)
class DemoDeal:
    organization: str
    creator: str
    program: str
    status: DealStatus
    customer: str
    website: str | None
    country: str
    industry: str
    contact: tuple[str, str]
    products: tuple[str, ...]
    value: int
    currency: str
    close_in_days: int
    submitted_days_ago: int | None = None
    protected_days_ago: int | None = None
    closed_days_ago: int | None = None
    final_value: int | None = None
    note: str | None = None
    description: str | None = None


BRIGHTPATH = "BrightPath Solutions GmbH"
HARBOR = "Harbor Lane Systems Ltd"
MAPLE = "Maple Ridge Consulting Inc."
SOL = "Sol Naciente Tecnología S.A. de C.V."

DEALS = (
    DemoDeal(BRIGHTPATH, "lea.fischer@brightpath.example.com", "reseller", S.APPROVED,
             "Nordwind Logistik GmbH", "https://www.nordwind-logistik.example.com", "DE", "transport",
             ("Katrin Vogel", "k.vogel@nordwind-logistik.example.com"), ("NET-FW-500", "SUP-PREM"),
             185_000, "EUR", 75, submitted_days_ago=32, protected_days_ago=31,
             description="Firewall refresh for 14 warehouses; IT director decides in Q2."),
    DemoDeal(BRIGHTPATH, "tobias.braun@brightpath.example.com", "reseller", S.WON,
             "Alpenblick Hotels AG", "alpenblick-hotels.example.com", "AT", "hospitality",
             ("Florian Huber", "f.huber@alpenblick-hotels.example.com"), ("NET-FW-100", "CLD-BKP"),
             52_000, "EUR", 30, submitted_days_ago=80, protected_days_ago=79, closed_days_ago=20,
             final_value=48_000),
    DemoDeal(BRIGHTPATH, "lea.fischer@brightpath.example.com", "reseller", S.DRAFT,
             "Stadtwerke Kastell", None, "DE", "energy",
             ("Jana Roth", "j.roth@stadtwerke-kastell.example.com"), ("SEC-EDR",),
             64_000, "EUR", 120),
    DemoDeal(HARBOR, "harry.clarke@harborlane.example.com", "reseller", S.SUBMITTED,
             "Nordwind Logistik", "https://eu.nordwind-logistik.example.com", "DE", "transport",
             ("Katrin Vogel", "katrin.vogel@nordwind-logistik.example.com"), ("NET-FW-500",),
             160_000, "GBP", 90, submitted_days_ago=2,
             description="Met the customer at a trade fair in Hamburg."),
    DemoDeal(HARBOR, "harry.clarke@harborlane.example.com", "reseller", S.SUBMITTED,
             "Thames Valley District Council", "thamesvalley-council.example.com", "GB", "government",
             ("Priya Shah", "p.shah@thamesvalley-council.example.com"), ("SEC-EDR", "SUP-PREM"),
             95_000, "GBP", 60, submitted_days_ago=4),
    DemoDeal(HARBOR, "admin@harborlane.example.com", "reseller", S.MORE_INFO,
             "Pennine Water Ltd", "pennine-water.example.com", "GB", "energy",
             ("Tom Baxter", "tom.baxter@pennine-water.example.com"), ("CLD-BKP",),
             38_000, "GBP", 45, submitted_days_ago=6,
             note="Which sites are in scope, and who is the economic buyer?"),
    DemoDeal(MAPLE, "liam.gagnon@mapleridge.example.com", "referral", S.SUBMITTED,
             "Fraser River Health Authority", "fraserriver-health.example.com", "CA", "healthcare",
             ("Emily Wong", "emily.wong@fraserriver-health.example.com"), ("SEC-EDR",),
             120_000, "CAD", 100, submitted_days_ago=9),
    DemoDeal(MAPLE, "ava.roy@mapleridge.example.com", "referral", S.LOST,
             "Laurentian Foods Inc.", "laurentian-foods.example.com", "CA", "retail",
             ("Marc Lavoie", "m.lavoie@laurentian-foods.example.com"), ("CLD-BKP",),
             27_000, "CAD", 20, submitted_days_ago=70, protected_days_ago=68, closed_days_ago=12,
             note="Chose the incumbent's renewal."),
    DemoDeal(SOL, "diego.ramirez@solnaciente.example.com", "reseller", S.APPROVED,
             "Grupo Mercado Azul S.A. de C.V.", "mercadoazul.example.com", "MX", "retail",
             ("Lucía Torres", "lucia.torres@mercadoazul.example.com"), ("NET-FW-100", "SEC-EDR"),
             1_450_000, "MXN", 40, submitted_days_ago=85, protected_days_ago=80),
    DemoDeal(SOL, "diego.ramirez@solnaciente.example.com", "reseller", S.EXPIRED,
             "Farmacias del Valle", "farmaciasdelvalle.example.com", "MX", "healthcare",
             ("Andrés Molina", "a.molina@farmaciasdelvalle.example.com"), ("CLD-BKP",),
             600_000, "MXN", 10, submitted_days_ago=140, protected_days_ago=130, closed_days_ago=40),
)


def ensure_products() -> dict[str, DealProduct]:
    found = {p.sku: p for p in db.session.scalars(sa.select(DealProduct))}
    for sku, name in PRODUCTS:
        if sku not in found:
            found[sku] = DealProduct(sku=sku, name=name, active=True)
            db.session.add(found[sku])
    db.session.flush()
    return found


def ensure_rules(programs: dict[str, Program]) -> None:
    reseller, referral = programs.get("reseller"), programs.get("referral")
    if reseller is not None and db.session.get(DealRules, reseller.id) is None:
        top = [t.id for t in db.session.scalars(sa.select(Tier).where(
            Tier.program_id == reseller.id, Tier.name.in_(("Gold", "Platinum"))))]
        db.session.add(DealRules(program_id=reseller.id, protection_days=90, max_extensions=2,
                                 extension_days=30, auto_approve_tier_ids=sorted(top),
                                 required_fields=["customer_website"],
                                 extra_fields=[{"key": "competitor", "label": "Competing vendor",
                                                "required": False}]))
    if referral is not None and db.session.get(DealRules, referral.id) is None:
        db.session.add(DealRules(program_id=referral.id, protection_days=60, max_extensions=1,
                                 extension_days=30, auto_approve_tier_ids=[], required_fields=[],
                                 extra_fields=[]))


def seed() -> None:
    programs = {p.slug: p for p in db.session.scalars(sa.select(Program))}
    first_run = db.session.scalar(sa.select(DealProduct.id).limit(1)) is None
    products = ensure_products()
    ensure_rules(programs)
    if first_run:
        for slug in ("reseller", "referral"):
            program = programs.get(slug)
            if program is not None and db.session.get(ProgramPlugin, (program.id, "deals")) is None:
                db.session.add(ProgramPlugin(program_id=program.id, plugin="deals"))
    if db.session.scalar(sa.select(DealRegistration.id).limit(1)) is not None:
        return
    for spec in DEALS:
        organization = db.session.scalar(sa.select(Organization).where(Organization.name == spec.organization))
        creator = db.session.scalar(sa.select(User).where(User.email == spec.creator))
        program = programs.get(spec.program)
        if organization is None or creator is None or program is None:
            continue
        add_deal(spec, organization, creator, program, products)
    db.session.flush()


def add_deal(spec: DemoDeal, organization: Organization, creator: User, program: Program,
             products: dict[str, DealProduct]) -> DealRegistration:
    now = utcnow()

    def ago(days: int | None):  # type: ignore[no-untyped-def]
        return now - timedelta(days=days) if days is not None else None

    created = ago((spec.submitted_days_ago or 0) + 1)
    registration = DealRegistration(organization_id=organization.id, created_by_id=creator.id,
                                    status=spec.status, created_at=created, updated_at=created, extra={})
    services._apply(registration, services.RegistrationData(
        program_id=program.id, customer_name=spec.customer, customer_website=spec.website,
        customer_country=spec.country, customer_industry=spec.industry, contact_name=spec.contact[0],
        contact_email=spec.contact[1], contact_phone=None,
        product_ids=[products[sku].id for sku in spec.products], value=Decimal(spec.value),
        currency=spec.currency, expected_close=(now + timedelta(days=spec.close_in_days)).date(),
        description=spec.description))
    registration.submitted_at = ago(spec.submitted_days_ago)
    registration.protected_at = ago(spec.protected_days_ago)
    registration.note = spec.note
    if registration.protected_at is not None:
        days = 90 if program.slug == "reseller" else 60
        registration.decided_at = registration.protected_at
        registration.expires_at = registration.protected_at + timedelta(days=days)
    if spec.closed_days_ago is not None:
        registration.closed_at = ago(spec.closed_days_ago)
    if spec.final_value is not None:
        registration.final_value = Decimal(spec.final_value)
        registration.final_value_reporting = in_reporting_currency(registration.final_value, spec.currency)
    if spec.status is S.LOST:
        registration.lost_reason = "competitor"
    registration.updated_at = registration.closed_at or registration.protected_at or registration.submitted_at or created
    db.session.add(registration)
    db.session.flush()
    steps = [("create", None, S.DRAFT, created)]
    if registration.submitted_at:
        steps.append(("submit", S.DRAFT, S.SUBMITTED, registration.submitted_at))
    if spec.status is S.MORE_INFO:
        steps.append(("request_info", S.SUBMITTED, S.MORE_INFO, registration.submitted_at + timedelta(days=1)))
    if registration.protected_at:
        steps.append(("approve", S.SUBMITTED, S.APPROVED, registration.protected_at))
    if spec.status in (S.WON, S.LOST, S.EXPIRED):
        steps.append(({"won": "win", "lost": "lose", "expired": "expire"}[spec.status.value],
                      S.APPROVED, spec.status, registration.closed_at))
    for action, before, after, at in steps:
        db.session.add(DealHistory(registration_id=registration.id, at=at, action=action,
                                   actor_id=creator.id if action in ("create", "submit", "win", "lose") else None,
                                   from_status=before.value if before else None,
                                   to_status=after.value, note=spec.note if action == "request_info" else None))
    if spec.status is S.SUBMITTED:
        found = services.conflicts(registration)
        registration.conflict_score = max((m.score for m in found), default=None)
    if spec.status is S.APPROVED:
        for key in matching.claim_keys(services.customer_of(registration)):
            for product_id in sorted(registration.product_ids):
                db.session.add(DealClaim(key=key, product_id=product_id, registration_id=registration.id))
    return registration
