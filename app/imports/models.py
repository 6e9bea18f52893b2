from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ImportJob(db.Model):
    """A CSV import (contacts or do-not-call) run by a worker, with progress the API reports, or
    an area code's file of the national Do Not Call Registry (kind registry, from the CLI)."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('contacts', 'dnc', 'registry')", name="kind"),
        CheckConstraint("status IN ('pending', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    column_map: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    rows_read: Mapped[int] = mapped_column(server_default="0")
    imported: Mapped[int] = mapped_column(server_default="0")
    rejected: Mapped[int] = mapped_column(server_default="0")
    duplicates: Mapped[int] = mapped_column(server_default="0")
    dnc_skipped: Mapped[int] = mapped_column(server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A contacts import is a list of its campaign: switched off (False), the dialer leaves its
    # contacts alone; `name` is what the floor calls it (the file's name until renamed).
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    name: Mapped[str | None] = mapped_column(String(255))


class ImportRejection(db.Model):
    """One row of an import that was not imported: its line number in the file and why."""

    __tablename__ = "import_rejections"
    __table_args__ = (CheckConstraint("kind IN ('invalid', 'duplicate', 'dnc')", name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"), index=True)
    line: Mapped[int]
    # invalid: the row could not be read or its data is wrong (counted in `rejected`);
    # duplicate / dnc: a good row skipped (counted in `duplicates` / `dnc_skipped`).
    kind: Mapped[str] = mapped_column(String(16), server_default="invalid")
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, server_default="")
