"""The stale-call reaper: calls stuck in a state past their timeout are settled.

A callback can be lost (the carrier gave up retrying, our database was away too long) and a
worker can die between creating an attempt and placing it. Every half minute the reaper looks
for calls that should have moved on: one never sent to the carrier is placed now (or failed,
if a worker died mid-request); one whose callbacks stopped is fetched from the carrier and its
status applied through the same state machine as a callback, so nothing settles twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.calls.models import TERMINAL_STATUSES, Call, CallEvent
from app.calls.state import apply_pending_events
from app.common import tasks
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.extensions import db
from app.ops import metrics
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier

log = logging.getLogger(__name__)

CHECKED_KEY = "reaper:checked:{}"  # an answered call fetched lately, not to be fetched again yet


def stale_call_ids(now: datetime, never_placed_seconds: float | None = None) -> tuple[list[int], list[int]]:
    """(queued and never placed, placed but silent) call ids.

    Silent: a call not yet answered that has heard nothing for REAPER_SILENT_SECONDS (far past
    any ring timeout), or an answered one quiet for REAPER_IN_PROGRESS_CHECK_SECONDS. A call
    can talk for an hour, so an answered call that is still up at the carrier is fetched again
    only once per that interval; one whose final callback was lost is settled within it, and
    its agent freed, instead of staying on the call for hours.
    """
    config = current_app.config
    if never_placed_seconds is None:
        never_placed_seconds = config["REAPER_NEVER_PLACED_SECONDS"]
    never_placed_after = timedelta(seconds=never_placed_seconds)
    silent_after = timedelta(seconds=config["REAPER_SILENT_SECONDS"])
    check_after = timedelta(seconds=config["REAPER_IN_PROGRESS_CHECK_SECONDS"])
    never_placed = db.session.scalars(select(Call.id).where(
        Call.status == "queued", Call.call_sid.is_(None), Call.queued_at < now - never_placed_after)
        .limit(500)).all()
    unanswered = db.session.scalars(select(Call.id).where(
        Call.call_sid.is_not(None), Call.status.in_(("queued", "initiated", "ringing")),
        Call.updated_at < now - silent_after).order_by(Call.updated_at).limit(500)).all()
    answered = db.session.scalars(select(Call.id).where(
        Call.call_sid.is_not(None), Call.status == "in-progress", Call.updated_at < now - check_after,
    ).order_by(Call.updated_at).limit(5000)).all()
    db.session.rollback()
    redis, ttl = get_redis(), max(1, round(check_after.total_seconds()))
    due, taken, start = list(unanswered), 0, 0
    while taken < 500 and start < len(answered):
        # Claim only as many as are still wanted, in one round trip per batch: a call
        # flagged here is fetched now, not left flagged and unchecked.
        batch = answered[start:start + 500 - taken]
        start += len(batch)
        pipe = redis.pipeline(transaction=False)
        for call_id in batch:
            pipe.set(CHECKED_KEY.format(call_id), 1, nx=True, ex=ttl)
        fresh = [call_id for call_id, won in zip(batch, pipe.execute()) if won]
        due += fresh
        taken += len(fresh)
    return list(never_placed), due


def settle_from_carrier(call_id: int) -> str | None:
    """Fetch the call from the carrier; a final status there is applied here. Returns it."""
    call = db.session.get(Call, call_id)
    if call is None or call.call_sid is None or call.status in TERMINAL_STATUSES:
        db.session.rollback()
        return None
    try:
        info = get_carrier().fetch(call.call_sid)
    except CarrierError as exc:
        # Never settled on a 404 either: Twilio answers 404 for a live call the credentials
        # cannot see (another account or subaccount, another region), and freeing its agent
        # would join the next person into a room someone is still talking in. A carrier that
        # truly forgot its calls is the demo's simulator restarted, which `make run` settles
        # at start (devtools.run.forget_the_last_carrier).
        if exc.status == 404:
            metrics.record_carrier_unknown_call()
        level = logging.ERROR if exc.status == 404 else logging.WARNING
        log.log(level, "reaper could not fetch call %s (%s): %s%s", call.id, call.call_sid, exc,
                "; is TWILIO_ACCOUNT_SID the account that placed it?" if exc.status == 404 else "")
        db.session.rollback()
        return None
    if not info.is_terminal:
        db.session.rollback()
        return info.status
    return _settle(call, info.status, info.duration or 0, info.answered_by or "")


def settle_as_lost(call: Call) -> str:
    """A call the carrier is known to have lost with all news of it (the demo's simulator,
    restarted: devtools.run.forget_the_last_carrier), so no callback will ever come. Left as it
    is, it would count as dialling, or keep its agent on the call, for ever. It ends here,
    through the same state machine as a callback, after any callbacks already stored: one
    answered (by its status or its answer time) completed after the time it was up, one never
    answered failed. Returns the status applied."""
    apply_pending_events(call.id)
    db.session.refresh(call)
    if call.status in TERMINAL_STATUSES:
        return call.status
    answered = call.status == "in-progress" or call.answered_at is not None
    status = "completed" if answered else "failed"
    duration = max(0, round((utcnow() - call.answered_at).total_seconds())) if call.answered_at else 0
    return _settle(call, status, duration, "")


def _settle(call: Call, status: str, duration: int, answered_by: str) -> str:
    payload = {"CallSid": call.call_sid, "CallStatus": status, "CallbackSource": "reaper",
               "CallDuration": str(duration), "AnsweredBy": answered_by}
    db.session.execute(insert(CallEvent).values(
        call_id=call.id, call_sid=call.call_sid, kind="status", sequence_number=None,
        status=status, payload=payload).on_conflict_do_nothing())
    db.session.commit()
    apply_pending_events(call.id)
    log.warning("reaper settled call %s as %s", call.id, status)
    return status


def reap(now: datetime | None = None, never_placed_seconds: float | None = None) -> dict:
    now = now or utcnow()
    never_placed, silent = stale_call_ids(now, never_placed_seconds)
    for call_id in never_placed:
        tasks.send(tasks.PLACE_CALL, call_id)  # placed, or failed if a worker died mid-request
    settled = sum(1 for call_id in silent if settle_from_carrier(call_id) in TERMINAL_STATUSES)
    from app.dialer.transfers import expire_consults

    consults = expire_consults(now)
    return {"never_placed": len(never_placed), "silent": len(silent), "settled": settled,
            "consults_ended": len(consults)}
