"""Calls to our numbers reach agents (`POST /twilio/inbound` and the queue's two webhooks).

The campaign that owns the number (app.calls.inbound.seller_for) takes the call. In its hours
the call is recorded as a Call of direction and kind 'inbound', the caller is looked up among
the campaign's contacts (a withheld number reaches an agent too, with no contact shown), and
the call goes to the agent who last spoke with that contact if they are ready, else to the
longest-idle ready agent: joined into the agent's room exactly as an answered outbound person
is (app.dialer.routing.join_agent), so the screen pop, the recording and a supervisor's
listening, whispering and barging all work as they do there.

With no agent ready the caller waits in the carrier's queue (`<Enqueue>`), hearing the
campaign's hold message and their place. As an agent frees up, the oldest caller waiting
(app.dialer.inbound_queue), or the first few when several agents are free, is taken at once:
a sweep each second (`hand_waiting_callers`) reserves the agent, has the carrier redirect the
caller into the agent's room (a REST update of the call: the caller leaves the queue
mid-message, and the Enqueue's action URL hears `redirected`) and joins them. Their wait URL,
asked again after whatever it last played (the hold message may run many seconds), does the
same where the sweep has not: it reserves an agent and answers `<Leave/>`, and the Enqueue's
action URL joins them into that agent's room. Of the two reaching for one caller at once, one
takes them (inbound_queue.leave). A caller whose redirect the carrier refused waits on at their
place and the agent is free again; one whose redirect went unanswered is joined all the same,
and if still in the queue their next wait poll says `<Leave/>` into the room. Callers waiting come
before outbound dialling where it matters: the pacing tick keeps an agent back for each of them
(app.dialer.tick), so no new outbound call is placed for the agent they need; an outbound call
already answered may still take an agent who frees up first, since the law gives that person 2
seconds and the caller can wait a few more. Past the campaign's longest wait, or with nobody
working the campaign, or outside its hours, the caller takes the closed path (the seller's
name, the opt-out key, a voicemail).

Inbound calls are never counted for the abandonment limit: the law's 3% is of outbound calls
answered by a person, and a caller who reaches a voicemail was not abandoned.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from app.agents import state as rstate
from app.agents.audio import person_into_room
from app.agents.reservations import end_call, release_reservation, reserve_agent
from app.agents.transitions import to_ms
from app.common.locks import TokenLock
from app.calls import inbound as calls_inbound
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.dialer import inbound_queue as queue
from app.dialer.routing import join_agent, take_reserved
from app.extensions import db
from app.telephony import twiml
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier, webhook_url

log = logging.getLogger(__name__)

HOLD_POLL_SECONDS = 2        # silence between two asks of the wait URL: how soon a free agent is seen
SAY_PLACE_EVERY_SECONDS = 30  # the hold message and place again, when the place has not changed
QUEUE_PREFIX = "inbound-"
TAKING = "taking"  # why a caller left the queue, taken by the sweep: "taking:<agent>:<score>"
AT_LEAVE = "agent"  # ... told <Leave/> at a wait poll, an agent reserved: "agent:<agent>:<score>"
HAND_LOCK_SECONDS = 10
REDIRECT_WITHIN_SECONDS = 3  # the carrier's answer to a redirect (connecting, then reading)
# The agent is held for the sweep's caller this long: the redirect (up to twice the above, the
# connection and the answer each capped) and the join, with room to spare, so that an agent is
# never free again while the caller is on the way into their room.
TAKE_RESERVATION_SECONDS = 15
CALL_NOT_IN_PROGRESS = 21220  # Twilio's answer to a redirect of a call that has ended


def queue_name(campaign_id: int) -> str:
    """The carrier's queue of the campaign's callers (at most 64 characters)."""
    return f"{QUEUE_PREFIX}{campaign_id}"


def in_hours(campaign: Campaign, now: datetime | None = None) -> bool:
    """The campaign takes calls: it is not a draft or stopped, and it is within its window in
    its own time zone."""
    return campaign.status in ("active", "paused") and calls_inbound.is_open(campaign, now or utcnow())


def answer_closed(form, campaign: Campaign, caller: str | None, reason: str) -> str:
    """The closed path ('closed': outside hours; 'wait': nobody could take the call in time):
    the seller's name, the opt-out key and a voicemail (app.calls.inbound)."""
    return calls_inbound.answer_closed(form, campaign, caller, reason)


