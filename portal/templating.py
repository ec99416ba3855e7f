"""Template globals, filters and the navigation of the base layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask import Flask, request
from flask import url_for as flask_url_for
from flask_babel import (format_currency, format_date, format_datetime, get_locale,
                         lazy_gettext as _l)
from jinja2 import Template
from markupsafe import Markup, escape

from portal import context
from portal.geography import country_name
from portal.i18n import is_rtl, language_choices
from portal.lru import app_store
from portal.permissions import can
from portal.settings_cache import cached, current_version


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    permission: str
    section: str  # "partner", "vendor" or "all"

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    # Endpoints starting with this prefix mark the item as the current page.
    match: str = ""

    @property
    def active(self) -> bool:
        endpoint = request.endpoint or ""
        return endpoint == self.endpoint or bool(self.match and endpoint.startswith(self.match))


CORE_NAVIGATION = (
    NavItem("dashboard.home", _l("Home"), "dashboard.view", "partner"),
    NavItem("organization.profile", _l("Organization"), "organization.view", "partner",
            "organization.profile"),
    NavItem("organization.team", _l("Team"), "team.view", "partner", "organization.team"),
    NavItem("resources.library", _l("Resources"), "resources.view", "all", "resources."),
    NavItem("admin.organizations", _l("Organizations"), "organizations.list", "vendor",
            "admin.organization"),
    NavItem("admin.users", _l("Users"), "users.list", "vendor", "admin.user"),
    NavItem("admin.programs", _l("Programs"), "programs.view", "vendor", "admin.program"),
    NavItem("onboarding.queue", _l("Applications"), "applications.review", "vendor",
            "onboarding.review"),
    NavItem("admin.plugins", _l("Plugins"), "plugins.view", "vendor", "admin.plugin"),
    NavItem("admin.audit", _l("Audit log"), "audit.view", "vendor", "admin.audit"),
    NavItem("admin.branding", _l("Branding"), "branding.manage", "vendor", "admin.branding"),
)


class NavLink(NamedTuple):
    """One link of the main navigation as the layout draws it."""

    url: str
    label: str
    active: bool


def navigation() -> list[NavLink]:
    """The signed-in user's main navigation, the current page marked.

    Which items a user sees depends only on their role and on the plugins that are
    on for their organization, and their labels on the locale: the list is built once
    per worker for each such combination and kept until settings change
    (:mod:`portal.settings_cache`), so a page pays for marking the current item only.
    """
    user = context.user()
    if user is None or not user.is_authenticated:
        return []
    request = context.request()
    key = (user.role, user.organization_id, str(get_locale()), request.script_root)
    endpoint = request.endpoint or ""
    return [
        NavLink(url, label, endpoint == item_endpoint or bool(match and endpoint.startswith(match)))
        for item_endpoint, match, url, label in cached("portal.navigation", key, lambda: _navigation(user))
    ]


def _navigation(user: Any) -> tuple[tuple[str, str, str, str], ...]:
    section = "partner" if user.is_partner else "vendor"
    items = [i for i in CORE_NAVIGATION
             if i.section in (section, "all") or i.endpoint == "dashboard.home"]
    from portal.plugins import navigation_items

    items += [i for i in navigation_items(user) if i.section in (section, "all")]
    return tuple((i.endpoint, i.match, i.url, str(i.label)) for i in items if can(user, i.permission))


#: Layout pieces kept per process, at most (least recently used go first).
LAYOUT_PARTS_KEPT = 5000


def layout_part(name: str, *vary: Any, caller: Callable[[], str]) -> Markup:
    """Jinja ``{% call layout_part("nav", request.endpoint) %}…{% endcall %}``: a piece
    of the layout, drawn once and kept in this process.

    A piece is kept for the signed-in user (their id, name and role), the locale, the
    application root, the settings version (branding, programs, plugins: see
    :mod:`portal.settings_cache`) and the ``vary`` values the template names; a
    change to any of them draws it again. What differs from request to request (the
    CSRF token, the page's own address, flashed messages, plugin slots) stays out of
    kept pieces.
    """
    state = context.request_globals()
    if state is None or state.get("_portal_settings_changed"):
        return Markup(caller())
    version = current_version()
    if version is None:
        return Markup(caller())
    user = context.user()
    who = (user.id, user.name, user.role) if user.is_authenticated else None
    key = (name, version, who, str(get_locale()), context.request().script_root, *vary)
    store = app_store(context.app(), "portal.layout_parts", LAYOUT_PARTS_KEPT)
    found = store.get(key)
    if found is None:
        found = Markup(caller())
        store.put(key, found)
    return found


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (for filters and paging).

    The page's own URL is built once per request; a list's sort links and pager only
    add their query string to it.
    """
    request, state = context.request(), context.request_globals()
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    base = state.get("_portal_page_url")
    if base is None:
        base = state._portal_page_url = url_for(request.endpoint, **(request.view_args or {}))  # type: ignore[arg-type]
    if not args:
        return base
    # As url_for encodes query arguments (werkzeug.urls).
    return f"{base}?{urlencode([(k, str(v)) for k, v in args.items()], safe=_QUERY_SAFE)}"


_QUERY_SAFE = "!$'()*,/:;?@"

#: URLs kept per process by :func:`url_for`, at most (least recently used go first).
URLS_KEPT = 5000


def url_for(endpoint: str, **values: Any) -> str:
    """Jinja ``url_for``: Flask's, with the URLs a page builds again and again kept.

    Flask builds each URL afresh, 40 to 75 thousand instructions apiece, and a page
    builds a dozen, mostly the same ones on every request. In a request, a URL is a
    function of the endpoint, the values, the request's host and application root
    (and its blueprint, for an endpoint starting with a dot), so it is kept under
    them. Everything else is built by Flask every time: outside a request, with a
    ``_external``, ``_scheme``, ``_anchor`` or ``_method`` argument, with values that
    cannot be a key, or when the app or a blueprint has URL default functions
    (they may add values of their own).
    """
    app = context.app()
    request = context.request_or_none()
    defaults = app.url_default_functions
    if request is None or (defaults and any(defaults.values())):
        return flask_url_for(endpoint, **values)
    parts = [endpoint, request.host, request.script_root]
    if endpoint[:1] == ".":
        parts.append(request.blueprint)
    for name, value in values.items():  # in the call's order: one call site, one key
        if name[:1] == "_":
            return flask_url_for(endpoint, **values)
        parts += (name, type(value), value)  # 1 and True are equal keys, not equal URLs
    key = tuple(parts)
    store = app_store(app, "portal.urls", URLS_KEPT)
    try:
        found = store.get(key)
    except TypeError:  # a value that cannot be a key (a list: several values of one argument)
        return flask_url_for(endpoint, **values)
    if found is None:
        found = flask_url_for(endpoint, **values)
        store.put(key, found)
    return found


def theme_stylesheet() -> str | None:
    """The active theme's stylesheet URL (None: a theme without theme.css)."""
    from portal.theming import active_theme

    app = context.app()
    has_css = app.extensions.get("portal.theme_css")
    if has_css is None:  # the theme is chosen at start-up: look once per process
        theme = active_theme(app)
        has_css = theme is not None and (theme.static / "theme.css").is_file()
        app.extensions["portal.theme_css"] = has_css
    return url_for("theme.static", filename="theme.css") if has_css else None


try:  # markupsafe's C escaping, returning text rather than a new Markup object
    from markupsafe import _escape_inner as _escaped_text  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another markupsafe
    def _escaped_text(text: str) -> str:
        return str(escape(text))


def output_escape(value: Any) -> str:
    """What a compiled template calls on each ``{{ value }}`` it writes out.

    Jinja's own (markupsafe's ``escape``) makes a ``Markup`` object of every piece,
    copying it, and copies a macro's ``Markup`` result once more, although the
    pieces are only joined into the page (a block, macro or ``set`` block wraps its
    joined text in ``Markup`` itself). This returns the same escaped text as a plain
    string, and safe markup as it is.
    """
    kind = type(value)
    if kind is str:
        return _escaped_text(value)
    if kind is Markup:
        return value
    return escape(value)


class PortalTemplate(Template):
    """Templates whose output escaping is :func:`output_escape`."""

    @classmethod
    def _from_namespace(cls, environment: Any, namespace: Any, globals: Any) -> Any:
        # The compiled module imported Jinja's ``escape``; its functions look the
        # name up in this namespace when they run.
        namespace["escape"] = output_escape
        return super()._from_namespace(environment, namespace, globals)


def render_fragment(name: str, **values: Any) -> Markup:
    """A piece of a page (a dashboard widget, a slot's markup) from a template that
    uses only the environment's globals (``url_for``, ``_p``, ``csrf_token`` …).

    ``render_template`` would run every context processor again for it (branding,
    the unread count, the translation functions of the page), for a template that
    reads none of them.
    """
    return Markup(context.app().jinja_env.get_template(name).render(values))


def init_app(app: Flask) -> None:
    from portal import branding, theming

    app.jinja_env.template_class = PortalTemplate
    theming.init_app(app)  # the template loader: theme, then plugins, then core
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        can=can,
        country_name=country_name,
        navigation=navigation,
        layout_part=layout_part,
        url_with=url_with,
        url_for=url_for,
        language_choices=language_choices,
        theme_stylesheet=theme_stylesheet,
    )
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime)
    app.jinja_env.filters["money"] = format_currency  # amount|money("EUR"), in the locale's format

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        from portal.notifications import unread_count

        user = context.user()
        return {
            "portal_name": branding.portal_name(),
            "branding": branding.current(),
            "page_lang": locale.replace("_", "-"),
            "current_locale": locale,
            "page_dir": "rtl" if is_rtl(locale) else "ltr",
            "unread_notifications": unread_count(user) if user is not None and user.is_authenticated else 0,
        }
