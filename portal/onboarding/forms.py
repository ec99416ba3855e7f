"""Forms of the onboarding flow: the public application and the reviewer's decisions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.extensions import db
from portal.forms import (
    CountrySelectField,
    PortalForm,
    WebsiteURL,
    email_field,
    set_country_choices,
)
from portal.models import PartnerType, Program, Role, User

MAX_MESSAGE_LENGTH = 2000
# Loose on purpose: people write numbers in many ways; we only keep out letters and markup.
PHONE_PATTERN = r"^[0-9 +\-()]{6,40}$"


class ListSelectField(SelectField):
    """A select whose submitted value must be one of its choices, with a clear message.

    The blank choice passes here and is then refused by ``DataRequired`` when the
    field is required.
    """

    def __init__(self, label: Any = None, invalid_message: Any = None, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.invalid_message = invalid_message or _l("Choose an option from the list.")

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        if self.data not in {str(value) for value, _label in self.choices or ()}:
            raise ValidationError(self.invalid_message)


def open_programs() -> list[Program]:
    """Programs the public form offers: active and accepting applications."""
    return list(
        db.session.scalars(
            sa.select(Program)
            .where(Program.active.is_(True), Program.accepts_applications.is_(True))
            .order_by(Program.name)
        )
    )


class ApplicationForm(PortalForm):
    company_name = StringField(
        _l("Company name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    website = StringField(
        _l("Website"),
        # Checked again after WebsiteURL, which may prepend "https://".
        validators=[DataRequired(), Length(max=300), WebsiteURL(), Length(max=300)],
        render_kw={"autocomplete": "url", "inputmode": "url"},
        description=_l("For example example.com"),
    )
    country = CountrySelectField(_l("Country"), validators=[DataRequired()])
    partner_type = ListSelectField(
        _l("Type of partner"),
        validators=[DataRequired()],
        invalid_message=_l("Choose a partner type from the list."),
    )
    program_id = ListSelectField(
        _l("Program"),
        validators=[DataRequired()],
        invalid_message=_l("Choose a program from the list."),
    )
    contact_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    contact_email = email_field(_l("Your email"))
    contact_phone = StringField(
        _l("Phone (optional)"),
        validators=[
            Optional(),
            Length(min=6, max=40, message=_l("Enter between 6 and 40 characters.")),
            Regexp(
                PHONE_PATTERN,
                message=_l("Use only digits, spaces and + - ( )."),
            ),
        ],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    message = TextAreaField(
        _l("Message (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_MESSAGE_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l(
            "Tell us about your company, your customers and what you would like to do with us."
        ),
        render_kw={"maxlength": MAX_MESSAGE_LENGTH, "rows": 6},
    )
    consent = BooleanField(
        _l("I agree that these details are stored and used to review my application."),
        validators=[
            DataRequired(message=_l("Please agree so that we can review your application."))
        ],
    )
    # The honeypot: hidden by CSS, so people leave it empty and form-filling bots do not.
    fax = StringField(
        _l("Leave this empty"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )

    def __init__(self, *args: Any, programs: list[Program] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_country_choices(self.country)
        self.partner_type.choices = [("", _l("Choose a type"))] + [
            (t.value, t.label) for t in PartnerType
        ]
        programs = open_programs() if programs is None else programs
        self.program_id.choices = [("", _l("Choose a program"))] + [
            (str(p.id), p.name) for p in programs
        ]
        if len(programs) == 1 and not self.is_submitted():
            self.program_id.data = str(programs[0].id)

    @property
    def is_bot(self) -> bool:
        return bool(self.fax.data)


def active_channel_managers() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.CHANNEL_MANAGER, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


class ApproveForm(PortalForm):
    manager_id = ListSelectField(
        _l("Channel manager"),
        validators=[Optional()],
        invalid_message=_l("Choose a channel manager from the list."),
        description=_l("Who looks after the new partner. You can change this later."),
    )

    def __init__(self, *args: Any, reviewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.managers = {m.id: m for m in active_channel_managers()}
        self.manager_id.choices = [("", _l("Assign later"))] + [
            (str(m.id), f"{m.name} ({m.email})") for m in self.managers.values()
        ]
        unposted = getattr(self.manager_id, "raw_data", None) is None
        if unposted and reviewer.role is Role.CHANNEL_MANAGER:
            self.manager_id.data = str(reviewer.id)

    @property
    def manager(self) -> User | None:
        return self.managers.get(int(self.manager_id.data)) if self.manager_id.data else None


class RejectForm(PortalForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Tell the applicant why.")),
            Length(max=MAX_MESSAGE_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("The applicant receives this reason by email."),
        render_kw={"maxlength": MAX_MESSAGE_LENGTH, "rows": 4},
    )
