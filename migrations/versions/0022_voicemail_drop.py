"""Voicemail drop: each campaign's message and each voicemail an agent left.

`voicemail_messages`: one row per campaign, the uploaded recording (bytes, read only when played),
its facts, the unguessable key of the carrier's URL, and the spoken fallback text.
`voicemail_drops`: one row per call an agent left the message on, and how it went.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "voicemail_messages",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=True),
        sa.Column("audio_type", sa.String(length=32), nullable=True),
        sa.Column("audio_name", sa.String(length=200), nullable=True),
        sa.Column("audio_bytes", sa.Integer(), nullable=True),
        sa.Column("audio_seconds", sa.Float(), nullable=True),
        sa.Column("audio_key", sa.String(length=64), nullable=True),
        sa.Column("audio_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_voicemail_messages_campaign_id_campaigns"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_voicemail_messages_updated_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_voicemail_messages")),
        sa.UniqueConstraint("audio_key", name=op.f("uq_voicemail_messages_audio_key")),
    )
    op.create_table(
        "voicemail_drops",
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("message", sa.String(length=16), nullable=False),
        sa.Column("started_after", sa.String(length=32), nullable=True),
        sa.Column("played_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"],
                                name=op.f("fk_voicemail_drops_call_id_calls"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_voicemail_drops_campaign_id_campaigns"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"],
                                name=op.f("fk_voicemail_drops_agent_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_voicemail_drops")),
    )


def downgrade():
    op.drop_table("voicemail_drops")
    op.drop_table("voicemail_messages")
