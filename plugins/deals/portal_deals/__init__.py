"""Deal registration: partners protect their opportunities, channel managers
approve them, conflicts are caught and explained.

The portal's first built-in plugin, installed with the portal itself and found
like any other through its entry point (``deals = "portal_deals"`` in the
``portal.plugins`` group). Enable it with ``PLUGINS = ["deals"]`` (``portal demo``
does so by itself), run ``portal db upgrade``, then switch it on per program.

This module only wires the plugin into the portal: each hook hands over to the
module that owns the feature (models, services, views, review, widgets, search,
notify, cli, demo). See ``docs/deals.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import current_app, request, url_for
from markupsafe import Markup

from portal import hookimpl
from portal.models import Role
from portal.onboarding.checklist import ChecklistItem
from portal.permissions import can
from portal.plugins import Setting, TierMetric, Widget
from portal.templating import NavItem
from portal_deals import notify, queries, review, search, views, widgets  # noqa: F401 (routes)
from portal_deals.blueprint import bp
from portal_deals.cli import deals_group
from portal_deals.i18n import _, _l

NAME = "deals"
HERE = Path(__file__).resolve().parent

PARTNERS = [Role.PARTNER_USER, Role.PARTNER_ADMIN]
STAFF = [Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN]


# -- setup ---------------------------------------------------------------------------

@hookimpl
def portal_plugin_info() -> dict[str, Any]:
    return {
        "label": _l("Deal registration"),
        "description": _l("Partners register opportunities to protect them; channel managers "
                          "review them, with conflicts caught and explained."),
    }


@hookimpl
def portal_blueprints() -> Any:
    return bp


@hookimpl
def portal_permissions() -> dict[str, Any]:
    return {
        "deals.view": PARTNERS + STAFF,
        "deals.register": PARTNERS,
        "deals.comment": PARTNERS + STAFF,
        # A partner admin deletes what a colleague of the organization attached
        # (while the registration is open; see services.attachment_deletion_refusal).
        "deals.colleague_attachments": [Role.PARTNER_ADMIN],
        "deals.export": PARTNERS + STAFF,
        "deals.review": STAFF,
        # Internal notes on a registration: vendor staff only, never shown to partners.
        "deals.staff_note": STAFF,
        # Deleting another author's staff note (an author edits and deletes their own).
        "deals.staff_note_moderate": [Role.VENDOR_ADMIN],
        "deals.configure": [Role.VENDOR_ADMIN],
    }


@hookimpl
def portal_migrations() -> Path:
    return HERE / "migrations"


@hookimpl
def portal_cli_commands() -> Any:
    return deals_group


@hookimpl
def portal_settings() -> list[Setting]:
    return [
        Setting("reporting_currency", _l("Reporting currency"), "str", default="EUR",
                help=_l("Won values are summed in this currency (dashboard, tier metric).")),
        Setting("exchange_rates", _l("Exchange rates"), "str",
                default="USD=0.92 GBP=1.17 CAD=0.68 MXN=0.054 SGD=0.69 JPY=0.0062 BRL=0.17 CHF=1.05",
                help=_l("One unit of each currency in the reporting currency, like USD=0.92. "
                        "Partners may register deals in these currencies.")),
        Setting("reminder_days", _l("Remind partners this many days before protection ends"), "int",
                default=14),
    ]


@hookimpl
def portal_demo_data() -> None:
    from portal_deals import demo

    demo.seed()


# -- pages -----------------------------------------------------------------------------

@hookimpl
def portal_navigation(user: Any) -> list[NavItem]:
    items = [NavItem("deals.index", _l("Deals"), "deals.view", "partner", "deals.")]
    if user.is_staff:
        items = [
            NavItem("deals.queue", _l("Deal reviews"), "deals.review", "vendor", "deals.queue"),
            NavItem("deals.index", _l("Deals"), "deals.view", "vendor", "deals.index"),
            NavItem("deals.rules", _l("Deal rules"), "deals.configure", "vendor", "deals.rules"),
        ]
    return items


@hookimpl
def portal_dashboard_widgets(user: Any) -> Widget | None:
    if user.is_partner and can(user, "deals.view"):
        return Widget(title=_("Deal registrations"), body=widgets.partner_widget(user), priority=20)
    if can(user, "deals.review"):
        return Widget(title=_("Deal reviews"), body=widgets.staff_widget(user), priority=20)
    return None


@hookimpl
def portal_template_slot(slot: str, context: dict[str, Any]) -> Any:
    if slot == "head":
        return _stylesheet_link()
    return None


def _stylesheet_link() -> Markup:
    # The same on every page of a deployment (per mount point): built once per app.
    kept = current_app.extensions.setdefault("deals.stylesheet_link", {})
    link = kept.get(request.script_root)
    if link is None:
        link = kept[request.script_root] = Markup('<link rel="stylesheet" href="{}">').format(
            url_for("deals.static", filename="deals.css"))
    return link


# -- domain ------------------------------------------------------------------------------

@hookimpl
def portal_event(event: Any) -> None:
    notify.on_event(event)


@hookimpl
def portal_onboarding_steps(organization: Any) -> ChecklistItem:
    return ChecklistItem(key="deals.first_registration", label=_("Register your first deal"),
                         done=queries.has_registered(organization.id), url=url_for("deals.new"))


def won_deal_value(organization: Any) -> float:
    return float(queries.won_last_twelve_months(organization.id)[0])


def won_deals(organization: Any) -> int:
    return queries.won_last_twelve_months(organization.id)[1]


@hookimpl
def portal_tier_metrics() -> list[TierMetric]:
    # Named as the tier requirements of the portal's programs name them
    # (``won_deal_value = 250000``), in the reporting currency, over twelve months.
    return [TierMetric("won_deal_value", _l("Won deal value, last 12 months"), won_deal_value),
            TierMetric("won_deals", _l("Deals won, last 12 months"), won_deals)]


@hookimpl
def portal_searchable_documents(since: Any, keys: Any) -> Iterator[dict[str, Any]]:
    return search.documents(since, keys)


@hookimpl
def portal_search_kinds() -> dict[str, Any]:
    return dict(search.KINDS)
