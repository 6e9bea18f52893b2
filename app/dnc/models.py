from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class DncEntry(db.Model):
    """A number that must not be called: campaign_id NULL is the internal (company-wide) list."""

    __tablename__ = "dnc_entries"
    __table_args__ = (
        Index("uq_dnc_internal_phone", "phone_e164", unique=True,
              postgresql_where=text("campaign_id IS NULL")),
        Index("uq_dnc_campaign_phone", "campaign_id", "phone_e164", unique=True,
              postgresql_where=text("campaign_id IS NOT NULL")),
        Index("ix_dnc_entries_phone_e164", "phone_e164"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16), server_default="manual")  # manual|import|disposition|opt-out
    reason: Mapped[str] = mapped_column(Text, server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
