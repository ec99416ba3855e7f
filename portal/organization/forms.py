"""Forms of the partner's organization profile and team pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.forms import CountrySelectField, PortalForm, email_field, website_field
from portal.models import Role

#: The roles a partner admin may give a colleague.
TEAM_ROLES = (Role.PARTNER_USER, Role.PARTNER_ADMIN)


def team_role_choices() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in TEAM_ROLES]


class OrganizationForm(PortalForm):
    name = StringField(
        _l("Organization name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    website = website_field()
    country = CountrySelectField()
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^\+?[0-9][0-9 ()./-]*$", message=_l("Enter a phone number, like +49 30 1234567.")),
        ],
        render_kw={"autocomplete": "tel", "type": "tel"},
    )
    description = TextAreaField(
        _l("About the organization"), validators=[Optional(), Length(max=5000)]
    )


class InviteForm(PortalForm):
    email = email_field()
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), default=Role.PARTNER_USER.value)
    locale = SelectField(_l("Language of the invitation"))
    # No organization field on purpose: a partner admin invites to their own
    # organization only, whatever a forged request sends.

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = team_role_choices()


class RoleForm(PortalForm):
    role = SelectField(_l("Role"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = team_role_choices()
