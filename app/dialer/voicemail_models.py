"""Voicemails left by agents (app.dialer.voicemail_drop): one row per call, the call's outcome
("a voicemail was left") and how the message went at the carrier."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class VoicemailDrop(db.Model):
    """A voicemail left on a call by its agent: the call's outcome, and how the message went."""

    __tablename__ = "voicemail_drops"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    message: Mapped[str] = mapped_column(String(16))   # audio | speech
    # What the carrier said of the greeting when the message started (a verdict, "quiet" when the
    # line went quiet, "person" when a person was heard and nothing was played, "no-consent" when
    # the contact's written consent was revoked after the press and nothing was played).
    started_after: Mapped[str | None] = mapped_column(String(32))
    played_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
