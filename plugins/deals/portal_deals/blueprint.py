"""The plugin's blueprint (mounted under ``/p/deals``) and what its views share."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, request

from portal.errors import conflict
from portal_deals.services import ClaimTaken, TransitionRefused

bp = Blueprint("deals", __name__, template_folder="templates", static_folder="static")

#: The pre-check's throttle (a ``limits`` string; per user).
PRECHECK_LIMIT_SETTING = "DEALS_RATELIMIT_PRECHECK"


@bp.record
def _defaults(state: Any) -> None:
    """Per app (a module-level blueprint serves every app of the process)."""
    state.app.config.setdefault(PRECHECK_LIMIT_SETTING, "60 per hour")


def refusals_are_conflicts(view: Callable[..., Any]) -> Callable[..., Any]:
    """An impossible change answers 409 with its reason; nothing was changed."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        from portal.extensions import db

        try:
            return view(*args, **kwargs)
        except TransitionRefused as refused:
            db.session.rollback()
            conflict(refused.message)
        except ClaimTaken:
            db.session.rollback()
            from portal_deals.i18n import _

            conflict(_("Another registration already protects this customer for one of these "
                       "products. Reject this one, or wait until the other one closes."))

    return wrapped


def wants_fragment() -> bool:
    return bool(getattr(request, "htmx", None)) and not request.htmx.history_restore_request
