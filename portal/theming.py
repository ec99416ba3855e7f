"""Themes: ``themes/<name>/`` folders that restyle and re-template the portal.

A theme holds ``theme.toml`` (name, label, description), ``static/theme.css``
(CSS custom properties overriding portal.css's ``:root``), optional
``templates/`` overrides and other static files. The deployment picks one with
``THEME``; an unknown name is logged and the ``default`` theme is used.

Template lookup order: the active theme's templates, then the plugins'
(blueprint template folders), then the core's. The core's templates are also
reachable as ``core/<name>``, so an override can extend what it replaces::

    {% extends "core/base.html" %}
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, TemplateNotFound

DEFAULT_THEME = "default"
#: The repository's themes folder (beside the ``portal`` package).
BUNDLED_THEMES = Path(__file__).resolve().parent.parent / "themes"
CORE_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str
    path: Path

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def themes_path(config: Any) -> Path:
    return Path(config.get("THEMES_PATH") or BUNDLED_THEMES)


def read_theme(folder: Path) -> Theme | None:
    """The theme in ``folder``, or None when it is not one (no readable theme.toml)."""
    try:
        meta = tomllib.loads((folder / "theme.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = str(meta.get("name") or folder.name)
    return Theme(name, str(meta.get("label") or name), str(meta.get("description") or ""), folder)


def available_themes(config: Any) -> dict[str, Theme]:
    root = themes_path(config)
    if not root.is_dir():
        return {}
    found = (read_theme(folder) for folder in sorted(root.iterdir()) if folder.is_dir())
    return {theme.path.name: theme for theme in found if theme is not None}


def theme_problem(config: Any) -> str | None:
    """Why the configured theme cannot be used, or None."""
    name = str(config.get("THEME") or DEFAULT_THEME)
    themes = available_themes(config)
    if name not in themes:
        known = ", ".join(sorted(themes)) or "none"
        return f"{name!r} is not a theme in {themes_path(config)} (found: {known})."
    return None


def resolve_theme(app: Flask) -> Theme | None:
    """The configured theme; an unknown one is logged and ``default`` used instead."""
    themes = available_themes(app.config)
    name = str(app.config.get("THEME") or DEFAULT_THEME)
    if name in themes:
        return themes[name]
    app.logger.error("Theme %s Falling back to %r.", theme_problem(app.config), DEFAULT_THEME)
    return themes.get(DEFAULT_THEME)


class _BlueprintsLoader(BaseLoader):
    """The registered blueprints' template folders, looked up when asked (plugins
    register theirs during app creation, possibly after this loader is built)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _loaders(self) -> Iterator[BaseLoader]:
        for blueprint in self.app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield loader

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        for loader in self._loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        return sorted({name for loader in self._loaders() for name in loader.list_templates()})


def build_loader(app: Flask, theme: Theme | None) -> ChoiceLoader:
    core = FileSystemLoader(str(CORE_TEMPLATES))
    loaders: list[BaseLoader] = []
    if theme is not None and theme.templates.is_dir():
        loaders.append(FileSystemLoader(str(theme.templates)))
    loaders += [_BlueprintsLoader(app), core, PrefixLoader({"core": core})]
    return ChoiceLoader(loaders)


def init_app(app: Flask) -> None:
    """Pick the theme, set the template loader and serve the theme's static files
    at ``/theme/<path>`` (endpoint ``theme.static``)."""
    theme = resolve_theme(app)
    app.extensions["portal.theme"] = theme
    app.jinja_env.loader = build_loader(app, theme)
    static = str(theme.static) if theme is not None and theme.static.is_dir() else None
    bp = Blueprint("theme", __name__, static_folder=static, static_url_path="/theme")
    app.register_blueprint(bp)


def active_theme(app: Flask) -> Theme | None:
    return app.extensions.get("portal.theme")
