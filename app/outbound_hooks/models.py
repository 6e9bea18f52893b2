"""Endpoints admins register, the events raised for them, and each delivery with its attempts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class WebhookEndpoint(db.Model):
    """An HTTPS address that hears the events it subscribes to, signed with its own secret.

    The secret is kept encrypted (app.outbound_hooks.secrets) because it must sign each
    delivery: it cannot be a one-way hash like an API token. Only its last four characters are
    ever shown again after creation."""

    __tablename__ = "webhook_endpoints"
    # Raising an event looks up the switched-on endpoints subscribed to it.
    __table_args__ = (Index("ix_webhook_endpoints_events", "events", postgresql_using="gin",
                            postgresql_where="active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(200), server_default="")
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    active: Mapped[bool] = mapped_column(server_default="true")
    secret_sealed: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    # Since when every delivery has failed (NULL: the last one succeeded, or none was tried).
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Switched off by Omnivox after a day of failures (an admin switching it off leaves these NULL).
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(db.Model):
    """One thing that happened, as every subscribed endpoint receives it: `body` is the exact JSON
    posted (kept as text so that retries and redeliveries send the same bytes)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(db.Model):
    """One event to one endpoint: pending until an attempt succeeds or Omnivox gives up.

    `manual`: a test or a redelivery an admin asked for (tried once, whether or not the
    endpoint is switched on, and never counted towards switching it off)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_events.id", ondelete="CASCADE"),
                                          index=True)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")  # pending|succeeded|failed
    manual: Mapped[bool] = mapped_column(server_default="false")
    redelivery_of_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("webhook_deliveries.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None]
    last_duration_ms: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    event: Mapped[WebhookEvent] = relationship(lazy="joined", innerjoin=True)
    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, the answer's status code (NULL: none came) and how long."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempt_no: Mapped[int]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
