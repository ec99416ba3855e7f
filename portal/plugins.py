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
import re
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import metadata
from typing import Any, Callable

import pluggy
import sqlalchemy as sa
from flask import Flask, abort
from markupsafe import Markup, escape

from portal import context, hookspecs
from portal.extensions import db
from portal.models import PluginSetting, ProgramPlugin
from portal.models.types import utcnow
from portal.permissions import CORE_GRANTS

ENTRY_POINT_GROUP = "portal.plugins"
URL_PREFIX = "/p"
#: Distinct failures a host remembers for the admin page (the log has them all).
FAILURES_KEPT = 200
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
    at: datetime = field(default_factory=utcnow)  # the latest time it happened
    count: int = 1  # a hook that raises on every page is one failure, counted


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
    """One typed deployment setting of a plugin, declared by ``portal_settings``.

    ``name``: lower-case letters, digits and underscores (the storage key).
    ``type``: "str" (at most 2000 characters), "int" (a whole number), "bool" (a
    checkbox; ``default`` must be True or False) or "choice" (one of ``choices``,
    ``(value, label)`` pairs or plain values; values are strings or whole
    numbers). ``default`` is what :func:`setting` returns until a vendor admin
    stores a value (None: not set). ``help`` is shown beside the field::

        Setting("region", _l("Region"), "choice", default="eu",
                choices=(("eu", _l("Europe")), ("us", _l("United States"))))
    """

    name: str
    label: Any
    type: str = "str"
    default: Any = None
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = None


#: The portal's own distribution: its entry points are the built-in plugins.
CORE_DISTRIBUTION = "partner-portal"


def builtin_names() -> list[str]:
    """The built-in plugins (``plugins/`` in the repository), installed with the portal."""
    return [name for name, plugin in discover().items() if plugin.distribution == CORE_DISTRIBUTION]


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
        # Each loaded plugin's validated settings schema (see ``collect_settings``).
        self.settings: dict[str, list[Setting]] = {}
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
        for failure in self.failures:
            if (failure.plugin, failure.where, failure.message) == (plugin, where, message):
                # The same error again (a broken slot raises on every page): count it,
                # so a long-running process does not pile up tracebacks.
                failure.count += 1
                failure.at = utcnow()
                failure.details = details or failure.details
                return
        self.failures.append(PluginFailure(plugin, where, message, details))
        if len(self.failures) > FAILURES_KEPT:
            # The oldest hook failure goes (the log keeps every one); start-up
            # failures stay, they explain why a plugin is missing.
            oldest = next((f for f in self.failures if f.where not in ("import", "register")),
                          self.failures[0])
            self.failures.remove(oldest)

    # -- calling hooks ---------------------------------------------------------
    def call(
        self, hook: str, *, only: Iterable[str] | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Call ``hook`` on each plugin separately; one that raises is recorded and
        skipped. Returns ``(plugin name, result)`` pairs; ``None`` results are dropped
        and lists are flattened."""
        # (a few names: a tuple is searched as fast as a set is built)
        wanted = only if only is None or isinstance(only, (set, frozenset, tuple)) else set(only)
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
        return self.call(hook, only=_active_for(user), user=user, **kwargs)

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.loaded.get(name)
        if plugin is None:
            return []
        return sorted(c.name for c in self.manager.get_hookcallers(plugin) or [])


def host(app: Flask | None = None) -> PluginHost:
    return (app or context.app()).extensions["portal.plugins"]


# -- enablement ----------------------------------------------------------------

def programs_with(plugin: str) -> list[int]:
    return list(db.session.scalars(sa.select(ProgramPlugin.program_id).where(ProgramPlugin.plugin == plugin)))


def plugins_on_for(organization_id: int | None) -> frozenset[str]:
    """Names of the plugins switched on for a program the organization is a
    current member of (loaded or not); kept per process until settings change."""
    from portal import settings_cache

    today = utcnow().date()
    return settings_cache.cached("plugins_on_for", (organization_id, today),
                                 lambda: _read_plugins_on_for(organization_id, today))


def _read_plugins_on_for(organization_id: int | None, today: Any) -> frozenset[str]:
    from portal.models import Membership

    return frozenset(
        db.session.scalars(
            sa.select(ProgramPlugin.plugin)
            .join(Membership, Membership.program_id == ProgramPlugin.program_id)
            .where(
                Membership.organization_id == organization_id,
                sa.or_(Membership.until.is_(None), Membership.until >= today),
            )
            .distinct()
        )
    )


def active_plugins(user: Any) -> list[str]:
    """Loaded plugins that are on for ``user`` (kept for the request, per user)."""
    return list(_active_for(user))


def _active_for(user: Any) -> tuple[str, ...] | list[str]:
    """:func:`active_plugins` as kept for the request (not to be changed)."""
    state = context.request_globals()
    if state is not None:
        kept = state.get("_portal_active_plugins")
        if kept is None:
            kept = state._portal_active_plugins = {}
        key = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
        found = kept.get(key)
        if found is None:
            found = kept[key] = tuple(_active_plugins(user))
        return found
    return _active_plugins(user)


def _active_plugins(user: Any) -> list[str]:
    loaded = list(host().loaded)
    if not loaded:
        return []
    if user is None or not getattr(user, "is_authenticated", False) or user.is_staff:
        return loaded
    names = plugins_on_for(user.organization_id)
    return [name for name in loaded if name in names]


def guard_blueprint(plugin: str) -> Callable[[], None]:
    """A ``before_request`` for a plugin's blueprint: 404 for a partner whose
    organization has the plugin off for all of its programs."""

    def guard() -> None:
        user = context.user()
        if getattr(user, "is_authenticated", False) and user.is_partner:
            if plugin not in _active_for(user):
                abort(404)

    return guard


# -- wiring into the app ---------------------------------------------------------

def configured_names(app: Flask) -> list[str]:
    """The plugin names the deployment's ``PLUGINS`` setting asks for."""
    names = app.config.get("PLUGINS") or []
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if isinstance(n, str) and n.strip()]


