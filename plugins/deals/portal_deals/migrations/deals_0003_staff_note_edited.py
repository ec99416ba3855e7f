"""deals: staff notes remember when their author last edited them

Revision ID: deals_0003
Revises: deals_0002
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "deals_0003"
down_revision = "deals_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deals_staff_note", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("deals_staff_note", schema=None) as batch_op:
        batch_op.drop_column("edited_at")
