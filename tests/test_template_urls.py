"""Templates' url_for (portal.templating.url_for): Flask's URLs, kept per request shape."""

from __future__ import annotations

import pytest
from flask import url_for as flask_url_for
from werkzeug.routing import BuildError

from portal import templating
from portal.lru import app_store


CALLS = [
    ("auth.login", {}),
    ("auth.login", {"next": "/p/deals/?status=won&sort=-value"}),
    ("static", {"filename": "css/portal.css"}),
    ("resources.library", {"page": 2}),
    ("resources.library", {"page": True}),  # equal to 1 as a key, not as a URL
    ("resources.library", {"page": 1}),
]


def test_the_urls_are_flasks_and_are_kept(app):
    with app.test_request_context("/"):
        for endpoint, values in CALLS:
            assert templating.url_for(endpoint, **values) == flask_url_for(endpoint, **values)
        kept = len(app_store(app, "portal.urls", templating.URLS_KEPT))
        assert kept == len(CALLS)
        for endpoint, values in CALLS:  # again: from the store, the same
            assert templating.url_for(endpoint, **values) == flask_url_for(endpoint, **values)
        assert len(app_store(app, "portal.urls", templating.URLS_KEPT)) == kept


def test_the_application_root_and_host_are_part_of_the_key(app):
    with app.test_request_context("/"):
        plain = templating.url_for("auth.login")
    with app.test_request_context("/", base_url="http://portal.example/partners"):
        rooted = templating.url_for("auth.login")
        assert rooted == flask_url_for("auth.login") == "/partners" + plain
    with app.test_request_context("/", base_url="http://other.example/"):
        assert templating.url_for("auth.login") == flask_url_for("auth.login")
        assert templating.url_for("auth.login", _external=True) == flask_url_for("auth.login", _external=True)


def test_what_is_not_kept_is_built_by_flask(app):
    with app.test_request_context("/"):
        assert templating.url_for("auth.login", _external=True) == flask_url_for("auth.login", _external=True)
        assert templating.url_for("auth.login", _anchor="form") == flask_url_for("auth.login", _anchor="form")
        several = templating.url_for("resources.library", tag=["a", "b"])  # a list: no key
        assert several == flask_url_for("resources.library", tag=["a", "b"])
        with pytest.raises(BuildError):
            templating.url_for("no.such_endpoint")
    # Outside a request (the fixture's app context): Flask's URL, external.
    assert templating.url_for("auth.login") == flask_url_for("auth.login")
    assert templating.url_for("auth.login").startswith("http")


def test_url_default_functions_turn_keeping_off(app):
    application = app
    seen = []

    @application.url_defaults
    def _add_lang(endpoint, values):
        seen.append(endpoint)
        if endpoint == "resources.library":
            values.setdefault("lang", "de")

    with application.test_request_context("/"):
        first = templating.url_for("resources.library")
        second = templating.url_for("resources.library")
    assert first == second and "lang=de" in first
    assert seen.count("resources.library") == 2  # built both times
