"""Forms of the resource library: the library's filters and the page editor.

Every check lives beside the field it protects (slug format and uniqueness, the
tag limits, "certain programs" without a program), so an invalid page is shown
again with each error in place and nothing is saved.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.admin.forms import ChoiceField, FilterForm
from portal.audience import AUDIENCE_LABELS, Audience
from portal.extensions import db
from portal.forms import PortalForm
from portal.i18n import language_choices
from portal.models import Program, ResourceCategory, ResourcePage, ResourceStatus, Tier
from portal.models.resource import BODY_MAX, SLUG_MAX, SUMMARY_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Slugs that would collide with the library's own addresses (/resources/manage).
RESERVED_SLUGS = frozenset({"manage"})


def slugify(title: str) -> str:
    """``"Deal registration: a guide"`` → ``"deal-registration-a-guide"``.

    ASCII only; a title with no Latin letters (Japanese, Arabic) leaves ``page``,
    which :func:`unique_slug` numbers.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[:SLUG_MAX].strip("-")
    return slug if slug and slug not in RESERVED_SLUGS else "page"


def unique_slug(title: str, exclude_id: int | None = None) -> str:
    """A free slug made from ``title`` (``-2``, ``-3``… when taken by another page)."""
    base = slugify(title)
    stmt = sa.select(ResourcePage.slug).where(ResourcePage.slug.startswith(base, autoescape=True))
    if exclude_id is not None:
        stmt = stmt.where(ResourcePage.id != exclude_id)
    taken = set(db.session.scalars(stmt))
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        n += 1
    return slug


def parse_tags(text: str) -> list[str]:
    """``"Deal Registration, MDF ,, mdf"`` → ``["deal registration", "mdf"]``."""
    tags = (" ".join(part.split()).lower() for part in (text or "").split(","))
    return list(dict.fromkeys(tag for tag in tags if tag))


