"""Screenshots of the login page in the default and the example (aurora) theme:
the themes really restyle the page (the header's computed background differs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from portal.extensions import db
from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import make_app, reset_database


def _header_background(browser: Any, tmp_path: Path, database_url: str | None, theme: str) -> str:
    app = make_app(tmp_path / theme, database_url, SERVER_NAME=None, BASE_URL="http://127.0.0.1",
                   THEME=theme)
    reset_database(app)
    server = LiveServer(app)
    server.start()
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        page.goto(f"{server.url}/login")
        screenshot(page, f"theme-{theme}")
        assert not failed, failed
        return page.eval_on_selector(".site-header", "el => getComputedStyle(el).backgroundColor")
    finally:
        context.close()
        server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_default_and_aurora_themes_look_different(browser, tmp_path, database_url) -> None:
    default = _header_background(browser, tmp_path, database_url, "default")
    aurora = _header_background(browser, tmp_path, database_url, "aurora")
    assert default == "rgb(20, 33, 61)"  # #14213d
    assert aurora == "rgb(59, 15, 92)"  # #3b0f5c
    assert default != aurora
