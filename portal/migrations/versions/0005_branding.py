"""branding: portal name, logo, favicon and colours

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_name", sa.String(length=80), nullable=True),
        sa.Column("logo", sa.String(length=64), nullable=True),
        sa.Column("favicon", sa.String(length=64), nullable=True),
        sa.Column("primary_color", sa.String(length=7), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_branding_updated_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding")),
    )


def downgrade():
    op.drop_table("branding")
