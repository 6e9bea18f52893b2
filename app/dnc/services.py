"""Do-not-call checks (the dialer's view; the admin API adds management functions)."""
from __future__ import annotations

from sqlalchemy import exists, or_, select, text
from sqlalchemy.dialects.postgresql import insert

from app.dnc.models import DncEntry
from app.extensions import db


def is_dnc(phone_e164: str, campaign_id: int | None) -> bool:
    """True when the number is on the internal list or on the campaign's own list."""
    scope = DncEntry.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DncEntry.campaign_id == campaign_id)
    return bool(db.session.scalar(select(exists().where(DncEntry.phone_e164 == phone_e164, scope))))


def add_to_dnc(phone_e164: str, *, source: str, reason: str = "", campaign_id: int | None = None,
               created_by_id: int | None = None) -> None:
    """Add a number to the internal (or a campaign's) do-not-call list at once; idempotent."""
    if campaign_id is None:
        conflict = {"index_elements": ["phone_e164"], "index_where": text("campaign_id IS NULL")}
    else:
        conflict = {"index_elements": ["campaign_id", "phone_e164"],
                    "index_where": text("campaign_id IS NOT NULL")}
    db.session.execute(
        insert(DncEntry).values(phone_e164=phone_e164, campaign_id=campaign_id, source=source,
                                reason=reason, created_by_id=created_by_id)
        .on_conflict_do_nothing(**conflict))
