"""Do-not-call lists: the internal list (campaign_id NULL) and one list per campaign.

`is_dnc` is what the dialer asks at the moment of dialling; every change here is audited.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import Text, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.audit import services as audit
from app.campaigns import access
from app.campaigns.models import Campaign
from app.common.pagination import paginate
from app.common.phones import normalize_phone
from app.dnc.models import DncEntry
from app.errors import ApiError
from app.extensions import db


def is_dnc(phone_e164: str, campaign_id: int | None) -> bool:
    """Is the number on the internal list or on this campaign's list?"""
    query = select(DncEntry.id).where(DncEntry.phone_e164 == phone_e164)
    if campaign_id is None:
        query = query.where(DncEntry.campaign_id.is_(None))
    else:
        query = query.where(or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == campaign_id))
    return db.session.scalar(query.limit(1)) is not None


def dnc_numbers_among(phones: list[str], campaign_id: int | None) -> set[str]:
    """The subset of `phones` that must not be called in the campaign (one query per batch)."""
    if not phones:
        return set()
    # One array parameter rather than thousands of bind parameters in an IN list.
    query = select(DncEntry.phone_e164).where(
        DncEntry.phone_e164 == any_(bindparam("phones", phones, type_=ARRAY(Text))))
    if campaign_id is None:
        query = query.where(DncEntry.campaign_id.is_(None))
    else:
        query = query.where(or_(DncEntry.campaign_id.is_(None), DncEntry.campaign_id == campaign_id))
    return set(db.session.scalars(query))


def _region_for(campaign_id: int | None) -> str:
    if campaign_id is not None:
        region = db.session.scalar(select(Campaign.default_region).where(Campaign.id == campaign_id))
        if region:
            return region
    return current_app.config["DEFAULT_PHONE_REGION"]


def _check_list_scope(user, campaign_id: int | None) -> None:
    """Admins and supervisors use the internal list; a campaign's list only within their scope."""
    if campaign_id is not None:
        access.get_campaign(user, campaign_id, manage=True)


def list_entries(user, page: int, per_page: int, phone: str | None = None,
                 campaign_id: int | None = None, list: str | None = None) -> dict:
    query = select(DncEntry).order_by(DncEntry.id.desc())
    if user.role != "admin":
        query = query.where(or_(DncEntry.campaign_id.is_(None),
                                DncEntry.campaign_id.in_(access.assigned_campaign_ids(user))))
    if campaign_id is not None:
        _check_list_scope(user, campaign_id)
        query = query.where(DncEntry.campaign_id == campaign_id)
    if list == "internal":
        query = query.where(DncEntry.campaign_id.is_(None))
    elif list == "campaign":
        query = query.where(DncEntry.campaign_id.is_not(None))
    if phone:
        query = query.where(_phone_filter(phone, campaign_id))
    return paginate(query, page, per_page)


def _phone_filter(phone: str, campaign_id: int | None):
    """An exact match on a number that parses; otherwise a digits search ("555012" finds it)."""
    try:
        return DncEntry.phone_e164 == normalize_phone(phone, _region_for(campaign_id))
    except ValueError:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not digits:
            raise ApiError(422, "Search by a phone number or some of its digits", "validation_error",
                           {"phone": ["Give a phone number or digits."]}) from None
        return DncEntry.phone_e164.like(f"%{digits}%")


def add_entry(user, phone: str, campaign_id: int | None = None, reason: str = "",
              source: str = "manual") -> DncEntry:
    _check_list_scope(user, campaign_id)
    try:
        e164 = normalize_phone(phone, _region_for(campaign_id))
    except ValueError as exc:
        raise ApiError(422, "Not a phone number", "validation_error", {"phone": [str(exc)]}) from None
    existing = db.session.scalar(select(DncEntry).where(
        DncEntry.phone_e164 == e164,
        DncEntry.campaign_id.is_(None) if campaign_id is None else DncEntry.campaign_id == campaign_id))
    if existing is not None:
        raise ApiError(409, "The number is already on that list", "conflict", {"phone": ["Already listed."]})
    entry = DncEntry(phone_e164=e164, campaign_id=campaign_id, reason=reason, source=source,
                     created_by_id=getattr(user, "id", None))
    db.session.add(entry)
    db.session.flush()
    audit.record("dnc.add", target_type="dnc", target_id=entry.id, phone=e164, campaign_id=campaign_id,
                 source=source)
    db.session.commit()
    return entry


def get_entry(user, entry_id: int) -> DncEntry:
    entry = db.session.get(DncEntry, entry_id)
    if entry is None or (entry.campaign_id is not None and not access.can_see_campaign(user, entry.campaign_id)):
        raise access.not_found("do-not-call entry")
    return entry


def remove_entry(user, entry_id: int) -> None:
    """Admins only (the route checks): taking a number off a list is the risky direction."""
    entry = get_entry(user, entry_id)
    audit.record("dnc.remove", target_type="dnc", target_id=entry.id, phone=entry.phone_e164,
                 campaign_id=entry.campaign_id, reason=entry.reason)
    db.session.delete(entry)
    db.session.commit()


def check(user, phone: str, campaign_id: int | None) -> dict:
    if campaign_id is not None:
        access.get_campaign(user, campaign_id, manage=True)
    try:
        e164 = normalize_phone(phone, _region_for(campaign_id))
    except ValueError as exc:
        raise ApiError(422, "Not a phone number", "validation_error", {"phone": [str(exc)]}) from None
    return {"phone_e164": e164, "dnc": is_dnc(e164, campaign_id)}


def add_to_dnc(phone_e164: str, *, source: str, reason: str = "", campaign_id: int | None = None,
               created_by_id: int | None = None) -> bool:
    """Add a number at once, without a user (an opt-out keypress, a DNC disposition); idempotent.
    Returns True when the number was not on that list before."""
    from sqlalchemy import text
    from sqlalchemy.dialects.postgresql import insert

    if campaign_id is None:
        conflict = {"index_elements": ["phone_e164"], "index_where": text("campaign_id IS NULL")}
    else:
        conflict = {"index_elements": ["campaign_id", "phone_e164"],
                    "index_where": text("campaign_id IS NOT NULL")}
    result = db.session.execute(
        insert(DncEntry).values(phone_e164=phone_e164, campaign_id=campaign_id, source=source,
                                reason=reason, created_by_id=created_by_id)
        .on_conflict_do_nothing(**conflict).returning(DncEntry.id))
    return result.first() is not None
