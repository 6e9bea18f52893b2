from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

CONTACT_STATUSES = ("new", "retry", "callback", "dialing", "done", "dnc", "invalid")
# custom_fields["source"] of a contact made for a number an agent dialled by hand.
MANUAL_DIAL_SOURCE = "manual dial"


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
        Index("ix_contacts_import_job", "import_job_id"),
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
    attempts: Mapped[int] = mapped_column(server_default="0")  # every call ever made (numbers each call)
    # Calls made before the current pass: a list recycle starts a new pass, and the campaign's
    # attempt limit counts the calls of this pass only (see `pass_attempts`).
    attempts_before_pass: Mapped[int] = mapped_column(server_default="0")
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    @property
    def pass_attempts(self) -> int:
        """Calls made in the current pass (since the last recycle of its list)."""
        return max(0, (self.attempts or 0) - (self.attempts_before_pass or 0))


CONSENT_KINDS = ("prior_express", "prior_express_written")
REVOCATION_CHANNELS = ("opt_out_key", "dnc_disposition", "api")


class Consent(db.Model):
    """A contact's consent to be called, and its revocation (when, how and by whom).

    prior_express_written is the stronger kind: it satisfies a requirement of prior_express too.
    Revoked by any reasonable means, a consent is kept (the proof of what was relied on before).
    """

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(f"kind IN {CONSENT_KINDS}", name="kind"),
        CheckConstraint(f"revoked_via IS NULL OR revoked_via IN {REVOCATION_CHANNELS}", name="revoked_via"),
        Index("ix_consents_contact", "contact_id"),
        Index("ix_consents_phone", "phone_e164"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(500))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_via: Mapped[str | None] = mapped_column(String(32))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
