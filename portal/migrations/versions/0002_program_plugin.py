"""plugins switched on per program

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:05:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "program_plugin",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("enabled_at", sa.DateTime(), nullable=False),
        sa.Column("enabled_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["enabled_by_id"], ["users.id"],
                                name=op.f("fk_program_plugin_enabled_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["program_id"], ["program.id"],
                                name=op.f("fk_program_plugin_program_id_program"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("program_id", "plugin", name=op.f("pk_program_plugin")),
    )
    with op.batch_alter_table("program_plugin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_plugin_plugin"), ["plugin"], unique=False)


def downgrade():
    with op.batch_alter_table("program_plugin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_plugin_plugin"))
    op.drop_table("program_plugin")
