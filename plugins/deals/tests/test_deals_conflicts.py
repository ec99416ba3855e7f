"""Conflicts in the portal: flagged for review, explained side by side to staff,
and a pre-check that tells a partner only "appears to be protected"."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal_deals.models import DealRegistration, DealStatus


def test_another_partners_registration_of_the_same_customer_is_flagged(register, auto_approve, login_as):
    first = register()  # A, approved at once
    assert first.status is DealStatus.APPROVED
    second = register(role="other_partner_user", customer_name="INITECH Gesellschaft mbH",
                      customer_website="https://shop.initech.example.com",
                      contact_email="peter@initech.example.com")
    assert second.status is DealStatus.SUBMITTED
    assert second.conflict_score is not None and second.conflict_score >= 90


def test_the_reviewer_sees_each_match_side_by_side_with_its_reasons(register, auto_approve, login_as,
                                                                      portal_world):
    register()
    second = register(role="other_partner_user", customer_name="Initech",
                      customer_website="https://shop.initech.example.com", value="9000")
    page = login_as("vendor_admin").get(f"/p/deals/{second.id}").get_data(as_text=True)
    assert "1 possible conflict" in page
    assert "Both websites belong to initech.example.com: shop.initech.example.com and initech.example.com" in page
    assert "Same company name once legal form, case, accents and punctuation are set aside: “initech”" in page
    assert "Both include: Firewall 100" in page
    assert portal_world.org_a.name in page and portal_world.org_b.name in page


def test_own_duplicates_are_conflicts_too(register, login_as):
    register()
    second = register(customer_name="Initech G.m.b.H.")
    assert second.conflict_score is not None
    page = login_as("channel_manager").get(f"/p/deals/{second.id}").get_data(as_text=True)
    assert "same partner" in page


def test_a_different_customer_is_no_conflict(register, login_as):
    register()
    other = register(customer_name="Globochem AG", customer_website="globochem.example.com",
                     contact_email="ann@globochem.example.com")
    assert other.conflict_score is None
    page = login_as("channel_manager").get(f"/p/deals/{other.id}").get_data(as_text=True)
    assert "No conflict found with any other active registration." in page


def test_only_one_registration_protects_a_customer_and_product(register, login_as):
    first = register()
    second = register(role="other_partner_user")
    admin = login_as("vendor_admin")
    assert admin.post(f"/p/deals/{first.id}/approve", data={}).status_code == 302
    response = admin.post(f"/p/deals/{second.id}/approve", data={})
    assert response.status_code == 409
    assert "Another registration already protects this customer" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DealRegistration, second.id).status is DealStatus.SUBMITTED


def test_the_same_customer_for_other_products_can_be_protected_twice(register, login_as, products):
    first = register()
    second = register(role="other_partner_user", products=[str(products["EDR"].id)])
    admin = login_as("vendor_admin")
    assert admin.post(f"/p/deals/{first.id}/approve", data={}).status_code == 302
    assert admin.post(f"/p/deals/{second.id}/approve", data={}).status_code == 302


def test_a_closed_registration_frees_the_customer(register, login_as, auto_approve):
    first = register()
    login_as("partner_user").post(f"/p/deals/{first.id}/lost", data={"reason": "price"})
    again = register(role="other_partner_user")
    assert again.conflict_score is None
    assert login_as("vendor_admin").post(f"/p/deals/{again.id}/approve", data={}).status_code == 302


def precheck(client, products, **fields):
    from conftest import form_data

    return client.post("/p/deals/precheck", data=form_data(products, **fields), htmx=True)


def test_the_precheck_says_protected_without_revealing_anything(register, auto_approve, login_as, products,
                                                                portal_world):
    register(value="777777", description="Secret plan for Initech")
    response = precheck(login_as("other_partner_user"), products, customer_name="Initech AG")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "This customer appears to be protected already by another registration." in text
    for secret in (portal_world.org_a.name, "777", "Secret plan", "Firewall", "Lumbergh", "/p/deals/"):
        assert secret not in text


def test_the_precheck_of_a_free_customer(register, login_as, products):
    register()  # submitted, not protected: nothing is said about it
    text = precheck(login_as("other_partner_user"), products).get_data(as_text=True)
    assert "No protected registration matches this customer." in text
    assert "Initech GmbH" not in text.replace("Initech GmbH</", "")


def test_the_precheck_lists_the_partners_own_registrations(register, login_as, products):
    first = register()
    text = precheck(login_as("partner_admin"), products).get_data(as_text=True)
    assert "Your organization has registered this customer already:" in text
    assert f"/p/deals/{first.id}" in text


def test_the_precheck_works_without_javascript(register, auto_approve, login_as, products):
    from conftest import form_data

    register()
    response = login_as("other_partner_user").post(
        "/p/deals/new", data=form_data(products, action="precheck"))
    assert response.status_code == 200
    assert "appears to be protected already" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DealRegistration)) == 1


def test_the_precheck_is_throttled(login_as, products, portal_app):
    portal_app.config["DEALS_RATELIMIT_PRECHECK"] = "2 per hour"
    client = login_as("partner_user")
    assert [precheck(client, products).status_code for _ in range(3)] == [200, 200, 429]
