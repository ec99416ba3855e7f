"""The plugin's forms. Every field is validated with a message beside it; a form
that does not validate changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal
from wtforms import (DateField, DecimalField, HiddenField, IntegerField,
                     SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from portal.extensions import db
from portal.forms import (CountrySelectField, EmailAddress, PortalForm, WebsiteURL,
                          has_control_characters, set_country_choices)
from portal.models import Tier, utcnow
from portal_deals import matching
from portal_deals.i18n import _, _l
from portal_deals.models import NAME_MAX, REASON_MAX, STAFF_NOTE_MAX, TEXT_MAX, DealProduct
from portal_deals.rules import (MAX_EXTENSION_DAYS, MAX_EXTENSIONS, MAX_EXTRA_FIELDS,
                                MAX_PROTECTION_DAYS, Rules, accepted_currencies)
from portal_deals.services import RegistrationData

#: The largest deal value the portal believes (anything above is a typo).
MAX_VALUE = Decimal("1000000000")
#: How far ahead a close date may be.
MAX_CLOSE_YEARS = 5

INDUSTRIES = (
    ("agriculture", _l("Agriculture")),
    ("automotive", _l("Automotive")),
    ("construction", _l("Construction")),
    ("education", _l("Education")),
    ("energy", _l("Energy and utilities")),
    ("financial_services", _l("Financial services")),
    ("government", _l("Government and public sector")),
    ("healthcare", _l("Healthcare")),
    ("hospitality", _l("Hospitality and travel")),
    ("manufacturing", _l("Manufacturing")),
    ("media", _l("Media and entertainment")),
    ("nonprofit", _l("Non-profit")),
    ("professional_services", _l("Professional services")),
    ("retail", _l("Retail and consumer goods")),
    ("technology", _l("Technology")),
    ("telecommunications", _l("Telecommunications")),
    ("transport", _l("Transport and logistics")),
    ("other", _l("Other")),
)
INDUSTRY_LABELS = dict(INDUSTRIES)

LOST_REASONS = (
    ("price", _l("Price")),
    ("competitor", _l("Lost to a competitor")),
    ("no_decision", _l("No decision")),
    ("budget", _l("No budget")),
    ("timing", _l("Timing")),
    ("other", _l("Other")),
)
LOST_REASON_LABELS = dict(LOST_REASONS)

#: Fields a program may make required (the others always are).
OPTIONAL_FIELDS = (
    ("customer_website", _l("Customer website")),
    ("customer_industry", _l("Industry")),
    ("contact_phone", _l("Contact phone")),
    ("description", _l("Description")),
)
OPTIONAL_FIELD_LABELS = dict(OPTIONAL_FIELDS)

_PHONE = re.compile(r"\+?[0-9 ()./-]{6,30}")
_EXTRA_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Phone:
    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if not value:
            field.data = None
            return
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.fullmatch(value) or not 6 <= digits <= 15:
            raise ValidationError(_l("Enter a phone number, like +49 30 1234567."))


class CompanyName:
    def __call__(self, form: Any, field: Any) -> None:
        if field.data and not matching.company_key(field.data).strip():
            raise ValidationError(_l("Enter the customer's company name."))
        if field.data and not any(ch.isalnum() for ch in field.data):
            raise ValidationError(_l("Enter the customer's company name."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        known = {str(value) for value, _label in self.choices or ()}
        if any(str(value) not in known for value in self.data or ()):
            raise ValidationError(_l("Choose products from the catalogue."))


class ProductsField(MultiCheckboxField):
    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            self.data = [int(v) for v in valuelist]
        except ValueError:
            self.data = []
            raise ValueError(_l("Choose products from the catalogue.")) from None


class AmountField(DecimalField):
    """A money amount (a text input: "25 000" is fine); what is not a number gets
    a message that says so."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            valuelist = [valuelist[0].replace(" ", "").replace("\u00a0", "")]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter an amount in digits, like 25000 or 25000.50.")) from None
        if self.data is not None:
            if not self.data.is_finite():
                self.data = None
                raise ValueError(_l("Enter an amount in digits, like 25000 or 25000.50."))
            if abs(self.data) > MAX_VALUE * 1000:
                return  # absurd: validate_* says so with the allowed range
            try:
                self.data = self.data.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            except InvalidOperation:
                self.data = None
                raise ValueError(_l("Enter an amount in digits, like 25000 or 25000.50.")) from None


