"""The README and docs/architecture.md stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from portal import demo
from portal.cli import COMMANDS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text()

QUICK_START = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/portal demo",
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest",
)


def test_readme_quick_start_has_the_two_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick_start, flags=re.S)
    assert [b.strip() for b in blocks] == list(QUICK_START)


def test_readme_lists_every_demo_login_and_the_password() -> None:
    table = re.findall(r"^\| `([^`]+@[^`]+)` \| (\w+) \|", README, flags=re.M)
    assert table == [(login.email, login.role.value) for login in demo.demo_logins()]
    assert f"**`{demo.DEMO_PASSWORD}`**" in README


def test_readme_documents_every_portal_command() -> None:
    for command in COMMANDS:
        assert f"`portal {command.name}" in README, command.name


def test_architecture_names_only_files_that_exist() -> None:
    paths = set(re.findall(r"`(portal/[\w/.]+|tests/[\w/.]+|instance/[\w/.]+)`", ARCHITECTURE))
    assert len(paths) > 20
    runtime = {"instance/portal.toml", "instance/secret_key", "instance/portal.db",
               "instance/outbox/", "instance/search/", "instance/uploads/"}
    missing = sorted(p for p in paths - runtime if not (REPO / p).exists())
    assert missing == []
