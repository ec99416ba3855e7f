"""Plugins' own message catalogs: one Flask-Babel translation domain per plugin.

A plugin ships ``<its package>/translations/<lang>/LC_MESSAGES/<plugin>.po`` (and the
compiled ``.mo``); the domain is the plugin's name. The folder is found from where
the plugin's module lives, or from ``portal_plugin_info()["translations"]``. The
locale is the core's choice (user setting, cookie, Accept-Language, default).

In the plugin's Python code::

    from portal.plugin_i18n import PluginTranslations

    t = PluginTranslations("hello")
    _, _l, ngettext = t.gettext, t.lazy_gettext, t.ngettext

In templates rendered by the plugin's own blueprint, ``_()``, ``gettext``,
``ngettext`` and ``{% trans %}`` look in the plugin's catalog first, then the core's
(so core chrome such as ``base.html`` stays translated). Anywhere else (a dashboard
widget or a slot rendered on a core page) use ``_p("hello", "Hello %(name)s", name=...)``
and ``_np("hello", singular, plural, n)``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask, current_app, has_request_context, request
from flask_babel import Domain, LazyString
from jinja2 import pass_context
from markupsafe import Markup

EXTENSION_KEY = "portal.plugin_i18n"


def translations_directory(plugin: str, app: Flask | None = None) -> Path | None:
    """Where ``plugin``'s catalogs live: ``portal_plugin_info()["translations"]``,
    else ``translations/`` beside the plugin's module."""
    from portal.plugins import host

    plugin_host = host(app)
    declared = plugin_host.info.get(plugin, {}).get("translations")
    if declared:
        return Path(declared)
    obj = plugin_host.loaded.get(plugin)
    if obj is None:
        return None
    module = obj if isinstance(obj, types.ModuleType) else sys.modules.get(type(obj).__module__)
    filename = getattr(module, "__file__", None)
    return Path(filename).resolve().parent / "translations" if filename else None


def domain(plugin: str, directory: str | Path | None = None) -> Domain:
    """The current app's Flask-Babel domain of ``plugin`` (built once per app)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    domains: dict[str, Domain] = app.extensions.setdefault(EXTENSION_KEY, {})
    found = domains.get(plugin)
    if found is None:
        folder = Path(directory) if directory else translations_directory(plugin, app)
        # No folder: an empty list gives an empty catalog, so messages stay as written.
        found = Domain(translation_directories=[str(folder)] if folder else [], domain=plugin)
        domains[plugin] = found
    return found


class PluginTranslations:
    """gettext functions bound to one plugin's translation domain.

    Safe to create at import time: the domain is looked up on use, per app.
    """

    def __init__(self, plugin: str, directory: str | Path | None = None) -> None:
        self.plugin = plugin
        self.directory = directory

    @property
    def domain(self) -> Domain:
        return domain(self.plugin, self.directory)

    def gettext(self, string: str, **variables: Any) -> str:
        return self.domain.gettext(string, **variables)

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        return self.domain.ngettext(singular, plural, num, **variables)

    def pgettext(self, context: str, string: str, **variables: Any) -> str:
        return self.domain.pgettext(context, string, **variables)

    def lazy_gettext(self, string: str, **variables: Any) -> LazyString:
        return LazyString(self.gettext, string, **variables)

    def lazy_ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> LazyString:
        return LazyString(self.ngettext, singular, plural, num, **variables)


Translations = PluginTranslations


# -- templates --------------------------------------------------------------------

def _plugin_gettext(plugin: str, string: str) -> str:
    """The plugin's translation, else the core's (the plugin page's core chrome)."""
    translated = domain(plugin).get_translations().ugettext(string)
    if translated == string:
        translated = flask_babel.get_translations().ugettext(string)
    return translated


def _plugin_ngettext(plugin: str, singular: str, plural: str, num: int) -> str:
    translated = domain(plugin).get_translations().ungettext(singular, plural, num)
    if translated in (singular, plural):
        translated = flask_babel.get_translations().ungettext(singular, plural, num)
    return translated


def _finish(context: Any, text: str, variables: dict[str, Any]) -> str:
    # As Jinja's "newstyle" gettext: escape-aware, always a format string (a text
    # without "%" formats to itself: skip the formatting, the costly part).
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


def _template_functions(plugin: str | None) -> dict[str, Any]:
    # Made for one render (a context processor's result): the locale is settled by
    # then, so the catalogs are looked up once, not for every string of the page.
    # A plugin's page looks in its own catalog first, then in the core's.
    catalogs: list[Any] = []

    def own_and_core() -> list[Any]:
        if not catalogs:
            core = flask_babel.get_translations()
            catalogs.extend((domain(plugin).get_translations() if plugin else core, core))
        return catalogs

    @pass_context
    def gettext(context: Any, string: str, **variables: Any) -> str:
        own, core = own_and_core()
        translated = own.ugettext(string)
        if translated == string and own is not core:
            translated = core.ugettext(string)
        return _finish(context, translated, variables)

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        own, core = own_and_core()
        translated = own.ungettext(singular, plural, num)
        if translated in (singular, plural) and own is not core:
            translated = core.ungettext(singular, plural, num)
        return _finish(context, translated, variables)

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


@pass_context
def plugin_gettext(context: Any, plugin: str, string: str, **variables: Any) -> str:
    """Jinja global ``_p("hello", "Hello %(name)s", name=...)``: the plugin's catalog only."""
    return _finish(context, domain(plugin).get_translations().ugettext(string), variables)


@pass_context
def plugin_ngettext(context: Any, plugin: str, singular: str, plural: str, num: int,
                    **variables: Any) -> str:
    """Jinja global ``_np("hello", singular, plural, n)``."""
    variables.setdefault("num", num)
    text = domain(plugin).get_translations().ungettext(singular, plural, num)
    return _finish(context, text, variables)


def plugin_of_blueprint(blueprint: str | None) -> str | None:
    """The loaded plugin a (top-level) blueprint belongs to, by its name."""
    if not blueprint:
        return None
    from portal.plugins import host

    matches = [name for name in host().loaded if blueprint == name or blueprint.startswith(name + "_")]
    return max(matches, key=len) if matches else None


def _blueprint_translations() -> dict[str, Any]:
    """Context processor: a plugin blueprint's templates translate with its domain
    (then the core's), every other page with the core's; the catalogs are looked up
    once per render rather than once per string."""
    if not has_request_context():
        return {}
    plugin = plugin_of_blueprint(request.blueprints[-1]) if request.blueprints else None
    return _template_functions(plugin)


def init_app(app: Flask) -> None:
    app.extensions.setdefault(EXTENSION_KEY, {})
    app.context_processor(_blueprint_translations)
    app.jinja_env.globals.update(_p=plugin_gettext, _np=plugin_ngettext)
