from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, SmallInteger, String, UniqueConstraint, func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.agents.models import AgentStateChange
from app.extensions import db
from app.interactions.models import Interaction


class KpiRollup(db.Model):
    """Additive counters per campaign (and agent) per minute, hour or day bucket.

    Rates are derived at read time from these sums, so buckets roll up into any window.
    agent_id NULL is the campaign-wide row. Minute and hour buckets are UTC-aligned; day
    buckets start at local midnight in the campaign's time zone (23 or 25 hours across DST).
    """

    __tablename__ = "kpi_rollups"
    __table_args__ = (
        UniqueConstraint("campaign_id", "agent_id", "granularity", "bucket_start",
                         postgresql_nulls_not_distinct=True),
        CheckConstraint("granularity IN ('minute', 'hour', 'day')", name="granularity"),
        # Window reads and day-from-hours composition: all rows of a campaign in a time range.
        Index("ix_kpi_rollups_campaign_granularity_bucket", "campaign_id", "granularity", "bucket_start"),
        Index("ix_kpi_rollups_agent_granularity_bucket", "agent_id", "granularity", "bucket_start"),
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
    # Seconds in the on-call and wrap-up states: the numerator of occupancy.
    occupied_seconds: Mapped[float] = mapped_column(Float, server_default="0")
    dispositions: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    pause_by_code: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KpiRollupState(db.Model):
    """The incremental rollup's watermarks (one row): how far each source has been read.

    *_seen_at are the database clock at the start of the last run; the next run rereads from
    there minus an overlap (commit lag). New interaction and state rows are also found by id,
    so late rows with old timestamps are never missed.
    """

    __tablename__ = "kpi_rollup_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="1")
    calls_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    interactions_seen_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
    interactions_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    states_seen_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
    states_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    full_recompute_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Indexes on source tables that only the rollup needs (declared here so the owning models stay untouched).
Index("ix_interactions_campaign_started", Interaction.__table__.c.campaign_id, Interaction.__table__.c.started_at)
Index("ix_interactions_wrapup_ended_at", Interaction.__table__.c.wrapup_ended_at)
Index("ix_interactions_dispositioned_at", Interaction.__table__.c.dispositioned_at)
Index("ix_agent_state_changes_at", AgentStateChange.__table__.c.at)
