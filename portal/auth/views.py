"""Log in, log out, reset a forgotten password, accept an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from portal import invitations, mail
from portal.auth.forms import AcceptInvitationForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from portal.auth.tokens import TokenError, load_invitation, load_reset_user, reset_token
from portal.events import emit
from portal.extensions import db
from portal.throttle import client_key, consume, guard, throttle
from portal.forms import normalize_email, set_language_choices
from portal.i18n import select_locale
from portal.models import User, utcnow

bp = Blueprint("auth", __name__)

# Compared against when no account matches, so a miss costs as long as a hit.
_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummys$" + "0" * 128

TOKEN_MESSAGES = {
    "invalid": lambda: _("This link is not valid. Check that you copied all of it."),
    "expired": lambda: _("This link has expired. Ask for a new one."),
    "used": lambda: _("This link has already been used. Ask for a new one if you still need it."),
}


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths: no scheme, no host, no protocol-relative tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target and "\n" not in target


def _login_account_key() -> str:
    return normalize_email(request.form.get("email", ""))[:254]


def start_session(user: User, remember: bool = False) -> None:
    """Log ``user`` in on a fresh session (no fixation: the old one is cleared)."""
    session.clear()
    login_user(user, remember=remember)
    user.last_login_at = utcnow()


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("dashboard.home"))
    form = LoginForm()
    if request.method == "POST":
        # Failures count per client address and per account; successes do not.
        guard("RATELIMIT_LOGIN")
        guard("RATELIMIT_LOGIN_ACCOUNT", _login_account_key())
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.email == form.email.data))
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
        if user is not None and user.check_password(form.password.data):
            if not user.is_active:
                form.email.errors.append(_("This account is deactivated. Contact your administrator."))
            else:
                start_session(user, remember=form.remember.data)
                emit("user.logged_in", user, actor=user, after={"email": user.email})
                db.session.commit()
                return redirect(next_url if is_safe_next(next_url) else url_for("dashboard.home"))
        else:
            form.password.errors.append(_("Email or password is incorrect."))
    if request.method == "POST":
        throttle().hit("RATELIMIT_LOGIN", client_key())
        throttle().hit("RATELIMIT_LOGIN_ACCOUNT", _login_account_key())
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, next=next_url if is_safe_next(next_url) else None), status


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if request.method == "POST":
        consume("RATELIMIT_RESET")
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.email == form.email.data))
        if user is not None and user.is_active:
            mail.deliver(
                mail.render_mail(
                    user.email,
                    "password_reset",
                    user.locale,
                    user=user,
                    link=mail.absolute_url("auth.reset_password", token=reset_token(user)),
                    hours=current_app.config["PASSWORD_RESET_MAX_AGE"] // 3600,
                )
            )
        # The same answer whether or not the account exists.
        flash(
            _("If an account exists for %(email)s, we have sent it a link to choose a new password.",
              email=form.email.data),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    if request.method == "POST":
        consume("RATELIMIT_RESET")
    try:
        user = load_reset_user(token)
    except TokenError as error:
        return render_template("auth/token_error.html", message=TOKEN_MESSAGES[error.kind]()), 400
    form = ResetPasswordForm()
    form._user_email = user.email  # type: ignore[attr-defined]
    if form.validate_on_submit():
        user.set_password(form.password.data)  # rotates the session token: other sessions end
        emit("user.password_reset", user, actor=user, after={"email": user.email})
        start_session(user)
        db.session.commit()
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("dashboard.home"))
    return render_template("auth/reset_password.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        invitation = load_invitation(token)
    except TokenError as error:
        return render_template("auth/token_error.html", message=TOKEN_MESSAGES[error.kind]()), 400
    if invitation.organization is not None and not invitation.organization.is_active:
        return render_template(
            "auth/token_error.html", message=_("This organization is no longer active on the portal.")
        ), 400
    form = AcceptInvitationForm()
    set_language_choices(form.locale)
    if request.method == "GET":
        form.name.data = invitation.name
        form.locale.data = invitation.locale or select_locale()
    form._user_email = invitation.email  # type: ignore[attr-defined]
    if form.validate_on_submit():
        if db.session.scalar(sa.select(User.id).where(User.email == invitation.email)) is not None:
            return render_template(
                "auth/token_error.html", message=_("An account with this email address already exists. Log in instead.")
            ), 409
        if current_user.is_authenticated:
            logout_user()
        user = invitations.accept(invitation, form.name.data, form.password.data, form.locale.data)
        start_session(user)
        db.session.commit()
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(url_for("dashboard.home"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation), 400 if form.errors else 200
