"""Error pages that leak nothing: no stack traces, no SQL, no internal names."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you entered and try again.")),
    401: (_l("Please log in"), _l("You need to log in to see this page.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or is not available to you.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Conflict"), _l("This change conflicts with the current state. Reload the page and try again.")),
    413: (_l("Too large"), _l("What you sent is larger than this portal accepts.")),
    429: (_l("Too many requests"), _l("You have tried this too often. Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been logged; please try again later.")),
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(code: int, detail: str | None = None) -> Response:
    title, message = MESSAGES.get(code, MESSAGES[500])
    if wants_json() or request.path.startswith("/healthz"):
        return make_response(jsonify(error=str(title), message=detail or str(message)), code)
    template = "errors/partial.html" if request.htmx else "errors/error.html"
    try:
        body = render_template(template, code=code, title=title, message=detail or message)
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        current_app.logger.exception("error page for %s failed to render", code)
        body = f"<!doctype html><title>{code}</title><h1>{code}</h1>"
    return make_response(body, code)


def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
    code = error.code or 500
    detail = None
    # Only our own aborts carry a reason meant for the user (abort(409, _("..."))).
    if code in (400, 409) and getattr(error, "portal_reason", False):
        detail = error.description
    response = render_error(code, detail)
    if code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    return render_error(400, str(_l("Your form expired or was sent from elsewhere. Reload the page and try again.")))


def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, lambda e: handle_unexpected(e.original_exception or e))
    app.register_error_handler(Exception, handle_unexpected)


def conflict(reason: str) -> None:
    """Abort with 409 and a reason shown to the user."""
    from werkzeug.exceptions import Conflict

    error = Conflict(reason)
    error.portal_reason = True  # type: ignore[attr-defined]
    raise error


def bad_request(reason: str) -> None:
    """Abort with 400 and a reason shown to the user."""
    from werkzeug.exceptions import BadRequest

    error = BadRequest(reason)
    error.portal_reason = True  # type: ignore[attr-defined]
    raise error
