from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

CONTACT_STATUSES = ("new", "retry", "callback", "dialing", "done", "dnc", "invalid")


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone_e164"),
        CheckConstraint(
            "status IN ('new', 'retry', 'callback', 'dialing', 'done', 'dnc', 'invalid')",
            name="status",
        ),
        # The refill query: dialable contacts of a campaign by due time.
        Index("ix_contacts_campaign_status_due", "campaign_id", "status", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    alt_phones: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    first_name: Mapped[str] = mapped_column(String(100), server_default="")
    last_name: Mapped[str] = mapped_column(String(100), server_default="")
    email: Mapped[str | None] = mapped_column(String(254))
    custom_fields: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    timezone: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    # True: every source of the contact's zone (stored zone, address, number) says `timezone`,
    # so the refill windows it in SQL; False or not yet known (NULL): checked against them all.
    zones_agree: Mapped[bool | None]
    status: Mapped[str] = mapped_column(String(16), server_default="new")
    attempts: Mapped[int] = mapped_column(server_default="0")
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
