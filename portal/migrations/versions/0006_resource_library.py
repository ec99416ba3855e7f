"""resource library: pages in Markdown, their programs, tiers, tags and audience tokens

``resource_page_audience`` holds each page's ``portal.audience.content_tokens``
(rewritten by the model before every flush that touches a page), so the
library's visibility filter is one primary-key probe per page.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _page_fk(table):
    return sa.ForeignKeyConstraint(["page_id"], ["resource_page.id"],
                                   name=op.f(f"fk_{table}_page_id_resource_page"),
                                   ondelete="CASCADE")


def upgrade():
    op.create_table(
        "resource_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("category", sa.Enum("guide", "announcement", "policy", "other",
                                      name="resourcecategory", native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Enum("draft", "published", name="resourcestatus",
                                    native_enum=False, create_constraint=True, length=32),
                  nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("audience IN ('public', 'partners', 'programs', 'tiers', 'staff')",
                           name=op.f("ck_resource_page_audience")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_resource_page_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_resource_page_updated_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_page")),
        sa.UniqueConstraint("slug", name=op.f("uq_resource_page_slug")),
    )
    with op.batch_alter_table("resource_page", schema=None) as batch_op:
        batch_op.create_index("ix_resource_page_status_published_at", ["status", "published_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_resource_page_updated_at"), ["updated_at"],
                              unique=False)

    op.create_table(
        "resource_page_audience",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        _page_fk("resource_page_audience"),
        sa.PrimaryKeyConstraint("page_id", "token", name=op.f("pk_resource_page_audience")),
    )
    op.create_table(
        "resource_page_program",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        _page_fk("resource_page_program"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"],
                                name=op.f("fk_resource_page_program_program_id_program"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("page_id", "program_id", name=op.f("pk_resource_page_program")),
    )
    op.create_table(
        "resource_page_tag",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        _page_fk("resource_page_tag"),
        sa.PrimaryKeyConstraint("page_id", "tag", name=op.f("pk_resource_page_tag")),
    )
    op.create_table(
        "resource_page_tier",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        _page_fk("resource_page_tier"),
        sa.ForeignKeyConstraint(["tier_id"], ["tier.id"],
                                name=op.f("fk_resource_page_tier_tier_id_tier"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("page_id", "tier_id", name=op.f("pk_resource_page_tier")),
    )
    for table, column in (("resource_page_program", "program_id"), ("resource_page_tag", "tag"),
                          ("resource_page_tier", "tier_id")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade():
    for table in ("resource_page_tier", "resource_page_tag", "resource_page_program",
                  "resource_page_audience", "resource_page"):
        op.drop_table(table)
