"""Test kit for the portal and its plugins: one copy for the core's tests and
for every third-party plugin's.

Installing the portal registers :mod:`portal.testing.pytest_plugin` with pytest
(``pytest11`` entry point), so a plugin's tests get the fixtures without a
conftest import. The building blocks are importable too::

    from portal.testing import PortalClient, World, build_world, factories, make_app

Names are resolved on first use: importing this package (which pytest does at
start-up, for every project in the environment) imports nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CSRF_RAW": "portal.testing.client",
    "PortalClient": "portal.testing.client",
    "make_app": "portal.testing.app",
    "reset_database": "portal.testing.app",
    "worker_database_url": "portal.testing.app",
    "TEST_CONFIG": "portal.testing.app",
    "World": "portal.testing.world",
    "build_world": "portal.testing.world",
    "switch_on": "portal.testing.world",
    "switch_off": "portal.testing.world",
    "LOGIN_ROLES": "portal.testing.world",
    "outbox_messages": "portal.testing.mail",
    "message_text": "portal.testing.mail",
    "link_in": "portal.testing.mail",
    "PASSWORD": "portal.testing.factories",
    "factories": "portal.testing.factories",
    "index_now": "portal.testing.search",
    "damage_index": "portal.testing.search",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'portal.testing' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name == "factories" else getattr(module, name)
    globals()[name] = value
    return value
