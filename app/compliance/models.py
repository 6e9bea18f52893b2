"""Blackout days an admin declares: no calls to a state (or every state) on those dates."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.compliance.rules.messages import place
from app.extensions import db

EVERY_STATE = "Every state"


class BlackoutDay(db.Model):
    """Dates closed to calls in one jurisdiction, inclusive, in the callee's local dates: a
    state of emergency, a holiday a governor proclaims. "US" closes every state."""

    __tablename__ = "blackout_days"
    __table_args__ = (
        CheckConstraint("jurisdiction ~ '^US(-[A-Z]{2})?$'", name="jurisdiction"),
        CheckConstraint("date_from <= date_to", name="dates_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Loaded with the row: the list shows who declared each one.
    created_by: Mapped["User | None"] = relationship(lazy="joined")  # noqa: F821

    @property
    def place(self) -> str:
        """Where, for people: "Florida", "Every state"."""
        return EVERY_STATE if self.jurisdiction == "US" else place(self.jurisdiction)

    @property
    def created_by_username(self) -> str | None:
        return self.created_by.username if self.created_by is not None else None