def init_app(app: Flask, extra: dict[str, Any] | None = None) -> PluginHost:
    """Build the app's plugin host, load the configured plugins and wire their
    contributions (blueprints, permissions, events, onboarding steps)."""
    plugin_host = PluginHost(app)
    app.extensions["portal.plugins"] = plugin_host
    plugin_host.load(configured_names(app), extra=extra)
    collect_settings(plugin_host)
    _register_blueprints(app, plugin_host)
    _grant_permissions(app, plugin_host)
    app.extensions["portal.events"].connect(_event_handler(app))
    _register_onboarding_steps(app, plugin_host)
    app.jinja_env.globals["slot"] = render_slot
    from portal import plugin_migrations

    plugin_migrations.init_app(app)  # models must carry the plugin's table prefix
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
        try:
            app.register_blueprint(blueprint, url_prefix=prefix)
        except Exception as error:  # noqa: BLE001
            plugin_host._fail(plugin, "portal_blueprints", f"{type(error).__name__}: {error}")
            continue
        # On the app, not the blueprint: a module-level blueprint serves several
        # apps (tests, `portal demo`), and Flask refuses setup on it once registered.
        app.before_request_funcs.setdefault(blueprint.name, []).append(guard_blueprint(plugin))


def _grant_permissions(app: Flask, plugin_host: PluginHost) -> None:
    policy = app.extensions["portal.policy"]
    for plugin, declared in plugin_host.call("portal_permissions"):
        for permission, roles in dict(declared).items():
            if not permission.startswith(plugin + "."):
                plugin_host._fail(plugin, "portal_permissions",
                                  f"permission {permission!r} must start with {plugin + '.'!r}")
                continue
            if permission in CORE_GRANTS:
                # A plugin named like a core area ("plugins", "admin") must not
                # widen the core's own permissions.
                plugin_host._fail(plugin, "portal_permissions",
                                  f"permission {permission!r} belongs to the core")
                continue
            policy.grant(permission, roles)


def _event_handler(app: Flask) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        host(app).call("portal_event", event=event)

    return on_event


def register_cli_commands(app: Flask, reserved: Iterable[str] = ()) -> list[str]:
    """Add each loaded plugin's ``portal_cli_commands`` under ``portal``.

    Called by :func:`portal.cli.register_commands` after the core's commands: a
    name the core (or an earlier plugin) already uses is refused and reported,
    never overwritten. Returns the names added.
    """
    import click

    plugin_host = host(app)
    taken = set(reserved) | set(app.cli.commands)
    added: dict[str, str] = {}  # command name → plugin
    for plugin, command in plugin_host.call("portal_cli_commands"):
        if not isinstance(command, click.Command) or not command.name:
            plugin_host._fail(plugin, "portal_cli_commands", f"{command!r} is not a named click command")
            continue
        if command.name in added:
            plugin_host._fail(plugin, "portal_cli_commands",
                              f"command {command.name!r} is taken by plugin {added[command.name]!r}")
            continue
        if command.name in taken:
            plugin_host._fail(plugin, "portal_cli_commands",
                              f"command {command.name!r} clashes with an existing `portal` command")
            continue
        app.cli.add_command(command)
        added[command.name] = plugin
    return list(added)


