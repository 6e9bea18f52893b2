"""Call recordings from the bridge, their pauses, retention and legal holds.

A recording is started on the person's call when an agent is connected (two channels), so a
call may have one (or, recorded from the answer by an older release, a whole-call one too).
Pauses are kept with their times and who made them. A campaign's retention period says when a
recording is deleted at the carrier; a legal hold on a call keeps it. The call row itself is
never touched by retention (call detail records are kept five years).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("campaigns", sa.Column("recording_retention_days", sa.Integer(), nullable=True))
    op.create_check_constraint("ck_campaigns_recording_retention_days", "campaigns",
                               "recording_retention_days IS NULL OR recording_retention_days >= 1")
    op.add_column("calls", sa.Column("legal_hold_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("calls", sa.Column("legal_hold_by_id", sa.Integer(),
                                     sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True))
    op.add_column("calls", sa.Column("legal_hold_reason", sa.Text(), nullable=True))
    op.create_table(
        "recordings",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("call_id", sa.BigInteger(), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sid", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('in-progress', 'paused', 'stopped', 'completed', 'absent', "
                           "'failed', 'deleted')", name="ck_recordings_status"),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_retention", "recordings", ["completed_at"],
                    postgresql_where=sa.text("deleted_at IS NULL AND status = 'completed'"))
    op.create_table(
        "recording_pauses",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("recording_id", sa.BigInteger(), sa.ForeignKey("recordings.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("resumed_reason", sa.String(16), nullable=True),
    )
    op.create_index("ix_recording_pauses_recording_id", "recording_pauses", ["recording_id"])
    op.create_index("uq_recording_pauses_open", "recording_pauses", ["recording_id"], unique=True,
                    postgresql_where=sa.text("resumed_at IS NULL"))


def downgrade():
    op.drop_table("recording_pauses")
    op.drop_table("recordings")
    op.drop_column("calls", "legal_hold_reason")
    op.drop_column("calls", "legal_hold_by_id")
    op.drop_column("calls", "legal_hold_at")
    op.drop_constraint("ck_campaigns_recording_retention_days", "campaigns", type_="check")
    op.drop_column("campaigns", "recording_retention_days")
