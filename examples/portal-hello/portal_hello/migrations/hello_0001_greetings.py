"""hello: the greetings table

The first revision of the hello plugin's own branch (``portal db upgrade``
applies it after the core's; its version table is ``alembic_version_hello``).

Revision ID: hello_0001
Revises:
Create Date: 2026-11-22 09:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "hello_0001"
down_revision = None
branch_labels = ("hello",)
# The core revision creating the organization and users tables it refers to.
depends_on = "0001"


def upgrade():
    op.create_table(
        "hello_greeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=280), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_hello_greeting_author_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"],
                                name=op.f("fk_hello_greeting_organization_id_organization"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_greeting")),
    )
    with op.batch_alter_table("hello_greeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hello_greeting_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_hello_greeting_organization_created",
                              ["organization_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("hello_greeting", schema=None) as batch_op:
        batch_op.drop_index("ix_hello_greeting_organization_created")
        batch_op.drop_index(batch_op.f("ix_hello_greeting_created_at"))
    op.drop_table("hello_greeting")
