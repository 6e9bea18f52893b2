from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class KpiRollup(db.Model):
    """Additive counters per campaign (and agent) per minute, hour or day bucket.

    Rates are derived at read time from these sums, so buckets roll up into any window.
    agent_id NULL is the campaign-wide row.
    """

    __tablename__ = "kpi_rollups"
    __table_args__ = (
        UniqueConstraint("campaign_id", "agent_id", "granularity", "bucket_start",
                         postgresql_nulls_not_distinct=True),
        CheckConstraint("granularity IN ('minute', 'hour', 'day')", name="granularity"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    granularity: Mapped[str] = mapped_column(String(8))
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    calls_placed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    answered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    human_answered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    machine_answered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    abandoned: Mapped[int] = mapped_column(BigInteger, server_default="0")
    ring_seconds_sum: Mapped[float] = mapped_column(Float, server_default="0")
    ring_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    talk_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    wrap_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    handled: Mapped[int] = mapped_column(BigInteger, server_default="0")
    contacts_reached: Mapped[int] = mapped_column(BigInteger, server_default="0")
    sales: Mapped[int] = mapped_column(BigInteger, server_default="0")
    signed_in_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    paused_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    dispositions: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    pause_by_code: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
