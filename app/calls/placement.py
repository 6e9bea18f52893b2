"""Placing one call attempt through the carrier.

The Call row exists first (status ``queued``, committed) and its id travels in
every callback URL, so callbacks find the attempt even if the worker dies
before it stores the CallSid. Rate limiting (429 / 20429) is retried by the
caller with backoff; any other carrier error fails the attempt with its reason.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.calls.models import Call
from app.calls.services import call_state_payload, on_call_finished, publish_call_state
from app.calls.signals import placement_refused
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.compliance import checks
from app.contacts.models import Contact
from app.extensions import db
from app.numbers.presence import choose_caller_id
from app.ops import metrics
from app.telephony.carrier import (MIN_RING_TIMEOUT_SECONDS, CarrierError, CarrierRateLimited,
                                   PlaceCallRequest)
from app.telephony.factory import get_carrier, webhook_url

log = logging.getLogger(__name__)

DEFAULT_RING_TIMEOUT_SECONDS = 25
MAX_BACKOFF_SECONDS = 30.0
RATE_LIMIT_MAX_RETRIES = 25
PLACING_MARKER_TTL = 7 * 24 * 3600
INTERRUPTED = "placement interrupted and no word from the carrier; not dialled again"


def _marker_time(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # gone meanwhile (expired): wait, and look again at the next pass


def placing_key(call_id: int) -> str:
    """Set just before the carrier is asked; left behind only by a worker that died mid-request."""
    return f"placing:{call_id}"


@dataclass(frozen=True)
class PlaceResult:
    outcome: str  # placed | skipped | rate_limited | failed | held (a calling rule refused it)
    call_sid: str | None = None
    retry_after: float = 0.0
    error: str | None = None


def build_request(call: Call, campaign: Campaign | None) -> PlaceCallRequest:
    """What the carrier is asked to do, from the campaign's settings."""
    ring = campaign.ring_timeout_seconds if campaign else DEFAULT_RING_TIMEOUT_SECONDS
    amd = bool(campaign and campaign.amd_enabled)
    # A recording campaign records the conversation from the moment an agent is connected
    # (app.calls.recordings, started at the bridge), never the answer: the detection and the
    # safe-harbour message are not the conversation.
    record = False
    return PlaceCallRequest(
        to=call.to_number,
        from_=call.from_number or (campaign.caller_id if campaign else ""),  # see place_call
        answer_url=webhook_url("voice", call.id),
        status_callback_url=webhook_url("status", call.id),
        timeout_seconds=max(MIN_RING_TIMEOUT_SECONDS, ring),
        machine_detection=amd,
        amd_callback_url=webhook_url("amd", call.id) if amd else None,
        record=record,
        recording_callback_url=webhook_url("recording", call.id) if record else None,
    )


