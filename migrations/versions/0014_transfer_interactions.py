"""A transferred call has one interaction per agent who handled it.

The agent who transfers a call wraps up their part of it; the agent who takes it over talks
and records their own outcome. One interaction per call and agent, not per call.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint("uq_interactions_call_id", "interactions", type_="unique")
    op.create_unique_constraint("uq_interactions_call_id_agent_id", "interactions", ["call_id", "agent_id"])


def downgrade():
    op.drop_constraint("uq_interactions_call_id_agent_id", "interactions", type_="unique")
    op.create_unique_constraint("uq_interactions_call_id", "interactions", ["call_id"])
