"""Meta-tests of the plugin API: every hook is implemented by the example plugin,
named by at least one test, and documented in ``docs/plugins.md``.

The example plugin (``examples/portal-hello``) is a distribution of its own that
CI installs with pip. Its package is imported in a subprocess, never here: its
model would join this process's metadata and change what the core's migration
tests compare.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pluggy
import pytest

from portal import hookspecs
from portal.plugin_docs import DOCS_PATH, END, START, hook_names
from portal.plugins import discover

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "portal-hello"
EXAMPLE_PACKAGE = EXAMPLE / "portal_hello"
TEST_FOLDERS = (REPO / "tests", EXAMPLE / "tests")

# Loads the example through its entry point, as the portal does, and reports the
# hooks pluggy finds on it (check_pending: a misspelt hook name fails here too).
PROBE = """
import json, pluggy
from portal import hookspecs
from portal.plugins import discover
installed = discover()["hello"]
plugin = installed.entry_point.load()
manager = pluggy.PluginManager("portal")
manager.add_hookspecs(hookspecs)
manager.register(plugin, name="hello")
manager.check_pending()
print(json.dumps({
    "hooks": sorted(caller.name for caller in manager.get_hookcallers(plugin)),
    "distribution": installed.distribution,
    "file": plugin.__file__,
}))
"""


def _hookimpls_in_source(folder: Path) -> set[str]:
    """Names of the functions marked ``@hookimpl`` in a package's source."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = getattr(target, "id", None) or getattr(target, "attr", None)
                if name == "hookimpl":
                    found.add(node.name)
    return found


def _test_files() -> list[Path]:
    me = Path(__file__).resolve()
    return [path for folder in TEST_FOLDERS for path in sorted(folder.rglob("*.py"))
            if path.resolve() != me and "__pycache__" not in path.parts]


def test_hook_names_are_exactly_the_specifications():
    manager = pluggy.PluginManager("portal")
    manager.add_hookspecs(hookspecs)
    specified = {name for name in vars(manager.hook) if not name.startswith("_")}
    assert set(hook_names()) == specified
    assert len(hook_names()) == len(specified)


def test_the_example_plugin_marks_every_hook_in_its_source():
    missing = set(hook_names()) - _hookimpls_in_source(EXAMPLE_PACKAGE)
    assert not missing, f"examples/portal-hello does not implement: {sorted(missing)}"


def test_the_example_plugin_is_installed_and_implements_every_hook():
    installed = discover().get("hello")
    if installed is None:
        reason = ("examples/portal-hello is not installed: "
                  "pip install -e examples/portal-hello (CI does)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert installed.distribution == "portal-hello"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                           env=env, timeout=120)
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["hooks"] == sorted(hook_names())
    # The repository's copy, not some other portal-hello.
    assert Path(report["file"]).resolve().parent == EXAMPLE_PACKAGE.resolve()


def test_the_example_is_a_distribution_of_its_own():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert project["project"]["name"] == "portal-hello"
    assert project["project"]["entry-points"]["portal.plugins"] == {"hello": "portal_hello"}
    portal = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "portal-hello" not in json.dumps(portal)  # not shipped with the portal


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_named_in_a_test(hook):
    pattern = re.compile(rf"\b{hook}\b")
    naming = [path for path in _test_files() if pattern.search(path.read_text(encoding="utf-8"))]
    assert naming, f"no test under tests/ or examples/portal-hello/tests/ names {hook}"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_in_the_guide_and_its_reference(hook):
    text = DOCS_PATH.read_text(encoding="utf-8")
    guide, reference = text.split(START, 1)
    assert f"### `{hook}(" in reference.split(END, 1)[0], f"run `portal plugins docs` ({hook})"
    assert f"`{hook}" in guide, f"the tutorial part of docs/plugins.md never mentions {hook}"
