"""Server-side page timings for every core screen, per role, at two data sizes.

Runs the portal in-process (Flask test client, no network) on a temporary SQLite
instance with the demo data, times each page, then adds a large synthetic
population (organizations, users, invitations, audit entries) and times again:
the figures should barely move, because every list is paginated in the database
and every dashboard figure is one aggregate query.

A bare Flask page in the same process is timed as the floor, so the ratio is
comparable across noisy machines.

    python benchmarks/page_timings.py [--organizations 2000] [--requests 40]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from portal import create_app
from portal.demo import DEMO_PASSWORD, seed
from portal.extensions import db
from portal.models import (
    AuditEntry,
    Invitation,
    ManagerAssignment,
    Membership,
    Organization,
    OrganizationStatus,
    PartnerType,
    Program,
    Role,
    User,
    utcnow,
)

PAGES = {
    "vendor_admin": [
        "/",
        "/admin/organizations",
        "/admin/organizations?q=a&sort=-created",
        "/admin/users",
        "/admin/programs",
        "/admin/applications",
        "/admin/audit",
        "/organization/",
    ],
    "channel_manager": ["/", "/admin/organizations", "/admin/users", "/admin/audit"],
    "partner_admin": ["/", "/organization/", "/organization/team", "/account/", "/notifications/"],
}
LOGINS = {
    "vendor_admin": "admin@vendor.example.com",
}


def build_app(instance: Path) -> Flask:
    app = create_app(
        {"PORTAL_ENV": "development", "SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
         "RATELIMIT_LOGIN": "10000 per minute", "RATELIMIT_LOGIN_ACCOUNT": "10000 per minute"},
        instance_path=str(instance),
    )
    with app.app_context(), app.test_request_context():
        db.create_all()
        seed()
    return app


def pick_logins(app: Flask) -> dict[str, str]:
    with app.app_context():
        manager = db.session.scalar(sa.select(User.email).where(User.role == Role.CHANNEL_MANAGER).order_by(User.id))
        partner = db.session.scalar(sa.select(User.email).where(User.role == Role.PARTNER_ADMIN).order_by(User.id))
    return {**LOGINS, "channel_manager": manager, "partner_admin": partner}


def add_population(app: Flask, organizations: int) -> dict[str, int]:
    """Bulk-insert a large portal: orgs with memberships, 5 users each, audit entries."""
    with app.app_context():
        program_ids = db.session.scalars(sa.select(Program.id)).all()
        programs = {p.id: p for p in db.session.scalars(sa.select(Program))}
        manager_ids = db.session.scalars(sa.select(User.id).where(User.role == Role.CHANNEL_MANAGER)).all()
        password_hash = db.session.scalar(sa.select(User.password_hash).limit(1))
        now = utcnow()
        conn = db.session.connection()
        org_rows = [
            {"name": f"Synthetic Partner {i:05d}", "name_key": f"synthetic partner {i:05d}",
             "country": ("DE", "FR", "US", "JP", "BR", "EG")[i % 6],
             "partner_type": list(PartnerType)[i % 4].value,
             "status": (OrganizationStatus.SUSPENDED if i % 17 == 0 else OrganizationStatus.ACTIVE).value,
             "created_at": now - timedelta(minutes=i),
             "updated_at": now}
            for i in range(organizations)
        ]
        conn.execute(sa.insert(Organization.__table__), org_rows)
        org_ids = db.session.scalars(
            sa.select(Organization.id).where(Organization.name.like("Synthetic Partner %")).order_by(Organization.id)
        ).all()
        memberships, users, audits, assignments, invitations = [], [], [], [], []
        for n, org_id in enumerate(org_ids):
            program = programs[program_ids[n % len(program_ids)]]
            memberships.append({"organization_id": org_id, "program_id": program.id,
                                "tier_id": program.tiers[n % len(program.tiers)].id, "since": now.date()})
            if manager_ids:
                assignments.append({"organization_id": org_id, "user_id": manager_ids[n % len(manager_ids)],
                                    "created_at": now})
            for u in range(5):
                users.append({"email": f"user{u}@synthetic{org_id}.example.com", "name": f"Person {u} of {org_id}",
                              "password_hash": password_hash,
                              "role": (Role.PARTNER_ADMIN if u == 0 else Role.PARTNER_USER).value,
                              "organization_id": org_id, "timezone": "UTC", "active": True,
                              "session_token": f"tok{org_id}x{u}", "created_at": now})
            invitations.append({"email": f"invitee@synthetic{org_id}.example.com", "role": Role.PARTNER_USER.value,
                                "organization_id": org_id, "created_at": now,
                                "expires_at": now + timedelta(days=7)})
            for a in range(10):
                audits.append({"occurred_at": now - timedelta(seconds=n * 10 + a),
                               "event": ("organization.updated", "user.invited", "user.logged_in")[a % 3],
                               "subject_type": "organization", "subject_id": org_id, "organization_id": org_id,
                               "before": {"name": "old"}, "after": {"name": "new"}})
        conn.execute(sa.insert(Membership.__table__), memberships)
        conn.execute(sa.insert(ManagerAssignment.__table__), assignments)
        conn.execute(sa.insert(User.__table__), users)
        conn.execute(sa.insert(Invitation.__table__), invitations)
        conn.execute(sa.insert(AuditEntry.__table__), audits)
        db.session.commit()
        return {
            "organizations": db.session.scalar(sa.select(sa.func.count(Organization.id))),
            "users": db.session.scalar(sa.select(sa.func.count(User.id))),
            "audit entries": db.session.scalar(sa.select(sa.func.count(AuditEntry.id))),
        }


def time_pages(app: Flask, logins: dict[str, str], requests: int) -> dict[tuple[str, str], tuple[float, float]]:
    results = {}
    for role, pages in PAGES.items():
        client = app.test_client()
        response = client.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True)).group(1)
        response = client.post("/login", data={"email": logins[role], "password": DEMO_PASSWORD, "csrf_token": token})
        assert response.status_code == 302, (role, response.status_code)
        for path in pages:
            for _ in range(3):  # warm caches and compiled templates
                assert client.get(path).status_code in (200, 302), path
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                response = client.get(path)
                samples.append((time.perf_counter() - start) * 1000)
                assert response.status_code in (200, 302), (path, response.status_code)
            samples.sort()
            results[(role, path)] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1])
    return results


def bare_flask_floor(requests: int) -> float:
    bare = Flask("bare")

    @bare.get("/")
    def hello() -> str:
        return "<!doctype html><title>x</title><p>hello</p>"

    client = bare.test_client()
    samples = []
    for _ in range(requests * 5):
        start = time.perf_counter()
        client.get("/")
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organizations", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp) / "instance")
        logins = pick_logins(app)
        floor = bare_flask_floor(args.requests)
        small = time_pages(app, logins, args.requests)
        sizes = add_population(app, args.organizations)
        large = time_pages(app, logins, args.requests)
    print(f"bare Flask page, median: {floor:.2f} ms")
    print(f"large data set: {sizes}")
    print(f"{'role':16} {'page':42} {'demo p50':>9} {'demo p95':>9} {'large p50':>10} {'large p95':>10}")
    for key in small:
        role, path = key
        print(f"{role:16} {path:42} {small[key][0]:9.1f} {small[key][1]:9.1f} {large[key][0]:10.1f} {large[key][1]:10.1f}")


if __name__ == "__main__":
    main()
