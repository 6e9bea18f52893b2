"""Call attempts: creating them, what an answered call hears, and what a finished call triggers."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from app.calls.models import TERMINAL_STATUSES, Call
from app.calls.signals import call_finished
from app.campaigns.models import Campaign
from app.campaigns.rules import spoken
from app.common.timeutil import utcnow
from app.contacts import consents
from app.extensions import db
from app.ops import metrics
from app.realtime.publish import agent_room, campaign_room, publish

log = logging.getLogger(__name__)

# Forward order of the call state machine; every terminal status ranks last.
STATUS_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3,
               **{status: 4 for status in TERMINAL_STATUSES}}
OUTCOME_BY_STATUS = {"busy": "busy", "no-answer": "no-answer", "failed": "failed",
                     "canceled": "canceled"}


def is_machine(answered_by: str | None) -> bool:
    """Twilio's AnsweredBy: machine_start, machine_end_beep/silence/other, fax, human, unknown."""
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")


def outcome_for(call: Call) -> str | None:
    """The dial outcome the pacer and the reports use, once the call is over."""
    if call.status not in TERMINAL_STATUSES:
        return None
    if call.status == "completed":
        return "machine" if is_machine(call.answered_by) else "human"
    return OUTCOME_BY_STATUS[call.status]


def create_call(campaign: Campaign, to_number: str, *, contact_id: int | None = None,
                attempt_no: int = 1, agent_id: int | None = None, kind: str = "auto") -> Call:
    """Record a dial attempt as ``queued`` before anything is sent to the carrier."""
    call = Call(campaign_id=campaign.id, contact_id=contact_id, agent_id=agent_id,
                attempt_no=attempt_no, kind=kind, to_number=to_number,
                from_number=campaign.caller_id, status="queued")
    db.session.add(call)
    db.session.flush()
    return call


def find_call(attempt: int | None, call_sid: str | None) -> Call | None:
    call = db.session.get(Call, attempt) if attempt is not None else None
    if call is None and call_sid:
        call = db.session.scalar(select(Call).where(Call.call_sid == call_sid))
    return call


def callee_number(attempt: int | None) -> str | None:
    call = db.session.get(Call, attempt) if attempt is not None else None
    return call.to_number if call else None


def seller_of(attempt: int | None) -> str | None:
    """The seller whose campaign placed the call (None when unknown)."""
    call = db.session.get(Call, attempt) if attempt is not None else None
    campaign = db.session.get(Campaign, call.campaign_id) if call and call.campaign_id else None
    return campaign.seller_name if campaign else None


@dataclass(frozen=True)
class VoicePlan:
    action: str  # bridge | hangup | message
    message: str = ""


def voice_plan(attempt: int | None, call_sid: str, answered_by: str | None) -> VoicePlan:
    """What an answered call hears: a person is bridged to an agent (app.dialer.routing), a
    machine gets the campaign's machine action."""
    call = find_call(attempt, call_sid)
    if is_machine(answered_by):
        message = machine_message_for(call)
        return VoicePlan("message", message) if message else VoicePlan("hangup")
    return VoicePlan("bridge")


def machine_message_for(call: Call | None) -> str | None:
    """The message to leave on the machine that answered `call`, or None: hang up. The campaign
    must leave one, and the contact must have given written consent (app.contacts.consents)."""
    campaign = db.session.get(Campaign, call.campaign_id) if call and call.campaign_id else None
    if campaign is None or campaign.machine_action != "message" \
            or not consents.may_leave_recorded_message(call.contact_id, utcnow()):
        return None
    return machine_message(campaign)


def machine_message(campaign: Campaign) -> str:
    """The campaign's answering-machine message as the machine records it."""
    return spoken(campaign.machine_message, campaign.seller_name, campaign.seller_phone)


def call_state_payload(call: Call) -> dict:
    return {
        "call_id": call.id, "campaign_id": call.campaign_id, "contact_id": call.contact_id,
        "agent_id": call.agent_id, "status": call.status, "outcome": call.outcome,
        "answered_by": call.answered_by, "abandoned": call.abandoned,
        "ring_seconds": call.ring_seconds, "duration_seconds": call.duration_seconds,
        "to_number": call.to_number,
    }


def publish_call_state(call: Call, payload: dict | None = None) -> None:
    """Every change of a call goes out through the one live-events helper.

    Pass the payload taken before the commit to publish without reloading the expired row.
    """
    if payload is None:
        payload = call_state_payload(call)
    if payload["campaign_id"] is not None:
        publish("call.state", payload, room=campaign_room(payload["campaign_id"]))
    if payload["agent_id"] is not None:
        publish("call.state", payload, room=agent_room(payload["agent_id"]))


def on_call_finished(call: Call) -> None:
    """Runs once, in the same transaction, when a call reaches a terminal status: settles the
    call's own facts, then announces its end (app.calls.signals.call_finished)."""
    at = call.ended_at or utcnow()
    outcome = outcome_for(call) or call.outcome or "failed"
    # A caller to our numbers who reached no agent took the closed path (a voicemail): never
    # an abandoned call, which the law counts of outbound calls only.
    unrouted = (outcome == "human" and call.connected_at is None and not call.abandoned
                and call.direction == "outbound")
    if unrouted:
        # A person answered and no agent was ever connected (routing could not run, e.g. the
        # database was away at the answer): that is an abandoned call, for the law, the KPIs
        # and the pacer.
        log.warning("call %s was answered by a person but never connected: abandoned", call.id)
        call.abandoned = True
    call_finished.send(call, outcome=outcome, at=at, unrouted=unrouted)
    metrics.record_call_outcome("abandoned" if call.abandoned else outcome)
