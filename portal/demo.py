"""Demo data for ``portal demo``: a vendor team, three programs, partner companies
with their people, pending applications, an invitation and the resource
library's pages (:mod:`portal.resources.demo`).

Seeding is idempotent: every record is looked up by its natural key (program slug,
organization name, email address) and only created when missing, so running
``portal demo`` twice changes nothing. Every demo login shares :data:`DEMO_PASSWORD`;
these accounts exist only here, never in a real deployment's data. Seeding sends no
email. All names are fictitious; all addresses use example.com domains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from portal import mail
from portal.events import emit
from portal.extensions import db
from portal.models import (
    ApplicationStatus,
    Invitation,
    ManagerAssignment,
    Membership,
    Organization,
    PartnerApplication,
    PartnerType,
    Program,
    Role,
    Tier,
    User,
    utcnow,
)
from portal.resources.demo import seed_pages as seed_resource_pages

DEMO_PASSWORD = "demo-password-2026"
VENDOR_ADMIN_EMAIL = "admin@vendor.example.com"
SUMMARY = "Demo data"


class DemoRefused(RuntimeError):
    """The database holds real data: demo accounts with a published password must
    never be added to it."""


@dataclass(frozen=True)
class DemoTier:
    name: str
    description: str
    requirements: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoProgram:
    name: str
    slug: str
    description: str
    tiers: tuple[DemoTier, ...]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: Role
    job_title: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    country: str
    partner_type: PartnerType
    website: str
    description: str
    #: (program slug, tier name, member since)
    memberships: tuple[tuple[str, str, date], ...]
    people: tuple[DemoPerson, ...]
    #: email of the channel manager who looks after it (None: nobody yet)
    manager: str | None = None


PROGRAMS = (
    DemoProgram(
        "Reseller",
        "reseller",
        "Resell our products to your customers, with deal registration and tier discounts.",
        (
            DemoTier("Registered", "Everyone starts here."),
            DemoTier("Silver", "Trained sales and pre-sales staff.", {"certified_people": 2}),
            DemoTier("Gold", "A proven track record.",
                     {"certified_people": 4, "won_deal_value": 250_000}),
            DemoTier("Platinum", "Our most committed resellers.",
                     {"certified_people": 8, "won_deal_value": 1_000_000}),
        ),
    ),
    DemoProgram(
        "Referral",
        "referral",
        "Introduce customers to us and earn a fee for every won deal.",
        (
            DemoTier("Registered", "Everyone starts here."),
            DemoTier("Preferred", "Referral partners with regular wins.", {"won_deals": 5}),
        ),
    ),
    DemoProgram(
        "Technology Alliance",
        "technology-alliance",
        "Build integrations with our platform and list them in the marketplace.",
        (
            DemoTier("Member", "A published integration."),
            DemoTier("Premier", "Certified integrations with joint customers.",
                     {"certified_integrations": 2}),
        ),
    ),
)

STAFF = (
    DemoPerson(VENDOR_ADMIN_EMAIL, "Vera Lindqvist", Role.VENDOR_ADMIN,
               "Head of Partnerships", "Europe/Stockholm"),
    DemoPerson("emea.manager@vendor.example.com", "Marco Rossi", Role.CHANNEL_MANAGER,
               "Channel Manager EMEA", "Europe/Rome"),
    DemoPerson("americas.manager@vendor.example.com", "Dana Whitfield", Role.CHANNEL_MANAGER,
               "Channel Manager Americas", "America/Chicago"),
)

ORGANIZATIONS = (
    DemoOrganization(
        "BrightPath Solutions GmbH", "DE", PartnerType.RESELLER,
        "https://brightpath.example.com",
        "Network and security reseller for mid-sized companies in Germany and Austria.",
        (("reseller", "Gold", date(2022, 3, 1)),),
        (
            DemoPerson("admin@brightpath.example.com", "Jonas Weber", Role.PARTNER_ADMIN,
                       "Partner Manager", "Europe/Berlin"),
            DemoPerson("lea.fischer@brightpath.example.com", "Lea Fischer", Role.PARTNER_USER,
                       "Account Executive", "Europe/Berlin"),
            DemoPerson("tobias.braun@brightpath.example.com", "Tobias Braun", Role.PARTNER_USER,
                       "Solutions Engineer", "Europe/Vienna"),
        ),
        manager="emea.manager@vendor.example.com",
    ),
    DemoOrganization(
        "Harbor Lane Systems Ltd", "GB", PartnerType.RESELLER,
        "https://harborlane.example.com",
        "IT services and licensing for the public sector in the United Kingdom.",
        (("reseller", "Silver", date(2023, 6, 15)), ("referral", "Preferred", date(2021, 9, 1))),
        (
            DemoPerson("admin@harborlane.example.com", "Olivia Bennett", Role.PARTNER_ADMIN,
                       "Alliances Director", "Europe/London"),
            DemoPerson("harry.clarke@harborlane.example.com", "Harry Clarke", Role.PARTNER_USER,
                       "Sales Manager", "Europe/London"),
        ),
        manager="emea.manager@vendor.example.com",
    ),
    DemoOrganization(
        "Maple Ridge Consulting Inc.", "CA", PartnerType.SERVICE_PROVIDER,
        "https://mapleridge.example.com",
        "Implementation and managed services across Canada.",
        (("referral", "Registered", date(2024, 2, 1)),),
        (
            DemoPerson("admin@mapleridge.example.com", "Chloé Tremblay", Role.PARTNER_ADMIN,
                       "Managing Partner", "America/Toronto"),
            DemoPerson("liam.gagnon@mapleridge.example.com", "Liam Gagnon", Role.PARTNER_USER,
                       "Consultant", "America/Toronto"),
            DemoPerson("ava.roy@mapleridge.example.com", "Ava Roy", Role.PARTNER_USER,
                       "Project Manager", "America/Vancouver"),
            DemoPerson("noah.martin@mapleridge.example.com", "Noah Martin", Role.PARTNER_USER,
                       "Support Lead", "America/Toronto"),
        ),
        manager="americas.manager@vendor.example.com",
    ),
    DemoOrganization(
        "Sol Naciente Tecnología S.A. de C.V.", "MX", PartnerType.RESELLER,
        "https://solnaciente.example.com",
        "Value-added reseller for retail and logistics in Mexico.",
        (("reseller", "Registered", date(2025, 1, 10)),),
        (
            DemoPerson("admin@solnaciente.example.com", "Sofía Hernández", Role.PARTNER_ADMIN,
                       "Directora Comercial", "America/Mexico_City"),
            DemoPerson("diego.ramirez@solnaciente.example.com", "Diego Ramírez", Role.PARTNER_USER,
                       "Ejecutivo de Ventas", "America/Mexico_City"),
        ),
        manager="americas.manager@vendor.example.com",
    ),
    DemoOrganization(
        "Kestrel Data Labs Pte. Ltd.", "SG", PartnerType.TECHNOLOGY,
        "https://kestrel.example.com",
        "Data pipeline software with a certified connector to our platform.",
        (("technology-alliance", "Premier", date(2023, 11, 20)),),
        (
            DemoPerson("admin@kestrel.example.com", "Wei Ling Tan", Role.PARTNER_ADMIN,
                       "VP Partnerships", "Asia/Singapore"),
            DemoPerson("arjun.menon@kestrel.example.com", "Arjun Menon", Role.PARTNER_USER,
                       "Integration Engineer", "Asia/Singapore"),
        ),
        manager=None,  # unassigned: the vendor admin sees it, no channel manager does
    ),
)


@dataclass(frozen=True)
class DemoApplication:
    company_name: str
    website: str
    country: str
    partner_type: PartnerType
    program_slug: str
    contact_name: str
    contact_email: str
    message: str


APPLICATIONS = (
    DemoApplication(
        "Fjord Digital AS", "https://fjord-digital.example.com", "NO", PartnerType.RESELLER,
        "reseller", "Ingrid Halvorsen", "ingrid.halvorsen@fjord-digital.example.com",
        "We sell cloud infrastructure to Nordic retailers and would like to add your platform.",
    ),
    DemoApplication(
        "Lotus Bridge Advisory LLP", "https://lotusbridge.example.com", "IN", PartnerType.REFERRAL,
        "referral", "Priya Nair", "priya.nair@lotusbridge.example.com",
        "Our advisory clients ask about your product every month.",
    ),
)

#: A colleague invited by BrightPath's partner admin who has not accepted yet.
INVITATION = ("max.keller@brightpath.example.com", "Max Keller", Role.PARTNER_USER,
              "BrightPath Solutions GmbH", "admin@brightpath.example.com")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    role: Role
    organization: str | None


def demo_logins() -> list[DemoLogin]:
    """Every demo account, vendor staff first (for the README and the console)."""
    logins = [DemoLogin(p.email, p.name, p.role, None) for p in STAFF]
    for org in ORGANIZATIONS:
        logins += [DemoLogin(p.email, p.name, p.role, org.name) for p in org.people]
    return logins


@dataclass
class SeedResult:
    created: int = 0
    logins: list[DemoLogin] = field(default_factory=demo_logins)


class _Seeder:
    def __init__(self) -> None:
        self.result = SeedResult()
        # One scrypt hash for every demo account: they share the password anyway,
        # and hashing it twenty times would make `portal demo` slow for nothing.
        self._password_hash: str | None = None

    @property
    def password_hash(self) -> str:
        if self._password_hash is None:
            method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
            self._password_hash = generate_password_hash(DEMO_PASSWORD, method=method)
        return self._password_hash

    def created(self, event: str, subject: object, **kwargs: object) -> None:
        self.result.created += 1
        emit(event, subject, before=None, actor=None, summary=SUMMARY, **kwargs)  # type: ignore[arg-type]

    # -- look-ups ----------------------------------------------------------
    @staticmethod
    def program(slug: str) -> Program:
        return db.session.scalars(sa.select(Program).where(Program.slug == slug)).one()

    @staticmethod
    def user(email: str) -> User | None:
        return db.session.scalars(sa.select(User).where(User.email == email)).first()

    @staticmethod
    def organization(name: str) -> Organization | None:
        key = Organization.key_for(name)
        return db.session.scalars(sa.select(Organization).where(Organization.name_key == key)).first()

    # -- builders ----------------------------------------------------------
    def ensure_person(self, person: DemoPerson, organization: Organization | None) -> User:
        existing = self.user(person.email)
        if existing is not None:
            return existing
        user = User(
            email=person.email,
            name=person.name,
            role=person.role,
            organization=organization,
            job_title=person.job_title,
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            timezone=person.timezone,
        )
        user.password_hash = self.password_hash
        db.session.add(user)
        self.created("user.created", user)
        return user

    def ensure_program(self, spec: DemoProgram) -> None:
        if db.session.scalar(sa.select(Program.id).where(Program.slug == spec.slug)) is not None:
            return
        program = Program(name=spec.name, slug=spec.slug, description=spec.description)
        program.tiers = [
            Tier(name=t.name, rank=rank, description=t.description, requirements=dict(t.requirements))
            for rank, t in enumerate(spec.tiers, start=1)
        ]
        db.session.add(program)
        self.created("program.created", program)
        for tier in program.tiers:
            self.created("tier.created", tier)

    def ensure_organization(self, spec: DemoOrganization) -> None:
        organization = self.organization(spec.name)
        if organization is None:
            organization = Organization(
                country=spec.country,
                partner_type=spec.partner_type,
                website=spec.website,
                description=spec.description,
            )
            organization.set_name(spec.name)
            db.session.add(organization)
            self.created("organization.created", organization)
        for slug, tier_name, since in spec.memberships:
            self.ensure_membership(organization, self.program(slug), tier_name, since)
        for person in spec.people:
            self.ensure_person(person, organization)
        if spec.manager:
            manager = self.user(spec.manager)
            assert manager is not None, "staff are seeded before organizations"
            self.ensure_assignment(organization, manager)

    def ensure_membership(self, organization: Organization, program: Program, tier_name: str,
                          since: date) -> None:
        exists = db.session.scalar(
            sa.select(Membership.id).where(
                Membership.organization_id == organization.id, Membership.program_id == program.id
            )
        )
        if exists is not None:
            return
        tier = next(t for t in program.tiers if t.name == tier_name)
        membership = Membership(organization=organization, program=program, tier=tier, since=since)
        db.session.add(membership)
        self.created("membership.created", membership)

    def ensure_assignment(self, organization: Organization, manager: User) -> None:
        if db.session.get(ManagerAssignment, (organization.id, manager.id)) is not None:
            return
        db.session.add(ManagerAssignment(organization_id=organization.id, user_id=manager.id))
        self.created(
            "organization.manager_assigned",
            organization,
            after={"manager_id": manager.id, "manager": manager.email},
        )

    def ensure_application(self, spec: DemoApplication) -> None:
        exists = db.session.scalar(
            sa.select(PartnerApplication.id).where(PartnerApplication.contact_email == spec.contact_email)
        )
        if exists is not None:
            return  # pending, or already decided in the demo: either way, leave it
        application = PartnerApplication(
            company_name=spec.company_name,
            website=spec.website,
            country=spec.country,
            partner_type=spec.partner_type,
            program=self.program(spec.program_slug),
            contact_name=spec.contact_name,
            contact_email=spec.contact_email,
            message=spec.message,
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            status=ApplicationStatus.PENDING,
        )
        db.session.add(application)
        # The reviewers' in-app notifications come from this event.
        self.created("application.submitted", application)

    def ensure_invitation(self) -> None:
        email, name, role, org_name, inviter_email = INVITATION
        exists = db.session.scalar(sa.select(Invitation.id).where(Invitation.email == email))
        if exists is not None or self.user(email) is not None:
            return
        organization = self.organization(org_name)
        invitation = Invitation(
            email=email,
            name=name,
            role=role,
            organization=organization,
            invited_by=self.user(inviter_email),
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
            expires_at=utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"]),
        )
        db.session.add(invitation)
        self.created(
            "user.invited",
            invitation,
            after={"email": email, "role": role.value, "organization_id": organization.id if organization else None},
        )


def check_seedable() -> None:
    """Refuse a database that has accounts but not the demo's: it is someone's
    real portal, and the demo password is published."""
    has_users = db.session.scalar(sa.select(User.id).limit(1)) is not None
    if has_users and db.session.scalar(
        sa.select(User.id).where(User.email == VENDOR_ADMIN_EMAIL)
    ) is None:
        raise DemoRefused(
            "This database already holds accounts that are not demo data. `portal demo` only "
            "seeds an empty portal; point PORTAL_INSTANCE_PATH or PORTAL_DATABASE_URL elsewhere."
        )


def seed_plugins() -> list[str]:
    """Each loaded plugin's ``portal_demo_data``, after the core's demo data and in
    the same transaction. Each plugin runs inside a savepoint: one that raises (or
    whose records cannot be flushed) is reported as a plugin failure and its
    partial records are rolled back, while the core's and other plugins' stay.
    Returns the names of the plugins that failed."""
    from portal.plugins import host

    plugin_host = host()
    failed = []
    for name in list(plugin_host.loaded):
        known = len(plugin_host.failures)
        savepoint = db.session.begin_nested()
        plugin_host.call("portal_demo_data", only=[name])
        if len(plugin_host.failures) == known:
            try:
                db.session.flush()
            except Exception as error:  # noqa: BLE001 - a plugin's bad records must not stop the demo
                plugin_host._fail(name, "portal_demo_data", f"{type(error).__name__}: {error}")
        ok = len(plugin_host.failures) == known
        if not ok:
            failed.append(name)
        if db.session().get_nested_transaction() is not savepoint:
            continue  # the plugin ended it itself
        if ok:
            savepoint.commit()
        else:
            savepoint.rollback()
    return failed


def seed() -> SeedResult:
    """Create whatever demo data is missing, in one transaction, and commit.

    Needs an application context (and a request context for the notification links
    that events create: :func:`portal.cli` runs it inside one).
    """
    check_seedable()
    seeder = _Seeder()
    for person in STAFF:
        seeder.ensure_person(person, None)
    for program in PROGRAMS:
        seeder.ensure_program(program)
    for organization in ORGANIZATIONS:
        seeder.ensure_organization(organization)
    for application in APPLICATIONS:
        seeder.ensure_application(application)
    seeder.ensure_invitation()
    seed_resource_pages(seeder.created, seeder.user(VENDOR_ADMIN_EMAIL))
    seed_plugins()
    # Demo data is not news: drop any email an event handler may have queued.
    db.session.info.pop(mail.PENDING_KEY, None)
    db.session.commit()
    return seeder.result