class CloseDateField(DateField):
    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date, like 2027-03-31.")) from None


class RegistrationForm(PortalForm):
    """The deal: its customer, contact, products, value and close date. Built for one
    program (:func:`registration_form`), whose rules add required and extra fields."""

    program_id = HiddenField()
    customer_name = StringField(_l("Customer company"), validators=[
        DataRequired(), Length(max=NAME_MAX), CompanyName()],
        description=_l("The end customer's legal or trading name."))
    customer_website = StringField(_l("Customer website"), validators=[
        Optional(), Length(max=300), WebsiteURL()],
        description=_l("Helps us recognize the customer, like acme.com."))
    customer_country = CountrySelectField(_l("Customer country"))
    customer_industry = SelectField(_l("Industry"), validators=[Optional()])
    contact_name = StringField(_l("Contact name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    contact_email = StringField(_l("Contact email"), validators=[DataRequired(), Length(max=254),
                                                                 EmailAddress()],
                                render_kw={"type": "email", "autocomplete": "off"})
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40), Phone()])
    products = ProductsField(_l("Products"), coerce=int)
    value = AmountField(_l("Estimated value"), places=2, validators=[InputRequired(
        message=_l("Enter the estimated value, like 25000."))],
        render_kw={"inputmode": "decimal"})
    currency = SelectField(_l("Currency"))
    expected_close = CloseDateField(_l("Expected close date"), validators=[DataRequired(
        message=_l("Enter a date, like 2027-03-31."))], render_kw={"type": "date"})
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=TEXT_MAX)],
                                description=_l("The need, the project, who decides."),
                                render_kw={"rows": 4})

    def setup(self, rules: Rules) -> None:
        self.rules = rules
        set_country_choices(self.customer_country)
        self.customer_industry.choices = [("", _("Choose an industry")), *INDUSTRIES]
        products = db.session.scalars(
            sa.select(DealProduct).where(DealProduct.active.is_(True)).order_by(DealProduct.name))
        self.products.choices = [(p.id, p.name) for p in products]
        self.currency.choices = [(code, code) for code in accepted_currencies()]
        for name in rules.required_fields:
            field = getattr(self, name, None)
            if field is not None:
                field.flags.required = True
        self.extra_fields = []
        for spec in rules.extra_fields:
            self.extra_fields.append(ExtraField(spec, self))

    def validate_products(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one product."))

    def validate_value(self, field: Any) -> None:
        if field.data is None:
            return
        if field.data <= 0 or field.data > MAX_VALUE:
            raise ValidationError(_("Enter an amount between 0.01 and %(max)s.",
                                    max=format_decimal(MAX_VALUE)))

    def validate_currency(self, field: Any) -> None:
        if field.data not in {code for code, _label in self.currency.choices}:
            raise ValidationError(_l("Choose a currency from the list."))

    def validate_expected_close(self, field: Any) -> None:
        if field.data is None:
            return
        today = utcnow().date()
        if field.data < today:
            raise ValidationError(_l("The expected close date is in the past."))
        if field.data > today + timedelta(days=366 * MAX_CLOSE_YEARS):
            raise ValidationError(_("Choose a date within %(years)d years.", years=MAX_CLOSE_YEARS))

    def validate_customer_industry(self, field: Any) -> None:
        if field.data and field.data not in INDUSTRY_LABELS:
            raise ValidationError(_l("Choose an industry from the list."))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for name in self.rules.required_fields:
            field = getattr(self, name, None)
            if field is None or field.errors:
                continue
            value = field.data
            if value is None or (isinstance(value, str) and not value.strip()):
                field.errors = [*field.errors, _("This program requires this field.")]
                valid = False
        for extra in self.extra_fields:
            valid = extra.validate() and valid
        return valid

    def data_out(self, program_id: int) -> RegistrationData:
        return RegistrationData(
            program_id=program_id,
            customer_name=" ".join(self.customer_name.data.split()),
            customer_website=self.customer_website.data or None,
            customer_country=self.customer_country.data,
            customer_industry=self.customer_industry.data or None,
            contact_name=self.contact_name.data,
            contact_email=self.contact_email.data,
            contact_phone=self.contact_phone.data or None,
            product_ids=list(self.products.data),
            value=self.value.data,
            currency=self.currency.data,
            expected_close=self.expected_close.data,
            description=self.description.data or None,
            extra={extra.key: extra.value for extra in self.extra_fields if extra.value},
        )

    def fill(self, registration: Any) -> None:
        """Show an existing registration in the form (GET of the edit page)."""
        for name in ("customer_name", "customer_website", "customer_country", "customer_industry",
                     "contact_name", "contact_email", "contact_phone", "value", "currency",
                     "expected_close", "description"):
            getattr(self, name).data = getattr(registration, name)
        self.products.data = sorted(registration.product_ids)
        for extra in self.extra_fields:
            extra.value = (registration.extra or {}).get(extra.key, "")


class ExtraField:
    """A field a program adds (``rules.extra_fields``): plain text, read from the
    request by its own name (``extra_<key>``)."""

    MAX = 500

    def __init__(self, spec: dict[str, Any], form: RegistrationForm) -> None:
        from flask import request

        self.key = str(spec.get("key"))
        self.label = str(spec.get("label") or self.key)
        self.required = bool(spec.get("required"))
        self.name = f"extra_{self.key}"
        self.errors: list[str] = []
        self.value = " ".join((request.form.get(self.name) or "").split()) if form.is_submitted() else ""

    def validate(self) -> bool:
        if self.required and not self.value:
            self.errors.append(_("This program requires this field."))
        elif len(self.value) > self.MAX:
            self.errors.append(_("Use at most %(count)d characters.", count=self.MAX))
        return not self.errors


def registration_form(rules: Rules, **kwargs: Any) -> RegistrationForm:
    form = RegistrationForm(**kwargs)
    form.setup(rules)
    return form


# -- the partner's other actions ------------------------------------------------------------

class ReasonForm(PortalForm):
    """A required text: a rejection reason, a question for the partner, an
    extension request's reason."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX)],
                           render_kw={"rows": 3})


class NoteForm(PortalForm):
    """An optional note (withdrawing, approving, deciding on an extension)."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=REASON_MAX)],
                         render_kw={"rows": 2})


