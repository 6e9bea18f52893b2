from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

AGENT_STATES = ("offline", "ready", "reserved", "on-call", "wrap-up", "paused")


class AgentProfile(db.Model):
    """The agent side of a user: how to reach them and their last known state."""

    __tablename__ = "agents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Identity of the agent's voice client (Twilio Client name / simulator leg).
    client_identity: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The phone Omnivox calls for the agent's audio when they do not use the browser.
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16), server_default="offline")
    state_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    user: Mapped["User"] = relationship(back_populates="agent_profile")  # noqa: F821


class AgentStateChange(db.Model):
    """Every agent state transition, for time-in-state and occupancy KPIs."""

    __tablename__ = "agent_state_changes"
    __table_args__ = (
        CheckConstraint(
            "to_state IN ('offline', 'ready', 'reserved', 'on-call', 'wrap-up', 'paused')",
            name="to_state",
        ),
        Index("ix_agent_state_changes_agent_at", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    pause_code_id: Mapped[int | None] = mapped_column(ForeignKey("pause_codes.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Milliseconds spent in from_state, exact from the previous change.
    previous_state_ms: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(64))
