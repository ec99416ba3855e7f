"""The plugin host: discovery, loading, isolated hook calls, per-program enablement.

Plugins are *installed* (a distribution declares an entry point in the
``portal.plugins`` group), *loaded* (named in the deployment's ``PLUGINS``
setting; only these are imported), and *switched on per program* by a vendor
admin (:class:`portal.models.ProgramPlugin` rows). A partner sees a plugin's pages,
navigation and widgets while it is on for at least one program of their
organization; vendor staff see every loaded plugin.

Each app has its own :class:`PluginHost` (``app.extensions["portal.plugins"]``)
with its own ``pluggy.PluginManager("portal")``: two apps in one process never
share plugin state.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any, Callable

import pluggy
import sqlalchemy as sa
from flask import Flask, abort, current_app, g, has_request_context
from flask_login import current_user
from markupsafe import Markup, escape

from portal import hookspecs
from portal.extensions import db
from portal.models import ProgramPlugin
from portal.models.types import utcnow

ENTRY_POINT_GROUP = "portal.plugins"
URL_PREFIX = "/p"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstalledPlugin:
    """A plugin some installed distribution offers (not necessarily loaded)."""

    name: str
    target: str  # "package.module" the entry point names
    distribution: str | None
    version: str | None
    entry_point: metadata.EntryPoint = field(compare=False, repr=False)


@dataclass
class PluginFailure:
    plugin: str
    where: str  # "import", "register", or a hook name
    message: str
    details: str = ""
    at: datetime = field(default_factory=utcnow)


@dataclass
class Widget:
    """A dashboard widget. ``body`` is escaped unless it is ``Markup``."""

    title: str
    body: Any
    priority: int = 100
    plugin: str = ""


@dataclass(frozen=True)
class TierMetric:
    name: str
    label: Any
    measure: Callable[[Any], float]
    plugin: str = ""


@dataclass(frozen=True)
class Setting:
    """One typed deployment setting of a plugin (``type``: str, int, bool, choice)."""

    name: str
    label: Any
    type: str = "str"
    default: Any = None
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = None


def discover() -> dict[str, InstalledPlugin]:
    """Installed plugins by name, read from entry points without importing them."""
    found: dict[str, InstalledPlugin] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found.setdefault(
            ep.name,
            InstalledPlugin(
                name=ep.name,
                target=ep.value,
                distribution=dist.metadata["Name"] if dist else None,
                version=dist.version if dist else None,
                entry_point=ep,
            ),
        )
    return dict(sorted(found.items()))


class PluginHost:
    """The plugins of one app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.manager = pluggy.PluginManager("portal")
        self.manager.add_hookspecs(hookspecs)
        self.installed = discover()
        self.loaded: dict[str, Any] = {}
        self.info: dict[str, dict[str, Any]] = {}
        self.failures: list[PluginFailure] = []
        self.strict = bool(app.config.get("TESTING")) or app.config["PORTAL_ENV"] == "development"

    # -- loading -------------------------------------------------------------
    def load(self, names: Iterable[str], extra: dict[str, Any] | None = None) -> None:
        """Import and register the named plugins. ``extra`` maps names to plugin
        objects registered directly (tests, the core's own hook implementations)."""
        for name, plugin in (extra or {}).items():
            self._register(name, plugin)
        for name in names:
            if name in self.loaded:
                continue
            installed = self.installed.get(name)
            if installed is None:
                self._fail(name, "import", f"no installed plugin is named {name!r}")
                continue
            try:
                plugin = installed.entry_point.load()
            except Exception as error:  # noqa: BLE001 - a broken plugin must not stop the portal
                self._fail(name, "import", f"{type(error).__name__}: {error}", traceback.format_exc())
                continue
            self._register(name, plugin)

    def _register(self, name: str, plugin: Any) -> None:
        try:
            self.manager.register(plugin, name=name)
            # A misspelt hook name: refuse this plugin, loudly.
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            self.manager.unregister(name=name)
            if self.strict:
                raise
            self._fail(name, "register", str(error))
            return
        except ValueError as error:  # already registered under that name
            self._fail(name, "register", str(error))
            return
        self.loaded[name] = plugin
        self.info[name] = self._info(name)

    def _info(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = {"label": name, "description": "", "needs": []}
        for _, result in self.call("portal_plugin_info", only=[name]):
            if isinstance(result, dict):
                info.update(result)
        return info

    def _fail(self, plugin: str, where: str, message: str, details: str = "") -> None:
        log.error("plugin %s failed in %s: %s", plugin, where, message)
        if details:
            log.debug(details)
        self.failures.append(PluginFailure(plugin, where, message, details))

    # -- calling hooks ---------------------------------------------------------
    def call(
        self, hook: str, *, only: Iterable[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Call ``hook`` on each plugin separately; one that raises is recorded and
        skipped. Returns ``(plugin name, result)`` pairs; ``None`` results are dropped
        and lists are flattened."""
        wanted = set(only) if only is not None else None
        results: list[tuple[str, Any]] = []
        caller = getattr(self.manager.hook, hook)
        for impl in reversed(caller.get_hookimpls()):
            if wanted is not None and impl.plugin_name not in wanted:
                continue
            args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
            try:
                result = impl.function(**args)
                if inspect.isgenerator(result):
                    result = list(result)
            except Exception as error:  # noqa: BLE001
                self._fail(impl.plugin_name, hook, f"{type(error).__name__}: {error}",
                           traceback.format_exc())
                continue
            if result is None:
                continue
            if isinstance(result, (list, tuple)) and hook != "portal_template_slot":
                results.extend((impl.plugin_name, item) for item in result)
            else:
                results.append((impl.plugin_name, result))
        return results

    def call_for_user(self, hook: str, user: Any, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`call`, limited to the plugins that are on for ``user``."""
        return self.call(hook, only=active_plugins(user), user=user, **kwargs)

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.loaded.get(name)
        if plugin is None:
            return []
        return sorted(c.name for c in self.manager.get_hookcallers(plugin) or [])


def host(app: Flask | None = None) -> PluginHost:
    return (app or current_app).extensions["portal.plugins"]


# -- enablement ----------------------------------------------------------------

def programs_with(plugin: str) -> list[int]:
    return list(db.session.scalars(sa.select(ProgramPlugin.program_id).where(ProgramPlugin.plugin == plugin)))


def active_plugins(user: Any) -> list[str]:
    """Loaded plugins that are on for ``user`` (cached for the request)."""
    loaded = list(host().loaded)
    if not loaded:
        return []
    if user is None or not getattr(user, "is_authenticated", False) or user.is_staff:
        return loaded
    cache_key = "_portal_active_plugins"
    if has_request_context() and cache_key in g:
        return g.get(cache_key)
    from portal.models import Membership

    today = utcnow().date()
    names = set(
        db.session.scalars(
            sa.select(ProgramPlugin.plugin)
            .join(Membership, Membership.program_id == ProgramPlugin.program_id)
            .where(
                Membership.organization_id == user.organization_id,
                sa.or_(Membership.until.is_(None), Membership.until >= today),
            )
            .distinct()
        )
    )
    active = [name for name in loaded if name in names]
    if has_request_context():
        setattr(g, cache_key, active)
    return active


def guard_blueprint(plugin: str) -> Callable[[], None]:
    """A ``before_request`` for a plugin's blueprint: 404 for a partner whose
    organization has the plugin off for all of its programs."""

    def guard() -> None:
        user = current_user
        if getattr(user, "is_authenticated", False) and user.is_partner:
            if plugin not in active_plugins(user):
                abort(404)

    return guard


# -- wiring into the app ---------------------------------------------------------

def init_app(app: Flask, extra: dict[str, Any] | None = None) -> PluginHost:
    """Build the app's plugin host, load the configured plugins and wire their
    contributions (blueprints, permissions, events, onboarding steps)."""
    plugin_host = PluginHost(app)
    app.extensions["portal.plugins"] = plugin_host
    names = app.config.get("PLUGINS") or []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    plugin_host.load(names, extra=extra)
    _register_blueprints(app, plugin_host)
    _grant_permissions(app, plugin_host)
    app.extensions["portal.events"].connect(_event_handler(app))
    _register_onboarding_steps(app, plugin_host)
    app.jinja_env.globals["slot"] = render_slot
    return plugin_host


def _register_blueprints(app: Flask, plugin_host: PluginHost) -> None:
    for plugin, blueprint in plugin_host.call("portal_blueprints"):
        name = blueprint.name
        if name != plugin and not name.startswith(plugin + "_"):
            plugin_host._fail(plugin, "portal_blueprints",
                              f"blueprint {name!r} must be named after the plugin ({plugin!r})")
            continue
        prefix = blueprint.url_prefix or ""
        own = f"{URL_PREFIX}/{plugin}"
        if not prefix.startswith(own):
            prefix = own + prefix
        blueprint.before_request(guard_blueprint(plugin))
        try:
            app.register_blueprint(blueprint, url_prefix=prefix)
        except Exception as error:  # noqa: BLE001
            plugin_host._fail(plugin, "portal_blueprints", f"{type(error).__name__}: {error}")


def _grant_permissions(app: Flask, plugin_host: PluginHost) -> None:
    policy = app.extensions["portal.policy"]
    for plugin, declared in plugin_host.call("portal_permissions"):
        for permission, roles in dict(declared).items():
            if not permission.startswith(plugin + "."):
                plugin_host._fail(plugin, "portal_permissions",
                                  f"permission {permission!r} must start with {plugin + '.'!r}")
                continue
            policy.grant(permission, roles)


def _event_handler(app: Flask) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        host(app).call("portal_event", event=event)

    return on_event


def _register_onboarding_steps(app: Flask, plugin_host: PluginHost) -> None:
    if not plugin_host.loaded:
        return
    from portal.onboarding import checklist

    def plugin_steps(organization: Any) -> list[Any]:
        from portal.models import Membership

        today = utcnow().date()
        on = set(
            db.session.scalars(
                sa.select(ProgramPlugin.plugin)
                .join(Membership, Membership.program_id == ProgramPlugin.program_id)
                .where(Membership.organization_id == organization.id,
                       sa.or_(Membership.until.is_(None), Membership.until >= today))
            )
        )
        return [item for _, item in host(app).call(
            "portal_onboarding_steps", only=[p for p in host(app).loaded if p in on],
            organization=organization)]

    checklist.register_step(app, plugin_steps)


def render_slot(name: str, **context: Any) -> Markup:
    """Jinja global ``slot("page_top")``: each active plugin's contribution, in
    priority order, escaped unless the plugin returned ``Markup``."""
    plugin_host = host()
    if not plugin_host.loaded:
        return Markup("")
    user = current_user if has_request_context() else None
    parts: list[tuple[int, int, Markup]] = []
    for n, (_, result) in enumerate(
        plugin_host.call("portal_template_slot", only=active_plugins(user), slot=name, context=context)
    ):
        priority = 100
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
            priority, result = result
        parts.append((priority, n, escape(result)))
    return Markup("").join(part for _, _, part in sorted(parts))


def dashboard_widgets(user: Any) -> list[Widget]:
    widgets = []
    for plugin, widget in host().call_for_user("portal_dashboard_widgets", user):
        if isinstance(widget, Widget):
            widget.plugin = plugin
            widget.body = escape(widget.body)
            widgets.append(widget)
    return sorted(widgets, key=lambda w: w.priority)


def navigation_items(user: Any) -> Iterator[Any]:
    for _, item in host().call_for_user("portal_navigation", user):
        yield item


def tier_metrics() -> list[TierMetric]:
    return [metric for _, metric in host().call("portal_tier_metrics") if isinstance(metric, TierMetric)]
