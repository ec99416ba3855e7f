"""Every field of the registration form is checked, with a message beside it, and
a refused form saves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import utcnow
from portal_deals.models import DealRegistration, DealRules
from conftest import form_data

YESTERDAY = (utcnow().date() - timedelta(days=1)).isoformat()


def count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(DealRegistration))


@pytest.mark.parametrize("field, value, message", [
    ("customer_name", "", "This field is required."),
    ("customer_name", "   ", "This field is required."),
    ("customer_name", "!!!", "Enter the customer's company name."),
    ("customer_name", "x" * 201, "Field cannot be longer than 200 characters."),
    ("customer_website", "not a website", "Enter a website address, like example.com."),
    ("customer_country", "XX", "Choose a country from the list."),
    ("customer_industry", "space-mining", "Not a valid choice."),
    ("contact_name", "", "This field is required."),
    ("contact_email", "bill@", "Enter a valid email address, like name@example.com."),
    ("contact_email", "", "This field is required."),
    ("contact_phone", "call me", "Enter a phone number, like +49 30 1234567."),
    ("contact_phone", "12", "Enter a phone number, like +49 30 1234567."),
    ("products", [], "Choose at least one product."),
    ("products", ["999999"], "Choose products from the catalogue."),
    ("products", ["abc"], "Choose products from the catalogue."),
    ("value", "", "Enter the estimated value, like 25000."),
    ("value", "lots", "Enter an amount in digits, like 25000 or 25000.50."),
    ("value", "NaN", "Enter an amount in digits, like 25000 or 25000.50."),
    ("value", "-100", "Enter an amount between 0.01 and 1,000,000,000."),
    ("value", "0", "Enter an amount between 0.01 and 1,000,000,000."),
    ("value", "1e15", "Enter an amount between 0.01 and 1,000,000,000."),
    ("currency", "XYZ", "Not a valid choice."),
    ("currency", "", "Not a valid choice."),
    ("expected_close", YESTERDAY, "The expected close date is in the past."),
    ("expected_close", "2999-01-01", "Choose a date within 5 years."),
    ("expected_close", "next week", "Enter a date, like 2027-03-31."),
    ("description", "x" * 5001, "Field cannot be longer than 5000 characters."),
])
def test_a_bad_field_is_refused_beside_it_and_nothing_is_saved(login_as, products, field, value, message):
    response = login_as("partner_user").post("/p/deals/new", data=form_data(products, **{field: value}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page, page[page.find('class="error"') - 200:][:600]
    assert "Please correct the marked fields." in page
    assert count() == 0


def test_a_retired_product_cannot_be_chosen(login_as, products):
    response = login_as("partner_user").post(
        "/p/deals/new", data=form_data(products, products=[str(products["OLD"].id)]))
    assert response.status_code == 400 and count() == 0


def test_a_program_requires_its_fields_and_asks_its_extra_ones(login_as, products, portal_world):
    db.session.add(DealRules(program_id=portal_world.reseller.id, protection_days=60, max_extensions=0,
                             extension_days=30, auto_approve_tier_ids=[],
                             required_fields=["customer_website", "description"],
                             extra_fields=[{"key": "competitor", "label": "Competing vendor", "required": True}]))
    db.session.commit()
    client = login_as("partner_user")
    page = client.get("/p/deals/new").get_data(as_text=True)
    assert "Competing vendor" in page
    response = client.post("/p/deals/new", data=form_data(products, customer_website="", description=""))
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and text.count("This program requires this field.") == 3
    response = client.post("/p/deals/new", data=form_data(products, extra_competitor="Globex"))
    assert response.status_code == 302
    registration = db.session.scalars(sa.select(DealRegistration)).one()
    assert registration.extra == {"competitor": "Globex"}
    assert "Globex" in client.get(f"/p/deals/{registration.id}").get_data(as_text=True)


def test_values_are_kept_as_entered_and_normalized(register):
    registration = register(customer_name="  Initech   GmbH ", value="25 000.555",
                            contact_email="Bill@Initech.Example.com", currency="USD")
    assert registration.customer_name == "Initech GmbH"
    assert str(registration.value) == "25000.56"
    assert registration.contact_email == "bill@initech.example.com"
    assert registration.customer_key == "initech"
    assert str(registration.value_reporting) == "23000.52"  # USD at 0.92 of the reporting EUR


def test_a_partner_in_several_programs_chooses_one(login_as, products, portal_world):
    from portal.models import Membership

    db.session.add(Membership(organization_id=portal_world.org_a.id, program_id=portal_world.referral.id,
                              tier_id=portal_world.referral.tiers[0].id))
    db.session.commit()
    client = login_as("partner_user")
    page = client.get("/p/deals/new").get_data(as_text=True)
    assert "In which program?" in page
    assert client.post("/p/deals/new", data=form_data(products)).status_code == 400
    data = form_data(products, program_id=str(portal_world.referral.id))
    assert client.post("/p/deals/new", data=data).status_code == 302
    assert db.session.scalars(sa.select(DealRegistration)).one().program_id == portal_world.referral.id


def test_a_program_the_organization_is_not_in_is_refused(login_as, products, portal_world):
    client = login_as("partner_user")  # A is only in the reseller program
    data = form_data(products, program_id=str(portal_world.referral.id))
    response = client.post("/p/deals/new", data=data)
    assert response.status_code == 302  # the only program it may use is taken instead
    assert db.session.scalars(sa.select(DealRegistration)).one().program_id == portal_world.reseller.id


def test_staff_cannot_register(login_as, products):
    for role in ("channel_manager", "vendor_admin"):
        assert login_as(role).post("/p/deals/new", data=form_data(products)).status_code == 403
    assert count() == 0