def answer_call_to_us(form) -> str:
    """TwiML for `/twilio/inbound`: an agent, the queue, or the closed path."""
    our_number, caller = form.get("To", ""), calls_inbound.caller_number(form)
    campaign = calls_inbound.seller_for(our_number, caller)
    if campaign is None:
        return twiml.say_and_hangup(calls_inbound.UNKNOWN_NUMBER)  # a number no campaign owns
    if not in_hours(campaign):
        return answer_closed(form, campaign, caller, calls_inbound.CLOSED)
    if not rstate.campaign_members(campaign.id):
        return answer_closed(form, campaign, caller, calls_inbound.WAIT)  # nobody to wait for
    call = calls_inbound.inbound_call(form, campaign, caller)
    if call.agent_id is not None:
        return person_into_room(call.agent_id, call.id)  # the carrier asked again: same answer
    if not queue.waiting(campaign.id):  # a caller already waiting comes first
        agent_id = reserve_agent(campaign.id, call.id, prefer=calls_inbound.last_agent(call.contact_id))
        joined = _join(call, campaign, agent_id)
        if joined is not None:
            return joined
    return _enqueue(call, campaign)


def _join(call: Call, campaign: Campaign, agent_id: int | None) -> str | None:
    """The caller joined into the reserved agent's room, or None when the reservation was lost,
    or the caller hung up or was joined, under us (their row is locked first, as their status
    callbacks lock it: a caller whose end is committed frees the agent reserved for them)."""
    if agent_id is None:
        return None
    try:
        db.session.refresh(call, with_for_update=True)
        if call.ended_at is not None or call.agent_id is not None:
            db.session.rollback()
            release_reservation(agent_id, call.id)
            return None
        if take_reserved(agent_id, call.id) is None:
            db.session.rollback()
            return None
        call.wait_seconds = max(0.0, (utcnow() - call.answered_at).total_seconds())
        return join_agent(call, campaign, agent_id)
    except DBAPIError:
        db.session.rollback()
        end_call(agent_id, call.id)  # the agent must not wait on a call that never reaches them
        raise


def _enqueue(call: Call, campaign: Campaign, score: int | None = None) -> str:
    db.session.commit()  # the call's record, before the carrier asks the wait URL about it
    queue.join(campaign.id, call.id, to_ms(utcnow()), score)
    return twiml.enqueue(queue_name(campaign.id), webhook_url("inbound/wait", call.id),
                         webhook_url("inbound/left", call.id))


def _waiting_call(call_id: int | None) -> tuple[Call | None, Campaign | None]:
    call = db.session.get(Call, call_id) if call_id is not None else None
    if call is None or call.direction != "inbound" or call.campaign_id is None:
        return None, None
    return call, db.session.get(Campaign, call.campaign_id)


