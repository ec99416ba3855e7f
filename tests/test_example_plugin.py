"""The kit for third-party plugin authors: the pytest plugin every installed
plugin's tests get (``portal.testing.pytest_plugin``, ``pytest11`` entry point),
and the example external plugin kept in ``examples/portal-hello``.

The example's own tests live beside it (``pytest examples/portal-hello/tests``,
run by CI after ``pip install -e examples/portal-hello``); these check the kit
from the core's side, with or without the example installed.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from portal import hookspecs
from portal.models import ProgramPlugin, Role
from portal.plugins import discover
from portal.testing import LOGIN_ROLES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "portal-hello"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("portal_"))


# -- the pytest plugin ---------------------------------------------------------------

def test_the_pytest_plugin_is_registered_through_its_entry_point(pytestconfig):
    (entry,) = [ep for ep in metadata.entry_points(group="pytest11") if ep.name == "portal"]
    assert entry.value == "portal.testing.pytest_plugin"
    assert pytestconfig.pluginmanager.get_plugin("portal") is not None


def test_its_fixture_names_do_not_shadow_the_core_tests_fixtures():
    import portal.testing.pytest_plugin as kit
    import tests.conftest as core

    def fixtures(module):
        return {name for name, value in vars(module).items()
                if hasattr(value, "_get_wrapped_function") or hasattr(value, "_pytestfixturefunction")}

    assert fixtures(kit) and fixtures(core)
    assert not fixtures(kit) & fixtures(core)


def test_portal_app_builds_the_world_and_login_as_signs_in_every_role(portal_app, portal_world, login_as):
    assert portal_world.org_a.memberships[0].program == portal_world.reseller
    expected = {"partner_user": Role.PARTNER_USER, "partner_admin": Role.PARTNER_ADMIN,
                "other_partner_user": Role.PARTNER_USER, "channel_manager": Role.CHANNEL_MANAGER,
                "vendor_admin": Role.VENDOR_ADMIN}
    for role in LOGIN_ROLES:
        response = login_as(role).get("/account/")
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 200, role
            assert portal_world.by_role(role).role is expected[role]
    assert portal_world.by_role("other_partner_user").organization == portal_world.org_b
    with pytest.raises(KeyError, match="unknown role"):
        login_as("superuser")


def test_portal_app_switches_nothing_on_without_plugins(portal_app):
    from portal.extensions import db

    assert db.session.query(ProgramPlugin).count() == 0


def test_outbox_reads_the_tests_app(portal_app, portal_client, outbox):
    assert outbox() == []
    portal_client.post("/password/forgot", data={"email": "user@acme.example"})
    (message,) = outbox()
    assert message["To"] == "user@acme.example"


# -- the example external plugin ----------------------------------------------------------

def test_the_example_is_a_distribution_of_its_own():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert project["project"]["name"] == "portal-hello"
    assert project["project"]["entry-points"]["portal.plugins"] == {"hello": "portal_hello"}
    assert any(dep.startswith("partner-portal") for dep in project["project"]["dependencies"])
    assert (EXAMPLE / "tests" / "conftest.py").exists()
    # Its tests use the pytest plugin only, never the core's test package.
    for test_file in (EXAMPLE / "tests").glob("*.py"):
        assert "from tests" not in test_file.read_text(), test_file


def test_the_example_implements_every_hook():
    if "hello" not in discover():
        pytest.skip("portal-hello is not installed: pip install -e examples/portal-hello")
    import pluggy

    manager = pluggy.PluginManager("portal")
    manager.add_hookspecs(hookspecs)
    manager.register(discover()["hello"].entry_point.load(), name="hello")
    manager.check_pending()
    implemented = sorted(caller.name for caller in manager.get_hookcallers(manager.get_plugin("hello")))
    assert implemented == HOOKS
