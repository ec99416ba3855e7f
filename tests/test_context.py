"""portal.context answers what Flask's and Flask-Login's proxies would."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import current_app, g, request
from flask_login import current_user, login_user, logout_user

from portal import context
from portal.models import Role
from tests import factories


def in_fresh_thread(fn: Any) -> Any:
    """``fn()`` where no Flask context exists (a new thread starts with none)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except Exception as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_outside_every_context(app):
    with pytest.raises(RuntimeError):
        in_fresh_thread(context.app)
    with pytest.raises(RuntimeError):
        in_fresh_thread(context.request)
    assert in_fresh_thread(lambda: (context.app_globals(), context.request_globals(), context.user())) == (
        None, None, None)


def test_in_an_app_context_without_a_request(app):
    assert context.app() is current_app._get_current_object() is app
    assert context.app_globals() is g._get_current_object()
    assert context.request_globals() is None
    assert context.user() is None  # as Flask-Login's current_user gives it here
    with pytest.raises(RuntimeError):
        context.request()


def test_in_a_request_of_a_visitor(app):
    with app.test_request_context("/somewhere?x=1"):
        assert context.request() is request._get_current_object()
        assert context.request().args["x"] == "1"
        assert context.request_globals() is g._get_current_object() is context.app_globals()
        visitor = context.user()
        assert visitor is current_user._get_current_object()
        assert not visitor.is_authenticated


def test_the_user_follows_sign_in_and_sign_out_within_a_request(app):
    user = factories.user(Role.PARTNER_ADMIN, factories.organization())
    with app.test_request_context("/"):
        assert not context.user().is_authenticated
        login_user(user)
        assert context.user() is user is current_user._get_current_object()
        logout_user()
        assert not context.user().is_authenticated
        assert context.user() is current_user._get_current_object()


def test_the_first_read_of_a_request_loads_the_signed_in_user(app, client):
    seen: list[Any] = []

    @app.get("/_test/context-user")
    def _who() -> str:
        first = context.user()  # before anything else has asked for current_user
        seen.append((first, first is context.user(), first is current_user._get_current_object()))
        return "ok"

    user = factories.user(Role.PARTNER_USER, factories.organization())
    client.login(user)
    assert client.get("/_test/context-user").status_code == 200
    first, same_again, same_as_proxy = seen[0]
    assert first.is_authenticated and first.id == user.id
    assert same_again and same_as_proxy
