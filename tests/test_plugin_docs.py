"""Self-checking plugin docs: every hook is documented, and the reference is current."""

from __future__ import annotations

import inspect

from portal import hookspecs
from portal.plugin_docs import DOCS_PATH, hook_names, hook_reference, is_current


def test_every_hook_has_a_docstring_with_substance():
    for name in hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 80, f"{name} needs a docstring saying when it runs and what it returns"


def test_every_hook_is_in_the_reference():
    reference = hook_reference()
    for name in hook_names():
        assert f"### `{name}(" in reference


def test_docs_plugins_md_carries_the_current_reference():
    assert DOCS_PATH.exists(), "docs/plugins.md is missing"
    assert is_current(), "docs/plugins.md is out of date: run `portal plugins docs`"