class WonForm(PortalForm):
    final_value = AmountField(_l("Final value"), places=2, validators=[InputRequired(
        message=_l("Enter the final value, like 25000."))], render_kw={"inputmode": "decimal"})
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=REASON_MAX)],
                         render_kw={"rows": 2})

    def validate_final_value(self, field: Any) -> None:
        if field.data is not None and (field.data <= 0 or field.data > MAX_VALUE):
            raise ValidationError(_("Enter an amount between 0.01 and %(max)s.",
                                    max=format_decimal(MAX_VALUE)))


class LostForm(PortalForm):
    reason = SelectField(_l("Why was it lost?"), validators=[DataRequired(message=_l("Choose a reason."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=REASON_MAX)],
                         render_kw={"rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [("", _l("Choose a reason")), *LOST_REASONS]

    def validate_reason(self, field: Any) -> None:
        if field.data and field.data not in LOST_REASON_LABELS:
            raise ValidationError(_l("Choose a reason."))


class CommentForm(PortalForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 3})


class StaffNoteForm(PortalForm):
    """An internal note of vendor staff (partners never see it)."""

    # Not "body": the comment form on the same page has that name, and a refused
    # note must never come back pre-filled in the box that writes to the partner.
    text = TextAreaField(_l("Staff note"), validators=[
        DataRequired(message=_l("Write the note first.")),
        Length(max=STAFF_NOTE_MAX, message=_l("Keep the note to at most %(max)d characters."))],
        render_kw={"rows": 3}, description=_l("Only vendor staff read it: partners never see staff notes."))

    def validate_text(self, field: Any) -> None:
        # The portal's check, with the note's own message.
        if has_control_characters(field.data):
            raise ValidationError(_l("Remove the control characters from the note."))


#: The review queue's bulk actions (the queue page draws them without a form object).
BULK_ACTIONS = (("approve", _l("Approve")), ("reject", _l("Reject")))


class BulkForm(PortalForm):
    """The review queue's bulk action on the ticked registrations."""

    action = SelectField(_l("Action"))
    # No Optional(): it would stop the chain before validate_reason.
    reason = TextAreaField(_l("Reason (for rejections)"), validators=[Length(max=REASON_MAX)],
                           render_kw={"rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = list(BULK_ACTIONS)

    def validate_reason(self, field: Any) -> None:
        if self.action.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Give a reason for the rejection."))


# -- the vendor's settings -------------------------------------------------------------------

class RulesForm(PortalForm):
    protection_days = IntegerField(_l("Protection period (days)"), validators=[
        DataRequired(), NumberRange(min=1, max=MAX_PROTECTION_DAYS)])
    max_extensions = IntegerField(_l("Extensions allowed"), validators=[
        Optional(), NumberRange(min=0, max=MAX_EXTENSIONS)], default=0)
    extension_days = IntegerField(_l("Days per extension"), validators=[
        DataRequired(), NumberRange(min=1, max=MAX_EXTENSION_DAYS)])
    auto_approve_tiers = MultiCheckboxField(_l("Approve at once, when nothing conflicts, for these tiers"),
                                            coerce=int)
    required_fields = MultiCheckboxField(_l("Also required"))
    extra_fields = TextAreaField(
        _l("Extra fields"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 4},
        description=_l("One per line: key, label and, if partners must fill it in, “required”, "
                       "separated by |. Example: partner_role | Your role in the deal | required"))

    def setup(self, program_id: int) -> None:
        tiers = db.session.scalars(sa.select(Tier).where(Tier.program_id == program_id).order_by(Tier.rank))
        self.auto_approve_tiers.choices = [(t.id, t.name) for t in tiers]
        self.required_fields.choices = list(OPTIONAL_FIELDS)
        self.parsed_extra: list[dict[str, Any]] = []

    def validate_extra_fields(self, field: Any) -> None:
        parsed: list[dict[str, Any]] = []
        seen = set()
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            key, label = parts[0], (parts[1] if len(parts) > 1 else "")
            flags = {p.lower() for p in parts[2:]}
            if not _EXTRA_KEY.fullmatch(key) or not label or len(label) > 100 or flags - {"required", ""}:
                raise ValidationError(_("Line %(line)d: write key | label | required, where the key "
                                        "is lower-case letters, digits and underscores.", line=number))
            if key in seen:
                raise ValidationError(_("Line %(line)d: the key %(key)s is used twice.", line=number, key=key))
            seen.add(key)
            parsed.append({"key": key, "label": label, "required": "required" in flags})
        if len(parsed) > MAX_EXTRA_FIELDS:
            raise ValidationError(_("At most %(count)d extra fields.", count=MAX_EXTRA_FIELDS))
        self.parsed_extra = parsed


def format_extra_fields(specs: list[dict[str, Any]]) -> str:
    return "\n".join(" | ".join([s["key"], s["label"], *(["required"] if s.get("required") else [])])
                     for s in specs or ())


class ProductForm(PortalForm):
    sku = StringField(_l("Product code"), validators=[DataRequired(), Length(max=40)],
                      description=_l("Letters, digits and dashes, like NET-FW-100."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])

    def validate_sku(self, field: Any) -> None:
        field.data = (field.data or "").upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,39}", field.data):
            raise ValidationError(_l("Use letters, digits, dots and dashes only."))
        if db.session.scalar(sa.select(DealProduct.id).where(DealProduct.sku == field.data)):
            raise ValidationError(_l("A product with this code exists already."))

    def validate_name(self, field: Any) -> None:
        if any(ord(character) < 32 or ord(character) == 127 for character in field.data or ""):
            raise ValidationError(_l("Remove the control characters from the name."))

