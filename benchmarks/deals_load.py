"""Load benchmark of the deal registration pages: gunicorn + wrk, at two data sizes.

Builds a portal instance (demo data, the deals plugin, 2,000 organizations) with
10,000 registrations, serves it with gunicorn (sync workers, one per core) and
loads three pages with wrk (16 connections, from this machine):

* the partner's list (25 rows, filtered by status, sorted by value);
* the channel manager's review queue (25 rows, oldest first, in their reach);
* the partner's dashboard (pipeline chart, won value, tier metric);

a small core page for reference (the partner's notifications: the same layout,
login and plugin hooks, one short query: what every portal page costs at least),
and a bare Flask "hello" page under the same gunicorn settings, the floor. A second
instance holds 100,000 registrations; the two sizes are measured in turn, for
several rounds, and the medians reported, so that a shared, noisy machine weighs on
both alike. The measured partner
and manager see the same amount of their own data at both sizes (a partner with
200 registrations, a manager of 200 organizations), so any difference comes from
the total amount of data, which is the claim: the pages' cost does not grow with it.

    .venv/bin/pip install gunicorn   # benchmark only; apt-get install wrk
    .venv/bin/python benchmarks/deals_load.py [--small 10000] [--large 100000]
        [--duration 6] [--rounds 3] [--connections 16]
        [--database-url postgresql+psycopg://…/deals_bench]

Prints p50/p99 latency and requests per second per page, the ratio to the bare
page, and the p50 at the large size over the small one.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret-key-0123456789abcdef-deals"
ORGANIZATIONS = 2000
PARTNER_DEALS = 200  # the measured partner's own registrations, at every size
MANAGED = 200  # organizations the measured channel manager looks after
PARTNER_EMAIL = "buyer@bench-partner.example.com"
PASSWORD = "benchmark-password-2026"
#: The browser the sessions were signed in with, sent with every request: with
#: another one, Flask-Login's session protection marks each request's session as
#: not fresh and the cookie is signed again on every response, which no browser causes.
USER_AGENT = "portal-benchmark/1.0"
STATUS_MIX = (  # share of each state among the generated registrations
    ("draft", 3), ("submitted", 4), ("more_info", 1), ("approved", 20), ("won", 30),
    ("lost", 19), ("expired", 15), ("rejected", 5), ("withdrawn", 3),
)
PAGES = {
    "partner list": ("partner", "/p/deals/?status=won&sort=-value"),
    "manager queue": ("manager", "/p/deals/review?sort=age"),
    "partner dashboard": ("partner", "/"),
    # The portal's own floor: a small core page with the same layout, login and plugins.
    "core notifications": ("partner", "/notifications/"),
}


def environment(instance: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(PORTAL_INSTANCE_PATH=str(instance), PORTAL_PLUGINS="deals", PORTAL_SECRET_KEY=SECRET,
               PORTAL_ENV="production", PORTAL_RATELIMIT_LOGIN="10000 per minute",
               PORTAL_RATELIMIT_LOGIN_ACCOUNT="10000 per minute", PYTHONPATH=str(ROOT))
    if database_url:
        env["PORTAL_DATABASE_URL"] = database_url
    return env


def build(instance: Path, database_url: str | None) -> Any:
    """The portal with demo data, the deals plugin and the synthetic population."""
    os.environ.update(environment(instance, database_url))
    from portal import create_app, demo
    from portal.extensions import db
    from portal.plugin_migrations import upgrade_all

    if database_url:
        ensure_database(database_url)
    app = create_app()
    with app.app_context():
        if database_url:
            db.drop_all()
            with db.engine.begin() as connection:
                for table in sa.inspect(connection).get_table_names():
                    if table.startswith("alembic_version"):
                        connection.execute(sa.text(f'DROP TABLE "{table}"'))
        upgrade_all()
        with app.test_request_context():
            demo.seed()
        populate(app)
    return app


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database when it does not exist yet."""
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": parsed.database})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def populate(app: Any) -> None:
    from werkzeug.security import generate_password_hash

    from portal.extensions import db
    from portal.models import (ManagerAssignment, Membership, Organization, Program, Role, User,
                               utcnow)

    now = utcnow()
    reseller = db.session.scalar(sa.select(Program).where(Program.slug == "reseller"))
    existing = db.session.scalar(sa.select(sa.func.count(Organization.id))) or 0
    rows = [{"name": f"Bench Partner {i:05d}", "name_key": f"bench partner {i:05d}", "country": "DE",
             "partner_type": "reseller", "status": "active", "created_at": now, "updated_at": now}
            for i in range(ORGANIZATIONS - existing)]
    connection = db.session.connection()
    connection.execute(sa.insert(Organization.__table__), rows)
    bench = db.session.scalars(sa.select(Organization.id).where(Organization.name.like("Bench Partner %"))
                               .order_by(Organization.id)).all()
    manager = db.session.scalar(sa.select(User).where(User.email == "emea.manager@vendor.example.com"))
    connection.execute(sa.insert(Membership.__table__), [
        {"organization_id": org_id, "program_id": reseller.id, "tier_id": reseller.tiers[n % 3].id,
         "since": now.date()} for n, org_id in enumerate(bench)])
    connection.execute(sa.insert(ManagerAssignment.__table__), [
        {"organization_id": org_id, "user_id": manager.id, "created_at": now} for org_id in bench[:MANAGED]])
    connection.execute(sa.insert(User.__table__), [{
        "email": PARTNER_EMAIL, "name": "Bench Buyer", "role": Role.PARTNER_USER.value,
        "organization_id": bench[0], "password_hash": generate_password_hash(PASSWORD, "scrypt:1024:8:1"),
        "timezone": "UTC", "active": True, "session_token": "bench-token", "created_at": now}])
    manager.set_password(PASSWORD)
    db.session.commit()


