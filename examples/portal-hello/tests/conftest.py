"""The hello plugin's tests run on the portal's pytest plugin (installed with the
portal): this file only says which plugin to load. ``portal_app`` then loads it
through its entry point, creates the core's and the plugin's tables, builds
``portal_world`` and switches the plugin on for the world's programs."""

import pytest


@pytest.fixture
def portal_plugins() -> list[str]:
    return ["hello"]
