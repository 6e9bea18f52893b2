"""The call state machine, fed by stored carrier callbacks.

queued -> initiated -> ringing -> in-progress -> completed | busy | no-answer | failed | canceled

Callbacks are applied under a row lock on the call, status callbacks in
SequenceNumber order. A terminal status is final, the status never moves
backwards, and a late (lower sequence) or duplicate callback changes nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import or_, select, text

from app.calls.models import TERMINAL_STATUSES, Call, CallEvent
from app.calls.services import (STATUS_RANK, call_state_payload, is_machine, on_call_finished,
                                outcome_for, publish_call_state)
from app.common import tasks
from app.common.timeutil import utcnow
from app.extensions import db
from app.ops import metrics

log = logging.getLogger(__name__)

# Non-status callbacks first (AnsweredBy informs the outcome), then status by sequence.
KIND_ORDER = {"voice": 0, "amd": 1, "status": 2, "recording": 3, "opt-out": 4}
TIMESTAMP_FIELD = {"initiated": "initiated_at", "ringing": "ringing_at",
                   "in-progress": "answered_at"}


def process_call_event(event_id: int) -> Call | None:
    """Apply a stored callback (and any others pending for its call); idempotent."""
    event = db.session.get(CallEvent, event_id)
    if event is None or event.processed_at is not None:
        db.session.rollback()
        return None
    call_id = event.call_id or db.session.scalar(
        select(Call.id).where(Call.call_sid == event.call_sid))
    if call_id is None:
        log.warning("callback %s for unknown call %s ignored", event_id, event.call_sid)
        event.processed_at = utcnow()
        db.session.commit()
        return None
    return apply_pending_events(call_id)


def apply_pending_events(call_id: int) -> Call:
    # Derived state: the callbacks themselves were committed durably when they arrived. If
    # PostgreSQL crashes within the last fraction of a second, what this commit wrote comes
    # back unprocessed and the sweep applies it again, so it need not wait for the WAL flush
    # (about 4 ms a callback on this class of disk, the largest part of the task).
    db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    call = db.session.scalars(
        select(Call).where(Call.id == call_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    events = _pending_events(call)
    before = (call.status, call.answered_by, call.recording_url, call.outcome)
    was_machine = is_machine(call.answered_by)
    was_terminal = call.status in TERMINAL_STATUSES
    now = utcnow()
    for event in events:
        event.processed_at = now
        event.call_id = call.id
        if event.kind == "agent-leg":  # stored by an older release: the per-call agent ring
            continue
        if call.call_sid is None and event.call_sid:
            call.call_sid = event.call_sid
        elif event.call_sid and event.call_sid != call.call_sid:
            log.error("call %s got a callback for a second carrier call %s; ignored",
                      call.id, event.call_sid)
            continue
        _apply(call, event)
    if call.status in TERMINAL_STATUSES:
        call.outcome = outcome_for(call)  # a late AMD verdict can still turn human into machine
    changed = before != (call.status, call.answered_by, call.recording_url, call.outcome)
    finished = call.status in TERMINAL_STATUSES and not was_terminal
    if finished:
        on_call_finished(call)
    payload = call_state_payload(call) if changed else None  # before commit expires the row
    # Asynchronous detection: the answer was routed (to an agent, or to the safe-harbour
    # message) before the verdict; a machine now gets what the campaign says instead.
    # A call an agent is already on is left to the agent (detection errs; a person must never
    # be played a recording). It stays counted as it was routed: an abandoned call found to
    # be a machine remains abandoned, erring towards the cap rather than away from it.
    machine_live = (is_machine(call.answered_by) and not was_machine and call.connected_at is None
                    and call.status == "in-progress" and call.call_sid is not None)
    sid, campaign_id = call.call_sid, call.campaign_id
    db.session.commit()
    metrics.record_callback_processed(len(events))
    if payload is not None:
        publish_call_state(call, payload)
    if machine_live and campaign_id is not None:
        _hand_to_worker(MACHINE_TASK, sid, campaign_id)
    return call


MACHINE_TASK = tasks.MACHINE_ANSWERED


def _hand_to_worker(task: str, *args) -> None:
    """A REST request to the carrier, in a task of its own: never inside the callback drain."""
    try:
        tasks.send(task, *args)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the call plays on as it is
        log.warning("could not queue %s%s: %s", task, args, exc)


def play_safe_harbour(call_id: int) -> bool:
    """Redirect a person left waiting (no agent after all) to the safe-harbour message; True
    when the carrier took the redirect (the call is then counted abandoned)."""
    from app.campaigns.models import Campaign
    from app.calls.safe_harbour import opt_out_prompt
    from app.telephony import twiml
    from app.telephony.carrier import CarrierError
    from app.telephony.factory import get_carrier, webhook_url

    call = db.session.get(Call, call_id)
    campaign = db.session.get(Campaign, call.campaign_id) if call and call.campaign_id else None
    if call is None or campaign is None or call.call_sid is None:
        db.session.rollback()
        return False
    call_sid, prompt = call.call_sid, opt_out_prompt(campaign)
    db.session.rollback()  # no transaction open while the carrier is asked
    try:
        get_carrier().redirect(call_sid, twiml.safe_harbour(prompt, webhook_url("opt-out", call_id)))
    except CarrierError as exc:
        log.info("call %s: safe-harbour redirect not taken (%s)", call_id, exc)
        return False
    # The person heard the message instead of an agent: an abandoned call, counted as one.
    call = db.session.scalars(select(Call).where(Call.id == call_id).with_for_update()).one()
    call.abandoned = True
    db.session.commit()
    return True


def act_on_machine(call_sid: str) -> None:
    """Leave the campaign's message on a call the carrier has just found to be a machine, or
    hang up; the call leaves the agent's conference either way. Best effort: a call that has
    ended meanwhile needs nothing."""
    from app.calls.services import machine_message_for
    from app.telephony import twiml
    from app.telephony.carrier import CarrierError
    from app.telephony.factory import get_carrier

    message = machine_message_for(db.session.scalar(select(Call).where(Call.call_sid == call_sid)))
    db.session.rollback()  # no transaction open while the carrier is asked
    try:
        if message:
            get_carrier().redirect(call_sid, twiml.say_and_hangup(message))
        else:
            get_carrier().hangup(call_sid)
    except CarrierError as exc:
        log.info("machine on call %s: no action taken (%s)", call_sid, exc)


def _pending_events(call: Call) -> list[CallEvent]:
    match = CallEvent.call_id == call.id
    if call.call_sid:
        match = or_(match, CallEvent.call_sid == call.call_sid)
    events = db.session.scalars(
        select(CallEvent).where(match, CallEvent.processed_at.is_(None))
        .with_for_update()).all()
    sid_from = next((e.call_sid for e in sorted(events, key=lambda e: e.id) if e.call_sid), None)
    if call.call_sid is None and sid_from:
        # Events stored before we knew the CallSid may have lost their attempt id.
        events += db.session.scalars(
            select(CallEvent).where(CallEvent.call_sid == sid_from, CallEvent.call_id.is_(None),
                                    CallEvent.processed_at.is_(None)).with_for_update()).all()
        events = list({e.id: e for e in events}.values())
    return sorted(events, key=lambda e: (KIND_ORDER.get(e.kind, 9),
                                         e.sequence_number if e.sequence_number is not None else -1,
                                         e.id))


def _apply(call: Call, event: CallEvent) -> None:
    payload = event.payload or {}
    if event.kind == "status":
        _apply_status(call, event, payload)
    elif event.kind == "amd":
        _record_answered_by(call, payload.get("AnsweredBy"))
    elif event.kind == "recording":
        from app.calls.recordings import apply_callback

        apply_callback(call, payload)


def _record_answered_by(call: Call, answered_by: str | None) -> None:
    if answered_by and (call.answered_by in (None, "unknown") or is_machine(answered_by)):
        call.answered_by = answered_by[:32]


def _apply_status(call: Call, event: CallEvent, payload: dict) -> None:
    seq = event.sequence_number
    if seq is not None:
        if seq <= call.last_sequence_number:
            return  # late or duplicate: changes nothing
        call.last_sequence_number = seq
    new = event.status
    if new not in STATUS_RANK or call.status in TERMINAL_STATUSES:
        return
    if STATUS_RANK[new] <= STATUS_RANK[call.status]:
        return
    at = _event_time(event, payload)
    _record_answered_by(call, payload.get("AnsweredBy"))
    if new in TIMESTAMP_FIELD:
        field = TIMESTAMP_FIELD[new]
        if getattr(call, field) is None:
            setattr(call, field, at)
    else:  # terminal
        call.ended_at = at
        duration = payload.get("CallDuration", "")
        if duration.isdigit():
            call.duration_seconds = int(duration)
        if payload.get("ErrorCode"):
            call.error_code = str(payload["ErrorCode"])[:16]
    call.status = new
    call.ring_seconds = _ring_seconds(call)


def _ring_seconds(call: Call) -> float | None:
    start = call.ringing_at or call.initiated_at
    end = call.answered_at or call.ended_at
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _event_time(event: CallEvent, payload: dict) -> datetime:
    """The carrier's Timestamp, else when we received the callback."""
    raw = payload.get("Timestamp")
    if raw:
        try:
            return parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            pass
    return event.received_at or utcnow()


def sweep_unprocessed_events(older_than_seconds: float = 5.0, limit: int = 500) -> int:
    """Process callbacks whose task was lost (broker down, worker died); returns how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = db.session.scalars(
        select(CallEvent.id).where(CallEvent.processed_at.is_(None), CallEvent.received_at < cutoff)
        .order_by(CallEvent.received_at).limit(limit)).all()
    db.session.rollback()
    done = 0
    for event_id in ids:
        try:
            process_call_event(event_id)
            done += 1
        except Exception:  # noqa: BLE001 - one bad event must not stop the sweep
            db.session.rollback()
            log.exception("sweeping call event %s failed", event_id)
    return done
