"""The deals plugin's tests run on the portal's pytest plugin, like any third-party
plugin's: ``portal_app`` loads ``deals`` through its entry point, creates the
tables, builds ``portal_world`` (organization A in the reseller program, B in the
referral program) and switches the plugin on for both programs.

This file adds a product catalogue and helpers that register deals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import utcnow


@pytest.fixture
def portal_plugins() -> list[str]:
    return ["deals"]


@pytest.fixture
def products(portal_app: Any) -> dict[str, Any]:
    from portal_deals.models import DealProduct

    items = {sku: DealProduct(sku=sku, name=name, active=True) for sku, name in (
        ("FW-100", "Firewall 100"), ("FW-500", "Firewall 500"), ("EDR", "Endpoint Protection"),
        ("OLD", "Retired Product"))}
    items["OLD"].active = False
    db.session.add_all(items.values())
    db.session.commit()
    return items


def form_data(catalogue: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid registration form, as a browser sends it."""
    data: dict[str, Any] = {
        "customer_name": "Initech GmbH",
        "customer_website": "https://www.initech.example.com",
        "customer_country": "DE",
        "customer_industry": "manufacturing",
        "contact_name": "Bill Lumbergh",
        "contact_email": "bill@initech.example.com",
        "contact_phone": "+49 30 1234567",
        "products": [str(catalogue["FW-100"].id)],
        "value": "25000",
        "currency": "EUR",
        "expected_close": (utcnow().date() + timedelta(days=60)).isoformat(),
        "description": "Firewalls for two sites.",
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def register(login_as: Any, products: dict[str, Any]) -> Any:
    """``register(role, **fields)``: post the form; returns the new registration."""
    from portal_deals.models import DealRegistration

    def run(role: str = "partner_user", expect: int = 302, **overrides: Any) -> Any:
        client = login_as(role)
        response = client.post("/p/deals/new", data=form_data(products, **overrides))
        assert response.status_code == expect, response.get_data(as_text=True)[:3000]
        db.session.expire_all()
        return db.session.scalars(sa.select(DealRegistration).order_by(DealRegistration.id.desc())).first()

    return run


@pytest.fixture
def auto_approve(portal_world: Any) -> Any:
    """Rules for the reseller program approving organization A's tier at once."""
    from portal_deals.models import DealRules

    rules = DealRules(program_id=portal_world.reseller.id, protection_days=90, max_extensions=2,
                      extension_days=30, auto_approve_tier_ids=[portal_world.org_a.memberships[0].tier_id],
                      required_fields=[], extra_fields=[])
    db.session.add(rules)
    db.session.commit()
    return rules


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.fixture
def other_manager(portal_app: Any, portal_world: Any) -> Any:
    """A signed-in client of a channel manager who manages organization B only."""
    from portal.models import Role
    from portal.testing import factories

    manager = factories.user(Role.CHANNEL_MANAGER, email="b.manager@vendor.example")
    factories.assign_manager(manager, portal_world.org_b)
    db.session.commit()
    client = portal_app.test_client()
    client.login(manager)
    return client
