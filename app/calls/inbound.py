"""A person calls one of our numbers back (`POST /twilio/inbound`).

The law asks that the number a call shows be one the person can call to ask not to be called
(FTC TSR 310.4(a)(8)); with local presence a call may show any number of a campaign's pool, so
every number we own must answer. The seller is the one that last called this person from this
number, else a campaign whose pool holds it, else a campaign showing it as its caller ID; in its
hours the call reaches an agent (app.dialer.inbound). A number no campaign owns says so and hangs
up. A withheld number cannot be put on a list by keypress: the caller is told the number to call.

When nobody can take the call (outside the campaign's hours, by its own clock, or past the longest
wait in its queue) the caller hears why (and when we open, in words), may press the opt-out key,
and may leave a voicemail after the beep that becomes a callback in the campaign
(app.interactions.voicemails). A withheld number cannot be called back, so it is offered no
voicemail. A caller already on a do-not-call list is still heard: their message is kept for the
supervisors, and nobody calls them back.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import any_, literal, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.phones import format_national, normalize_phone
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import gates
from app.contacts import consents
from app.dnc.services import is_dnc
from app.extensions import db
from app.numbers.models import PhoneNumber, PoolNumber
from app.telephony import twiml
from app.telephony.factory import webhook_url
from app.telephony.services import OPT_OUT_DIGIT

UNKNOWN_NUMBER = "Thank you for calling. This number takes no calls. Goodbye."
# The longest voicemail, in seconds (the carrier stops recording there and posts what it has).
VOICEMAIL_MAX_SECONDS = 120
NOTHING_HEARD = "We did not hear a message. Goodbye."
CLOSED, WAIT = "closed", "wait"


def seller_for(our_number: str, caller: str | None) -> Campaign | None:
    """The campaign a call to `our_number` from `caller` is about (see the module's docstring)."""
    if caller:
        last = db.session.scalar(select(Call.campaign_id).where(
            Call.from_number == our_number, Call.to_number == caller, Call.campaign_id.is_not(None))
            .order_by(Call.created_at.desc()).limit(1))
        if last is not None:
            return db.session.get(Campaign, last)
    pooled = db.session.scalar(select(PoolNumber.campaign_id).join(PhoneNumber, PhoneNumber.id == PoolNumber.number_id)
                               .where(PhoneNumber.phone_e164 == our_number).order_by(PoolNumber.campaign_id).limit(1))
    if pooled is not None:
        return db.session.get(Campaign, pooled)
    return db.session.scalar(select(Campaign).where(Campaign.caller_id == our_number).order_by(Campaign.id).limit(1))


def caller_number(form) -> str | None:
    """The caller's number in E.164, or None when withheld or not a number."""
    try:
        return normalize_phone(form.get("From", ""), "US")
    except ValueError:
        return None


def _withheld(seller: str, phone: str) -> str:
    return (f"Your number is withheld, so we cannot call you back or take it off our list by phone: "
            f"to stop calls from {seller}, call {phone} from the number we called. Goodbye.")


def _opt_out_url(campaign: Campaign) -> str:
    return webhook_url(f"inbound/opt-out?campaign={campaign.id}")


# --- the campaign's hours ------------------------------------------------------------------------

def _window(campaign: Campaign) -> gates.Window:
    return gates.Window.for_campaign(campaign.window_start, campaign.window_end)


def is_open(campaign: Campaign, at: datetime) -> bool:
    """Whether the campaign takes calls at `at`: inside its calling window (window_start to
    window_end) by the clock of its own time zone. `at` is timezone-aware."""
    return _window(campaign).contains(at.astimezone(ZoneInfo(campaign.timezone)))


def next_opening(campaign: Campaign, at: datetime) -> datetime | None:
    """When the campaign next opens after `at` (None: not within a week, which a window of the
    same hours every day never is)."""
    return gates.next_window_opening(at, (ZoneInfo(campaign.timezone),), _window(campaign))


# US zones by their abbreviation, as a person says them; elsewhere the zone's city names it.
_ZONE_WORDS = {"E": "Eastern", "C": "Central", "M": "Mountain", "P": "Pacific", "AK": "Alaska", "H": "Hawaii"}


def _zone_words(local: datetime) -> str:
    abbreviation = (local.tzname() or "").upper()
    for prefix, words in _ZONE_WORDS.items():
        if abbreviation in (f"{prefix}ST", f"{prefix}DT"):
            return f"{words} time"
    if abbreviation == "UTC":
        return "UTC"  # said as is: not "UTC time"
    return f"{str(local.tzinfo).rpartition('/')[2].replace('_', ' ')} time"


def _clock_words(local: datetime) -> str:
    if (local.hour, local.minute) == (12, 0):
        return "noon"
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{local.hour % 12 or 12}{minutes} {'a.m.' if local.hour < 12 else 'p.m.'}"


def opening_words(campaign: Campaign, now: datetime) -> str:
    """"We open again tomorrow at 9 a.m. Eastern time.": when the campaign opens, by its clock."""
    opening = next_opening(campaign, now)
    if opening is None:
        return ""
    zone = ZoneInfo(campaign.timezone)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    days = (local.date() - today).days
    day = "today" if days == 0 else "tomorrow" if days == 1 else f"on {local:%A}"
    return f"We open again {day} at {_clock_words(local)} {_zone_words(local)}."


# --- nobody can take the call --------------------------------------------------------------------

def contact_for(campaign_id: int, caller: str | None, *, lock: bool = False) -> Contact | None:
    """The campaign's contact with this number (their own number before another of theirs);
    with `lock`, locked for this transaction."""
    if caller is None:
        return None
    query = (select(Contact).where(
        Contact.campaign_id == campaign_id,
        or_(Contact.phone_e164 == caller, literal(caller) == any_(Contact.alt_phones)))
        .order_by((Contact.phone_e164 != caller), Contact.id).limit(1))
    return db.session.scalar(query.with_for_update() if lock else query)


def last_agent(contact_id: int | None) -> int | None:
    """The agent who last spoke with the contact, on any call."""
    if contact_id is None:
        return None
    return db.session.scalar(select(Call.agent_id).where(
        Call.contact_id == contact_id, Call.agent_id.is_not(None), Call.connected_at.is_not(None))
        .order_by(Call.connected_at.desc()).limit(1))


def inbound_call(form, campaign: Campaign, caller: str | None) -> Call:
    """The Call row of this call to our number, made once per CallSid (the carrier may ask
    twice, at once), with the caller's contact if the campaign has one; a withheld number is
    kept as "anonymous". Not committed: the caller commits it with what follows."""
    sid = form.get("CallSid", "")[:64] or None
    found = db.session.scalar(select(Call).where(Call.call_sid == sid)) if sid else None
    if found is not None:
        return found
    contact = contact_for(campaign.id, caller)
    now = utcnow()
    made = db.session.scalar(insert(Call).values(
        campaign_id=campaign.id, contact_id=contact.id if contact else None, direction="inbound",
        kind="inbound", call_sid=sid, to_number=form.get("To", "")[:20], from_number=caller or "anonymous",
        status="in-progress", answered_by="human", queued_at=now, answered_at=now,
    ).on_conflict_do_nothing(index_elements=["call_sid"]).returning(Call.id))
    if made is None:  # the carrier's other request for this CallSid made it first
        return db.session.scalar(select(Call).where(Call.call_sid == sid))
    return db.session.get(Call, made)


def answer_closed(form, campaign: Campaign, caller: str | None, reason: str,
                  now: datetime | None = None) -> str:
    """The TwiML for a call nobody can take: `reason` is CLOSED (outside the campaign's hours)
    or WAIT (the caller waited past the longest wait). The caller hears the seller's name and
    why, may press the opt-out key, and may leave a voicemail (see the module's docstring)."""
    now = now or utcnow()
    seller, phone = campaign.seller_name, format_national(campaign.seller_phone)
    why = (f"We are closed now. {opening_words(campaign, now)}" if reason == CLOSED
           else "We are sorry to have kept you waiting: all our agents are still busy.")
    if caller is None:
        return twiml.say_and_hangup(f"You have reached {seller}. {why} {_withheld(seller, phone)}")
    call = inbound_call(form, campaign, caller)
    db.session.commit()
    record_url = webhook_url(f"inbound/voicemail?campaign={campaign.id}&attempt={call.id}")
    status_url = webhook_url("recording", call.id)
    if is_dnc(caller, campaign.id):
        message = (f"You have reached {seller}. {why} Your number is on our do-not-call list, so we "
                   f"will not call you. You may leave a message after the beep; press the pound key "
                   f"when you are done.")
        return twiml.voicemail(message, None, record_url, status_url, max_length=VOICEMAIL_MAX_SECONDS,
                               nothing_heard=NOTHING_HEARD)
    later = "when we open" if reason == CLOSED else "as soon as we can"
    message = (f"You have reached {seller}. {why} To stop calls from {seller}, press {OPT_OUT_DIGIT} now. "
               f"Or leave a message after the beep with your name, and we will call you back {later}; "
               f"press the pound key when you are done. You can also call us at {phone}.")
    return twiml.voicemail(message, _opt_out_url(campaign), record_url, status_url,
                           max_length=VOICEMAIL_MAX_SECONDS, nothing_heard=NOTHING_HEARD)


def answer_inbound_opt_out(form, campaign_id: int | None) -> str:
    """The keypress of a call to our numbers: the opt-out key puts the caller on the internal
    do-not-call list (and revokes the seller's consents for the number) at once."""
    caller = caller_number(form)
    if form.get("Digits", "")[:1] != OPT_OUT_DIGIT or caller is None:
        return twiml.say_and_hangup("Goodbye.")
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    consents.revoke(caller[:20], campaign.seller_name if campaign else None, "opt_out_key",
                    note=f"opt-out keypress on a call to {form.get('To', '')[:20]} ({form.get('CallSid', '')[:40]})")
    db.session.commit()
    return twiml.say_and_hangup("You have been added to our do-not-call list. Goodbye.")
