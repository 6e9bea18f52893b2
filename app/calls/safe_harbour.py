"""The safe-harbour message: what a person hears when no agent can take their answered call.

Its text is the campaign's message with the seller's name and number, then the opt-out key.
The dial worker leaves each placed call's prompt in Redis, so that an answer arriving while
PostgreSQL is away still hears it (and is recorded abandoned once the database is back).
"""
from __future__ import annotations

from app.calls.services import callee_number, seller_of
from app.campaigns.models import Campaign
from app.campaigns.rules import spoken
from app.common.redis import get_redis
from app.contacts import consents
from app.extensions import db
from app.telephony import twiml
from app.telephony.services import OPT_OUT_DIGIT, store_event

FALLBACK_KEY = "voice:safe-harbour:{}"
FALLBACK_TTL_SECONDS = 3600


def opt_out_prompt(campaign: Campaign) -> str:
    """The safe-harbour text as spoken: the campaign's message, then the opt-out key."""
    message = spoken(campaign.safe_harbour_message, campaign.seller_name, campaign.seller_phone)
    return f"{message.strip()} To stop calls from {campaign.seller_name}, press {OPT_OUT_DIGIT} now."


def remember_safe_harbour(pipe, call_id: int, campaign: Campaign) -> None:
    """Queue on a Redis pipeline the prompt this call plays if it must be abandoned without a
    database."""
    pipe.set(FALLBACK_KEY.format(call_id), opt_out_prompt(campaign), ex=FALLBACK_TTL_SECONDS)


def safe_harbour_without_database(call_id: int | None, opt_out_url: str) -> str | None:
    """The safe-harbour TwiML for an answered call when the database cannot be reached: no agent
    can be connected and recorded, so the call is abandoned lawfully. None when unknown."""
    if call_id is None:
        return None
    try:
        prompt = get_redis().get(FALLBACK_KEY.format(call_id))
    except Exception:  # noqa: BLE001 - Redis away too: the caller hangs up instead
        return None
    return twiml.safe_harbour(prompt, opt_out_url) if prompt else None


def answer_opt_out(attempt: int | None, form) -> str:
    """The message's keypress (the `/twilio/opt-out` webhook): the opt-out key puts the callee
    on the internal do-not-call list at once. Returns the TwiML that says so.

    Raises SQLAlchemy's DBAPIError when the database is unreachable (the carrier retries)."""
    digits = form.get("Digits", "")
    store_event("opt-out", form, attempt)
    if digits[:1] != OPT_OUT_DIGIT:
        return twiml.say_and_hangup("Goodbye.")
    number = callee_number(attempt) or form.get("To", "")
    if number:
        call_sid = form.get("CallSid", "")
        consents.revoke(number[:20], seller_of(attempt), "opt_out_key",
                        note=f"opt-out keypress on call {call_sid}")
        db.session.commit()
    return twiml.say_and_hangup("You have been added to our do-not-call list. Goodbye.")
