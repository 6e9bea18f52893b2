"""The agent's phone (for a phone audio leg) and the transfers made on each call.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("agents", sa.Column("phone_e164", sa.String(20)))
    op.create_table(
        "call_transfers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_agent_id", sa.Integer()),
        sa.Column("to_agent_id", sa.Integer()),
        sa.Column("to_campaign_id", sa.Integer()),
        sa.Column("to_number", sa.String(20)),
        sa.Column("consult_sid", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_transfers")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_transfers_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_agent_id"], ["users.id"],
                                name=op.f("fk_call_transfers_from_agent_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["to_agent_id"], ["users.id"],
                                name=op.f("fk_call_transfers_to_agent_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["to_campaign_id"], ["campaigns.id"],
                                name=op.f("fk_call_transfers_to_campaign_id_campaigns"), ondelete="SET NULL"),
        sa.CheckConstraint("kind IN ('cold', 'warm')", name=op.f("ck_call_transfers_kind")),
        sa.CheckConstraint("status IN ('consulting', 'completed', 'cancelled', 'failed')",
                           name=op.f("ck_call_transfers_status")),
        sa.CheckConstraint("num_nonnulls(to_agent_id, to_campaign_id, to_number) >= 1",
                           name=op.f("ck_call_transfers_target")),
    )
    op.create_index("ix_call_transfers_call_id", "call_transfers", ["call_id"])


def downgrade():
    op.drop_index("ix_call_transfers_call_id", table_name="call_transfers")
    op.drop_table("call_transfers")
    op.drop_column("agents", "phone_e164")