def _register_onboarding_steps(app: Flask, plugin_host: PluginHost) -> None:
    if not plugin_host.loaded:
        return
    from portal.onboarding import checklist

    def plugin_steps(organization: Any) -> list[Any]:
        on = plugins_on_for(organization.id)
        return [item for _, item in host(app).call(
            "portal_onboarding_steps", only=[p for p in host(app).loaded if p in on],
            organization=organization)]

    checklist.register_step(app, plugin_steps)


def render_slot(name: str, **values: Any) -> Markup:
    """Jinja global ``slot("page_top")``: each active plugin's contribution, in
    priority order, escaped unless the plugin returned ``Markup``."""
    plugin_host = host()
    if not plugin_host.loaded:
        return _EMPTY
    active = _active_for(context.user())
    if not active:
        return _EMPTY
    results = plugin_host.call("portal_template_slot", only=active, slot=name, context=values)
    if not results:  # most slots, on most pages
        return _EMPTY
    parts: list[tuple[int, int, Markup]] = []
    for n, (_, result) in enumerate(results):
        priority = 100
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
            priority, result = result
        parts.append((priority, n, escape(result)))
    return Markup("").join(part for _, _, part in sorted(parts))


_EMPTY = Markup("")


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


# -- settings --------------------------------------------------------------------

SETTING_TYPES = ("str", "int", "bool", "choice")
#: The longest text a "str" setting holds.
SETTING_STR_MAX = 2000
#: Whole numbers a setting holds: what a signed 64-bit column would.
SETTING_INT_LIMIT = 2**63
_SETTING_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def setting_problem(item: Any) -> str | None:
    """What is wrong with one declared setting, or None when it is usable."""
    if not isinstance(item, Setting):
        return f"{item!r} is not a portal.plugins.Setting"
    if not isinstance(item.name, str) or not _SETTING_NAME.fullmatch(item.name):
        return (f"setting name {item.name!r} must be lower-case letters, digits and "
                f"underscores, starting with a letter (at most 64)")
    if item.type not in SETTING_TYPES:
        return f"setting {item.name!r} has type {item.type!r}; use one of {', '.join(SETTING_TYPES)}"
    if item.type == "choice":
        if not item.choices:
            return f"choice setting {item.name!r} declares no choices"
        values = [value for value, _ in item.choices]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            return f"the choices of setting {item.name!r} must be strings or whole numbers"
        if len({str(v) for v in values}) != len(values):
            return f"choice setting {item.name!r} declares a choice twice"
    if item.type == "bool" and not isinstance(item.default, bool):
        return f"bool setting {item.name!r} needs a default of True or False"
    if item.default is not None and not setting_value_fits(item, item.default):
        return f"the default of setting {item.name!r} does not fit its type"
    return None


def setting_value_fits(item: Setting, value: Any) -> bool:
    """Whether ``value`` is a valid stored value of ``item`` (None: not set)."""
    if value is None:
        return item.type != "bool"
    if item.type == "str":
        return isinstance(value, str) and len(value) <= SETTING_STR_MAX
    if item.type == "int":
        return (isinstance(value, int) and not isinstance(value, bool)
                and -SETTING_INT_LIMIT < value < SETTING_INT_LIMIT)
    if item.type == "bool":
        return isinstance(value, bool)
    if item.type == "choice":
        return any(value == choice and type(value) is type(choice) for choice, _ in item.choices)
    return False


def _normalized(item: Any) -> Any:
    """Choices may be given as plain values: ``("eu", "us")`` → ``(("eu", "eu"), ...)``."""
    if isinstance(item, Setting) and item.choices:
        try:
            choices = tuple(
                (c[0], c[1]) if isinstance(c, (tuple, list)) and len(c) == 2 else (c, str(c))
                for c in item.choices
            )
        except TypeError:
            return item
        return replace(item, choices=choices)
    return item


def collect_settings(plugin_host: PluginHost) -> None:
    """Ask each loaded plugin for its settings once; keep the valid ones.

    A plugin whose ``portal_settings`` raises, or that declares a setting the
    portal cannot store, is reported like any failure; its other settings stay.
    """
    for name in plugin_host.loaded:
        plugin_host.settings[name] = []
    seen: dict[str, set[str]] = {}
    for plugin, item in plugin_host.call("portal_settings"):
        item = _normalized(item)
        problem = setting_problem(item)
        if problem is None and item.name in seen.setdefault(plugin, set()):
            problem = f"setting {item.name!r} is declared twice"
        if problem is not None:
            plugin_host._fail(plugin, "portal_settings", problem)
            continue
        seen[plugin].add(item.name)
        plugin_host.settings.setdefault(plugin, []).append(item)


def settings_schema(plugin: str) -> list[Setting]:
    """The declared (and valid) settings of a loaded plugin, in declaration order."""
    return list(host().settings.get(plugin, []))


