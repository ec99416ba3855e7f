"""Signed, expiring tokens for links sent by email.

* Invitations: the token names an :class:`~portal.models.Invitation` row; the row
  records acceptance and revocation, so a link works once.
* Password reset: the token is bound to a fingerprint of the current password
  hash; setting a new password changes the hash, so a link works once.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.extensions import db
from portal.models import Invitation, User

INVITATION_SALT = "portal.invitation"
RESET_SALT = "portal.password-reset"


class TokenError(Exception):
    """The link is invalid, expired or already used (the reason is in ``kind``)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "invalid" | "expired" | "used"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _password_fingerprint(user: User) -> str:
    material = (user.password_hash or "") + ":" + user.session_token
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def invitation_token(invitation: Invitation) -> str:
    return _serializer(INVITATION_SALT).dumps({"i": invitation.id, "e": invitation.email})


def load_invitation(token: str) -> Invitation:
    try:
        data = _serializer(INVITATION_SALT).loads(
            token, max_age=current_app.config["INVITATION_MAX_AGE"]
        )
    except SignatureExpired as error:
        raise TokenError("expired") from error
    except BadSignature as error:
        raise TokenError("invalid") from error
    invitation = db.session.get(Invitation, data.get("i")) if isinstance(data, dict) else None
    if invitation is None or invitation.email != data.get("e"):
        raise TokenError("invalid")
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise TokenError("used")
    if invitation.is_expired:
        raise TokenError("expired")
    return invitation


def reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"u": user.id, "f": _password_fingerprint(user)})


def load_reset_user(token: str) -> User:
    try:
        data = _serializer(RESET_SALT).loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except SignatureExpired as error:
        raise TokenError("expired") from error
    except BadSignature as error:
        raise TokenError("invalid") from error
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.is_active:
        raise TokenError("invalid")
    if not hmac.compare_digest(_password_fingerprint(user), str(data.get("f"))):
        raise TokenError("used")
    return user
