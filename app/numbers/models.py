from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class PhoneNumber(db.Model):
    """A number the account holds at the carrier, as last read from it, with Omnivox's own
    settings (daily cap) and verdicts (rested until when, why; the last health figures)."""

    __tablename__ = "phone_numbers"
    __table_args__ = (CheckConstraint("daily_cap IS NULL OR daily_cap > 0", name="daily_cap_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    carrier_sid: Mapped[str] = mapped_column(String(64))
    friendly_name: Mapped[str] = mapped_column(String(120), server_default="")
    state: Mapped[str | None] = mapped_column(String(2))  # the area code's US state
    # False once the carrier no longer lists it: kept for the call records, never dialled from.
    in_account: Mapped[bool] = mapped_column(server_default="true")
    # Where the carrier sends a call to it (app.numbers.services.answer_calls_here).
    voice_url: Mapped[str | None] = mapped_column(Text)
    daily_cap: Mapped[int | None]
    rested_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rest_reason: Mapped[str | None] = mapped_column(Text)
    health: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    health_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def rested_at(self, now: datetime) -> bool:
        return self.rested_until is not None and self.rested_until > now


class PoolNumber(db.Model):
    """One number in one campaign's pool."""

    __tablename__ = "number_pool_members"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