def stored_settings(plugin: str) -> dict[str, Any]:
    """Every setting of ``plugin``: the stored value where it still fits the
    schema, else the declared default. One query."""
    schema = settings_schema(plugin)
    if not schema:
        return {}
    rows = {row.key: row.value for row in db.session.scalars(
        sa.select(PluginSetting).where(PluginSetting.plugin == plugin))}
    values = {}
    for item in schema:
        stored = item.name in rows and setting_value_fits(item, rows[item.name])
        values[item.name] = rows[item.name] if stored else item.default
    return values


def setting(plugin: str, name: str) -> Any:
    """The value of a plugin's setting for this deployment, or its declared default.

    Raises ``KeyError`` when ``plugin`` declares no setting ``name`` (a typo
    should fail loudly, not read as ``None``)::

        greeting = setting("hello", "greeting")
    """
    declared = {item.name: item for item in settings_schema(plugin)}
    if name not in declared:
        raise KeyError(f"plugin {plugin!r} declares no setting {name!r}")
    item = declared[name]
    from portal import settings_cache

    # Plugin settings are a watched table: the stored value is kept per worker
    # until a setting changes. Values are strings, numbers or booleans.
    stored = settings_cache.cached("plugins.setting", (plugin, name), lambda: _stored_setting(plugin, name))
    if stored is _NOT_STORED or not setting_value_fits(item, stored):
        # A value stored under an older schema that no longer fits: the default.
        return item.default
    return stored


_NOT_STORED = object()


def _stored_setting(plugin: str, name: str) -> Any:
    value = db.session.execute(
        sa.select(PluginSetting.value).where(PluginSetting.plugin == plugin, PluginSetting.key == name)
    ).first()
    return _NOT_STORED if value is None else value[0]


# -- overview (admin page and ``portal plugins list``) ------------------------------

@dataclass
class PluginOverview:
    """Everything the deployment knows about one plugin name."""

    name: str
    version: str | None
    distribution: str | None
    installed: bool
    configured: bool  # named in PLUGINS
    loaded: bool
    label: Any
    description: Any
    hooks: list[str]
    programs: list[tuple[int, str]]  # (id, name) of the programs it is on for
    failures: list[PluginFailure]
    settings: list[Setting]

    @property
    def program_ids(self) -> set[int]:
        return {program_id for program_id, _ in self.programs}

    @property
    def status(self) -> str:
        """"loaded", "failed" (asked for but not loaded), "not_installed", or "available"."""
        if self.loaded:
            return "loaded"
        if self.configured and not self.installed:
            return "not_installed"
        if self.configured or self.failures:
            return "failed"
        return "available"


def overview(programs: dict[str, list[tuple[int, str]]] | None = None) -> list[PluginOverview]:
    """Installed plugins, plugins registered directly, and names that only failed
    (asked for in ``PLUGINS`` but missing or broken), sorted by name.

    ``programs`` maps plugin names to the programs they are on for; by default it
    is read from the database (see :func:`programs_by_plugin`).
    """
    plugin_host = host()
    configured = set(configured_names(plugin_host.app))
    failures: dict[str, list[PluginFailure]] = {}
    for failure in plugin_host.failures:
        failures.setdefault(failure.plugin, []).append(failure)
    if programs is None:
        programs = programs_by_plugin()
    names = sorted(set(plugin_host.installed) | set(plugin_host.loaded) | set(failures) | configured)
    result = []
    for name in names:
        installed = plugin_host.installed.get(name)
        info = plugin_host.info.get(name, {})
        result.append(PluginOverview(
            name=name,
            version=installed.version if installed else None,
            distribution=installed.distribution if installed else None,
            installed=installed is not None,
            configured=name in configured,
            loaded=name in plugin_host.loaded,
            label=info.get("label") or name,
            description=info.get("description") or "",
            hooks=plugin_host.hooks_of(name),
            programs=programs.get(name, []),
            failures=failures.get(name, []),
            settings=list(plugin_host.settings.get(name, [])),
        ))
    return result


def programs_by_plugin() -> dict[str, list[tuple[int, str]]]:
    """Plugin name → (id, name) of the programs it is switched on for. One query."""
    from portal.models import Program

    rows = db.session.execute(
        sa.select(ProgramPlugin.plugin, Program.id, Program.name)
        .join(Program, Program.id == ProgramPlugin.program_id)
        .order_by(ProgramPlugin.plugin, Program.name)
    )
    found: dict[str, list[tuple[int, str]]] = {}
    for plugin, program_id, program_name in rows:
        found.setdefault(plugin, []).append((program_id, program_name))
    return found
