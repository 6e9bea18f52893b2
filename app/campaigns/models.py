from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Numeric, String, Text, Time, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db

DIAL_MODES = ("preview", "progressive", "predictive")
CAMPAIGN_STATUSES = ("draft", "active", "paused", "stopped")


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("dial_mode IN ('preview', 'progressive', 'predictive')", name="dial_mode"),
        CheckConstraint("status IN ('draft', 'active', 'paused', 'stopped')", name="status"),
        # The law, enforced by the database as well as the API (DESIGN.md: rules that are law).
        CheckConstraint("ring_timeout_seconds >= 15", name="ring_timeout_min"),
        CheckConstraint("max_abandon_rate > 0 AND max_abandon_rate <= 0.03", name="abandon_cap"),
        CheckConstraint(
            "window_start >= '08:00' AND window_end <= '21:00' AND window_start < window_end",
            name="calling_window",
        ),
        CheckConstraint("machine_action IN ('hangup', 'message')", name="machine_action"),
        CheckConstraint("required_consent IN ('none', 'prior_express', 'prior_express_written')",
                        name="required_consent"),
        CheckConstraint("inbound_max_wait_seconds BETWEEN 10 AND 3600", name="inbound_max_wait"),
        CheckConstraint("inbound_keep_agents >= 0", name="inbound_keep_agents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    dial_mode: Mapped[str] = mapped_column(String(16), server_default="progressive")
    caller_id: Mapped[str] = mapped_column(String(20))
    # Time zone the campaign reports in (KPI days); calling windows use the callee's zone.
    timezone: Mapped[str] = mapped_column(String(64), server_default="America/New_York")
    default_region: Mapped[str] = mapped_column(String(2), server_default="US")
    ring_timeout_seconds: Mapped[int] = mapped_column(server_default="25")
    window_start: Mapped[time] = mapped_column(Time, server_default="09:00")
    window_end: Mapped[time] = mapped_column(Time, server_default="20:00")
    max_abandon_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4), server_default="0.03")
    max_attempts: Mapped[int] = mapped_column(server_default="3")
    retry_busy_seconds: Mapped[int] = mapped_column(server_default="900")
    retry_no_answer_seconds: Mapped[int] = mapped_column(server_default="3600")
    retry_machine_seconds: Mapped[int] = mapped_column(server_default="14400")
    retry_failed_seconds: Mapped[int] = mapped_column(server_default="1800")
    amd_enabled: Mapped[bool] = mapped_column(server_default="false")
    machine_action: Mapped[str] = mapped_column(String(16), server_default="hangup")
    machine_message: Mapped[str] = mapped_column(Text, server_default="")
    recording_enabled: Mapped[bool] = mapped_column(server_default="false")
    # Days a recording is kept before it is deleted at the carrier (None: kept until deleted
    # by hand). A call on legal hold keeps its recordings; call records are kept 5 years anyway.
    recording_retention_days: Mapped[int | None]
    # Hold calls to numbers on the FTC's National Do Not Call Registry (and to US area codes whose
    # copy is missing or over 31 days old). On unless an admin turns it off: the stricter reading.
    scrub_national_registry: Mapped[bool] = mapped_column(server_default="true")
    seller_name: Mapped[str] = mapped_column(String(120))
    seller_phone: Mapped[str] = mapped_column(String(20))
    safe_harbour_message: Mapped[str] = mapped_column(Text)
    script: Mapped[str] = mapped_column(Text, server_default="")
    # The consent every contact must have on record before this campaign calls them.
    required_consent: Mapped[str] = mapped_column(String(32), server_default="none")
    # Calls to our numbers (app.dialer.inbound): how long a caller waits in the queue for an
    # agent before the closed path (a voicemail) takes them, what they hear while they wait
    # (their place in the queue is said after it), and agents kept back from outbound dialling
    # for them in a blended campaign (besides one for each caller waiting).
    inbound_max_wait_seconds: Mapped[int] = mapped_column(server_default="120")
    inbound_hold_message: Mapped[str] = mapped_column(Text, server_default=(
        "Thank you for calling. All our agents are busy; please stay on the line."))
    inbound_keep_agents: Mapped[int] = mapped_column(server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    assignments: Mapped[list["CampaignAssignment"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )
    disposition_codes: Mapped[list["DispositionCode"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )

    @property
    def agent_ids(self) -> list[int]:
        return sorted(a.user_id for a in self.assignments if a.role == "agent")

    @property
    def supervisor_ids(self) -> list[int]:
        return sorted(a.user_id for a in self.assignments if a.role == "supervisor")


class CampaignAssignment(db.Model):
    """A user working (agent) or watching (supervisor) a campaign."""

    __tablename__ = "campaign_assignments"
    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor')", name="role"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    campaign: Mapped[Campaign] = relationship(back_populates="assignments")


class DispositionCode(db.Model):
    """An outcome an agent records; its flags say what happens next."""

    __tablename__ = "disposition_codes"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    is_contact: Mapped[bool] = mapped_column(server_default="true")
    is_sale: Mapped[bool] = mapped_column(server_default="false")
    is_dnc: Mapped[bool] = mapped_column(server_default="false")
    is_callback: Mapped[bool] = mapped_column(server_default="false")
    is_final: Mapped[bool] = mapped_column(server_default="false")
    sort_order: Mapped[int] = mapped_column(server_default="0")
    active: Mapped[bool] = mapped_column(server_default="true")

    campaign: Mapped[Campaign] = relationship(back_populates="disposition_codes")


class PauseCode(db.Model):
    """Why an agent is paused (break, training, ...). campaign_id NULL: available everywhere."""

    __tablename__ = "pause_codes"
    __table_args__ = (
        UniqueConstraint("campaign_id", "code", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    paid: Mapped[bool] = mapped_column(server_default="false")
    max_minutes: Mapped[int | None]
    active: Mapped[bool] = mapped_column(server_default="true")

    campaign: Mapped[Campaign | None] = relationship()

    @property
    def campaign_name(self) -> str | None:
        return self.campaign.name if self.campaign is not None else None

    @property
    def scope(self) -> str:
        """Where agents may use it, in words: "Every campaign" or the campaign's name."""
        return self.campaign.name if self.campaign is not None else "Every campaign"


class PacingOverride(db.Model):
    """A person steering a running campaign's dialer, within the law's limits.

    No row: automatic pacing. A ceiling caps the dial level (calls dialling per ready agent)
    the predictive pacer may reach; a fixed level replaces its decision while the 30-day
    abandonment budget has room; an abandonment target replaces the campaign's limit for the
    pacer (never above 3%, the law). The 30-day governor holds whatever is set here.
    """

    __tablename__ = "pacing_overrides"
    __table_args__ = (
        CheckConstraint("abandon_target IS NULL OR (abandon_target > 0 AND abandon_target <= 0.03)",
                        name="abandon_target_cap"),
        CheckConstraint("max_dial_level IS NULL OR (max_dial_level >= 1 AND max_dial_level <= 10)",
                        name="max_dial_level_range"),
        CheckConstraint("fixed_dial_level IS NULL OR (fixed_dial_level >= 1 AND fixed_dial_level <= 10)",
                        name="fixed_dial_level_range"),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    max_dial_level: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    fixed_dial_level: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    abandon_target: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
