"""A person calls one of our numbers back (`POST /twilio/inbound`).

The law asks that the number a call shows be one the person can call to ask not to be called
(FTC TSR 310.4(a)(8)); with local presence a call may show any number of a campaign's pool, so
every number we own must answer. Until calls to our numbers reach agents, each one answers in the
seller's name, gives the seller's own number, and lets the caller press the opt-out key to be put
on the do-not-call list at once. The seller is the one that last called this person from this
number, else a campaign whose pool holds it, else a campaign showing it as its caller ID.
A withheld number cannot be put on a list by keypress: the caller is told the number to call.
"""
from __future__ import annotations

from sqlalchemy import select

from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.phones import format_national, normalize_phone
from app.contacts import consents
from app.extensions import db
from app.numbers.models import PhoneNumber, PoolNumber
from app.telephony import twiml
from app.telephony.factory import webhook_url
from app.telephony.services import OPT_OUT_DIGIT

UNKNOWN_NUMBER = "Thank you for calling. This number takes no calls. Goodbye."


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


def answer_inbound(form) -> str:
    """The TwiML for a call to one of our numbers."""
    our_number, caller = form.get("To", ""), caller_number(form)
    campaign = seller_for(our_number, caller)
    if campaign is None:
        return twiml.say_and_hangup(UNKNOWN_NUMBER)
    seller, phone = campaign.seller_name, format_national(campaign.seller_phone)
    if caller is None:
        return twiml.say_and_hangup(
            f"You have reached {seller}. Your number is withheld, so we cannot take it off our list by "
            f"phone: to stop calls from {seller}, call {phone} from the number we called. Goodbye.")
    prompt = (f"You have reached {seller}. We may have called you from this number. "
              f"To stop calls from {seller}, press {OPT_OUT_DIGIT} now. "
              f"To speak to us, call {phone}.")
    return twiml.safe_harbour(prompt, webhook_url(f"inbound/opt-out?campaign={campaign.id}"))


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
