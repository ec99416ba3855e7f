"""The plugin as the portal sees it: discovery, hooks, conventions, migrations."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import url_for

from portal.extensions import db
from portal.models import Role
from portal.plugin_migrations import applied_heads, downgrade_plugin, upgrade_all
from portal.plugins import discover, host


def test_it_is_a_built_in_plugin_found_through_its_entry_point():
    installed = discover()["deals"]
    assert installed.target == "portal_deals"
    assert installed.distribution == "partner-portal"


def test_it_loads_without_failures(portal_app):
    assert "deals" in host().loaded
    assert [f for f in host().failures if f.plugin == "deals"] == []
    assert str(host().info["deals"]["label"]) == "Deal registration"


def test_urls_live_under_its_prefix(portal_app):
    with portal_app.test_request_context():
        assert url_for("deals.index") == "/p/deals/"
        assert url_for("deals.static", filename="deals.css") == "/p/deals/static/deals.css"


def test_permissions_are_prefixed_and_granted(portal_app):
    policy = portal_app.extensions["portal.policy"]
    names = [p for p in policy.permissions() if p.startswith("deals.")]
    assert names == ["deals.colleague_attachments", "deals.comment", "deals.configure", "deals.export",
                     "deals.register", "deals.review", "deals.staff_note", "deals.staff_note_moderate",
                     "deals.view"]
    assert policy.roles_for("deals.staff_note") == {Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN}
    assert policy.roles_for("deals.staff_note_moderate") == {Role.VENDOR_ADMIN}
    assert policy.roles_for("deals.colleague_attachments") == {Role.PARTNER_ADMIN}
    assert policy.roles_for("deals.review") == {Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN}
    assert policy.roles_for("deals.register") == {Role.PARTNER_USER, Role.PARTNER_ADMIN}


def test_every_route_declares_its_permission(portal_app):
    for rule in portal_app.url_map.iter_rules():
        if rule.endpoint.startswith("deals.") and rule.endpoint != "deals.static":
            view = portal_app.view_functions[rule.endpoint]
            assert getattr(view, "required_permission", "").startswith("deals."), rule.endpoint


def test_tables_carry_the_prefix():
    from portal_deals import models

    tables = {t.name for t in db.metadata.tables.values() if t.name.startswith("deals_")}
    assert tables == {"deals_product", "deals_rules", "deals_registration", "deals_registration_product",
                      "deals_claim", "deals_history", "deals_comment", "deals_attachment",
                      "deals_staff_note"}
    assert models.DealRegistration.__tablename__ == "deals_registration"


def test_the_migration_creates_exactly_the_models_tables_and_downgrades(portal_empty_app):
    outcomes = upgrade_all()
    assert [o.error for o in outcomes] == [None, None]
    assert applied_heads("deals") == ("deals_0003",)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert [d for d in differences if "deals_" in repr(d)] == []
    assert [f for f in host().failures if f.plugin == "deals"] == []
    downgrade_plugin("deals", "base")
    names = set(sa.inspect(db.engine).get_table_names())
    assert not {n for n in names if n.startswith("deals_")}
    assert "organization" in names  # the core is untouched


def test_the_staff_notes_revision_follows_the_first_and_steps_back_alone(portal_empty_app):
    """deals_0002 chains on deals_0001 in the plugin's own branch: a database at
    deals_0001 (a deployment before staff notes) upgrades, and stepping down to
    deals_0001 removes only the staff notes' table."""
    from portal.plugin_migrations import BranchScripts, branch, upgrade_plugin

    scripts = BranchScripts(branch("deals").folder)
    assert scripts.get_revision("deals_0002").down_revision == "deals_0001"
    upgrade_all()
    downgrade_plugin("deals", "deals_0001")
    assert applied_heads("deals") == ("deals_0001",)
    names = set(sa.inspect(db.engine).get_table_names())
    assert "deals_staff_note" not in names and "deals_attachment" in names
    upgrade_plugin("deals")
    assert applied_heads("deals") == ("deals_0003",)
    assert "deals_staff_note" in set(sa.inspect(db.engine).get_table_names())


def staff_note_columns():
    return {c["name"] for c in sa.inspect(db.engine).get_columns("deals_staff_note")}


def test_the_edited_at_revision_follows_the_staff_notes_and_keeps_the_notes(portal_empty_app):
    """deals_0003 adds ``deals_staff_note.edited_at``: notes written before it are
    kept (not edited), and one step down removes only the column."""
    from portal.plugin_migrations import BranchScripts, branch, upgrade_plugin

    scripts = BranchScripts(branch("deals").folder)
    assert scripts.get_revision("deals_0003").down_revision == "deals_0002"
    assert scripts.get_heads() == ["deals_0003"]
    upgrade_all()
    downgrade_plugin("deals", "deals_0002")
    assert applied_heads("deals") == ("deals_0002",)
    assert "edited_at" not in staff_note_columns()
    registration_id = _a_registration()
    with db.engine.begin() as connection:  # a note written before the upgrade
        connection.execute(sa.text(
            "INSERT INTO deals_staff_note (registration_id, author_id, body, created_at) "
            "VALUES (:registration, NULL, 'Written at deals_0002', CURRENT_TIMESTAMP)"),
            {"registration": registration_id})
    upgrade_plugin("deals")
    assert applied_heads("deals") == ("deals_0003",)
    assert "edited_at" in staff_note_columns()
    from portal_deals.models import DealStaffNote

    [note] = db.session.scalars(sa.select(DealStaffNote)).all()
    assert (note.registration_id, note.body, note.edited_at) == (registration_id, "Written at deals_0002", None)
    # The session's read holds a lock on the table until its transaction ends, and
    # PostgreSQL's ALTER TABLE of the downgrade would wait for it forever.
    db.session.rollback()
    downgrade_plugin("deals", "deals_0002")
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT body FROM deals_staff_note")) == "Written at deals_0002"


def _a_registration() -> int:
    """A registration row (its table is the same at deals_0002 and deals_0003)."""
    from datetime import date

    from portal.testing import factories
    from portal_deals.models import DealRegistration

    program = factories.program("Reseller")
    organization = factories.organization(program=program)
    registration = DealRegistration(
        organization_id=organization.id, program_id=program.id, customer_name="Initech",
        customer_key="initech", customer_stem="init", customer_country="DE", contact_name="Bill",
        contact_email="bill@initech.example.com", value=1000, currency="EUR",
        expected_close=date(2030, 1, 1), extra={})
    db.session.add(registration)
    db.session.commit()
    return registration.id
