"""The 2-second rule: an answered person is bridged to an agent at once, or hears the
safe-harbour message and the abandonment is recorded.

`answer_call` is the whole of `/twilio/voice`, in the web process. The wait is measured from the moment the
answer reached us; the deadline leaves a margin for the TwiML to travel back to the carrier.
The bridge is the person joining the reserved agent's own room, where the agent's audio leg
already is (app.agents.audio): nothing rings, so the budget is spent finding an agent.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from app.agents.audio import person_into_room
from app.agents.reservations import confirm_reservation, end_call, reserve_agent
from app.calls.models import Call
from app.calls.signals import call_bridged
from app.calls.safe_harbour import opt_out_prompt, safe_harbour_without_database
from app.calls.services import call_state_payload, find_call, is_machine, publish_call_state, voice_plan
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.interactions.callbacks import preferred_agent
from app.dialer.pacer_feed import record_human_answer
from app.extensions import db
from app.interactions.screen_pop import publish_screen_pop
from app.interactions.services import open_interaction
from app.telephony import twiml
from app.telephony.factory import webhook_url
from app.telephony.services import store_event

log = logging.getLogger(__name__)

TWO_SECOND_RULE = 2.0
TRANSIT_MARGIN = 0.3  # TwiML back to the carrier and the bridge itself
POLL_INTERVAL = 0.05


@dataclass
class RoutingDecision:
    twiml: str
    agent_id: int | None
    abandoned: bool
    wait_seconds: float


def _reserve_within(campaign_id: int, call: Call, started: float, deadline: float) -> int | None:
    """The campaign's longest-idle ready agent, waiting for one to free up until the deadline.
    A preview or manual call already has its agent, reserved when the agent dialled."""
    if call.kind in ("preview", "manual") and call.agent_id is not None:
        return call.agent_id
    # A callback goes to the agent who promised it, when that agent is ready right now.
    prefer = preferred_agent(call.id)
    agent_id = reserve_agent(campaign_id, call.id, prefer=prefer)
    if agent_id is None:
        db.session.commit()  # hand the database connection back while waiting on Redis
    while agent_id is None and time.monotonic() - started < deadline:
        time.sleep(POLL_INTERVAL)
        agent_id = reserve_agent(campaign_id, call.id, prefer=prefer)
    return agent_id


def route_answered_call(call: Call, answered_by: str | None, *, opt_out_url: str,
                        started: float | None = None,
                        deadline_seconds: float = TWO_SECOND_RULE - TRANSIT_MARGIN) -> RoutingDecision:
    """Bridge the answered person to an agent or abandon the call; record which, and the wait."""
    started = time.monotonic() if started is None else started
    now = utcnow()
    campaign = db.session.get(Campaign, call.campaign_id)
    agent_id = _reserve_within(campaign.id, call, started, deadline_seconds)
    try:
        return _connect_or_abandon(call, campaign, agent_id, answered_by, started, now, opt_out_url)
    except DBAPIError:
        # The database went away mid-answer: the caller abandons the call. An agent already
        # moved to on-call in Redis must not wait there for a call that never reaches them.
        db.session.rollback()
        if agent_id is not None:
            end_call(agent_id, call.id)
        raise


def take_reserved(agent_id: int | None, call_id: int) -> int | None:
    """The reserved agent, now on this call and shown it (the screen pop); None when the
    reservation expired, or the agent's audio went, under us."""
    if agent_id is None or not confirm_reservation(agent_id, call_id):
        return None
    publish_screen_pop(agent_id, call_id)
    return agent_id


def join_agent(call: Call, campaign: Campaign, agent_id: int) -> str:
    """The call is the agent's (its row locked and its wait set by the caller): open their
    interaction, commit, tell the wallboard, start the recording the campaign asks for, announce
    the bridge (monitoring) and answer the TwiML that joins the person into the agent's room.
    Answered outbound calls and calls to our numbers are joined the same way."""
    call.agent_id = agent_id
    call.connected_at = utcnow()
    open_interaction(call, agent_id, call.connected_at)
    payload = call_state_payload(call)
    db.session.commit()
    # The wallboard hears the call is connected now, not at its next full read (it showed a
    # bridged call as waiting until then).
    publish_call_state(call, payload)
    if campaign.recording_enabled:
        _start_recording(call.id)
    call_bridged.send(call, agent_id=agent_id)
    return person_into_room(agent_id, call.id)