@dataclass
class Population:
    organizations: list[int]
    products: list[int]
    reseller: int


def population() -> Population:
    from portal.extensions import db
    from portal.models import Organization, Program
    from portal_deals.models import DealProduct

    return Population(
        organizations=list(db.session.scalars(sa.select(Organization.id).where(
            Organization.name.like("Bench Partner %")).order_by(Organization.id))),
        products=list(db.session.scalars(sa.select(DealProduct.id).order_by(DealProduct.id))),
        reseller=db.session.scalar(sa.select(Program.id).where(Program.slug == "reseller")),
    )


def add_registrations(app: Any, count: int, seed: int) -> int:
    """Insert ``count`` registrations: :data:`PARTNER_DEALS` for the measured partner
    (only on the first call), the rest spread over the other organizations."""
    from portal.extensions import db
    from portal.models import utcnow
    from portal_deals.matching import company_key, company_stem
    from portal_deals.models import DealRegistration, registration_product

    rng = random.Random(seed)
    statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
    with app.app_context():
        people = population()
        now = utcnow()
        table = DealRegistration.__table__
        start = (db.session.scalar(sa.select(sa.func.max(DealRegistration.id))) or 0) + 1
        first_call = db.session.scalar(sa.select(sa.func.count()).select_from(table).where(
            table.c.organization_id == people.organizations[0])) == 0
        rows, links = [], []
        for n in range(count):
            ident = start + n
            own = first_call and n < PARTNER_DEALS
            organization = people.organizations[0] if own else rng.choice(people.organizations[1:])
            status = rng.choice(statuses)
            name = f"Customer {rng.randrange(40_000):05d} {rng.choice(('GmbH', 'Ltd', 'Inc.', 'S.A.'))}"
            key = company_key(name)
            age = timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
            created = now - age
            submitted = None if status == "draft" else created + timedelta(hours=1)
            protected = status in ("approved", "won", "lost", "expired")
            value = Decimal(rng.randrange(5_000, 500_000))
            rows.append({
                "id": ident, "organization_id": organization, "program_id": people.reseller,
                "status": status, "customer_name": name, "customer_key": key,
                "customer_stem": company_stem(key), "customer_website": None,
                "customer_domain": f"c{ident}.example.com", "domain_label": f"c{ident}",
                "customer_country": "DE", "customer_industry": "retail", "contact_name": "Ann Buyer",
                "contact_email": f"ann@c{ident}.example.com", "contact_phone": None,
                "value": value, "currency": "EUR", "value_reporting": value,
                "expected_close": (now + timedelta(days=rng.randrange(1, 300))).date(),
                "description": None, "extra": {}, "created_at": created,
                "updated_at": created + timedelta(hours=2), "submitted_at": submitted,
                "protected_at": submitted if protected else None,
                "expires_at": (now + timedelta(days=rng.randrange(1, 80)) if status == "approved"
                               else submitted + timedelta(days=90) if protected else None),
                "extensions_used": 0, "closed_at": (created + timedelta(days=rng.randrange(1, 90))
                                                    if status in ("won", "lost", "expired", "rejected",
                                                                  "withdrawn") else None),
                "final_value": value if status == "won" else None,
                "final_value_reporting": value if status == "won" else None,
                "conflict_score": 80 if status == "submitted" and rng.random() < 0.2 else None,
            })
            links.append({"registration_id": ident, "product_id": rng.choice(people.products)})
        connection = db.session.connection()
        for chunk in range(0, len(rows), 5000):
            connection.execute(sa.insert(table), rows[chunk:chunk + 5000])
            connection.execute(sa.insert(registration_product), links[chunk:chunk + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as analyze:
                analyze.execute(sa.text("ANALYZE"))
                analyze.commit()
        else:
            with db.engine.connect() as analyze:
                analyze.execute(sa.text("ANALYZE"))
        return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def session_cookies(app: Any) -> dict[str, str]:
    """A signed-in session cookie for the partner and for the channel manager."""
    from portal.testing.client import PortalClient

    app.test_client_class = PortalClient
    # Only to mint the cookies over plain http in-process; the value is the same.
    app.config.update(SERVER_NAME=None, SESSION_COOKIE_SECURE=False, WTF_CSRF_SSL_STRICT=False)
    cookies = {}
    for who, email in (("partner", PARTNER_EMAIL), ("manager", "emea.manager@vendor.example.com")):
        with app.app_context():
            client = app.test_client()
            client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
            response = client.post("/login", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302, (who, response.status_code)
            # One page, as a browser's first one after signing in: the session gains
            # its CSRF token, and later requests leave the cookie as it is.
            assert client.get("/").status_code == 200
            cookie = client.get_cookie("session")
            cookies[who] = f"session={cookie.value}"
    return cookies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn serving ``target`` with sync workers, one per core."""

    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.port = free_port()
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [gunicorn, "-w", str(os.cpu_count() or 1), "-k", "sync", "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", target],
            env=env, cwd=str(ROOT), start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {target} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: str = ""


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT[unit]


def wrk(url: str, cookie: str | None, duration: int, connections: int) -> Result:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency",
               "-H", f"User-Agent: {USER_AGENT}", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = "; ".join(re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", output))
    return Result(rps, p50, p99, errors)


def warm_up(url: str, cookie: str | None, times: int = 12) -> None:
    """A few requests one at a time: every worker compiles its templates and opens
    its connections before the load starts (the first request of a page is slow)."""
    import urllib.request

    for _ in range(times):
        headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def measure(env: dict[str, str], cookies: dict[str, str], duration: int, connections: int) -> dict[str, Result]:
    results = {}
    server = Gunicorn("portal:create_app()", env)
    try:
        for name, (who, path) in PAGES.items():
            warm_up(f"http://127.0.0.1:{server.port}{path}", cookies[who])
        for name, (who, path) in PAGES.items():
            url = f"http://127.0.0.1:{server.port}{path}"
            wrk(url, cookies[who], 2, connections)  # warm up under load
            results[name] = wrk(url, cookies[who], duration, connections)
    finally:
        server.stop()
    hello = Gunicorn("benchmarks.deals_load:hello_app()", env)
    try:
        url = f"http://127.0.0.1:{hello.port}/"
        warm_up(url, None)
        wrk(url, None, 2, connections)
        results["bare Flask hello"] = wrk(url, None, duration, connections)
    finally:
        hello.stop()
    return results


def hello_app() -> Any:
    """The floor: a bare Flask page under the same gunicorn settings."""
    from flask import Flask

    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "<!doctype html><title>Hello</title><p>Hello, world!</p>"

    return app


def report(size: int, results: dict[str, Result]) -> None:
    floor = results["bare Flask hello"].requests_per_second
    print(f"\n{size:,} registrations over {ORGANIZATIONS:,} organizations")
    print(f"{'page':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs hello':>9}")
    for name, result in results.items():
        ratio = result.requests_per_second / floor if floor else 0.0
        print(f"{name:20} {result.requests_per_second:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} "
              f"{ratio:9.2f}  {result.errors}")


def median_result(results: list[Result]) -> Result:
    return Result(statistics.median(r.requests_per_second for r in results),
                  statistics.median(r.p50_ms for r in results),
                  statistics.median(r.p99_ms for r in results),
                  "; ".join(r.errors for r in results if r.errors))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=6, help="seconds of load per page and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the sizes are measured in turn, round after round; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if args.database_url and "bench" not in (sa.make_url(args.database_url).database or ""):
        # The benchmark empties the database it is given.
        raise SystemExit("use a database of its own, with 'bench' in its name (it is emptied)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        # Two instances, one per size, measured alternately: a shared, noisy machine
        # then weighs on both sizes alike.
        setups = []
        for label, count, url in (("small", args.small, args.database_url),
                                  ("large", args.large, _second(args.database_url))):
            instance = Path(tmp) / label / "instance"
            started = time.time()
            app = build(instance, url)
            size = add_registrations(app, count, seed=1)
            print(f"built {size:,} registrations in {time.time() - started:.0f} s")
            setups.append((size, environment(instance, url), session_cookies(app)))
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()
        measured: dict[int, list[dict[str, Result]]] = {size: [] for size, _e, _c in setups}
        for number in range(args.rounds):
            for size, env, cookies in setups:
                measured[size].append(measure(env, cookies, args.duration, args.connections))
            print(f"round {number + 1} of {args.rounds} done "
                  f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        medians = {size: {name: median_result([r[name] for r in rounds]) for name in rounds[0]}
                   for size, rounds in measured.items()}
        for size, results in medians.items():
            report(size, results)
        small, large = (medians[size] for size, _e, _c in setups)
        print("\np50 at the large size over the small one (medians of the rounds):")
        for name in PAGES:
            ratio = large[name].p50_ms / small[name].p50_ms if small[name].p50_ms else float("nan")
            print(f"  {name:20} {ratio:5.2f}×")


def _second(url: str | None) -> str | None:
    """The large size's database next to the small one's (PostgreSQL)."""
    if not url:
        return None
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_large").render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
