"""The logged-in user's own account: name, job title, language, time zone, password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE_NAME

from portal.account.forms import AccountForm, PasswordChangeForm
from portal.events import emit
from portal.extensions import db
from portal.forms import set_language_choices, set_timezone_choices
from portal.permissions import permission_required
from portal.throttle import guard, throttle

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
@permission_required("account.edit")
def settings():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    form = AccountForm(obj=user)
    set_language_choices(form.locale)
    set_timezone_choices(form.timezone)
    if not form.is_submitted() and user.locale is None:
        form.locale.data = current_app.config["BABEL_DEFAULT_LOCALE"]
    if form.validate_on_submit():
        before = user.audit_state()
        user.name = form.name.data
        user.job_title = form.job_title.data or None
        user.locale = form.locale.data
        user.timezone = form.timezone.data
        if user.audit_state() != before:
            emit("user.updated", user, before=before)
            db.session.commit()
        flash(_("Your account settings have been saved."), "success")
        return redirect(url_for("account.settings"))
    return render_template("account/settings.html", form=form), 400 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@permission_required("account.edit")
def password():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PasswordChangeForm()
    form._user_email = user.email  # type: ignore[attr-defined]  # StrongPassword reads it
    # Guessing the current password from a stolen session is throttled like logins.
    throttle_key = f"password-change:{user.id}"
    if request.method == "POST":
        guard("RATELIMIT_LOGIN_ACCOUNT", throttle_key)
    if form.validate_on_submit():
        if not user.check_password(form.current_password.data):
            throttle().hit("RATELIMIT_LOGIN_ACCOUNT", throttle_key)
            form.current_password.errors.append(_("This is not your current password."))
        else:
            cookie = current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE_NAME)
            remembered = cookie in request.cookies
            user.set_password(form.password.data)  # rotates the session token: other sessions end
            # No password material in the audit log: the hash is not in audit_state().
            emit("user.password_changed", user, before=None, after={"email": user.email})
            # This session carries the old token: log in again with the new one (and
            # renew the remember-me cookie if this device had one).
            login_user(user, remember=remembered)
            db.session.commit()
            flash(
                _("Your password has been changed. You have been logged out everywhere else."),
                "success",
            )
            return redirect(url_for("account.settings"))
    return render_template("account/password.html", form=form), 400 if form.errors else 200
