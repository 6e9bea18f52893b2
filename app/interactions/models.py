from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Interaction(db.Model):
    """An agent's handling of one connected call: talk, wrap-up and the disposition recorded."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_agent_started", "agent_id", "started_at"),
        # A transferred call has one per agent who handled it (app.dialer.transfers).
        UniqueConstraint("call_id", "agent_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    talk_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wrapup_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    talk_seconds: Mapped[float | None]
    wrap_seconds: Mapped[float | None]
    disposition_code_id: Mapped[int | None] = mapped_column(ForeignKey("disposition_codes.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, server_default="")
    dispositioned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def end_wrap_up(self, now: datetime) -> None:
        """Wrap-up ends now: it ran from the end of talk."""
        self.wrapup_ended_at = now
        self.wrap_seconds = max(0.0, (now - self.talk_ended_at).total_seconds())


class Callback(db.Model):
    """A contact to call back at a time inside their calling hours, maybe by a named agent."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'queued', 'done', 'canceled', 'missed')", name="status"),
        Index("ix_callbacks_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), server_default="scheduled")
    notes: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Why a voicemail brought no callback (app.interactions.voicemails words them).
NO_CALLBACK_REASONS = ("do_not_call", "withheld")


class Voicemail(db.Model):
    """A message a caller left on one of our numbers when nobody could take the call (outside
    the campaign's hours, or past the longest wait): kept once per carrier recording, with the
    callback it became or why it became none."""

    __tablename__ = "voicemails"
    __table_args__ = (
        CheckConstraint(f"no_callback_reason IS NULL OR no_callback_reason IN {NO_CALLBACK_REASONS}",
                        name="no_callback_reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The carrier's recording: a repeated or late <Record> action finds it and changes nothing.
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("contacts.id", ondelete="SET NULL"),
                                                   index=True)
    callback_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("callbacks.id", ondelete="SET NULL"))
    caller: Mapped[str | None] = mapped_column(String(20))
    duration_seconds: Mapped[int | None]
    no_callback_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
