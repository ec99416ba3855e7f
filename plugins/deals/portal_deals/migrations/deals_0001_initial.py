"""deals: products, rules of engagement, registrations, claims, history, comments, attachments

The first revision of the deals plugin's own branch (``portal db upgrade`` applies
it after the core's; its version table is ``alembic_version_deals``).

Revision ID: deals_0001
Revises:
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "deals_0001"
down_revision = None
branch_labels = ("deals",)
# The core revision creating the organization, program, users and tier tables.
depends_on = "0001"

STATUS = sa.Enum("draft", "submitted", "more_info", "approved", "rejected", "won", "lost",
                 "expired", "withdrawn", name="dealstatus", native_enum=False,
                 create_constraint=True, length=32)


def upgrade():
    op.create_table(
        "deals_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_product")),
        sa.UniqueConstraint("sku", name=op.f("uq_deals_product_sku")),
    )
    op.create_table(
        "deals_rules",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("protection_days", sa.Integer(), nullable=False),
        sa.Column("max_extensions", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("auto_approve_tier_ids", sa.JSON(), nullable=False),
        sa.Column("required_fields", sa.JSON(), nullable=False),
        sa.Column("extra_fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"],
                                name=op.f("fk_deals_rules_program_id_program"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_deals_rules")),
    )
    op.create_table(
        "deals_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_key", sa.String(length=200), nullable=False),
        sa.Column("customer_stem", sa.String(length=16), nullable=False),
        sa.Column("customer_website", sa.String(length=300), nullable=True),
        sa.Column("customer_domain", sa.String(length=253), nullable=True),
        sa.Column("domain_label", sa.String(length=63), nullable=True),
        sa.Column("customer_country", sa.String(length=2), nullable=False),
        sa.Column("customer_industry", sa.String(length=40), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value_reporting", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("expected_close", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("protected_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("extensions_used", sa.Integer(), nullable=False),
        sa.Column("extension_requested_at", sa.DateTime(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("final_value", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("final_value_reporting", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("lost_reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("conflict_score", sa.Integer(), nullable=True),
        sa.CheckConstraint("extensions_used >= 0",
                           name=op.f("ck_deals_registration_extensions_not_negative")),
        sa.CheckConstraint("value > 0", name=op.f("ck_deals_registration_value_positive")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_deals_registration_created_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_deals_registration_decided_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"],
                                name=op.f("fk_deals_registration_organization_id_organization"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"],
                                name=op.f("fk_deals_registration_program_id_program"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_registration")),
    )
    with op.batch_alter_table("deals_registration", schema=None) as batch_op:
        batch_op.create_index("ix_deals_registration_customer_domain", ["customer_domain", "status"], unique=False)
        batch_op.create_index("ix_deals_registration_customer_key", ["customer_key", "status"], unique=False)
        batch_op.create_index("ix_deals_registration_customer_stem", ["customer_stem", "status"], unique=False)
        batch_op.create_index("ix_deals_registration_domain_label", ["domain_label", "status"], unique=False)
        batch_op.create_index("ix_deals_registration_org_status_closed",
                              ["organization_id", "status", "closed_at", "final_value_reporting"], unique=False)
        batch_op.create_index("ix_deals_registration_org_status_submitted",
                              ["organization_id", "status", "submitted_at"], unique=False)
        batch_op.create_index("ix_deals_registration_org_status_updated",
                              ["organization_id", "status", "updated_at"], unique=False)
        batch_op.create_index("ix_deals_registration_org_updated", ["organization_id", "updated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_registration_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_registration_program_id"), ["program_id"], unique=False)
        batch_op.create_index("ix_deals_registration_status_expires", ["status", "expires_at"], unique=False)
        batch_op.create_index("ix_deals_registration_status_submitted", ["status", "submitted_at"], unique=False)
        batch_op.create_index("ix_deals_registration_updated", ["updated_at"], unique=False)
        batch_op.create_index("ix_deals_registration_extension_requested", ["extension_requested_at"],
                              unique=False)

    op.create_table(
        "deals_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_attachment_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_deals_attachment_uploaded_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_deals_attachment_stored_name")),
    )
    with op.batch_alter_table("deals_attachment", schema=None) as batch_op:
        batch_op.create_index("ix_deals_attachment_registration", ["registration_id", "created_at"], unique=False)

    op.create_table(
        "deals_claim",
        sa.Column("key", sa.String(length=260), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["deals_product.id"],
                                name=op.f("fk_deals_claim_product_id_deals_product"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_claim_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", "product_id", name=op.f("pk_deals_claim")),
    )
    with op.batch_alter_table("deals_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_claim_registration_id"), ["registration_id"], unique=False)

    op.create_table(
        "deals_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_deals_comment_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_comment_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_comment")),
    )
    with op.batch_alter_table("deals_comment", schema=None) as batch_op:
        batch_op.create_index("ix_deals_comment_registration_created", ["registration_id", "created_at"],
                              unique=False)

    op.create_table(
        "deals_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_deals_history_actor_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_history_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_history")),
    )
    with op.batch_alter_table("deals_history", schema=None) as batch_op:
        batch_op.create_index("ix_deals_history_registration_at", ["registration_id", "at"], unique=False)

    op.create_table(
        "deals_registration_product",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["deals_product.id"],
                                name=op.f("fk_deals_registration_product_product_id_deals_product"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_registration_product_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("registration_id", "product_id", name=op.f("pk_deals_registration_product")),
    )
    with op.batch_alter_table("deals_registration_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deals_registration_product_product_id"), ["product_id"], unique=False)


def downgrade():
    for table in ("deals_registration_product", "deals_history", "deals_comment", "deals_claim",
                  "deals_attachment", "deals_registration", "deals_rules", "deals_product"):
        op.drop_table(table)
