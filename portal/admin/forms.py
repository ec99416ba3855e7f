"""Forms of the vendor side: filters for the lists and the forms behind every action.

Filter forms read the query string, never carry a CSRF token, and drop (but show)
any value that does not validate, so a stale or hand-edited URL never fails the page.
Checks that need the database (unique names) live here too, next to the field they
protect, so a view only has to call ``validate_on_submit()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.extensions import db
from portal.forms import (
    CountrySelectField,
    PortalForm,
    email_field,
    set_country_choices,
    website_field,
)
from portal.models import (
    Organization,
    OrganizationStatus,
    PartnerType,
    Program,
    Role,
    Tier,
)

# -- building blocks ----------------------------------------------------------


class ChoiceField(SelectField):
    """A select whose "not a valid choice" message is the portal's own (translated)."""

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Choose one of the options in the list.")) from None


class DayField(DateField):
    """A ``<input type=date>`` with a translated message for impossible dates."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date like 2025-01-31.")) from None


class FilterForm(PortalForm):
    """Filters from the query string: ``SomeFilterForm(formdata=request.args)``."""

    class Meta:
        csrf = False

    def cleaned(self) -> dict[str, Any]:
        """The filters that validated and are not blank; the others are ignored."""
        self.validate()
        return {
            name: field.data
            for name, field in self._fields.items()
            if not field.errors and field.data not in (None, "")
        }


def _choices(pairs: Any, blank: Any) -> list[tuple[str, Any]]:
    return [("", blank), *((str(value), label) for value, label in pairs)]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class OrganizationFilterField(ChoiceField):
    """``?organization=<id>``: a select of the organizations in reach while they are few
    (see ``portal.admin.common.organization_choices``); with many, the same argument
    arrives from links only, and its only choice is the organization it names."""

    searchable = False

    def pre_validate(self, form: Any) -> None:
        if not self.searchable:
            super().pre_validate(form)
        elif self.data and self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("Unknown organization."))

    @property
    def selected_label(self) -> Any:
        """The name of the chosen organization, for "Showing only …" in search mode."""
        return next((label for value, label in self.choices if value and value == self.data), None)


def organization_name_field() -> StringField:
    return StringField(_l("Organization name"), validators=[Optional(), Length(max=200)],
                       filters=[_strip], render_kw={"type": "search"})


def set_organization_filter(form: Any, organizations: Any) -> None:
    """Set up ``form.organization`` / ``form.organization_name`` for an
    :class:`~portal.admin.common.OrganizationChoices`: a select, or a name search
    (the name field is removed while the select is shown)."""
    form.organization.searchable = organizations.searchable
    form.organization.choices = _choices(organizations.choices, _l("Any organization"))
    if not organizations.searchable:
        del form.organization_name


def program_choices(blank: Any) -> list[tuple[str, Any]]:
    rows = db.session.execute(sa.select(Program.id, Program.name).order_by(Program.name))
    return _choices(rows, blank)


def tier_choices(blank: Any) -> list[tuple[str, Any]]:
    """Every tier, labelled "Program: Tier", in program and rank order."""
    rows = db.session.execute(
        sa.select(Tier.id, Program.name, Tier.name).join(Tier.program).order_by(Program.name, Tier.rank)
    )
    return _choices(((tier_id, f"{program}: {tier}") for tier_id, program, tier in rows), blank)


def enum_choices(enum_cls: Any, blank: Any = None) -> list[tuple[str, Any]]:
    pairs = [(member.value, member.label) for member in enum_cls]
    return _choices(pairs, blank) if blank is not None else pairs


def _name_taken(model: Any, column: Any, value: str, exclude_id: int | None, *where: Any) -> bool:
    stmt = sa.select(model.id).where(column == value, *where)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


# -- organizations ------------------------------------------------------------


class OrganizationFilterForm(FilterForm):
    q = StringField(_l("Search by name"), validators=[Optional(), Length(max=200)],
                    render_kw={"type": "search"})
    status = ChoiceField(_l("Status"), default="")
    program = ChoiceField(_l("Program"), default="")
    tier = ChoiceField(_l("Tier"), default="")
    country = ChoiceField(_l("Country"), default="")
    partner_type = ChoiceField(_l("Partner type"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from portal.geography import country_choices

        self.status.choices = enum_choices(OrganizationStatus, _l("Any status"))
        self.program.choices = program_choices(_l("Any program"))
        self.tier.choices = tier_choices(_l("Any tier"))
        self.country.choices = [("", _l("Any country")), *country_choices()]
        self.partner_type.choices = enum_choices(PartnerType, _l("Any type"))


class OrganizationForm(PortalForm):
    """An organization's profile. ``organization`` is the one being edited, if any."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    website = website_field()
    country = CountrySelectField()
    partner_type = ChoiceField(_l("Partner type"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)],
                        render_kw={"type": "tel", "autocomplete": "tel"})

    def __init__(self, *args: Any, organization: Organization | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=organization, **kwargs)
        self._organization = organization
        set_country_choices(self.country)
        self.partner_type.choices = enum_choices(PartnerType, _l("Choose a partner type"))
        if organization is not None and not self.is_submitted():
            self.partner_type.data = organization.partner_type.value

    def validate_name(self, field: StringField) -> None:
        key = Organization.key_for(field.data or "")
        exclude = self._organization.id if self._organization else None
        if _name_taken(Organization, Organization.name_key, key, exclude):
            raise ValidationError(_l("An organization with this name already exists."))

    def validate_partner_type(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a partner type."))

    def apply_to(self, organization: Organization) -> None:
        organization.set_name(self.name.data)
        organization.website = self.website.data or None
        organization.country = self.country.data
        organization.partner_type = PartnerType(self.partner_type.data)
        organization.description = self.description.data or None
        organization.phone = self.phone.data or None


class _ProgramAndTier:
    """Shared checks of a ``program`` select with an optional ``tier`` select."""

    program: SelectField
    tier: SelectField

    def validate_tier(self, field: SelectField) -> None:
        if field.data and not self.program.data:
            raise ValidationError(_l("Choose the program this tier belongs to."))
        if field.data and self.program.data and not _tier_in_program(field.data, self.program.data):
            raise ValidationError(_l("This tier belongs to another program."))
        if self.program.data and not field.data and _entry_tier(self.program.data) is None:
            raise ValidationError(_l("This program has no tiers yet."))

    def chosen_tier(self) -> Tier | None:
        """The tier to join at: the chosen one, else the program's entry tier."""
        if not self.program.data:
            return None
        if self.tier.data:
            return db.session.get(Tier, int(self.tier.data))
        return _entry_tier(self.program.data)


class NewOrganizationForm(_ProgramAndTier, OrganizationForm):
    """A new organization, optionally with its first program membership."""

    program = ChoiceField(_l("Program"), default="")
    tier = ChoiceField(_l("Tier"), default="",
                       description=_l("Leave empty to start at the program's entry tier."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program.choices = program_choices(_l("No program yet"))
        self.tier.choices = tier_choices(_l("Entry tier"))

def _tier_in_program(tier_id: str, program_id: str) -> bool:
    tier = db.session.get(Tier, int(tier_id))
    return tier is not None and tier.program_id == int(program_id)


def _entry_tier(program_id: str) -> Tier | None:
    return db.session.scalars(
        sa.select(Tier).where(Tier.program_id == int(program_id)).order_by(Tier.rank).limit(1)
    ).first()


class MembershipForm(_ProgramAndTier, PortalForm):
    """Add the organization to a program at a tier (empty tier: the entry tier)."""

    program = ChoiceField(_l("Program"), default="")
    tier = ChoiceField(_l("Tier"), default="",
                       description=_l("Leave empty to start at the program's entry tier."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="membership", **kwargs)
        self.program.choices = program_choices(_l("Choose a program"))
        self.tier.choices = tier_choices(_l("Entry tier"))

    def validate_program(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a program."))


class TierChangeForm(PortalForm):
    """The new tier of a membership; the view checks it belongs to the program."""

    tier = IntegerField(_l("Tier"), validators=[InputRequired()])


class ManagerAssignForm(PortalForm):
    manager = ChoiceField(_l("Channel manager"), default="")

    def __init__(self, *args: Any, managers: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, prefix="assign", **kwargs)
        self.manager.choices = _choices(
            ((m.id, f"{m.name} <{m.email}>") for m in managers), _l("Choose a channel manager")
        )

    def validate_manager(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a channel manager."))


PARTNER_ROLE_CHOICES = (Role.PARTNER_USER, Role.PARTNER_ADMIN)
STAFF_ROLE_CHOICES = (Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN)


class InviteForm(PortalForm):
    email = email_field()
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)],
                       render_kw={"autocomplete": "off"})
    role = ChoiceField(_l("Role"))

    roles: tuple[Role, ...] = PARTNER_ROLE_CHOICES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, r.label) for r in self.roles]
        if not self.is_submitted():
            self.role.data = self.roles[0].value


class PartnerInviteForm(InviteForm):
    """Invite a partner user or partner admin to one organization."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="invite", **kwargs)


class StaffInviteForm(InviteForm):
    """Invite a channel manager or vendor admin (vendor staff have no organization)."""

    roles = STAFF_ROLE_CHOICES


# -- users --------------------------------------------------------------------


class UserFilterForm(FilterForm):
    q = StringField(_l("Search by name or email"), validators=[Optional(), Length(max=254)],
                    render_kw={"type": "search"})
    role = ChoiceField(_l("Role"), default="")
    organization = OrganizationFilterField(_l("Organization"), default="")
    organization_name = organization_name_field()
    active = ChoiceField(_l("Account"), default="")

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = enum_choices(Role, _l("Any role"))
        set_organization_filter(self, organizations)
        self.active.choices = [("", _l("Active or not")), ("yes", _l("Active")),
                               ("no", _l("Deactivated"))]


class RoleForm(PortalForm):
    role = ChoiceField(_l("Role"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = PARTNER_ROLE_CHOICES if user.is_partner else STAFF_ROLE_CHOICES
        self.role.choices = [(r.value, r.label) for r in roles]
        if not self.is_submitted():
            self.role.data = user.role.value


# -- programs and tiers -------------------------------------------------------


class ProgramForm(PortalForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    accepts_applications = BooleanField(
        _l("Accepts applications"), default=True,
        description=_l("Offered on the public “Become a partner” form."),
    )
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args: Any, program: Program | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=program, **kwargs)
        self._program = program

    def validate_name(self, field: StringField) -> None:
        field.data = " ".join((field.data or "").split())
        exclude = self._program.id if self._program else None
        if _name_taken(Program, sa.func.lower(Program.name), field.data.lower(), exclude):
            raise ValidationError(_l("A program with this name already exists."))


class NewProgramForm(ProgramForm):
    entry_tier = StringField(
        _l("Entry tier"), validators=[DataRequired(), Length(max=80)], default=_l("Registered"),
        description=_l("Every program starts with one tier; add more after creating it."),
    )


class TierForm(PortalForm):
    """A tier's name and description, unique by name within its program."""

    name = StringField(_l("Tier name"), validators=[DataRequired(), Length(max=80)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args: Any, program: Program, tier: Tier | None = None, **kwargs: Any) -> None:
        super().__init__(*args, obj=tier, **kwargs)
        self._program = program
        self._tier = tier

    def validate_name(self, field: StringField) -> None:
        field.data = " ".join((field.data or "").split())
        exclude = self._tier.id if self._tier else None
        if _name_taken(Tier, sa.func.lower(Tier.name), field.data.lower(), exclude,
                       Tier.program_id == self._program.id):
            raise ValidationError(_l("This program already has a tier with this name."))


REQUIREMENT_LINE = re.compile(r"^([a-z_]+)\s*=\s*(\S+)$")
NUMBER = re.compile(r"^\d+(\.\d+)?$")


def parse_requirements(text: str) -> tuple[dict[str, int | float], list[str]]:
    """``key = number`` lines → ({key: number}, errors). Blank and ``#`` lines are skipped."""
    from flask_babel import gettext as _

    requirements: dict[str, int | float] = {}
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = REQUIREMENT_LINE.match(line)
        if not match:
            errors.append(_("Line %(line)d: write “name = number”, the name in lower-case letters "
                            "and underscores.", line=number))
            continue
        key, value = match.groups()
        if not NUMBER.match(value):
            errors.append(_("Line %(line)d: “%(value)s” is not a number of zero or more.",
                            line=number, value=value))
            continue
        if key in requirements:
            errors.append(_("Line %(line)d: “%(key)s” is given twice.", line=number, key=key))
            continue
        requirements[key] = float(value) if "." in value else int(value)
    return requirements, errors


def format_requirements(requirements: dict[str, Any] | None) -> str:
    return "\n".join(f"{key} = {value}" for key, value in sorted((requirements or {}).items()))


class TierEditForm(TierForm):
    requirements = TextAreaField(
        _l("Requirements"),
        description=_l("One per line, like “certified_people = 2”. Leave empty for none."),
        render_kw={"spellcheck": "false"},
    )

    def __init__(self, *args: Any, program: Program, tier: Tier, **kwargs: Any) -> None:
        super().__init__(*args, program=program, tier=tier, **kwargs)
        if not self.is_submitted():
            self.requirements.data = format_requirements(tier.requirements)
        self.parsed_requirements: dict[str, int | float] = {}

    def validate_requirements(self, field: TextAreaField) -> None:
        if len(field.data or "") > 5000:
            raise ValidationError(_l("Keep the requirements under 5000 characters."))
        self.parsed_requirements, errors = parse_requirements(field.data or "")
        if errors:
            raise ValidationError(" ".join(errors))


# -- audit log ----------------------------------------------------------------


class AuditFilterForm(FilterForm):
    event = ChoiceField(_l("Event"), default="")
    actor = StringField(_l("Actor email"), validators=[Optional(), Length(max=254)],
                        render_kw={"type": "search"})
    organization = OrganizationFilterField(_l("Organization"), default="")
    organization_name = organization_name_field()
    date_from = DayField(_l("From"))
    date_to = DayField(_l("To"))

    def __init__(self, *args: Any, events: Any = (), organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event.choices = _choices(((e, e) for e in events), _l("Any event"))
        set_organization_filter(self, organizations)

    def validate_date_to(self, field: DayField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
