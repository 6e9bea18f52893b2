from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.telephony.carrier import TERMINAL_STATUSES  # noqa: F401 - the carrier's final statuses, defined once

CALL_STATUSES = (
    "queued", "initiated", "ringing", "in-progress",
    "completed", "busy", "no-answer", "failed", "canceled",
)


class Call(db.Model):
    """One dial attempt and its call detail record (kept five years)."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', "
            "'no-answer', 'failed', 'canceled')",
            name="status",
        ),
        # One attempt number per contact: a contact can never be dialled twice for one attempt.
        # Their calls to our numbers are not attempts (app.dialer.inbound).
        Index("uq_calls_contact_attempt", "contact_id", "attempt_no", unique=True,
              postgresql_where=text("contact_id IS NOT NULL AND direction = 'outbound'")),
        # A contact's calls, either way: their history, and the agent who last spoke with them.
        Index("ix_calls_contact_connected", "contact_id", "connected_at"),
        Index("ix_calls_campaign_created", "campaign_id", "created_at"),
        Index("ix_calls_agent_created", "agent_id", "created_at"),
        Index("ix_calls_status_updated", "status", "updated_at"),
        Index("ix_calls_to_number_queued", "to_number", "queued_at"),
        # Number health reads each caller ID's dials over the last days (app.numbers.health).
        Index("ix_calls_from_number_created", "from_number", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attempt_no: Mapped[int] = mapped_column(server_default="1")
    direction: Mapped[str] = mapped_column(String(16), server_default="outbound")
    kind: Mapped[str] = mapped_column(String(16), server_default="auto")  # auto|preview|manual|inbound
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), server_default="queued")
    outcome: Mapped[str | None] = mapped_column(String(16))  # human|machine|no-answer|busy|failed|canceled
    answered_by: Mapped[str | None] = mapped_column(String(32))
    abandoned: Mapped[bool] = mapped_column(server_default="false")
    last_sequence_number: Mapped[int] = mapped_column(server_default="-1")
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    initiated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ringing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ring_seconds: Mapped[float | None]
    wait_seconds: Mapped[float | None]  # answer to agent bridged (or to abandonment)
    duration_seconds: Mapped[int | None]
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(Text)  # the carrier's: never shown to a browser
    # A legal hold keeps the call's recordings past the campaign's retention period.
    legal_hold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    legal_hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    # What every calling rule said at the instant of placement (app.compliance.checks.assess).
    compliance: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CallEvent(db.Model):
    """A carrier callback exactly as received, stored once."""

    __tablename__ = "call_events"
    __table_args__ = (
        # Twilio retries and duplicates callbacks: (CallSid, kind, SequenceNumber) identifies one.
        UniqueConstraint("call_sid", "kind", "sequence_number", postgresql_nulls_not_distinct=True),
        Index("ix_call_events_call_id", "call_id"),
        Index("ix_call_events_unprocessed", "received_at", postgresql_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    call_sid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # status|amd|recording|voice|opt-out
    sequence_number: Mapped[int | None]
    status: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallTransfer(db.Model):
    """A transfer made on a call: cold (handed over at once) or warm (consulted first), to an
    agent, any ready agent of a campaign, or an outside number."""

    __tablename__ = "call_transfers"
    __table_args__ = (
        CheckConstraint("kind IN ('cold', 'warm')", name="kind"),
        CheckConstraint("status IN ('consulting', 'completed', 'cancelled', 'failed')", name="status"),
        CheckConstraint("num_nonnulls(to_agent_id, to_campaign_id, to_number) >= 1", name="target"),
        Index("ix_call_transfers_call_id", "call_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    to_number: Mapped[str | None] = mapped_column(String(20))
    # The consulted party's own leg (an outside number dialled into the agent's room).
    consult_sid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


RECORDING_STATUSES = ("in-progress", "paused", "stopped", "completed", "absent", "failed", "deleted")
LIVE_RECORDING = ("in-progress", "paused")


class Recording(db.Model):
    """A recording of a call at the carrier: started when an agent is connected (two channels,
    agent and customer), completed by the carrier's callback, deleted when the campaign's
    retention period has passed (unless the call is on legal hold)."""

    __tablename__ = "recordings"
    __table_args__ = (
        CheckConstraint("status IN ('in-progress', 'paused', 'stopped', 'completed', 'absent', "
                        "'failed', 'deleted')", name="ck_recordings_status"),
        Index("ix_recordings_call_id", "call_id"),
        Index("ix_recordings_retention", "completed_at",
              postgresql_where=text("deleted_at IS NULL AND status = 'completed'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("calls.id", ondelete="CASCADE"))
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))
    channels: Mapped[int | None]
    duration_seconds: Mapped[int | None]
    media_url: Mapped[str | None] = mapped_column(Text)  # the carrier's: never shown to a browser
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_reason: Mapped[str | None] = mapped_column(Text)


class RecordingPause(db.Model):
    """One pause of a recording (card details read out): when, by whom, and how it ended (an
    agent resumed it, or the call ended)."""

    __tablename__ = "recording_pauses"
    __table_args__ = (
        Index("ix_recording_pauses_recording_id", "recording_id"),
        Index("uq_recording_pauses_open", "recording_id", unique=True,
              postgresql_where=text("resumed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recording_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("recordings.id", ondelete="CASCADE"))
    paused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resumed_reason: Mapped[str | None] = mapped_column(String(16))  # agent | call-ended