def _connect_or_abandon(call: Call, campaign: Campaign, agent_id: int | None,
                        answered_by: str | None, started: float, now, opt_out_url: str) -> RoutingDecision:
    agent_id = take_reserved(agent_id, call.id)
    wait = time.monotonic() - started
    # Under the row lock, as the callbacks are applied: the call may have ended, or been found
    # to be a machine, during the wait; what its final callback settled is not overwritten.
    db.session.refresh(call, with_for_update=True)
    call.answered_at = call.answered_at or now
    call.answered_by = answered_by or call.answered_by
    if call.outcome is None:
        call.outcome = "human"
    call.wait_seconds = wait
    # The answer is also the call's dial result for the pacer (app.dialer.pacer_feed): it hears
    # it now, with the ring time, not a whole talk time later at the call's end.
    rang_from = call.ringing_at or call.initiated_at
    ring = max(0.0, (now - rang_from).total_seconds()) if rang_from is not None else None
    if agent_id is None:
        call.abandoned = True
        payload = call_state_payload(call)
        db.session.commit()
        publish_call_state(call, payload)
        record_human_answer(get_redis(), campaign.id, now.timestamp(), False, wait, ring_seconds=ring)
        return RoutingDecision(twiml.safe_harbour(opt_out_prompt(campaign), opt_out_url), None, True, wait)
    joined = join_agent(call, campaign, agent_id)
    record_human_answer(get_redis(), campaign.id, now.timestamp(), True, wait, ring_seconds=ring)
    return RoutingDecision(joined, agent_id, False, wait)


def _start_recording(call_id: int) -> None:
    """The conversation is recorded from now: a worker asks the carrier (a REST request has no
    place in the answer's 2 seconds). Never raises: a lost task costs the recording, not the call."""
    from app.common import tasks

    try:
        tasks.send(tasks.START_RECORDING, call_id)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the call goes on unrecorded
        log.warning("call %s: recording not started, task not queued: %s", call_id, exc)


def answer_call(attempt: int | None, form, started: float) -> str:
    """The TwiML for an answered call (the `/twilio/voice` webhook, already signed and parsed):
    a person is bridged to an agent within 2 seconds or hears the safe-harbour message
    (abandoned); a machine gets the campaign's machine action. `started` is when the answer
    reached us (time.monotonic)."""
    call_sid = form.get("CallSid", "")
    answered_by = form.get("AnsweredBy")
    try:
        store_event("voice", form, attempt)
        plan = voice_plan(attempt, call_sid, answered_by)
        call = find_call(attempt, call_sid)
        if plan.action == "bridge" and call is not None and call.campaign_id is not None:
            return route_answered_call(call, answered_by, started=started,
                                       opt_out_url=webhook_url("opt-out", call.id)).twiml
    except DBAPIError:
        db.session.rollback()
        log.error("database unavailable while answering call %s: abandoning it", attempt,
                  exc_info=True)
        # No agent can be connected and recorded: a person hears the safe-harbour message the
        # dial worker left in Redis (the abandonment is recorded when the call's end is
        # applied: answered by a person, never connected); never an empty conference.
        fallback = None
        if attempt is not None and not is_machine(answered_by):
            fallback = safe_harbour_without_database(attempt, webhook_url("opt-out", attempt))
        return fallback or twiml.hangup()
    if plan.action == "message" and plan.message:
        return twiml.say_and_hangup(plan.message)
    return twiml.hangup()


def _check_leg(agent_id: int) -> None:
    """The agent's leg is on record but not in their room: a worker asks the carrier whether it
    is over (app.agents.audio.check_leg), so the next person is not joined into the same empty
    room. Asked after the stranded person's message; never raises."""
    from app.common import tasks

    try:
        # Once per agent per half minute: the wait URL is asked again while the person waits.
        if get_redis().set(f"leg-check:{agent_id}", 1, nx=True, ex=30):
            tasks.send(tasks.CHECK_AGENT_LEG, agent_id)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the leg's own callback may yet come
        log.warning("agent %s: their leg not checked, task not queued: %s", agent_id, exc)


# A person moved into an agent's room during a warm transfer's hand-over may arrive a moment
# before the agent's leg, which is moved first: that wait is not a stranding.
HAND_OVER_GRACE_SECONDS = 3


def answer_stranded(attempt: int | None, agent_id: int | None, url: str) -> str:
    """The wait URL of a person joined into an agent's room (`/twilio/stranded`): Twilio asks it
    only while the room has not started, i.e. the agent's leg is not there. Unless the agent's
    leg is on its way (a hand-over), the person hears the safe-harbour message now (the call
    is redirected out of the room) and the call is counted abandoned; a caller to our numbers
    takes the closed path instead (app.dialer.inbound)."""
    from app.calls.state import play_safe_harbour
    from app.dialer.transfers import handing_over

    call = db.session.get(Call, attempt) if attempt is not None else None
    if call is None or call.campaign_id is None:
        db.session.rollback()
        return twiml.say_only("Goodbye.")
    if agent_id is not None and handing_over(call.id, agent_id, HAND_OVER_GRACE_SECONDS):
        db.session.rollback()
        return twiml.keep_waiting(url)
    if call.direction == "inbound":
        from app.dialer.inbound import answer_stranded_caller

        reply = answer_stranded_caller(call, agent_id, url)
    else:
        log.error("call %s: the person was joined into agent %s's room with no agent there; "
                  "playing the safe-harbour message", call.id, agent_id)
        prompt = opt_out_prompt(db.session.get(Campaign, call.campaign_id))
        # The redirect takes the person out of the room; if the carrier could not be asked,
        # the message, at least.
        reply = twiml.keep_waiting(url, seconds=5) if play_safe_harbour(call.id) \
            else twiml.say_only(prompt)
    if agent_id is not None:
        _check_leg(agent_id)
    return reply
