"""Partners registering the same customer at the same moment, from separate
processes on one database (SQLite here, PostgreSQL with PORTAL_TEST_DATABASE_URL):
exactly one registration is protected, the others are flagged for review."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal_deals.models import DealClaim, DealRegistration, DealRules, DealStatus
from conftest import form_data

ROUNDS = 2
ROLES = ("partner_user", "other_partner_user", "partner_admin", "other_partner_admin")


def _partner(url: str, instance: str, email: str, data: dict[str, Any], barrier: Any, results: Any) -> None:
    """One partner in its own process: its own app, engine and connection."""
    from portal.testing import make_app
    from portal.testing.client import PortalClient
    from portal.models import User

    try:
        app = make_app(Path(instance), None if url.startswith("sqlite") else url,
                       PLUGINS=["deals"], DATABASE_URL=url)
        app.test_client_class = PortalClient
        with app.app_context():
            client = app.test_client()
            client.login(db.session.scalar(sa.select(User).where(User.email == email)))
            db.session.remove()
            barrier.wait(timeout=30)
            response = client.post("/p/deals/new", data=data)
            results.put((email, response.status_code))
            db.session.remove()
            db.engine.dispose()
    except Exception as error:  # noqa: BLE001 - reported to the parent
        results.put((email, repr(error)))


@pytest.fixture
def everyone_auto_approved(portal_world: Any) -> None:
    for program in portal_world.programs:
        db.session.add(DealRules(program_id=program.id, protection_days=90, max_extensions=1,
                                 extension_days=30, auto_approve_tier_ids=[t.id for t in program.tiers],
                                 required_fields=[], extra_fields=[]))
    db.session.commit()


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_exactly_one_of_simultaneous_registrations_is_protected(
        portal_app, portal_world, products, everyone_auto_approved, tmp_path, round_number):
    url = db.engine.url.render_as_string(hide_password=False)
    name = f"Initech Round {round_number} GmbH"
    data = form_data(products, customer_name=name, customer_website=f"initech{round_number}.example.com",
                     contact_email=f"buyer@initech{round_number}.example.com")
    emails = [portal_world.by_role(role).email for role in ROLES]
    db.session.commit()
    db.session.remove()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(ROLES))
    results = context.Queue()
    processes = []
    for index, email in enumerate(emails):
        process = context.Process(target=_partner, args=(
            url, str(tmp_path / f"p{index}"), email, data, barrier, results))
        process.start()
        processes.append(process)
    for process in processes:
        process.join(timeout=60)
    outcomes = [results.get(timeout=5) for _ in ROLES]
    assert all(code == 302 for _, code in outcomes), outcomes

    db.session.expire_all()
    registrations = db.session.scalars(sa.select(DealRegistration)).all()
    assert len(registrations) == len(ROLES)
    protected = [r for r in registrations if r.status is DealStatus.APPROVED]
    flagged = [r for r in registrations if r.status is DealStatus.SUBMITTED]
    assert len(protected) == 1, [(r.organization_id, r.status.value) for r in registrations]
    assert len(flagged) == len(ROLES) - 1
    assert all(r.conflict_score is not None and r.conflict_score >= 90 for r in flagged)
    holders = set(db.session.scalars(sa.select(DealClaim.registration_id)))
    assert holders == {protected[0].id}
