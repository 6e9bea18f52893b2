"""Contact lists: an upload into a campaign can be switched off, renamed and recycled.

A list is one contacts import (import_jobs, kind contacts). `active` false: the dialer leaves
the list's contacts alone (the refill skips them, queued ones are not placed). `name` is what
the floor calls it (the file's name until someone renames it).

A recycle starts a new pass over a contact: like VICIdial's list reset it keeps the count of
calls ever made (`attempts`, which also numbers each call), and records where the pass began
(`attempts_before_pass`), so the campaign's attempt limit counts the calls of this pass only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("import_jobs", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("import_jobs", sa.Column("name", sa.String(255), nullable=True))
    op.add_column("contacts", sa.Column("attempts_before_pass", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_contacts_import_job", "contacts", ["import_job_id"])


def downgrade():
    op.drop_index("ix_contacts_import_job", table_name="contacts")
    op.drop_column("contacts", "attempts_before_pass")
    op.drop_column("import_jobs", "name")
    op.drop_column("import_jobs", "active")
