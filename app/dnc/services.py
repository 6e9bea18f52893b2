"""Do-not-call checks (the dialer's view; the admin API adds management functions)."""
from __future__ import annotations

from sqlalchemy import exists, or_, select

from app.dnc.models import DncEntry
from app.extensions import db


def is_dnc(phone_e164: str, campaign_id: int | None) -> bool:
    """True when the number is on the internal list or on the campaign's own list."""
    scope = DncEntry.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DncEntry.campaign_id == campaign_id)
    return bool(db.session.scalar(select(exists().where(DncEntry.phone_e164 == phone_e164, scope))))
