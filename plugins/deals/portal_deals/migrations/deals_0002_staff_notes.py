"""deals: staff notes (vendor staff's internal notes on a registration)

Revision ID: deals_0002
Revises: deals_0001
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "deals_0002"
down_revision = "deals_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deals_staff_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_deals_staff_note_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["registration_id"], ["deals_registration.id"],
                                name=op.f("fk_deals_staff_note_registration_id_deals_registration"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals_staff_note")),
    )
    with op.batch_alter_table("deals_staff_note", schema=None) as batch_op:
        batch_op.create_index("ix_deals_staff_note_registration_created", ["registration_id", "created_at"],
                              unique=False)


def downgrade():
    op.drop_table("deals_staff_note")
