"""The resource library: pages vendor staff publish (program guides,
announcements, policies) in Markdown, each for an audience.

Three things are derived from what an author writes and kept next to it, so no
reader ever computes them: ``body_html`` (the Markdown rendered and sanitized,
whenever ``body`` is set), and the rows of ``resource_page_audience``, exactly
:func:`portal.audience.content_tokens` of the page, rewritten before every flush
that touches the page. The library's visibility filter is then one indexed
``EXISTS`` on those rows (see :mod:`portal.resources.queries`).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from portal.extensions import db
from portal.models.program import Program, Tier
from portal.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from portal.audience import Audience
    from portal.models.user import User

TITLE_MAX = 200
SLUG_MAX = 120
SUMMARY_MAX = 500
#: Characters of Markdown source; a long policy is some 30,000.
BODY_MAX = 100_000
TAGS_MAX = 10
TAG_MAX = 40
#: The values of :class:`portal.audience.Audience`, for the column's CHECK constraint
#: (tests/test_resources.py keeps the two in step).
AUDIENCE_VALUES = ("public", "partners", "programs", "tiers", "staff")


class ResourceCategory(enum.Enum):
    GUIDE = "guide"
    ANNOUNCEMENT = "announcement"
    POLICY = "policy"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(RESOURCE_CATEGORY_LABELS[self])


RESOURCE_CATEGORY_LABELS = {
    ResourceCategory.GUIDE: _l("Program guide"),
    ResourceCategory.ANNOUNCEMENT: _l("Announcement"),
    ResourceCategory.POLICY: _l("Policy"),
    ResourceCategory.OTHER: _l("Other"),
}


class ResourceStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return str(RESOURCE_STATUS_LABELS[self])


RESOURCE_STATUS_LABELS = {
    ResourceStatus.DRAFT: _l("Draft"),
    ResourceStatus.PUBLISHED: _l("Published"),
}


class AudienceType(TypeDecorator[Any]):
    """A :class:`portal.audience.Audience` stored as its value.

    ``portal.audience`` imports the models, so the enum is looked up when a value
    passes, not when this module is imported (either module may be imported first).
    """

    impl = sa.String(16)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        from portal.audience import Audience

        return Audience(value.value if isinstance(value, enum.Enum) else value).value

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        from portal.audience import Audience

        return Audience(value)


resource_page_program = sa.Table(
    "resource_page_program",
    db.metadata,
    sa.Column("page_id", sa.ForeignKey("resource_page.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("program_id", sa.ForeignKey("program.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

resource_page_tier = sa.Table(
    "resource_page_tier",
    db.metadata,
    sa.Column("page_id", sa.ForeignKey("resource_page.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tier_id", sa.ForeignKey("tier.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class ResourcePageTag(db.Model):
    """One tag of a page (lower-case, trimmed)."""

    __tablename__ = "resource_page_tag"

    page_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_page.id", ondelete="CASCADE"), primary_key=True
    )
    # The tag filter and the tag counts of the library read this index.
    tag: Mapped[str] = mapped_column(sa.String(TAG_MAX), primary_key=True, index=True)


class ResourcePageAudience(db.Model):
    """One audience token of a page; the primary key serves the visibility EXISTS."""

    __tablename__ = "resource_page_audience"

    page_id: Mapped[int] = mapped_column(
        sa.ForeignKey("resource_page.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(sa.String(40), primary_key=True)


class ResourcePage(db.Model):
    """A page of the resource library, written in Markdown, for an audience."""

    __tablename__ = "resource_page"
    __table_args__ = (
        sa.CheckConstraint(
            "audience IN (" + ", ".join(f"'{v}'" for v in AUDIENCE_VALUES) + ")", name="audience"
        ),
        # The library: published pages, newest first.
        sa.Index("ix_resource_page_status_published_at", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    summary: Mapped[str | None] = mapped_column(sa.String(SUMMARY_MAX))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[ResourceCategory] = mapped_column(
        enum_column(ResourceCategory), default=ResourceCategory.OTHER
    )
    language: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[ResourceStatus] = mapped_column(
        enum_column(ResourceStatus), default=ResourceStatus.DRAFT
    )
    audience: Mapped[Any] = mapped_column(AudienceType(), default="staff")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The search index asks for pages changed since a time: it reads this index.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    programs: Mapped[list[Program]] = relationship(
        secondary=resource_page_program, order_by=Program.name, passive_deletes=True
    )
    tiers: Mapped[list[Tier]] = relationship(
        secondary=resource_page_tier, order_by=(Tier.program_id, Tier.rank), passive_deletes=True
    )
    tag_rows: Mapped[list[ResourcePageTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by=ResourcePageTag.tag
    )
    audience_rows: Mapped[list[ResourcePageAudience]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @validates("body")
    def _render_body(self, key: str, value: str | None) -> str:
        from portal.resources.markdown import render

        value = value or ""
        self.body_html = render(value)
        return value

    @property
    def is_published(self) -> bool:
        return self.status is ResourceStatus.PUBLISHED

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    def set_tags(self, tags: Iterable[str]) -> None:
        """Replace the tags, keeping the rows of those that stay."""
        wanted = list(dict.fromkeys(tags))
        self.tag_rows = [row for row in self.tag_rows if row.tag in wanted] + [
            ResourcePageTag(tag=tag) for tag in wanted if tag not in self.tags
        ]

    def audience_tokens(self) -> list[str]:
        """Who may see the page, as :func:`portal.audience.content_tokens`."""
        from portal.audience import content_tokens

        return content_tokens(
            self.audience or "staff",  # not yet set: staff only, like the column's default
            program_ids=[p.id for p in self.programs],
            tier_ids=[t.id for t in self.tiers],
        )

    def sync_audience_rows(self) -> None:
        """Make the token rows exactly :meth:`audience_tokens` (done before each flush)."""
        wanted = set(self.audience_tokens())
        have = {row.token for row in self.audience_rows}
        if wanted == have:
            return
        self.audience_rows = [row for row in self.audience_rows if row.token in wanted] + [
            ResourcePageAudience(token=token) for token in sorted(wanted - have)
        ]

    def audit_state(self) -> dict[str, object]:
        # The body's digest and size, not its text: a 100 kB policy in every
        # audit entry would swamp the log, and the change is still visible.
        return {
            "slug": self.slug,
            "title": self.title,
            "summary": self.summary,
            "category": self.category.value if self.category else None,
            "language": self.language,
            "status": self.status.value if self.status else None,
            "audience": self.audience.value if self.audience else None,
            "program_ids": sorted(p.id for p in self.programs),
            "tier_ids": sorted(t.id for t in self.tiers),
            "tags": self.tags,
            "body_sha256": hashlib.sha256((self.body or "").encode()).hexdigest()[:16],
            "body_length": len(self.body or ""),
            "published_at": self.published_at.isoformat() if self.published_at else None,
        }

    def __repr__(self) -> str:
        return f"<ResourcePage {self.id} {self.slug!r}>"


@sa.event.listens_for(Session, "before_flush")
def _sync_audience_before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    """Every page about to be written carries its current tokens, whoever changed it
    (a form, the demo, a test): a stale token would show a page to the wrong people."""
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, ResourcePage) and obj not in session.deleted:
            obj.sync_audience_rows()