def answer_queue_wait(call_id: int | None, form) -> str:
    """The wait URL (`/twilio/inbound/wait`): what a waiting caller hears next, or <Leave/> when
    an agent is theirs or they have waited the campaign's longest wait."""
    call, campaign = _waiting_call(call_id)
    if call is None or call.agent_id is not None or call.ended_at is not None:
        db.session.rollback()
        return twiml.leave_queue()  # asked again, or late: they have left the queue already
    now_ms = to_ms(utcnow())
    place, score = queue.poll(campaign.id, call.id, now_ms)
    if score is None:  # leaving (an agent is theirs, or the wait was too long): said already
        db.session.rollback()
        return _leaving(campaign, call)
    waited = max(_int(form.get("QueueTime")), (now_ms - score // 1000) // 1000)
    if waited >= campaign.inbound_max_wait_seconds:
        db.session.rollback()
        if queue.leave(campaign.id, call.id, calls_inbound.WAIT):
            return twiml.leave_queue()
        return _leaving(campaign, call)  # the sweep took them for an agent just now
    if place < rstate.ready_count(campaign.id):  # an agent free for each caller before them too
        agent_id = reserve_agent(campaign.id, call.id, prefer=calls_inbound.last_agent(call.contact_id))
        if agent_id is not None:
            db.session.rollback()
            if queue.leave(campaign.id, call.id, f"{AT_LEAVE}:{agent_id}:{score}"):
                return twiml.leave_queue()
            release_reservation(agent_id, call.id)  # the sweep took them first
            return _leaving(campaign, call)
    words = _hold_words(campaign, call.id, _int(form.get("QueuePosition")) or place + 1, now_ms)
    db.session.rollback()
    return twiml.queue_hold(words, HOLD_POLL_SECONDS)


TAKING_PAUSE_SECONDS = 1


def _leaving(campaign: Campaign, call: Call) -> str:
    """A wait poll for a caller out of the queue: `<Leave/>`, unless the sweep is taking them to
    an agent by a redirect (they wait a moment more in silence for it), or was and lost the
    agent on the way (they wait again at their first place)."""
    agent_id, score, by_sweep = _reserved(queue.leaving(call.id) or "")
    if not by_sweep:
        return twiml.leave_queue()
    held = rstate.snapshot(agent_id)
    if held["call_id"] != call.id or held["state"] not in ("reserved", "on-call"):
        queue.put_back(campaign.id, call.id, score)
    return twiml.queue_hold([], TAKING_PAUSE_SECONDS)


def _hold_words(campaign: Campaign, call_id: int, place: int, now_ms: int) -> list[str]:
    """The hold message and the caller's place: when they join, when their place changes, and
    every SAY_PLACE_EVERY_SECONDS; silence between."""
    last_place, last_at = queue.last_said(call_id)
    if last_place == place and now_ms - last_at < SAY_PLACE_EVERY_SECONDS * 1000:
        return []
    queue.said(call_id, place, now_ms)
    words = [f"You are caller number {place}."]
    return [campaign.inbound_hold_message, *words] if last_place is None or last_place == place else words


def answer_queue_left(call_id: int | None, form) -> str:
    """The Enqueue's action URL (`/twilio/inbound/left`): the caller has left the queue. Joined
    into the agent reserved for them, or on to the closed path after the longest wait; one whose
    reservation was lost meanwhile goes back to the queue at their first place."""
    call, campaign = _waiting_call(call_id)
    if call is None:
        return twiml.hangup()
    why = queue.left(campaign.id, call.id) or ""
    agent_id, score, by_sweep = _reserved(why)
    result = form.get("QueueResult")
    if result == "redirected" and (by_sweep or call.agent_id is not None):
        # The sweep's redirect into the agent's room, which the call follows (the sweep joins
        # them, or frees the agent, either way). Should the carrier play this answer, it is the
        # same room.
        room_of = call.agent_id or agent_id
        db.session.rollback()
        return person_into_room(room_of, call.id)
    if result != "leave":  # hung up, or the carrier took them out
        if agent_id is not None:
            release_reservation(agent_id, call.id)
        db.session.rollback()
        return twiml.hangup()
    if call.agent_id is not None:  # the carrier asked again: same answer, never queued again
        db.session.rollback()
        return person_into_room(call.agent_id, call.id)
    if why in (calls_inbound.WAIT, queue.LEFT):  # past the longest wait, or asked again after the closed path
        db.session.rollback()
        return answer_closed(form, campaign, calls_inbound.caller_number(form), calls_inbound.WAIT)
    joined = _join(call, campaign, agent_id) if agent_id is not None else None
    if joined is not None:
        return joined
    log.warning("call %s: the agent reserved for the caller was lost; back to the queue", call.id)
    return _enqueue(call, campaign, score)


def _reserved(why: str) -> tuple[int | None, int | None, bool]:
    """(agent, the caller's place in the queue, taken by the sweep) from "agent:<id>:<score>"
    or "taking:<id>:<score>", else (None, None, False)."""
    parts = why.split(":")
    if len(parts) == 3 and parts[0] in (AT_LEAVE, TAKING) and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2]), parts[0] == TAKING
    return None, None, False


def _int(raw) -> int:
    return int(raw) if raw and str(raw).isdigit() else 0


def hand_all_waiting_callers() -> int:
    """Every campaign's callers waiting, taken by the agents ready for them (each second, from
    the telephony pool). One campaign's failure is logged and never holds up the others."""
    taken = 0
    for campaign_id in queue.campaigns_with_callers():
        try:
            taken += hand_waiting_callers(campaign_id)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("campaign %s: waiting callers were not handed to agents", campaign_id)
    return taken


