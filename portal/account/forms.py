"""Forms of the user's own account page."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.forms import PortalForm, new_password_field


class ChoiceField(SelectField):
    """A select whose unknown values get a message of ours rather than WTForms' own."""

    def __init__(self, label: Any = None, message: Any = None, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.unknown_message = message

    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _label in self.choices or ()}:
            raise ValidationError(self.unknown_message or _l("Choose a value from the list."))


class AccountForm(PortalForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "name"}
    )
    job_title = StringField(
        _l("Job title"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "organization-title"},
    )
    locale = ChoiceField(_l("Language"), message=_l("Choose a language from the list."))
    timezone = ChoiceField(
        _l("Time zone"),
        message=_l("Choose a time zone from the list."),
        description=_l("Dates and times are shown in this time zone."),
    )


class PasswordChangeForm(PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field()
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
