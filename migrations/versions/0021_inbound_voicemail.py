"""Voicemails left on our numbers when nobody could take the call.

Outside a campaign's hours, or past the longest wait, a caller may leave a message; it becomes a
callback in the campaign unless the number is on a do-not-call list. One row per carrier
recording (its sid unique), so a repeated or late <Record> action changes nothing; the row keeps
the callback it became, or why it became none.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "voicemails",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("callback_id", sa.BigInteger(), nullable=True),
        sa.Column("caller", sa.String(length=20), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("no_callback_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("no_callback_reason IS NULL OR no_callback_reason IN ('do_not_call', 'withheld')",
                           name=op.f("ck_voicemails_no_callback_reason")),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE",
                                name=op.f("fk_voicemails_call_id_calls")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE",
                                name=op.f("fk_voicemails_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL",
                                name=op.f("fk_voicemails_contact_id_contacts")),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], ondelete="SET NULL",
                                name=op.f("fk_voicemails_callback_id_callbacks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemails")),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_voicemails_recording_sid")),
    )
    op.create_index(op.f("ix_voicemails_call_id"), "voicemails", ["call_id"])
    op.create_index(op.f("ix_voicemails_campaign_id"), "voicemails", ["campaign_id"])
    op.create_index(op.f("ix_voicemails_contact_id"), "voicemails", ["contact_id"])


def downgrade():
    op.drop_table("voicemails")
