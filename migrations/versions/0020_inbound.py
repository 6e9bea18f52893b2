"""Calls to our numbers reach agents: the campaign's inbound queue settings.

A caller waits in the campaign's queue up to `inbound_max_wait_seconds` (then the closed path
takes them: the seller's name, the opt-out key, a voicemail), hearing `inbound_hold_message`
and their place; `inbound_keep_agents` agents are kept back from outbound dialling for them
(besides one for each caller already waiting). Inbound calls are rows of `calls` with
direction 'inbound' and kind 'inbound'; a contact's call to us is not a dial attempt, so the
one-call-per-attempt index now holds for outbound calls only, and a contact's calls either way
(their history, the agent who last spoke with them) have an index of their own.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

HOLD = "Thank you for calling. All our agents are busy; please stay on the line."


ATTEMPT_INDEX = "uq_calls_contact_attempt"


def _attempt_index(where: str) -> None:
    op.drop_index(ATTEMPT_INDEX, table_name="calls")
    op.create_index(ATTEMPT_INDEX, "calls", ["contact_id", "attempt_no"], unique=True,
                    postgresql_where=sa.text(where))


def upgrade():
    _attempt_index("contact_id IS NOT NULL AND direction = 'outbound'")
    op.create_index("ix_calls_contact_connected", "calls", ["contact_id", "connected_at"])
    op.add_column("campaigns", sa.Column("inbound_max_wait_seconds", sa.Integer(), server_default="120",
                                         nullable=False))
    op.add_column("campaigns", sa.Column("inbound_hold_message", sa.Text(), server_default=HOLD,
                                         nullable=False))
    op.add_column("campaigns", sa.Column("inbound_keep_agents", sa.Integer(), server_default="0",
                                         nullable=False))
    op.create_check_constraint(op.f("ck_campaigns_inbound_max_wait"), "campaigns",
                               "inbound_max_wait_seconds BETWEEN 10 AND 3600")
    op.create_check_constraint(op.f("ck_campaigns_inbound_keep_agents"), "campaigns",
                               "inbound_keep_agents >= 0")


def downgrade():
    # The old index cannot hold a contact's calls to us: they keep their records, unlinked.
    op.execute("UPDATE calls SET contact_id = NULL WHERE direction = 'inbound'")
    _attempt_index("contact_id IS NOT NULL")
    op.drop_index("ix_calls_contact_connected", table_name="calls")
    op.drop_constraint(op.f("ck_campaigns_inbound_keep_agents"), "campaigns", type_="check")
    op.drop_constraint(op.f("ck_campaigns_inbound_max_wait"), "campaigns", type_="check")
    op.drop_column("campaigns", "inbound_keep_agents")
    op.drop_column("campaigns", "inbound_hold_message")
    op.drop_column("campaigns", "inbound_max_wait_seconds")
