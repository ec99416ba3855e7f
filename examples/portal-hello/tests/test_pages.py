"""The greetings page: who may read and post, switched-off programs, isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry
from portal.testing import switch_off, switch_on
from portal_hello.models import MESSAGE_MAX, HelloGreeting


def greeting(organization, message, author=None):
    item = HelloGreeting(organization_id=organization.id, message=message,
                         author_id=author.id if author else None)
    db.session.add(item)
    db.session.commit()
    return item


def greetings_of(organization):
    return list(db.session.scalars(
        sa.select(HelloGreeting.message).where(HelloGreeting.organization_id == organization.id)))


@pytest.mark.parametrize("role, status", [
    ("partner_user", 200),
    ("partner_admin", 200),
    ("other_partner_user", 200),
    ("channel_manager", 200),
    ("vendor_admin", 200),
])
def test_signed_in_roles_read_the_page(login_as, role, status):
    response = login_as(role).get("/p/hello/")
    assert response.status_code == status
    assert "<h1>Greetings</h1>" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(login_as):
    for method in ("get", "post"):
        response = getattr(login_as("anonymous"), method)("/p/hello/")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_partner_posts_a_greeting_for_their_organization(login_as, portal_world):
    client = login_as("partner_user")
    response = client.post("/p/hello/", data={"message": "  Hi from Acme!  "})
    assert response.status_code == 302
    assert greetings_of(portal_world.org_a) == ["Hi from Acme!"]
    assert greetings_of(portal_world.org_b) == []
    page = client.get("/p/hello/").get_data(as_text=True)
    assert "Hi from Acme!" in page and "Your greeting is posted." in page
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "hello.greeted")).one()
    assert entry.actor_id == portal_world.user_a.id


@pytest.mark.parametrize("role", ["channel_manager", "vendor_admin"])
def test_staff_read_but_do_not_post(login_as, role):
    client = login_as(role)
    assert client.post("/p/hello/", data={"message": "Hello"}).status_code == 403
    assert 'action="/p/hello/"' not in client.get("/p/hello/").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(HelloGreeting.id))) == 0


@pytest.mark.parametrize("message, error", [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("x" * (MESSAGE_MAX + 1), f"Field cannot be longer than {MESSAGE_MAX} characters."),
])
def test_bad_greetings_are_refused_beside_the_field(login_as, message, error):
    response = login_as("partner_admin").post("/p/hello/", data={"message": message})
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(HelloGreeting.id))) == 0


def test_a_post_without_csrf_token_is_refused(login_as):
    response = login_as("partner_user").post("/p/hello/", data={"message": "Hi"}, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(HelloGreeting.id))) == 0


def test_partner_gets_404_once_the_plugin_is_off_for_their_programs(login_as, portal_world):
    switch_off("hello", portal_world.reseller)  # organization A's only program
    client = login_as("partner_user")
    assert client.get("/p/hello/").status_code == 404
    assert client.post("/p/hello/", data={"message": "Hi"}).status_code == 404
    assert client.get("/p/hello/static/hello.css").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert 'href="/p/hello/"' not in home and "hello.css" not in home
    # Organization B (referral program) still has it; staff always do.
    assert login_as("other_partner_user").get("/p/hello/").status_code == 200
    assert login_as("vendor_admin").get("/p/hello/").status_code == 200


def test_switching_back_on_shows_the_data_again(login_as, portal_world):
    greeting(portal_world.org_a, "Kept while off", portal_world.user_a)
    switch_off("hello")
    client = login_as("partner_user")
    assert client.get("/p/hello/").status_code == 404
    switch_on("hello", portal_world.reseller)
    assert "Kept while off" in client.get("/p/hello/").get_data(as_text=True)


def test_partners_see_only_their_own_organizations_greetings(login_as, portal_world):
    greeting(portal_world.org_a, "Acme says hi", portal_world.user_a)
    greeting(portal_world.org_b, "Globex says hi", portal_world.user_b)
    page_a = login_as("partner_user").get("/p/hello/").get_data(as_text=True)
    page_b = login_as("other_partner_user").get("/p/hello/").get_data(as_text=True)
    assert "Acme says hi" in page_a and "Globex says hi" not in page_a
    assert "Globex says hi" in page_b and "Acme says hi" not in page_b


def test_staff_see_the_organizations_they_reach(login_as, portal_world):
    greeting(portal_world.org_a, "Acme says hi", portal_world.user_a)
    greeting(portal_world.org_b, "Globex says hi", portal_world.user_b)
    manager = login_as("channel_manager").get("/p/hello/").get_data(as_text=True)
    assert "Acme says hi" in manager and "Globex says hi" not in manager  # manages A only
    admin = login_as("vendor_admin").get("/p/hello/").get_data(as_text=True)
    assert "Acme says hi" in admin and "Globex says hi" in admin
    assert "Globex Systems Ltd" in admin  # staff see whose greeting it is


def test_the_list_is_paginated_and_htmx_gets_only_the_list(login_as, portal_world):
    for n in range(25):
        db.session.add(HelloGreeting(organization_id=portal_world.org_a.id, message=f"Greeting {n:02d}"))
    db.session.commit()
    client = login_as("partner_user")
    first = client.get("/p/hello/").get_data(as_text=True)
    assert "Greeting 24" in first and "Greeting 04" not in first and "Page 1 of 2" in first
    partial = client.get("/p/hello/?page=2", htmx=True).get_data(as_text=True)
    assert "Greeting 04" in partial and "Greeting 24" not in partial
    assert "<html" not in partial and 'id="hello-greetings"' in partial
    assert client.get("/p/hello/?page=99").status_code == 200  # past the end: empty, not an error