def hand_waiting_callers(campaign_id: int) -> int:
    """The campaign's callers waiting longest, one per agent ready, taken to those agents now:
    each reserves an agent (the one who last spoke with them when ready) and is redirected
    into the agent's room through the carrier's REST API, mid-message, then joined. Returns
    how many were taken. Single-flight per campaign."""
    lock = TokenLock(f"inbound-hand:{campaign_id}", HAND_LOCK_SECONDS)
    if not lock.acquire():
        return 0
    try:
        campaign = db.session.get(Campaign, campaign_id)
        ready = rstate.ready_count(campaign_id)
        callers = queue.first(campaign_id, ready) if campaign is not None else []
        taken = 0
        for call_id, score in callers:
            taken += _take(campaign, call_id, score)
            lock.refresh()  # each redirect may take REDIRECT_WITHIN_SECONDS
        db.session.rollback()
        return taken
    finally:
        lock.release()


def _take(campaign: Campaign, call_id: int, score: int) -> bool:
    """One caller to one ready agent: reserved, claimed out of the queue, redirected into the
    agent's room while the agent is only reserved, then joined. A redirect the carrier refused,
    or never received, leaves the caller where they were: the agent goes back to ready and the
    caller to their place. One it did not answer may have been made: the caller is joined all
    the same, and one still in the queue is put in the room by their next wait poll."""
    call = db.session.get(Call, call_id)
    if call is None or call.ended_at is not None or call.agent_id is not None or not call.call_sid:
        db.session.rollback()
        queue.left(campaign.id, call_id)  # gone (a lost hang-up): out of the line for good
        return False
    call_sid = call.call_sid
    agent_id = reserve_agent(campaign.id, call_id, TAKE_RESERVATION_SECONDS,
                             prefer=calls_inbound.last_agent(call.contact_id))
    if agent_id is None:
        db.session.rollback()
        return False  # nobody ready after all
    if not queue.leave(campaign.id, call_id, f"{TAKING}:{agent_id}:{score}"):
        release_reservation(agent_id, call_id)  # a wait poll took them first, or they hung up
        db.session.rollback()
        return False
    room = person_into_room(agent_id, call_id)
    db.session.rollback()  # no transaction open while the carrier is asked
    try:
        get_carrier().redirect(call_sid, room, within_seconds=REDIRECT_WITHIN_SECONDS)
    except CarrierError as exc:
        if exc.surely_not_done:  # refused (429 too), or never sent: the caller is where they were
            release_reservation(agent_id, call_id)
            if exc.code == CALL_NOT_IN_PROGRESS:  # they hung up: out of the line, even should
                queue.left(campaign.id, call_id)  # their hang-up's callbacks be lost
                return False
            log.warning("call %s: the redirect to agent %s was not made (%s); the caller waits "
                        "on at their place", call_id, agent_id, exc)
            queue.put_back(campaign.id, call_id, score)
            return False
        log.warning("call %s: no answer from the carrier to the redirect to agent %s (%s); "
                    "joined all the same", call_id, agent_id, exc)
    call = db.session.get(Call, call_id)
    if _join(call, campaign, agent_id) is not None:
        return True
    if call.ended_at is None:
        # Redirected into the room, and the agent lost before the join: their audio went or
        # they signed off (the reservation outlasts any redirect). With nobody there the room's
        # wait URL takes the caller to the closed path (app.dialer.routing's stranded room).
        log.error("call %s: redirected into agent %s's room, but the agent was lost before the "
                  "join", call_id, agent_id)
    db.session.rollback()
    return False


STRANDED_WORDS = "We are sorry, we cannot take your call just now. Please call us again. Goodbye."


def answer_stranded_caller(call: Call, agent_id: int | None, wait_url: str) -> str:
    """A caller joined into a room whose agent's leg had just gone (app.dialer.routing's stranded
    wait URL): the carrier is asked to take them out of the room to the closed path, where they
    may leave a voicemail. Never an abandoned call: they called us."""
    log.error("call %s: the caller was joined into agent %s's room with no agent there; "
              "taking them to the closed path", call.id, agent_id)
    campaign = db.session.get(Campaign, call.campaign_id)
    caller = call.from_number if call.from_number.startswith("+") else None
    form = {"CallSid": call.call_sid or "", "To": call.to_number, "From": call.from_number}
    closed = answer_closed(form, campaign, caller, calls_inbound.WAIT)
    db.session.rollback()  # no transaction open while the carrier is asked
    try:
        get_carrier().redirect(form["CallSid"], closed)
    except CarrierError as exc:
        log.warning("call %s: the redirect to the closed path was not taken (%s)", call.id, exc)
        return twiml.say_only(STRANDED_WORDS)
    return twiml.keep_waiting(wait_url, seconds=5)  # the redirect takes the caller out of the room
