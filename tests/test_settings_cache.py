"""The settings version: what each worker keeps between requests, and when it stops."""

from __future__ import annotations

import sqlalchemy as sa

from portal import settings_cache
from portal.extensions import db
from portal.models import Branding, ProgramPlugin, Role, SettingsVersion
from portal.plugins import plugins_on_for
from portal.testing.client import PortalClient
from tests import factories


def version() -> int:
    db.session.expire_all()
    return db.session.get(SettingsVersion, 1).value


def test_a_change_to_a_setting_moves_the_version_once_per_transaction(app):
    before = version()
    program = factories.program("Reseller")
    factories.organization("Acme", program=program)
    db.session.commit()
    assert version() == before + 1
    db.session.add(ProgramPlugin(program_id=program.id, plugin="hello"))
    db.session.commit()
    assert version() == before + 2


def test_other_tables_and_rolled_back_changes_move_nothing(app):
    program = factories.program("Reseller")
    org = factories.organization("Acme", program=program)
    db.session.commit()
    before = version()
    factories.user(Role.PARTNER_USER, org)
    db.session.commit()
    assert version() == before  # people are read fresh on every request
    db.session.add(ProgramPlugin(program_id=program.id, plugin="hello"))
    db.session.flush()
    db.session.rollback()
    assert version() == before


def test_core_statements_count_like_orm_changes(app):
    before = version()
    db.session.execute(sa.insert(Branding).values(id=1, portal_name="Acme Partners"))
    db.session.commit()
    assert version() == before + 1
    db.session.execute(sa.update(Branding).values(portal_name="Acme"))
    db.session.commit()
    assert version() == before + 2


def test_a_rolled_back_savepoint_counts_again_afterwards(app):
    before = version()
    savepoint = db.session.begin_nested()
    db.session.execute(sa.insert(Branding).values(id=1, portal_name="Gone"))
    savepoint.rollback()
    db.session.execute(sa.insert(Branding).values(id=1, portal_name="Kept"))
    db.session.commit()
    assert version() == before + 1


def test_kept_values_are_used_until_the_version_moves(app):
    program = factories.program("Reseller")
    org = factories.organization("Acme", program=program)
    db.session.commit()
    calls = []

    def compute() -> str:
        calls.append(1)
        return f"value {len(calls)}"

    with app.app_context(), app.test_request_context():  # a fresh g, like each request's
        assert settings_cache.cached("probe", org.id, compute) == "value 1"
    with app.app_context(), app.test_request_context():  # a fresh g, like each request's
        assert settings_cache.cached("probe", org.id, compute) == "value 1"
    db.session.add(ProgramPlugin(program_id=program.id, plugin="hello"))
    db.session.commit()
    with app.app_context(), app.test_request_context():  # a fresh g, like each request's
        assert settings_cache.cached("probe", org.id, compute) == "value 2"
    assert len(calls) == 2


def test_a_change_committed_elsewhere_is_seen_on_the_next_request(app):
    """Another worker's change reaches this one only through the database: here it is
    made on a connection of its own, outside any request of this worker."""
    program = factories.program("Reseller")
    org = factories.organization("Acme", program=program)
    partner = factories.user(Role.PARTNER_USER, org)
    db.session.commit()
    app.test_client_class = PortalClient
    client = app.test_client()
    client.login(partner)
    assert "Acme Partners" not in client.get("/").get_data(as_text=True)
    with app.app_context(), app.test_request_context():
        assert plugins_on_for(org.id) == frozenset()

    with db.engine.begin() as elsewhere:
        elsewhere.execute(sa.insert(Branding).values(id=1, portal_name="Acme Partners"))
        elsewhere.execute(sa.insert(ProgramPlugin).values(program_id=program.id, plugin="hello"))

    db.session.expire_all()
    assert "Acme Partners" in client.get("/").get_data(as_text=True)
    with app.app_context(), app.test_request_context():
        assert plugins_on_for(org.id) == frozenset({"hello"})


def test_the_bump_command_moves_the_version(app, runner):
    before = version()
    result = runner.invoke(args=["settings-cache", "bump"])
    assert result.exit_code == 0, result.output
    assert version() == before + 1


def test_what_a_request_reads_after_changing_a_setting_is_not_kept(app):
    """Its own transaction may roll back: a value read from it must not outlive it."""
    program = factories.program("Reseller")
    org = factories.organization("Acme", program=program)
    db.session.commit()
    with app.app_context(), app.test_request_context():
        db.session.add(ProgramPlugin(program_id=program.id, plugin="hello"))
        db.session.flush()
        assert plugins_on_for(org.id) == frozenset({"hello"})  # its own transaction sees it
        db.session.rollback()
        db.session.remove()
    # Another change commits: the version now has the value the rolled-back one had.
    db.session.add(Branding(id=1, portal_name="Acme Partners"))
    db.session.commit()
    with app.app_context(), app.test_request_context():
        assert plugins_on_for(org.id) == frozenset()
