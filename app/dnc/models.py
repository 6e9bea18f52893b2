from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, SmallInteger, String, Text, func, text,
)
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


class RegistryNumber(db.Model):
    """A number on the FTC's National Do Not Call Registry, its ten digits as one integer.

    Partitioned by range, one partition per area code (number // 10_000_000): importing an area
    code's file builds a new table beside the old one and swaps it in whole (registry_import).
    A bare BIGINT key is the narrowest index a lookup or an anti-join can probe, and its range
    already holds the area code, so no second column is needed.
    """

    __tablename__ = "dnc_registry_numbers"
    __table_args__ = {"postgresql_partition_by": "RANGE (number)"}

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class RegistryAreaCode(db.Model):
    """The copy of one area code's registry file we hold: when the registry produced it."""

    __tablename__ = "dnc_registry_area_codes"
    __table_args__ = (CheckConstraint("area_code BETWEEN 200 AND 999", name="area_code"),)

    area_code: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    downloaded_on: Mapped[date] = mapped_column(Date)  # the registry's date for the file
    rows: Mapped[int] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id", ondelete="SET NULL"))
