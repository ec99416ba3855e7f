"""Themes: the active theme's templates win, an override can extend the core's
original, theme files are served, an unknown theme falls back to the default."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from portal import deploy_check
from portal.extensions import db
from portal.theming import BUNDLED_THEMES, available_themes
from tests.conftest import PortalClient, make_app, reset_database


def _themed_app(tmp_path: Path, database_url: str | None, **config):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, database_url, **config)
    reset_database(app)
    app.test_client_class = PortalClient
    return app


@pytest.fixture
def themes(tmp_path: Path) -> Path:
    """A themes folder: the bundled ones plus "custom", which overrides the login page."""
    root = tmp_path / "themes"
    shutil.copytree(BUNDLED_THEMES, root)
    custom = root / "custom"
    (custom / "templates" / "auth").mkdir(parents=True)
    (custom / "static").mkdir()
    (custom / "theme.toml").write_text('name = "custom"\nlabel = "Custom"\n')
    (custom / "static" / "theme.css").write_text(":root { --color-header-bg: #000000; }\n")
    (custom / "templates" / "auth" / "login.html").write_text(
        '{% extends "core/auth/login.html" %}'
        '{% block content %}<p id="custom-login">Custom sign-in</p>{{ super() }}{% endblock %}'
    )
    return root


def test_bundled_themes_are_default_and_aurora() -> None:
    found = available_themes({})
    assert {"default", "aurora"} <= set(found)
    assert found["aurora"].label == "Aurora"
    assert (found["default"].static / "theme.css").is_file()


def test_default_theme_stylesheet_is_linked_after_portal_css_and_served(app, client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert page.index("/static/css/portal.css") < page.index("/theme/theme.css")
    response = client.get("/theme/theme.css")
    assert response.status_code == 200
    assert "--color-header-bg" in response.get_data(as_text=True)
    response.close()


def test_theme_override_template_wins_and_extends_the_original(tmp_path, database_url, themes) -> None:
    app = _themed_app(tmp_path, database_url, THEMES_PATH=str(themes), THEME="custom")
    with app.app_context():
        page = app.test_client().get("/login").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert 'id="custom-login"' in page  # the override wins
    assert 'name="password"' in page  # ... and still renders the core's form (super())
    assert 'class="site-header"' in page  # the core's base layout around it


def test_aurora_base_extends_the_core_layout(tmp_path, database_url) -> None:
    app = _themed_app(tmp_path, database_url, THEME="aurora")
    with app.app_context():
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        with client.get("/theme/theme.css") as response:
            css = response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert 'class="aurora-mark"' in page
    assert "Partner network" in page
    assert 'class="skip-link"' in page and 'id="main"' in page  # the core's base.html
    assert "#3b0f5c" in css


def test_plugin_templates_come_before_the_cores(app) -> None:
    from portal.theming import CORE_TEMPLATES

    loader = app.jinja_env.loader
    names = [type(item).__name__ for item in loader.loaders]  # type: ignore[attr-defined]
    assert names.index("_BlueprintsLoader") < names.index("FileSystemLoader", 1)
    assert app.jinja_env.get_template("core/base.html").filename == str(CORE_TEMPLATES / "base.html")


def test_unknown_theme_logs_an_error_and_falls_back_to_default(tmp_path, database_url, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        app = _themed_app(tmp_path, database_url, THEME="no-such-theme")
    assert "no-such-theme" in caplog.text
    assert app.extensions["portal.theme"].name == "default"
    with app.app_context():
        assert app.test_client().get("/login").status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_deploy_check_reports_an_unknown_theme() -> None:
    findings = list(deploy_check.check_theme({"THEME": "no-such-theme"}))
    assert [f.setting for f in findings] == ["THEME"]
    assert "no-such-theme" in str(findings[0])
    assert list(deploy_check.check_theme({"THEME": "aurora"})) == []
    assert list(deploy_check.check_theme({})) == []
