"""Form building blocks shared by every screen: normalized email, password policy,
country, language and timezone choices, website URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.geography import country_choices, country_codes
from portal.i18n import language_choices, timezone_choices

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def normalize_email(value: str) -> str:
    return value.strip().lower()


class EmailAddress:
    """Validates syntax (no DNS look-up, the portal may run offline) and normalizes."""

    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            raise ValidationError(_l("Enter a valid email address, like name@example.com.")) from None
        field.data = normalize_email(value)


class StrongPassword:
    def __call__(self, form: Any, field: Any) -> None:
        value = field.data or ""
        if len(value) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                _l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
            )
        if len(value) > MAX_PASSWORD_LENGTH:
            raise ValidationError(_l("Use at most %(count)d characters.", count=MAX_PASSWORD_LENGTH))
        if len(set(value)) < 4:
            raise ValidationError(_l("This password is too easy to guess."))
        email = getattr(getattr(form, "email", None), "data", None) or getattr(form, "_user_email", None)
        if email and email.split("@")[0].lower() in value.lower() and len(email.split("@")[0]) >= 3:
            raise ValidationError(_l("Do not use your email address in your password."))


class WebsiteURL:
    """Accepts ``example.com`` or ``https://example.com/...``; stores an https URL.

    The length is checked after ``https://`` is added, so the stored value fits.
    """

    def __init__(self, max_length: int = 300) -> None:
        self.max_length = max_length

    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if not value:
            field.data = None
            return
        if "://" not in value:
            value = "https://" + value
        parts = urlsplit(value)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or "." not in host or " " in value:
            raise ValidationError(_l("Enter a website address, like example.com."))
        if len(value) > self.max_length:
            raise ValidationError(_l("Use at most %(count)d characters.", count=self.max_length))
        field.data = value


def email_field(label: Any = None, **kwargs: Any) -> StringField:
    return StringField(
        label or _l("Email"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
        render_kw={"autocomplete": "email", "type": "email"},
        **kwargs,
    )


def new_password_field(label: Any = None) -> PasswordField:
    return PasswordField(
        label or _l("New password"),
        validators=[DataRequired(), StrongPassword()],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    )


class CountrySelectField(SelectField):
    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Country"), **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data not in country_codes():
            raise ValidationError(_l("Choose a country from the list."))


def set_country_choices(field: SelectField, blank: bool = True) -> None:
    choices = country_choices()
    field.choices = ([("", _l("Choose a country"))] if blank else []) + choices


def website_field() -> StringField:
    return StringField(_l("Website"), validators=[Optional(), Length(max=300), WebsiteURL()])


def set_language_choices(field: SelectField) -> None:
    field.choices = language_choices()


def set_timezone_choices(field: SelectField) -> None:
    field.choices = [(tz, tz.replace("_", " ")) for tz in timezone_choices()]


class _ReusedCSRF(FlaskForm.Meta.csrf_class):  # type: ignore[misc,name-defined]
    """The form's hidden token is the page's: the session's token signed a few
    minutes ago at most (:func:`portal.security.csrf_token`), not signed again."""

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        from portal.security import csrf_token

        return csrf_token()


class PortalForm(FlaskForm):
    """Base form: strips surrounding whitespace from every text field and refuses
    control characters in them."""

    class Meta:
        csrf_class = _ReusedCSRF

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = unbound_field.kwargs.get("filters", ())
            cls = unbound_field.field_class
            if issubclass(cls, StringField) and not issubclass(cls, PasswordField):
                filters = [_strip, *filters]
            return unbound_field.bind(form=form, filters=filters, **options)

    def validate(self, extra_validators: Any = None) -> bool:
        """Also refuse control characters in text fields (line breaks and tabs are
        text): no one types them, and PostgreSQL cannot store a NUL. A field whose own
        validators already refused its value keeps their message only."""
        valid = super().validate(extra_validators)
        for field in self:
            if (isinstance(field, StringField) and not isinstance(field, PasswordField)
                    and not field.errors and has_control_characters(field.data)):
                field.errors.append(_l("Remove the control characters from this text."))
                valid = False
        return valid


def has_control_characters(value: Any) -> bool:
    return isinstance(value, str) and any(
        (ord(character) < 32 and character not in "\n\r\t") or ord(character) == 127
        for character in value)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value
