"""Contacts: whether every source of a contact's zone agrees on the one stored; calls: the
compliance proof of each placement, and an index for the seller's calls to one number.

The calling window must hold in every zone a contact's data allows: the stored (stated or
derived) zone, the address, and the number's own zones (a mobile number: every zone of its
country). Where they agree on the stored zone the refill filters the contact in SQL; where
they do not, or it is not known yet (NULL: every contact before this revision), the refill
checks it in Python against all of them and records the answer, so existing lists sort
themselves out at the refills that follow, without a long migration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 14:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("contacts", sa.Column("zones_agree", sa.Boolean(), nullable=True))
    # What was checked when each call was placed (rule-set version, zones and local times,
    # lists checked, consent relied on): the proof that goes with the call record.
    op.add_column("calls", sa.Column("compliance", postgresql.JSONB(), nullable=True))
    # State frequency caps count a seller's calls to one number over 24 hours at placement.
    # Built without holding writes on a calls table that keeps five years of records.
    with op.get_context().autocommit_block():
        op.create_index("ix_calls_to_number_queued", "calls", ["to_number", "queued_at"],
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_calls_to_number_queued", table_name="calls", postgresql_concurrently=True,
                      if_exists=True)
    op.drop_column("calls", "compliance")
    op.drop_column("contacts", "zones_agree")
