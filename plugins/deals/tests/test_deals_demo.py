"""``portal demo`` runs with the built-in plugins when the deployment names none,
and the deals plugin's demo data shows every state, a conflict and a won deal."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import ProgramPlugin, User
from portal.plugins import builtin_names
from portal.testing import make_app
from portal.testing.client import PortalClient


@pytest.fixture
def portal_plugins() -> list[str]:
    return []  # like a fresh deployment: PLUGINS names nothing


def counts() -> dict[str, int]:
    db.session.rollback()
    tables = [t for t in db.metadata.sorted_tables if t.name.startswith("deals_")]
    with db.engine.connect() as connection:
        return {t.name: connection.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables}


def test_the_built_in_plugins_are_the_portals_own_entry_points():
    assert "deals" in builtin_names() and "hello" not in builtin_names()


def test_the_demo_enables_deals_and_seeds_it_once(portal_empty_app, tmp_path: Path):
    from portal_deals.models import DealRegistration, DealStatus

    runner = portal_empty_app.test_cli_runner()
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "failed" not in first.output
    seeded = counts()
    assert seeded["deals_registration"] == 10 and seeded["deals_product"] == 5
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert counts() == seeded
    switched = db.session.scalars(sa.select(ProgramPlugin.program_id).where(ProgramPlugin.plugin == "deals")).all()
    assert len(switched) == 2
    statuses = set(db.session.scalars(sa.select(DealRegistration.status)))
    assert statuses == {DealStatus.DRAFT, DealStatus.SUBMITTED, DealStatus.MORE_INFO, DealStatus.APPROVED,
                        DealStatus.WON, DealStatus.LOST, DealStatus.EXPIRED}
    conflict = db.session.scalar(sa.select(DealRegistration).where(
        DealRegistration.customer_name == "Nordwind Logistik"))
    assert conflict.conflict_score is not None and conflict.conflict_score >= 90

    # The demo's pages, served by an app with the plugin loaded, on the same database.
    url = db.engine.url.render_as_string(hide_password=False)
    served = make_app(tmp_path / "served", None if url.startswith("sqlite") else url,
                      PLUGINS=["deals"], DATABASE_URL=url)
    served.test_client_class = PortalClient
    with served.app_context():
        from portal.demo import DEMO_PASSWORD

        client = served.test_client()
        manager = db.session.scalar(sa.select(User).where(User.email == "emea.manager@vendor.example.com"))
        client.login(manager, password=DEMO_PASSWORD)
        queue = client.get("/p/deals/review").get_data(as_text=True)
        assert "Nordwind Logistik" in queue and "Thames Valley District Council" in queue
        page = client.get(f"/p/deals/{conflict.id}").get_data(as_text=True)
        assert "Both websites belong to nordwind-logistik.example.com" in page
        db.session.remove()
        db.engine.dispose()
