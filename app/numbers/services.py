"""The account's numbers as Omnivox keeps them: read from the carrier, pooled per campaign."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select

from app.audit import services as audit
from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.compliance.rules.places import state_for_number
from app.errors import ApiError
from app.extensions import db
from app.numbers import presence
from app.numbers.models import PhoneNumber, PoolNumber
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier, webhook_url

log = logging.getLogger(__name__)
CARRIER_UNREACHABLE = ("The carrier could not be asked for the account's numbers just now; "
                       "these are the numbers as last read.")


def sync_numbers() -> str | None:
    """Store what the carrier lists now; numbers it no longer lists are kept, marked gone.
    Returns a message in words when the carrier could not be read."""
    try:
        owned = [n for n in get_carrier().list_numbers() if n.voice]
    except CarrierError as exc:
        log.warning("could not list the account's numbers: %s", exc.message)
        db.session.rollback()
        return CARRIER_UNREACHABLE
    now = utcnow()
    stored = {n.phone_e164: n for n in db.session.scalars(select(PhoneNumber).with_for_update())}
    for owned_number in owned:
        row = stored.get(owned_number.phone_number)
        if row is None:
            row = PhoneNumber(phone_e164=owned_number.phone_number, health={})
            db.session.add(row)
        row.carrier_sid, row.friendly_name = owned_number.sid, owned_number.friendly_name[:120]
        row.state, row.in_account, row.synced_at = state_for_number(owned_number.phone_number), True, now
        row.voice_url = owned_number.voice_url
    listed = {n.phone_number for n in owned}
    for number, row in stored.items():
        if number not in listed:
            row.in_account = False
    db.session.commit()
    return None


def inbound_url() -> str:
    return webhook_url("inbound")


def _shown_numbers() -> list[PhoneNumber]:
    """The account's numbers that calls show: those in a pool, and campaigns' own caller IDs."""
    pooled = select(PoolNumber.number_id)
    return list(db.session.scalars(select(PhoneNumber).where(
        PhoneNumber.in_account.is_(True),
        PhoneNumber.id.in_(pooled) | PhoneNumber.phone_e164.in_(select(Campaign.caller_id)))
        .order_by(PhoneNumber.phone_e164)))  # unlocked: the carrier is asked for each (two runs set the same URL)


def answer_calls_here() -> str | None:
    """Point every number our calls show at `/twilio/inbound`, so that a person who calls it back
    reaches the seller and can ask not to be called (FTC TSR 310.4(a)(8)); their calls' end is
    posted to `/twilio/status`, the only word of it the carrier sends. Numbers no call shows
    are left where they answer. Returns a message in words when the carrier refused some."""
    url, status_url, refused = inbound_url(), webhook_url("status"), []
    for number in _shown_numbers():
        if number.voice_url == url:
            continue
        try:
            number.voice_url = get_carrier().set_voice_url(number.carrier_sid, url, status_url).voice_url
        except CarrierError as exc:
            log.warning("could not point %s at %s: %s", number.phone_e164, url, exc.message)
            refused.append(number.phone_e164)
    db.session.commit()
    if refused:
        return (f"The carrier could not be asked to send calls to {', '.join(refused)} to Omnivox just "
                "now; it will be asked again within 15 minutes.")
    return None


def _calls_go(number: PhoneNumber, url: str) -> str:
    if number.voice_url == url:
        return "Omnivox answers: the seller's name, the opt-out key, an agent in hours"
    if not number.voice_url:
        return "Nowhere: the carrier has no address for calls to it"
    return "Elsewhere: calls to it do not reach Omnivox"


def numbers_page(now: datetime | None = None) -> dict:
    """Every number with its pools, cap, today's calls and health; every campaign's pool."""
    now = now or utcnow()
    warning = sync_numbers()
    numbers = list(db.session.scalars(select(PhoneNumber).order_by(PhoneNumber.in_account.desc(),
                                                                   PhoneNumber.phone_e164)))
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.name)))
    members = db.session.execute(select(PoolNumber.campaign_id, PoolNumber.number_id)).all()
    by_number = {n.id: n for n in numbers}
    names = {c.id: c.name for c in campaigns}
    today = presence.dials_today([n.phone_e164 for n in numbers], now)
    url = inbound_url()
    items = []
    for n in numbers:
        items.append({
            "id": n.id, "phone_number": n.phone_e164, "friendly_name": n.friendly_name,
            "state": n.state, "in_account": n.in_account, "daily_cap": n.daily_cap,
            "calls_today": today.get(n.phone_e164, 0),
            "rested": n.rested_at(now), "rested_until": n.rested_until if n.rested_at(now) else None,
            "rest_reason": n.rest_reason if n.rested_at(now) else None,
            "health": n.health or {}, "health_at": n.health_at,
            "answered_by_omnivox": n.voice_url == url, "calls_go": _calls_go(n, url),
            "campaigns": [{"id": c, "name": names[c]} for c, i in members if i == n.id and c in names],
        })
    pools = [{"campaign_id": c.id, "campaign_name": c.name, "caller_id": c.caller_id,
              "numbers": sorted(by_number[i].phone_e164 for cid, i in members if cid == c.id)}
             for c in campaigns]
    return {"items": items, "pools": pools, "carrier_warning": warning}


def set_pool(actor, campaign_id: int, numbers: list[str]) -> dict:
    """Replace a campaign's pool; every number must be one the account holds."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ApiError(404, "No such campaign", "not_found")
    wanted = list(dict.fromkeys(n.strip() for n in numbers))
    found = _owned(wanted)
    if len(found) < len(wanted):  # the stored list may be behind the carrier's: read it again
        sync_numbers()
        found = _owned(wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise ApiError(422, "Only the account's own numbers can go in a pool", fields={
            "numbers": [f"{n} is not one of the account's numbers." for n in missing]})
    before = sorted(db.session.scalars(
        select(PhoneNumber.phone_e164).join(PoolNumber, PoolNumber.number_id == PhoneNumber.id)
        .where(PoolNumber.campaign_id == campaign_id)))
    db.session.execute(delete(PoolNumber).where(PoolNumber.campaign_id == campaign_id))
    for number in found.values():
        db.session.add(PoolNumber(campaign_id=campaign_id, number_id=number.id, added_by_id=actor.id))
    audit.record("number_pool.updated", target_type="campaign", target_id=campaign_id,
                 actor=actor, before=before, after=sorted(found))
    db.session.commit()
    warning = answer_calls_here()  # a number new to a pool answers its callers from now on
    return {"campaign_id": campaign.id, "campaign_name": campaign.name, "caller_id": campaign.caller_id,
            "numbers": sorted(found), "carrier_warning": warning}


def update_number(actor, number_id: int, data: dict) -> PhoneNumber:
    """Change a number's daily cap, or put a rested number back in service."""
    number = db.session.get(PhoneNumber, number_id, with_for_update=True)
    if number is None:
        raise ApiError(404, "No such number", "not_found")
    changes = {}
    if "daily_cap" in data and data["daily_cap"] != number.daily_cap:
        changes["daily_cap"] = [number.daily_cap, data["daily_cap"]]
        number.daily_cap = data["daily_cap"]
    if data.get("back_in_service") and number.rested_until is not None:
        changes["rested_until"] = [number.rested_until.isoformat(), None]
        number.rested_until, number.rest_reason = None, None
    if changes:
        audit.record("number.updated", target_type="phone_number", target_id=number.id, actor=actor,
                     number=number.phone_e164, changes=changes)
    db.session.commit()
    return number


def _owned(numbers: list[str]) -> dict[str, PhoneNumber]:
    if not numbers:
        return {}
    return {n.phone_e164: n for n in db.session.scalars(
        select(PhoneNumber).where(PhoneNumber.phone_e164.in_(numbers), PhoneNumber.in_account.is_(True)))}
