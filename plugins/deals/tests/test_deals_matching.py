"""Conflict detection's pure half: names, domains, similarity and scores."""

from __future__ import annotations

import pytest

from portal_deals.matching import (CONFLICT_THRESHOLD, Customer, company_key, compare,
                                   customer_domain, email_domain, host_of, name_similarity,
                                   registrable_domain)


@pytest.mark.parametrize("name, key", [
    ("ACME Networks, Inc.", "acme networks"),
    ("Acme Networks Incorporated", "acme networks"),
    ("acme   networks ltd", "acme networks"),
    ("Société Générale S.A.", "societe generale"),
    ("Sol Naciente Tecnología S.A. de C.V.", "sol naciente tecnologia"),
    ("Kestrel Data Labs Pte. Ltd.", "kestrel data labs"),
    ("BrightPath Solutions GmbH", "brightpath solutions"),
    ("Müller & Söhne GmbH & Co. KG", "muller and sohne"),
    ("The Acme Co.", "acme"),
    ("Acme & Co", "acme"),
    ("Johnson & Johnson", "johnson and johnson"),
    ("Nordic Øl A/S", "nordic ol"),
    ("Ørsted A/S", "orsted"),
    ("O’Brien Ltd", "obrien"),
    ("Ltd", "ltd"),  # a name that is only a legal form stays a name
    ("株式会社トヨタ", "トヨタ"),
    ("トヨタ株式会社", "トヨタ"),
])
def test_company_names_are_normalized(name, key):
    assert company_key(name) == key


def test_case_accents_punctuation_and_legal_forms_do_not_count():
    variants = ["Café Zürich AG", "CAFE ZURICH", "Café-Zürich A.G.", "cafe zurich ag."]
    assert len({company_key(v).replace(" ", "") for v in variants}) == 1


@pytest.mark.parametrize("url, domain", [
    ("https://www.acme.com/about", "acme.com"),
    ("acme.com", "acme.com"),
    ("http://emea.sales.acme.com", "acme.com"),
    ("https://shop.acme.co.uk", "acme.co.uk"),
    ("ACME.COM.BR", "acme.com.br"),
    ("https://bücher.example", "xn--bcher-kva.example"),
    ("", None),
])
def test_websites_compare_by_registrable_domain(url, domain):
    assert registrable_domain(host_of(url)) == domain


def test_the_contact_email_gives_a_domain_unless_it_is_free_mail():
    assert email_domain("ann@eu.acme.com") == "acme.com"
    assert email_domain("ann.acme@gmail.com") is None
    assert customer_domain(None, "ann@acme.com") == "acme.com"
    assert customer_domain("https://acme.de", "ann@acme.com") == "acme.de"


def test_similar_names_score_high_and_different_ones_low():
    assert name_similarity("acme networks", "acme network") > 0.9
    assert name_similarity("brightpath solutions", "bright path solutions") == 1.0
    assert name_similarity("acme", "acme networks") >= 0.8
    assert name_similarity("acme networks", "globex systems") < 0.5


def customer(name, website=None, email=None, country="DE", products=(1,)):
    return Customer.of(name, website, email, country, products)


def test_the_same_domain_through_a_subdomain_is_a_conflict_and_says_so():
    match = compare(customer("Acme Networks GmbH", "https://acme.com"),
                    customer("ACME Networks Inc.", "https://emea.acme.com"), {1: "Firewall"})
    codes = [r.code for r in match.reasons]
    assert codes == ["subdomain", "same_name", "shared_products"]
    assert match.score == 100 and match.is_conflict
    assert match.reasons[2].params == {"products": ["Firewall"]}


def test_the_same_name_with_other_products_is_weaker_but_still_a_conflict():
    match = compare(customer("Acme GmbH", products=(1,)), customer("ACME", products=(2,)))
    assert [r.code for r in match.reasons] == ["same_name", "other_products"]
    assert CONFLICT_THRESHOLD <= match.score < 90


def test_the_same_domain_name_under_another_ending_counts():
    match = compare(customer("Acme", "acme.de"), customer("Acme Deutschland", "acme.com"))
    assert "domain_label" in [r.code for r in match.reasons]
    assert match.is_conflict


def test_another_country_lowers_the_score():
    here = compare(customer("Acme Networks"), customer("Acme Network"))
    abroad = compare(customer("Acme Networks"), customer("Acme Network", country="US"))
    assert abroad.score == here.score - 10
    assert "other_country" in [r.code for r in abroad.reasons]


def test_unrelated_customers_do_not_match():
    match = compare(customer("Acme Networks", "acme.com"), customer("Globex Systems", "globex.com"))
    assert match.score == 0 and match.reasons == [] and not match.is_conflict
