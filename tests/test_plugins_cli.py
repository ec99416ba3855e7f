"""``portal plugins list``: installed and loaded plugins, where they are on, failures."""

from __future__ import annotations

import json
from importlib import metadata

import pytest

from portal import hookimpl
from portal import plugins as plugin_module
from portal.extensions import db
from portal.models import ProgramPlugin
from portal.plugins import InstalledPlugin, Setting
from tests import factories
from tests.conftest import make_app, reset_database


class HelloPlugin:
    @hookimpl
    def portal_plugin_info(self):  # type: ignore[no-untyped-def]
        return {"label": "Hello"}

    @hookimpl
    def portal_settings(self):  # type: ignore[no-untyped-def]
        return [Setting("greeting", "Greeting", default="Hi")]


def _installed(name: str, version: str) -> InstalledPlugin:
    target = f"portal_{name}_not_importable_in_tests"
    return InstalledPlugin(name=name, target=target, distribution=f"portal-{name}", version=version,
                           entry_point=metadata.EntryPoint(name=name, value=target,
                                                           group="portal.plugins"))


@pytest.fixture
def app(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(plugin_module, "discover", lambda: {
        "broken": _installed("broken", "0.9.0"), "shelf": _installed("shelf", "2.1.0")})
    application = make_app(tmp_path, database_url, plugins={"hello": HelloPlugin()},
                           PLUGINS=["broken"])
    reset_database(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def programs(app):
    reseller, referral = factories.program("Reseller"), factories.program("Referral")
    db.session.add_all([ProgramPlugin(program_id=reseller.id, plugin="hello"),
                        ProgramPlugin(program_id=referral.id, plugin="hello")])
    db.session.commit()


def _lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines() if line.strip()}


def test_list_prints_a_table_of_plugins_and_the_failures_below(runner, programs):
    result = runner.invoke(args=["plugins", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "DISTRIBUTION", "LOADED", "PROGRAMS", "HOOKS"]
    rows = _lines(result.output)
    assert rows["hello"].split()[:4] == ["hello", "-", "-", "yes"]
    assert "Referral, Reseller" in rows["hello"]
    assert "portal_plugin_info, portal_settings" in rows["hello"]
    assert rows["shelf"].split()[:4] == ["shelf", "2.1.0", "portal-shelf", "no"]
    assert "no (failed)" in rows["broken"]
    failures = result.output[result.output.index("Failures (1):"):]
    assert "- broken [import] ModuleNotFoundError" in failures


def test_list_json_has_every_column_and_the_failures(runner, programs):
    result = runner.invoke(args=["plugins", "list", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    plugins = {p["name"]: p for p in data["plugins"]}
    assert set(plugins) == {"broken", "hello", "shelf"}
    assert plugins["hello"] == {
        "name": "hello", "label": "Hello", "version": None, "distribution": None,
        "installed": False, "configured": False, "loaded": True, "status": "loaded",
        "programs": ["Referral", "Reseller"], "hooks": ["portal_plugin_info", "portal_settings"],
        "settings": ["greeting"],
    }
    assert plugins["shelf"]["version"] == "2.1.0" and plugins["shelf"]["loaded"] is False
    assert plugins["broken"]["status"] == "failed"
    [failure] = data["failures"]
    assert failure["plugin"] == "broken" and failure["where"] == "import"
    assert "Traceback" in failure["details"] and failure["count"] == 1
    assert data["database_ready"] is True


def test_list_says_so_when_there_are_no_plugins(tmp_path, monkeypatch):
    monkeypatch.setattr(plugin_module, "discover", lambda: {})
    app = make_app(tmp_path, None)
    result = app.test_cli_runner().invoke(args=["plugins", "list"])
    assert result.exit_code == 0, result.output
    assert "No plugins installed or loaded" in result.output
    assert "Failures" not in result.output


def test_list_works_before_the_database_is_migrated(tmp_path, monkeypatch):
    monkeypatch.setattr(plugin_module, "discover", lambda: {})
    app = make_app(tmp_path, None, plugins={"hello": HelloPlugin()}, PLUGINS=["ghost"])
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["plugins", "list"])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "The database is not ready" in result.output
    assert "no (not installed)" in _lines(result.output)["ghost"]
    assert "- ghost [import] no installed plugin is named 'ghost'" in result.output
