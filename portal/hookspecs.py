"""Hook specifications: the public API between the portal and its plugins.

A plugin is a module (or object) registered under the entry-point group
``portal.plugins``. It implements any of the hooks below with the
``@hookimpl`` marker::

    from portal import hookimpl

    @hookimpl
    def portal_blueprints():
        return bp

Every hook is called for each loaded plugin separately, inside its own error
guard: a plugin that raises is logged, shown on the admin plugins page, and
skipped, while the other plugins and the core carry on. An implementation may
accept fewer arguments than the specification names, so specifications can
grow without breaking plugins.

The reference in ``docs/plugins.md`` is generated from these docstrings
(``portal plugins docs``); ``tests/test_plugin_docs.py`` fails when a hook is
missing from it.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("portal")


# -- setup -------------------------------------------------------------------

@hookspec
def portal_plugin_info() -> dict[str, Any]:
    """Describe the plugin for the admin plugins page and ``portal plugins list``.

    Called once when the plugin is loaded. Return a mapping with any of
    ``label`` (a short human name), ``description`` (one sentence) and
    ``needs`` (names of other plugins it expects to be loaded too). The version
    comes from the plugin's distribution; it is not declared here.

    Example::

        @hookimpl
        def portal_plugin_info():
            return {"label": _l("Deal registration"),
                    "description": _l("Partners register opportunities.")}
    """


@hookspec
def portal_blueprints() -> Any:
    """Return the plugin's Flask blueprint (or a list of them).

    Called once by the application factory. A blueprint must be named after the
    plugin (``Blueprint("deals", ...)`` for the ``deals`` plugin, or start with
    ``deals_``); it is mounted under ``/p/<plugin name>`` unless it sets its own
    ``url_prefix`` starting with that path. Templates and static files live
    beside it (``template_folder="templates"``); a theme can override them.

    The portal guards every route of the blueprint: a partner whose
    organization has the plugin switched off for all of its programs gets 404.

    Example::

        bp = Blueprint("hello", __name__, template_folder="templates")

        @hookimpl
        def portal_blueprints():
            return bp
    """


@hookspec
def portal_permissions() -> dict[str, Any]:
    """Declare the plugin's permissions and the roles that hold them.

    Called once at start-up. Return ``{"permission.name": [Role, ...]}``; names
    must start with the plugin's name and a dot. Routes then use
    ``@permission_required("hello.view")``, and the authorization tests pick
    them up automatically.

    Example::

        @hookimpl
        def portal_permissions():
            return {"hello.view": [Role.PARTNER_USER, Role.PARTNER_ADMIN]}
    """


@hookspec
def portal_migrations() -> Any:
    """Return the folder holding the plugin's Alembic revisions, or ``None``.

    Called when migrations run. The plugin's history is its own branch, kept
    in its own version table ``alembic_version_<plugin name>``: its first
    revision has ``branch_labels = ("<plugin name>",)`` and
    ``down_revision = None``, and may set ``depends_on`` to the core revision
    it needs (checked against the core's history). ``portal db upgrade``
    upgrades the core, then every loaded plugin's branch. Tables must be
    prefixed with the plugin's name (``hello_greeting``). Unloading a plugin
    never drops its tables; loading it again carries on where it stopped.

    Example::

        @hookimpl
        def portal_migrations():
            return Path(__file__).parent / "migrations"
    """


@hookspec
def portal_cli_commands() -> Any:
    """Return click commands (or groups) to add under ``portal``.

    Called when the command line is built. Name them after the plugin
    (``portal hello ...``).
    """


@hookspec
def portal_settings() -> Any:
    """Declare the plugin's deployment settings as a list of
    :class:`portal.plugins.Setting`.

    A vendor admin edits them on the admin plugins page; values are validated
    by type and stored per deployment. Read them with
    ``portal.plugins.setting("hello", "greeting")``, which falls back to the
    declared default.

    Example::

        @hookimpl
        def portal_settings():
            return [Setting("greeting", _l("Greeting"), type="str", default="Hello"),
                    Setting("limit", _l("Greetings per day"), type="int", default=10)]
    """


@hookspec
def portal_demo_data() -> None:
    """Add the plugin's demo records during ``portal demo``.

    Called inside the demo transaction after the core's demo data exists.
    Must be idempotent: look records up before creating them.
    """


# -- pages -------------------------------------------------------------------

@hookspec
def portal_navigation(user: Any) -> Any:
    """Return navigation items (:class:`portal.templating.NavItem`) for ``user``.

    Called for the signed-in user, only while the plugin is on for one of the
    user's programs (always for vendor staff). Items are still filtered by their
    permission. What it returns may depend on the user's role and organization and
    on settings only: the navigation is built once per worker for each role,
    organization and locale and kept until settings change
    (:mod:`portal.settings_cache`), so a count or anything else that moves between
    requests does not belong in a label.
    """


@hookspec
def portal_dashboard_widgets(user: Any) -> Any:
    """Return dashboard widgets (:class:`portal.plugins.Widget`) for ``user``.

    Called when the home dashboard renders, only while the plugin is on for the
    user. A widget's ``body`` is escaped unless it is ``markupsafe.Markup``
    (for example the result of ``render_template``). Widgets are shown in
    ``priority`` order (lower first).
    """


@hookspec
def portal_template_slot(slot: str, context: dict[str, Any]) -> Any:
    """Return content for the named slot of a core template, or ``None``.

    Slots: ``head``, ``header_after_nav``, ``page_top``, ``page_bottom``,
    ``footer``, ``dashboard_top``, ``organization_profile``. Return a string
    (escaped), ``Markup`` (inserted as is), or a ``(priority, content)`` pair
    to order contributions (lower first; default 100).
    """


# -- domain ------------------------------------------------------------------

@hookspec
def portal_event(event: Any) -> None:
    """React to a domain event (``portal.events.Event``) of the core or a plugin.

    Called in the transaction of the change that raised it, after the audit
    log and notifications. Check ``event.name`` and ignore the rest. Raising
    is logged and does not stop the change. Plugins raise their own events
    with ``portal.events.emit("hello.greeted", subject)``.
    """


@hookspec
def portal_onboarding_steps(organization: Any) -> Any:
    """Return onboarding checklist items for ``organization``.

    Called when a partner's home page renders. Return a
    :class:`portal.onboarding.checklist.ChecklistItem`, a list of them, or
    ``None``.
    """


@hookspec
def portal_tier_metrics() -> Any:
    """Declare tier metrics: numbers measured per organization that tier
    requirements can name (``{"certified_people": 2}``).

    Return a list of :class:`portal.plugins.TierMetric` (``name``, ``label``,
    ``measure(organization) -> number``).
    """


@hookspec
def portal_searchable_documents(since: Any, keys: Any) -> Any:
    """Yield the plugin's searchable documents for the resource search index.

    Called with ``since=None, keys=None`` when the index is rebuilt (yield every
    document), and with ``keys`` — a set of document ids such as
    ``{"hello_greeting:12"}`` — after a change: yield the current document for
    each of those ids that is yours and still searchable; an id that nobody
    yields is removed from the index. Ids are ``"<table name>:<primary key>"``
    of the record the document shows, so an event about that record
    (``emit("hello.greeted", greeting)``) refreshes its document by itself.
    ``since`` (a datetime or ``None``) narrows a call to documents changed since.

    Each document is a mapping:

    * ``id`` (as above), ``kind`` (one of the plugin's kinds, see
      :func:`portal_search_kinds`), ``title``, ``body`` (plain text),
      ``url`` (the page a hit opens), ``language`` (``"de"``, ``"pt_BR"`` …);
    * ``audience``: who may find it, the same rule as the page itself:
      ``"organization"`` (the people of ``organization_id`` and the staff who
      reach it), ``"partners"``, ``"public"``, ``"staff"``,
      ``{"programs": [ids]}`` or ``{"tiers": [ids]}`` (that tier and higher);
    * optional: ``summary``, ``tags`` (list of strings), ``organization_id``,
      ``updated_at`` (datetime; recent documents rank higher) and
      ``permission`` (a permission the user must hold, e.g. ``"deals.view"``).

    The index never shows a plugin's documents to a partner whose programs all
    have the plugin switched off, nor to a user without ``permission``.

    Example::

        @hookimpl
        def portal_searchable_documents(since, keys):
            stmt = sa.select(HelloGreeting)
            if keys is not None:
                ids = [int(k.split(":")[1]) for k in keys if k.startswith("hello_greeting:")]
                stmt = stmt.where(HelloGreeting.id.in_(ids))
            for greeting in db.session.scalars(stmt):
                yield {"id": f"hello_greeting:{greeting.id}", "kind": "hello.greeting", ...}
    """


@hookspec
def portal_search_kinds() -> dict[str, Any]:
    """Name the kinds of documents the plugin puts in the search index.

    Return ``{"hello.greeting": _l("Greetings")}``: the label (translated when
    shown) heads the kind's facet on the search page. Kinds start with the
    plugin's name and a dot.
    """