class CheckboxesField(SelectMultipleField):
    """Checkboxes of integer ids, with the portal's own (translated) messages."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label, coerce=int, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            self.data = [int(value) for value in valuelist]
        except ValueError:
            self.data = []
            raise ValueError(_l("Choose one of the options in the list.")) from None

    def pre_validate(self, form: Any) -> None:
        known = {value for value, _label in self.choices or ()}
        if any(value not in known for value in self.data or ()):
            raise ValidationError(_l("Choose one of the options in the list."))


class AudienceField(RadioField):
    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _label in self.choices or ()}:
            raise ValidationError(_l("Choose who may read the page."))


def _category_choices(blank: Any = None) -> list[tuple[str, Any]]:
    choices = [(c.value, c.label) for c in ResourceCategory]
    return [("", blank), *choices] if blank is not None else choices


def default_language() -> str:
    locale = str(get_locale() or "")
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


class ResourcePageForm(PortalForm):
    """A page's text, metadata and audience."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the page a title.")),
                                                Length(max=TITLE_MAX)])
    slug = StringField(
        _l("Address name"), validators=[Optional(), Length(max=SLUG_MAX)],
        description=_l("Lower-case letters, digits and hyphens, as in “deal-registration”. "
                       "Leave empty to make it from the title."),
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    summary = TextAreaField(
        _l("Summary"), validators=[Optional(), Length(max=SUMMARY_MAX)],
        description=_l("One or two sentences shown in the library and in search results."),
    )
    body = TextAreaField(
        _l("Text"), validators=[DataRequired(_l("Write the text of the page.")),
                                Length(max=BODY_MAX)],
        description=_l("Markdown: # Heading, **bold**, *italic*, [link](https://…), lists, "
                       "tables. HTML is shown as text."),
        render_kw={"rows": 18, "spellcheck": "true"},
    )
    category = ChoiceField(_l("Category"))
    language = ChoiceField(_l("Language of the page"))
    tags = StringField(
        _l("Tags"), validators=[Optional(), Length(max=TAGS_MAX * (TAG_MAX + 2))],
        description=_l("Separated by commas, at most %(count)d.", count=TAGS_MAX),
        render_kw={"autocomplete": "off"},
    )
    audience = AudienceField(_l("Who may read it"))
    programs = CheckboxesField(_l("Programs"))
    tiers = CheckboxesField(_l("Tiers"))

    def __init__(self, *args: Any, page: ResourcePage | None = None, **kwargs: Any) -> None:
        # No ``obj=page``: a field missing from a POST must not keep the page's
        # value (or a list of programs where ids belong); the data is set below.
        super().__init__(*args, **kwargs)
        self._page = page
        self.category.choices = _category_choices()
        self.language.choices = language_choices()
        self.audience.choices = [(a.value, AUDIENCE_LABELS[a]) for a in Audience]
        programs = db.session.scalars(sa.select(Program).order_by(Program.name)).all()
        tiers = db.session.scalars(
            sa.select(Tier).order_by(Tier.program_id, Tier.rank)
        ).all()
        self.programs.choices = [(p.id, p.name) for p in programs]
        self.tiers.choices = [(t.id, t.name) for t in tiers]
        #: Tiers under their program, for the checkboxes: [(program, [tier, …]), …]
        self.tier_groups = [(p, [t for t in tiers if t.program_id == p.id]) for p in programs]
        self.parsed_tags: list[str] = []
        if not self.is_submitted():
            if page is None:
                self.category.data = ResourceCategory.GUIDE.value
                self.language.data = default_language()
                self.audience.data = Audience.PARTNERS.value
                self.programs.data, self.tiers.data = [], []
            else:
                self.title.data, self.slug.data = page.title, page.slug
                self.summary.data, self.body.data = page.summary, page.body
                self.language.data = page.language
                self.category.data = page.category.value
                self.audience.data = page.audience.value
                self.programs.data = [p.id for p in page.programs]
                self.tiers.data = [t.id for t in page.tiers]
                self.tags.data = ", ".join(page.tags)

    def validate_title(self, field: StringField) -> None:
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError(_l("Give the page a title."))

    def validate_slug(self, field: StringField) -> None:
        if not field.data:
            return
        field.data = field.data.lower()
        if not SLUG_PATTERN.match(field.data):
            raise ValidationError(_l("Use lower-case letters, digits and single hyphens, "
                                     "like “deal-registration”."))
        if field.data in RESERVED_SLUGS:
            raise ValidationError(_l("This address name is reserved. Choose another."))
        stmt = sa.select(ResourcePage.id).where(ResourcePage.slug == field.data)
        if self._page is not None:
            stmt = stmt.where(ResourcePage.id != self._page.id)
        if db.session.scalar(stmt) is not None:
            raise ValidationError(_l("Another page already uses this address name."))

    def validate_tags(self, field: StringField) -> None:
        tags = parse_tags(field.data or "")
        if len(tags) > TAGS_MAX:
            raise ValidationError(_l("Use at most %(count)d tags.", count=TAGS_MAX))
        too_long = [tag for tag in tags if len(tag) > TAG_MAX]
        if too_long:
            raise ValidationError(_l("Keep each tag to %(count)d characters or fewer: %(tags)s.",
                                     count=TAG_MAX, tags=", ".join(too_long)))
        self.parsed_tags = tags

    def validate_programs(self, field: CheckboxesField) -> None:
        if self.audience.data == Audience.PROGRAMS.value and not field.data:
            raise ValidationError(_l("Choose at least one program."))

    def validate_tiers(self, field: CheckboxesField) -> None:
        if self.audience.data == Audience.TIERS.value and not field.data:
            raise ValidationError(_l("Choose at least one tier."))

    @property
    def chosen_audience(self) -> Audience:
        return Audience(self.audience.data)

    def chosen(self, model: type[Any], ids: Iterable[int]) -> list[Any]:
        wanted = list(ids or ())
        if not wanted:
            return []
        return list(db.session.scalars(sa.select(model).where(model.id.in_(wanted))))


class LibraryFilterForm(FilterForm):
    """The library's filters, from the query string."""

    category = ChoiceField(_l("Category"), default="")
    language = ChoiceField(_l("Language"), default="")
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=TAG_MAX)],
                      filters=[lambda v: " ".join(v.split()).lower() if isinstance(v, str) else v],
                      render_kw={"type": "search"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = _category_choices(_l("Any category"))
        self.language.choices = [("", _l("Any language")), *language_choices()]


class ManageFilterForm(LibraryFilterForm):
    status = ChoiceField(_l("Status"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _l("Drafts and published")),
                               *((s.value, s.label) for s in ResourceStatus)]
