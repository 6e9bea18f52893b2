"""The 2-second rule: an answered person is bridged to an agent at once, or hears the
safe-harbour message and the abandonment is recorded.

Called from `/twilio/voice` in the web process. The wait is measured from the moment the
answer reached us; the deadline leaves a margin for the TwiML to travel back to the carrier.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from app.agents.routing import confirm_reservation, reserve_agent
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.dialer.pacer_feed import record_human_answer
from app.extensions import db
from app.interactions.services import open_interaction
from app.telephony import twiml

TWO_SECOND_RULE = 2.0
TRANSIT_MARGIN = 0.3  # TwiML back to the carrier and the bridge itself
POLL_INTERVAL = 0.05
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence",
                             "machine_end_other", "fax"})


@dataclass
class RoutingDecision:
    twiml: str
    agent_id: int | None
    abandoned: bool
    wait_seconds: float


def conference_name(call_id: int) -> str:
    return f"omnivox-call-{call_id}"


def opt_out_prompt(campaign: Campaign) -> str:
    """The safe-harbour text as spoken: the campaign's message, then the opt-out key."""
    return (f"{campaign.safe_harbour_message.strip()} "
            f"To stop calls from {campaign.seller_name}, press any key now.")


def route_answered_call(call: Call, campaign: Campaign, answered_by: str | None, *,
                        opt_out_url: str, started: float | None = None,
                        deadline_seconds: float = TWO_SECOND_RULE - TRANSIT_MARGIN) -> RoutingDecision:
    """Decide what the answered call hears, and record it on the call."""
    started = time.monotonic() if started is None else started
    now = utcnow()
    if answered_by in MACHINE_ANSWERS:
        call.answered_by = answered_by
        call.outcome = "machine"
        db.session.commit()
        if campaign.machine_action == "message" and campaign.machine_message.strip():
            return RoutingDecision(twiml.say_and_hangup(campaign.machine_message), None, False, 0.0)
        return RoutingDecision(twiml.hangup(), None, False, 0.0)

    agent_id = reserve_agent(campaign.id, call.id)
    while agent_id is None and time.monotonic() - started < deadline_seconds:
        time.sleep(POLL_INTERVAL)
        agent_id = reserve_agent(campaign.id, call.id)
    if agent_id is not None and not confirm_reservation(agent_id, call.id):
        agent_id = None  # the reservation expired under us: treat as no agent
    wait = time.monotonic() - started
    call.answered_at = call.answered_at or now
    call.answered_by = answered_by or call.answered_by
    call.outcome = "human"
    call.wait_seconds = wait
    if agent_id is None:
        call.abandoned = True
        db.session.commit()
        record_human_answer(get_redis(), campaign.id, now.timestamp(), False, wait)
        return RoutingDecision(twiml.safe_harbour(opt_out_prompt(campaign), opt_out_url), None, True, wait)
    call.agent_id = agent_id
    call.connected_at = utcnow()
    open_interaction(call, agent_id, call.connected_at)
    db.session.commit()
    record_human_answer(get_redis(), campaign.id, now.timestamp(), True, wait)
    return RoutingDecision(twiml.bridge_to_conference(conference_name(call.id)), agent_id, False, wait)
