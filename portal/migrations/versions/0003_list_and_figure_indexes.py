"""indexes for vendor-side lists and figures at any size

- users by name / by creation date, organizations by creation date / by country:
  every sort order the user and organization lists offer reads an index and stops
  after one page, instead of sorting every row;
- audit entries by (event, organization): the audit log's event filter lists the
  event names with one index seek each instead of ``SELECT DISTINCT``;
- users by (organization, active, last login) and memberships by (program, tier,
  until, organization): the staff dashboard's and the programs page's counts read
  only these indexes, never the tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:20:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, index name, columns)
INDEXES = (
    ("users", "ix_users_name", ["name"]),
    ("users", "ix_users_created_at", ["created_at"]),
    ("users", "ix_users_organization_active", ["organization_id", "active", "last_login_at"]),
    ("organization", "ix_organization_created_at", ["created_at"]),
    ("organization", "ix_organization_country_name_key", ["country", "name_key"]),
    ("audit_entry", "ix_audit_entry_event_organization", ["event", "organization_id"]),
    ("membership", "ix_membership_program_tier", ["program_id", "tier_id", "until", "organization_id"]),
)


def upgrade():
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
