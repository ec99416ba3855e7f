"""The kit for third-party plugin authors: the pytest plugin every installed
plugin's tests get (``portal.testing.pytest_plugin``, ``pytest11`` entry point),
and the example external plugin kept in ``examples/portal-hello``.

The example's own tests live beside it (``pytest examples/portal-hello/tests``,
run by CI after ``pip install -e examples/portal-hello``); these check the kit
from the core's side, with or without the example installed.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from portal.models import ProgramPlugin, Role
from portal.testing import LOGIN_ROLES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "portal-hello"


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
# (tests/test_plugin_meta.py checks its distribution and that it implements every hook)

def test_the_examples_tests_use_only_the_pytest_plugin():
    conftest = (EXAMPLE / "tests" / "conftest.py").read_text()
    assert "def portal_plugins" in conftest
    for test_file in (EXAMPLE / "tests").glob("*.py"):
        text = test_file.read_text()
        assert "from tests" not in text and "import tests" not in text, test_file
    assert not (EXAMPLE / "tests" / "__init__.py").exists()  # never a second "tests" package
