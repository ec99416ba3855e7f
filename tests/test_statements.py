"""Statements kept per shape and run on the session's connection (portal.statements)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from portal.extensions import db
from portal.models import Organization, OrganizationStatus
from portal.statements import Criteria, records, run, shaped
from tests import factories


def test_a_shape_is_built_once_and_kept():
    built = []

    def build():
        built.append(1)
        return sa.select(Organization.id)

    first = shaped(("test.kept", "a"), build)
    assert shaped(("test.kept", "a"), build) is first
    assert shaped(("test.kept", "b"), build) is not first
    assert len(built) == 2


def test_criteria_key_the_shape_and_bind_the_values():
    criteria = Criteria()
    criteria.where("status", lambda: Organization.status == sa.bindparam("status"), status="active")
    criteria.where("country", lambda: Organization.country == sa.bindparam("country"), country="DE")
    other = Criteria()
    other.where("status", lambda: Organization.status == sa.bindparam("status"), status="pending")
    other.where("country", lambda: Organization.country == sa.bindparam("country"), country="FR")
    assert criteria.shape == other.shape == ("status", "country")
    assert criteria.params == {"status": "active", "country": "DE"}
    assert other.params == {"status": "pending", "country": "FR"}


def test_a_kept_statement_never_runs_with_another_requests_values(app):
    stmt = sa.select(Organization.id).where(Organization.country == sa.bindparam("country"))
    with app.app_context():
        with pytest.raises(StatementError):
            run(stmt)  # the value is not carried over from any earlier run
        db.session.rollback()


def test_run_sees_the_sessions_pending_changes(app):
    stmt = sa.select(sa.func.count(Organization.id)).where(Organization.country == sa.bindparam("country"))
    with app.app_context():
        before = run(stmt, {"country": "IS"}).scalar()
        org = factories.organization("Reykjavik Resellers ehf", country="IS")
        assert run(stmt, {"country": "IS"}).scalar() == before + 1
        org.status = OrganizationStatus.SUSPENDED  # not flushed yet
        suspended = sa.select(Organization.status).where(Organization.id == sa.bindparam("id"))
        assert run(suspended, {"id": org.id}).scalar() is OrganizationStatus.SUSPENDED
        db.session.rollback()


def test_records_are_named_tuples_of_the_result_columns(app):
    stmt = sa.select(Organization.id, Organization.name.label("title"), Organization.country).where(
        Organization.country == sa.bindparam("country")).order_by(Organization.id)
    with app.app_context():
        first = factories.organization("Lisbon Licensing Lda", country="PT")
        second = factories.organization("Porto Partners SA", country="PT")
        found = records(run(stmt, {"country": "PT"}))
        assert [(r.id, r.title, r.country) for r in found] == [
            (first.id, "Lisbon Licensing Lda", "PT"), (second.id, "Porto Partners SA", "PT")]
        assert found[0] == (first.id, "Lisbon Licensing Lda", "PT")  # still a tuple
        assert found[0]._fields == ("id", "title", "country")
        again = records(run(stmt, {"country": "PT"}))
        assert type(again[0]) is type(found[0])  # one type per set of column names
        other = records(run(sa.select(Organization.id, Organization.name).where(
            Organization.id == first.id)))
        assert other[0]._fields == ("id", "name") and other[0].name == "Lisbon Licensing Lda"
        assert records(run(stmt, {"country": "XX"})) == []
        db.session.rollback()


def test_records_take_columns_that_share_a_name_and_refuse_a_label_no_field_can_have(app):
    from portal.models import Program

    shared = sa.select(Organization.name, Program.name).join(Program, sa.true()).where(
        Organization.id == sa.bindparam("org"), Program.id == sa.bindparam("program"))
    with app.app_context():
        org = factories.organization("Gdansk Gateways Sp. z o.o.", country="PL")
        program = factories.program("Gdansk Resellers")
        [row] = records(run(shared, {"org": org.id, "program": program.id}))
        assert (row.name, row.name_1) == ("Gdansk Gateways Sp. z o.o.", program.name)
        with pytest.raises(ValueError, match="_hidden"):
            records(run(sa.select(sa.literal(1).label("_hidden"))))
        db.session.rollback()
