"""plugins' deployment settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:40:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plugin_setting",
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_plugin_setting_updated_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("plugin", "key", name=op.f("pk_plugin_setting")),
    )


def downgrade():
    op.drop_table("plugin_setting")
