"""search queue: documents changed since the search index last saw them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 07:10:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_queue")),
    )
    with op.batch_alter_table("search_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_queue_key"), ["key"], unique=False)


def downgrade():
    with op.batch_alter_table("search_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_queue_key"))
    op.drop_table("search_queue")
