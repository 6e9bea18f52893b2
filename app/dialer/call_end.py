"""What the end of a call means for the dialer: the contact's next attempt, a due callback
marked done, an agent's own unanswered dial released, the pacer's dial result, and pauses
that waited for the call applied (app.agents.pending); and what a
call refused at the instant of placement means: the contact's attempt given back.

Subscribed to app.calls.signals (see `connect`); runs in the transaction that ends the call,
so none of it happens twice.
"""
from __future__ import annotations

from datetime import datetime

import logging

from app.agents import pending
from app.agents.audio import audio_lost
from app.agents.reservations import release_reservation
from app.calls.models import Call
from app.calls.signals import call_finished, placement_refused
from app.campaigns.models import Campaign
from app.common import tasks
from app.common.redis import get_redis
from app.compliance import checks
from app.contacts.attempts import apply_call_outcome
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.dialer.attempts import held_at_dial_key
from app.dialer.pacer_feed import record_agent_free, record_dial_result, record_human_answer
from app.extensions import db
from app.interactions import callbacks
from app.interactions.signals import agent_freed


def on_call_finished(call: Call, *, outcome: str, at: datetime, unrouted: bool = False) -> None:
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    if call.contact_id is not None and campaign is not None:
        contact = db.session.get(Contact, call.contact_id, with_for_update=True)
        if contact is not None:
            callbacks.settle(call.id, contact.id)  # a due callback has had its call
            apply_call_outcome(contact, campaign, outcome, abandoned=call.abandoned, now=at)
    if call.agent_id is not None and call.connected_at is None and call.kind in ("preview", "manual"):
        release_reservation(call.agent_id, call.id, at)  # the agent's own dial was not answered
    if campaign is not None and call.kind == "auto":
        if unrouted:
            # Routing never ran (the database was away at the answer): the pacer learns the
            # abandonment here, as routing's own are fed at the answer.
            answered = (call.answered_at or at).timestamp()
            record_human_answer(get_redis(), campaign.id, answered, False, at.timestamp() - answered)
        record_dial_result(get_redis(), campaign.id, at.timestamp(), outcome, call.ring_seconds or 0.0)
        # One call fewer ringing: a pause waiting for it may apply (logged in this transaction).
        pending.settle_if_any(campaign.id, at, commit=False)


def on_agent_freed(campaign_id: int, *, at: datetime, handle_seconds: float) -> None:
    """An agent finished a call's wrap-up: the pacer learns the handle time."""
    record_agent_free(get_redis(), campaign_id, at.timestamp(), handle_seconds)


log = logging.getLogger(__name__)


def connect() -> None:
    """Subscribe the dialer to the calls' and interactions' signals (idempotent)."""
    call_finished.connect(on_call_finished, weak=False)
    placement_refused.connect(on_placement_refused, weak=False)
    agent_freed.connect(on_agent_freed, weak=False)
    audio_lost.connect(on_audio_lost, weak=False)


UNANSWERED = ("queued", "initiated", "ringing")


def on_audio_lost(agent_id: int, *, state: str, call_id: int | None) -> None:
    """An agent's audio went while their own preview or manual dial still rings: nobody could
    take the person who answers (they would only hear the safe-harbour message and count as
    abandoned), so the call is cancelled at the carrier. Cancel only: an answer that beat us
    gets the message, never a hang-up."""
    if state != "reserved" or call_id is None:
        return
    call = db.session.get(Call, call_id)
    if call is None or call.kind not in ("preview", "manual") or call.status not in UNANSWERED \
            or not call.call_sid:
        return
    sid = call.call_sid
    try:
        tasks.send(tasks.HANG_UP_CALL, sid, None, True)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the answer is abandoned instead
        log.warning("could not cancel call %s after agent %s lost audio: %s", call_id, agent_id, exc)


def on_placement_refused(call: Call, *, contact: Contact | None, reason: str, at: datetime,
                         next_at: datetime | None) -> None:
    """A queued call was refused at the instant of placement and never sent: the contact gets
    its attempt back and waits for its next legal time, and an agent waiting on their own dial
    is freed. Counted with the other holds at the moment of dialling."""
    if (contact is not None and call.kind == "manual" and contact.attempts <= 1
            and (contact.custom_fields or {}).get("source") == MANUAL_DIAL_SOURCE):
        # A number the agent typed, never called before: refused now, it must not stay behind as a
        # contact the dialer would call on its own later. The call row keeps the number.
        db.session.delete(contact)
        contact = None
    if contact is not None and contact.status == "dialing":
        contact.attempts = max(0, contact.attempts - 1)
        if callbacks.dials_callback(call.id):
            contact.status = "callback"
        else:
            contact.status = "retry" if contact.attempts else "new"
        contact.next_due_at = checks.wait_until(reason, next_at, at)
        contact.last_outcome = "not_placed"
    if call.agent_id is not None and call.kind in ("preview", "manual"):
        release_reservation(call.agent_id, call.id, at)
    if call.campaign_id is not None:
        get_redis().hincrby(held_at_dial_key(call.campaign_id), reason, 1)