def place_call(call_id: int, now: datetime | None = None) -> PlaceResult:
    """Send a queued attempt to the carrier once; idempotent.

    The row stays locked while the carrier is asked, so a second worker (or a
    callback) waits and then sees the CallSid instead of dialling again. Every calling rule is
    checked again here, immediately before the request, whatever the call waited for (a CPS
    slot, a 429 backoff, the reaper): a refused call is never sent (see `_refuse`).
    """
    call = db.session.scalars(select(Call).where(Call.id == call_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()
    if call is None or call.call_sid is not None or call.status != "queued":
        db.session.rollback()
        return PlaceResult("skipped", call.call_sid if call else None)
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    # Read, not locked: the call row's lock serialises placements, and the contact is locked
    # only if the call is refused (never across the carrier request).
    contact = db.session.get(Contact, call.contact_id) if call.contact_id else None
    marker = placing_key(call.id)
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(marker, f"{time.time():.3f}", nx=True, ex=PLACING_MARKER_TTL)
    if campaign is not None:
        from app.calls.safe_harbour import remember_safe_harbour

        remember_safe_harbour(pipe, call.id, campaign)
    if not pipe.execute()[0]:
        # A worker died while asking the carrier: the call may be ringing. Never dial it again.
        # If the carrier did take it, its callbacks (which carry this attempt's id) bring the
        # CallSid and status within seconds; only once they have had ample time is the attempt
        # failed, so a call that is in fact ringing is never marked failed (and retried).
        grace = current_app.config["PLACEMENT_INTERRUPTED_GRACE_SECONDS"]
        started = _marker_time(get_redis().get(marker))  # when the interrupted request began
        if started is None or time.time() - started < grace:
            db.session.rollback()
            return PlaceResult("skipped")
        _fail(call, None, INTERRUPTED)
        return PlaceResult("failed", error="placement interrupted")
    now = now or utcnow()
    ring = max(MIN_RING_TIMEOUT_SECONDS, campaign.ring_timeout_seconds if campaign else DEFAULT_RING_TIMEOUT_SECONDS)
    try:
        verdict = checks.assess(campaign, call.to_number, contact, now, ring_seconds=ring,
                                autodialed=call.kind == "auto")
    except Exception:
        get_redis().delete(marker)  # nothing was sent: a retry must not take it for interrupted
        raise
    if not verdict.callable:
        get_redis().delete(marker)  # never sent: nothing was interrupted
        _refuse(call, contact, verdict, now)
        return PlaceResult("held", error=verdict.first_code)
    call.compliance = verdict.proof  # what was checked, kept with the call record
    # Local presence: a pool number near the callee, else the campaign's own caller ID; the
    # number shown is stored on the call (the record the law asks for, and number health).
    shown = choose_caller_id(campaign, contact, call.to_number, now) if campaign else None
    if shown is not None:
        call.from_number = shown.number
    try:
        request = build_request(call, campaign)
        placed = get_carrier().place_call(request)
    except CarrierRateLimited as exc:
        get_redis().delete(marker)  # refused for certain: placing again is safe
        db.session.rollback()
        _give_back(shown)
        return PlaceResult("rate_limited", retry_after=exc.retry_after, error=exc.message)
    except CarrierError as exc:
        _give_back(shown)
        _fail(call, exc.code, exc.message)
        return PlaceResult("failed", error=exc.message)
    except ValueError as exc:  # a request the carrier must never see (no caller ID, ...)
        _give_back(shown)
        _fail(call, None, str(exc))
        return PlaceResult("failed", error=str(exc))
    call.call_sid = placed.call_sid
    db.session.commit()
    metrics.record_call_placed()
    return PlaceResult("placed", placed.call_sid)


def _give_back(shown) -> None:
    if shown is not None:
        shown.give_back()


def _refuse(call: Call, contact: Contact | None, verdict: checks.Assessment, now: datetime) -> None:
    """The call may not be placed now: it is never sent. Its row, which never reached the
    carrier, is removed; `placement_refused` lets the dialer give the contact back its attempt
    and its next legal time (nothing is lost) and free an agent waiting on their own dial."""
    reason, next_at = verdict.first_code, verdict.next_callable_at
    if contact is not None:  # locked now (call, then contact: the order the callbacks take too)
        contact = db.session.get(Contact, contact.id, with_for_update=True, populate_existing=True)
    log.warning("call %s to contact %s not placed: %s (next legal time %s)", call.id, call.contact_id,
                reason, next_at.isoformat() if next_at else "unknown")
    payload = {**call_state_payload(call), "status": "canceled", "not_placed": reason}
    placement_refused.send(call, contact=contact, reason=reason, at=now, next_at=next_at)
    db.session.delete(call)
    db.session.commit()
    metrics.record_placement_refused(reason)
    publish_call_state(call, payload)


def give_up(call_id: int, reason: str, code: int | None = 20429) -> None:
    """Fail an attempt that could not be placed (e.g. still rate limited after every retry)."""
    call = db.session.scalars(select(Call).where(Call.id == call_id).with_for_update()
                              .execution_options(populate_existing=True)).one_or_none()
    if call is None or call.call_sid is not None or call.status != "queued":
        db.session.rollback()
        return
    _fail(call, code, reason)


def backoff_seconds(retries: int, retry_after: float) -> float:
    """Exponential backoff with jitter, never sooner than the carrier's Retry-After."""
    delay = min(MAX_BACKOFF_SECONDS, max(retry_after, 0.25 * 2 ** min(retries, 8)))
    return delay * (1.0 + random.random() * 0.5)


def _fail(call: Call, code, message: str) -> None:
    log.warning("call %s failed to place: %s %s", call.id, code, message)
    call.status = "failed"
    call.outcome = "failed"
    call.error_code = None if code is None else str(code)[:16]
    call.error_message = message
    call.ended_at = utcnow()
    on_call_finished(call)
    db.session.commit()
    publish_call_state(call)
