"""Transfers of a connected call: cold (handed over at once) or warm (consulted first), to
another agent, to any ready agent of a campaign, or to an outside number.

Every agent's persistent leg sits in their own room `agent-<id>` (app.agents.audio) and the
person is a participant of the room of the agent they talk to, so a transfer moves legs
between rooms with the carrier's redirect (a redirected call leaves its conference first):

- cold to an agent: the person into the target agent's room; the target goes on-call on this
  call (a new interaction, a screen pop), the transferring agent to wrap-up.
- cold to a number: the person's call dials the number (caller ID: the campaign's).
- warm: the person is held in the agent's room and the consulted party joins it (an outside
  number dialled in as a participant; an agent's own leg redirected in, the agent taken out of
  ready, reserved on this call). Complete hands over: an agent's leg back into their own room
  first, then the person into it; an outside party and the person into a room of their own,
  `xfer-<call id>`, each ending it on leaving so neither is left alone. Cancel: the consulted
  party leaves (an agent back to their room and to ready; an outside leg hung up) and the
  person is taken off hold.

Every transfer is a CallTransfer row and a `call.transfer` live event to the agents concerned
and the campaign rooms.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.agents import audio
from app.agents import state as rstate
from app.agents.reservations import confirm_reservation, end_call, release_reservation, reserve_agent
from app.agents.transitions import TransitionRefused, apply
from app.auth.models import User
from app.dialer import controls
from app.calls.models import TERMINAL_STATUSES, Call, CallTransfer
from app.calls import recordings
from app.calls.signals import call_bridged
from app.campaigns import access
from app.campaigns.models import Campaign, CampaignAssignment
from app.common.phones import is_e164
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.dnc.services import is_dnc
from app.errors import ApiError
from app.extensions import db
from app.interactions.models import Interaction
from app.interactions.screen_pop import publish_screen_pop
from app.interactions.services import end_talk, open_interaction
from app.realtime.publish import agent_room, campaign_room, publish
from app.telephony import dial_policy, twiml
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier

log = logging.getLogger(__name__)

CONSULT_RING_SECONDS = 30
FINAL_STATUSES = frozenset(TERMINAL_STATUSES)


def transfer_room(call_id: int) -> str:
    """The room a person and an outside party talk in after a warm transfer."""
    return f"xfer-{call_id}"


def open_consult(call_id: int) -> CallTransfer | None:
    return db.session.scalar(select(CallTransfer).where(
        CallTransfer.call_id == call_id, CallTransfer.status == "consulting").limit(1))


def transfers_of(call_id: int) -> list[CallTransfer]:
    return list(db.session.scalars(select(CallTransfer).where(CallTransfer.call_id == call_id)
                                   .order_by(CallTransfer.started_at, CallTransfer.id)))


def _answered_key(transfer_id: int) -> str:
    return f"xferans:{transfer_id}"


def answered(t: CallTransfer) -> bool:
    """Is the consulted party on the line? An agent's leg is at once; an outside number once
    its consult leg reports `answered`."""
    if t.to_number is None:
        return True
    return bool(t.id) and get_redis().exists(_answered_key(t.id)) == 1


def payload(t: CallTransfer) -> dict:
    return {"id": t.id, "call_id": t.call_id, "kind": t.kind, "status": t.status,
            "from_agent_id": t.from_agent_id, "to_agent_id": t.to_agent_id,
            "to_campaign_id": t.to_campaign_id, "to_number": t.to_number,
            "answered": answered(t), "started_at": t.started_at, "ended_at": t.ended_at}


def _announce(t: CallTransfer, campaign_id: int | None, reason: str | None = None) -> None:
    event = {**payload(t), "transfer_id": t.id, "started_at": t.started_at.isoformat(),
             "ended_at": t.ended_at.isoformat() if t.ended_at else None, "reason": reason}
    for agent_id in dict.fromkeys(a for a in (t.from_agent_id, t.to_agent_id) if a is not None):
        publish("call.transfer", event, room=agent_room(agent_id))
    for cid in dict.fromkeys(c for c in (campaign_id, t.to_campaign_id) if c is not None):
        publish("call.transfer", event, room=campaign_room(cid))


def _conflict(message: str, code: str, field: str | None = None, hint: str | None = None) -> ApiError:
    """409 with the sentence once: a field, when named, carries what to do about it."""
    return ApiError(409, message, code, {field: [hint or "Choose another."]} if field else None)


# What an agent's state means, in the words a sentence about them needs.
STATE_WORDS = {"ready": "ready", "reserved": "about to take a call", "on-call": "on a call",
               "wrap-up": "finishing a call", "paused": "paused", "offline": "signed off"}
SETTLED_WORDS = {"completed": "This transfer has already been handed over.",
                 "cancelled": "This transfer was already cancelled.",
                 "failed": "This transfer has already failed."}


def _carrier_failed(what: str) -> ApiError:
    return ApiError(409, f"The call could not be {what} just now: the line did not answer. "
                         "The person is still with you; try again.", "carrier_unavailable")


# --- whom to --------------------------------------------------------------------------------

def _shares_a_campaign(agent_id: int, other_id: int) -> bool:
    mine = access.assigned_campaign_ids(db.session.get(User, agent_id), "agent")
    return db.session.scalar(select(CampaignAssignment.user_id).where(
        CampaignAssignment.user_id == other_id, CampaignAssignment.role == "agent",
        CampaignAssignment.campaign_id.in_(mine)).limit(1)) is not None


def _named_agent(agent, call: Call, to_agent_id: int) -> User:
    if to_agent_id == agent.id:
        raise ApiError(422, "You cannot transfer a call to yourself.",
                       fields={"to_agent_id": ["Choose another agent."]})
    target = db.session.get(User, to_agent_id)
    if target is None or target.role != "agent" or not target.active \
            or not _shares_a_campaign(agent.id, target.id):
        raise ApiError(404, "No such agent", "not_found", {"to_agent_id": ["Not an agent of your campaigns."]})
    if db.session.scalar(select(Interaction.id).where(
            Interaction.call_id == call.id, Interaction.agent_id == target.id)) is not None:
        raise _conflict(f"{target.username} has already had this call.", "already_handled", "to_agent_id",
                        "Choose an agent who has not had it.")
    if not audio.leg_of(target.id):
        raise _conflict(f"{target.username} has no audio connected, so they cannot take the call.",
                        "target_no_audio", "to_agent_id", "Choose an agent whose audio is connected.")
    return target


def _reserve_named(target: User, call: Call) -> None:
    """The named agent, ready, reserved on this call (out of ready at once)."""
    try:
        apply(target.id, ("ready",), "reserved", call_id=call.id, reason="transfer")
    except TransitionRefused as refused:
        state = STATE_WORDS.get(refused.from_state, "busy") if refused.because == "state" else "busy"
        raise _conflict(f"{target.username} is {state}, not ready to take a call.",
                        "target_not_ready", "to_agent_id", "Choose a ready agent, or a campaign.") from None


def _reserve_from_campaign(agent, call: Call, campaign_id: int) -> tuple[User, Campaign]:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not access.can_see_campaign(agent, campaign_id):
        raise ApiError(404, "No such campaign", "not_found", {"to_campaign_id": ["Not one of your campaigns."]})
    target_id = reserve_agent(campaign_id, call.id)
    if target_id is None:
        raise _conflict(f"Nobody in {campaign.name} is ready to take the call.", "no_ready_agent",
                        "to_campaign_id", "Try again in a moment, or choose another campaign.")
    # The reservation lasts as long as the transfer needs (not the dialer's few seconds).
    redis = get_redis()
    redis.zrem(rstate.RESERVATIONS, target_id)
    redis.hdel(rstate.agent_key(target_id), "reserved_until_ms")
    return db.session.get(User, target_id), campaign


def _outside_number(raw: str, call: Call) -> str:
    number = (raw or "").strip()
    if not is_e164(number):
        raise ApiError(422, "That is not a full international number.",
                       fields={"to_number": ["Give it in E.164 form, e.g. +12025550143."]})
    refused = dial_policy.refusal(number)
    if refused:
        raise ApiError(422, refused, "number_not_allowed",
                       {"to_number": ["Transfer to another number, or to an agent or campaign."]})
    if is_dnc(number, call.campaign_id):
        raise _conflict("That number is on a do-not-call list: it cannot be called.", "do_not_call",
                        "to_number", "Transfer to another number.")
    return number


def _caller_id(call: Call) -> str:
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    return (campaign.caller_id if campaign is not None and campaign.caller_id else None) or call.from_number


def _leg_home(target_id: int) -> str:
    return twiml.agent_room(audio.room_name(target_id), audio._url("status", target_id))


# --- start ----------------------------------------------------------------------------------

def start(agent, call_id: int, kind: str, *, to_agent_id: int | None = None,
          to_campaign_id: int | None = None, to_number: str | None = None) -> CallTransfer:
    chosen = [name for name, value in (("to_agent_id", to_agent_id), ("to_campaign_id", to_campaign_id),
                                       ("to_number", to_number)) if value is not None]
    if len(chosen) != 1:
        message = "Choose exactly one: an agent, a campaign or a number."
        raise ApiError(422, message, fields={name: [message] for name in chosen or ["to_agent_id"]})
    call = controls.connected_call(agent, call_id)
    if open_consult(call.id) is not None:
        raise _conflict("Finish or cancel the consultation under way first.", "consult_in_progress")
    now = utcnow()
    t = CallTransfer(call_id=call.id, kind=kind, from_agent_id=agent.id, status="consulting",
                     started_at=now)
    if to_number is not None:
        t.to_number = _outside_number(to_number, call)
        return _start_to_number(agent, call, t)
    if to_agent_id is not None:
        target = _named_agent(agent, call, to_agent_id)
        _reserve_named(target, call)
    else:
        target, _ = _reserve_from_campaign(agent, call, to_campaign_id)
        t.to_campaign_id = to_campaign_id
    t.to_agent_id = target.id
    return _start_to_agent(agent, call, t, target)


def _start_to_agent(agent, call: Call, t: CallTransfer, target: User) -> CallTransfer:
    carrier = get_carrier()
    if t.kind == "cold":
        try:
            call_bridged.send(call, agent_id=target.id)
            carrier.redirect(call.call_sid, audio.person_into_room(target.id, call.id))
        except CarrierError as exc:
            log.warning("call %s: cold transfer to agent %s not taken: %s", call.id, target.id, exc)
            release_reservation(target.id, call.id)
            raise _carrier_failed("transferred") from None
        if not confirm_reservation(target.id, call.id):
            # Their audio went under us: the person comes back to this agent.
            _back_to(call, agent.id)
            release_reservation(target.id, call.id)
            raise _conflict(f"{target.username}'s audio disconnected: the call stays with you.",
                            "target_no_audio", "to_agent_id")
        _hand_over(call, agent.id, t, target.id)
        return t
    # Warm: the person holds; the target's own leg joins this room, then goes home after.
    leg = audio.leg_of(target.id)
    try:
        controls.hold_person(call, agent.id, True)
    except CarrierError as exc:
        log.warning("call %s: hold for consult failed: %s", call.id, exc)
        release_reservation(target.id, call.id)
        raise _carrier_failed("put on hold") from None
    try:
        carrier.redirect(leg, twiml.consult_then_home(audio.room_name(agent.id), audio.room_name(target.id),
                                                      audio._url("status", target.id)))
    except CarrierError as exc:
        log.warning("call %s: consult leg of agent %s not moved: %s", call.id, target.id, exc)
        release_reservation(target.id, call.id)
        _unhold(call, agent.id)
        raise _conflict(f"{target.username}'s audio could not be reached: the call stays with you.",
                        "target_no_audio", "to_agent_id") from None
    t.consult_sid = leg
    db.session.add(t)
    db.session.commit()
    _announce(t, call.campaign_id)
    return t


def _start_to_number(agent, call: Call, t: CallTransfer) -> CallTransfer:
    carrier = get_carrier()
    if t.kind == "cold":
        # Committed first (its id is in the Dial's action URL) and locked until handed over,
        # so an outcome arriving at once waits for this to finish.
        db.session.add(t)
        db.session.commit()
        t = db.session.get(CallTransfer, t.id, with_for_update=True, populate_existing=True)
        action = f"{current_app.config['PUBLIC_BASE_URL']}/twilio/transfer/dialled?transfer={t.id}"
        try:
            carrier.redirect(call.call_sid, twiml.dial_number(t.to_number, _caller_id(call),
                                                              action_url=action))
        except CarrierError as exc:
            log.warning("call %s: cold transfer to %s not taken: %s", call.id, t.to_number, exc)
            db.session.delete(t)
            db.session.commit()
            raise _carrier_failed("transferred") from None
        _hand_over(call, agent.id, t)
        return t
    db.session.add(t)
    db.session.flush()  # its id goes into the consult leg's status callback
    try:
        controls.hold_person(call, agent.id, True)
    except CarrierError as exc:
        db.session.rollback()
        log.warning("call %s: hold for consult failed: %s", call.id, exc)
        raise _carrier_failed("put on hold") from None
    status_url = f"{current_app.config['PUBLIC_BASE_URL']}/twilio/transfer/status?transfer={t.id}"
    try:
        t.consult_sid = carrier.add_participant(
            audio.room_name(agent.id), t.to_number, _caller_id(call), label="consult",
            timeout_seconds=CONSULT_RING_SECONDS, status_callback_url=status_url,
            status_events=("answered", "completed"), end_conference_on_exit=False)
    except CarrierError as exc:
        db.session.rollback()
        log.warning("call %s: consult call to %s not placed: %s", call.id, t.to_number, exc)
        _unhold(call, agent.id)
        raise _carrier_failed("transferred") from None
    db.session.commit()
    _announce(t, call.campaign_id)
    return t


# --- the hand-over --------------------------------------------------------------------------

def _hand_over(call: Call, from_id: int, t: CallTransfer, to_id: int | None = None) -> None:
    """The transfer is completed and the agent who transferred wraps up. With `to_id` the call
    is that agent's now (they are on-call on it): a new interaction and a screen pop for them;
    without, the person talks to an outside party."""
    now = utcnow()
    end_talk(call, now, agent_id=from_id)
    if to_id is not None:
        call.agent_id = to_id
        open_interaction(call, to_id, now)
    t.status, t.ended_at = "completed", now
    db.session.add(t)
    db.session.commit()
    if recordings.resume_when_handed_on(call, from_id):
        db.session.commit()
    end_call(from_id, call.id, now)
    if to_id is not None:
        publish_screen_pop(to_id, call.id)
    controls.release(call.id, from_id)
    _announce(t, call.campaign_id)


def _back_to(call: Call, agent_id: int) -> None:
    try:
        call_bridged.send(call, agent_id=agent_id)
        get_carrier().redirect(call.call_sid, audio.person_into_room(agent_id, call.id))
    except CarrierError as exc:
        log.warning("call %s: could not bring the person back to agent %s: %s", call.id, agent_id, exc)


def _unhold(call: Call, agent_id: int) -> None:
    try:
        controls.hold_person(call, agent_id, False)
    except CarrierError as exc:
        log.warning("call %s: could not take the person off hold: %s", call.id, exc)


def _own_transfer(agent, call_id: int, transfer_id: int) -> tuple[Call, CallTransfer]:
    controls.own_call(agent, call_id)
    t = db.session.get(CallTransfer, transfer_id, with_for_update=True)
    if t is None or t.call_id != call_id or t.from_agent_id != agent.id:
        raise ApiError(404, "No such transfer", "not_found")
    if t.status != "consulting":
        raise _conflict(SETTLED_WORDS.get(t.status, "This transfer is over."), "transfer_settled")
    return controls.connected_call(agent, call_id), t


def _fail(call: Call, agent_id: int, t: CallTransfer, message: str, code: str) -> ApiError:
    t.status, t.ended_at = "failed", utcnow()
    db.session.commit()
    _unhold(call, agent_id)
    _announce(t, call.campaign_id, reason=message)
    return _conflict(message, code)


def complete(agent, call_id: int, transfer_id: int) -> CallTransfer:
    """Hand over to the consulted party; the agent is free (wrap-up)."""
    call, t = _own_transfer(agent, call_id, transfer_id)
    if t.to_number is None:
        return _complete_to_agent(agent, call, t)
    return _complete_to_number(agent, call, t)


def _complete_to_agent(agent, call: Call, t: CallTransfer) -> CallTransfer:
    carrier = get_carrier()
    target = db.session.get(User, t.to_agent_id)
    try:  # their leg home first, so the person never joins an empty room
        carrier.redirect(t.consult_sid, _leg_home(target.id))
    except CarrierError:
        release_reservation(target.id, call.id)
        raise _fail(call, agent.id, t, f"{target.username}'s audio disconnected: the call stays with you.",
                    "target_no_audio") from None
    try:
        apply(target.id, ("reserved",), "on-call", call_id=call.id, require_call=True, reason="transfer")
    except TransitionRefused:
        raise _fail(call, agent.id, t, f"{target.username} can no longer take the call: it stays with you.",
                    "target_not_ready") from None
    try:
        call_bridged.send(call, agent_id=target.id)
        carrier.redirect(call.call_sid, audio.person_into_room(target.id, call.id))
    except CarrierError as exc:  # the person hung up meanwhile: the call's end settles it
        log.info("call %s: person not moved to agent %s: %s", call.id, target.id, exc)
    _hand_over(call, agent.id, t, target.id)
    db.session.refresh(call)
    if call.status in FINAL_STATUSES:
        end_call(target.id, call.id)  # ended before it became theirs: they are not held on it
    return t


def _complete_to_number(agent, call: Call, t: CallTransfer) -> CallTransfer:
    carrier = get_carrier()
    room = transfer_room(call.id)
    try:  # the outside party first, then the person: neither waits alone
        carrier.redirect(t.consult_sid, twiml.join_room(room, label="outside", end_on_exit=True))
    except CarrierError:
        raise _fail(call, agent.id, t, "The other party has hung up: the call stays with you.",
                    "consult_ended") from None
    try:
        carrier.redirect(call.call_sid, twiml.join_room(room, label="customer", end_on_exit=True))
    except CarrierError:
        _hang_up(t.consult_sid)
        raise _fail(call, agent.id, t, "The person has hung up.", "call_ended") from None
    _hand_over(call, agent.id, t)
    return t


def cancel(user, call_id: int, transfer_id: int) -> CallTransfer:
    """The consultation ends: the consulted party leaves and the person is taken off hold.
    Asked by the agent who transferred (back to the person), by the consulted agent (they
    leave), or by a supervisor or admin of the call's campaign."""
    call = db.session.get(Call, call_id)
    t = db.session.get(CallTransfer, transfer_id, with_for_update=True)
    if call is None or t is None or t.call_id != call_id:
        raise ApiError(404, "No such transfer", "not_found")
    if user.role == "agent" and user.id == t.from_agent_id:
        call, t = _own_transfer(user, call_id, transfer_id)
        _dismiss(call, t, "cancelled")
        _unhold(call, user.id)
        return t
    if user.role == "agent" and user.id == t.to_agent_id:
        reason = f"{user.username} left the consultation; you are back with the person."
    elif user.role in ("supervisor", "admin") and access.can_see_campaign(user, call.campaign_id):
        reason = f"{user.username} (supervisor) ended the consultation; you are back with the person."
    else:
        raise ApiError(404, "No such transfer", "not_found")
    if t.status != "consulting":
        raise _conflict(SETTLED_WORDS.get(t.status, "This transfer is over."), "transfer_settled")
    end_consult(call, t, reason)
    return t


def end_consult(call: Call, t: CallTransfer, reason: str) -> None:
    """End a consultation from outside it (the consulted agent, a supervisor, the timeout):
    the consulted party leaves and the person comes off hold if still with their agent."""
    _dismiss(call, t, "cancelled", reason=reason)
    if call.status not in FINAL_STATUSES and call.agent_id == t.from_agent_id:
        _unhold(call, t.from_agent_id)


def expire_consults(now: datetime | None = None) -> list[int]:
    """Consultations open longer than CONSULT_TIMEOUT_SECONDS end (the reaper calls this): a
    consulted agent is never left reserved, nor a person on hold, for good."""
    now = now or utcnow()
    limit = timedelta(seconds=float(current_app.config.get("CONSULT_TIMEOUT_SECONDS") or 600))
    ids = db.session.scalars(select(CallTransfer.id).where(
        CallTransfer.status == "consulting", CallTransfer.kind == "warm",
        CallTransfer.started_at <= now - limit)).all()
    ended = []
    for transfer_id in ids:
        t = db.session.get(CallTransfer, transfer_id, with_for_update=True, populate_existing=True)
        if t is None or t.status != "consulting":
            db.session.rollback()
            continue
        minutes = round(limit.total_seconds() / 60)
        end_consult(db.session.get(Call, t.call_id), t,
                    f"The consultation ended after {minutes} minute{'s' if minutes != 1 else ''}; "
                    "you are back with the person.")
        ended.append(transfer_id)
    return ended


def _dismiss(call: Call, t: CallTransfer, status: str, at: datetime | None = None, *,
             commit: bool = True, reason: str | None = None) -> None:
    """The consulted party leaves: an agent's leg home and the agent back to ready; an outside
    leg hung up."""
    if t.to_number is None and t.to_agent_id is not None:
        try:
            get_carrier().redirect(t.consult_sid, _leg_home(t.to_agent_id))
        except CarrierError as exc:
            log.info("transfer %s: consulted leg not sent home: %s", t.id, exc)
        try:
            apply(t.to_agent_id, ("reserved",), "ready", call_id=call.id, require_call=True,
                  reason="consult_ended", commit=False)
        except TransitionRefused:
            pass  # their audio went meanwhile: they are paused, as anyone without audio
    elif t.consult_sid:
        _hang_up(t.consult_sid)
    t.status, t.ended_at = status, at or utcnow()
    if commit:
        db.session.commit()
    _announce(t, call.campaign_id, reason=reason)


def _hang_up(call_sid: str) -> None:
    try:
        get_carrier().hangup(call_sid)
    except CarrierError as exc:
        log.info("consult leg %s: hang-up not taken: %s", call_sid, exc)


# --- what the carrier and the call's end tell us ---------------------------------------------

def on_consult_status(transfer_id: str | None, form) -> None:
    """An outside consult leg ended (unanswered, or they hung up) while still consulting: the
    transfer failed and the person is taken off hold."""
    if not (transfer_id or "").isdigit():
        return
    if form.get("CallStatus") == "in-progress":
        _consult_answered(int(transfer_id), form.get("CallSid"))
        return
    if form.get("CallStatus") not in FINAL_STATUSES:
        return
    t = db.session.get(CallTransfer, int(transfer_id), with_for_update=True)
    if t is None or t.status != "consulting" or t.consult_sid != form.get("CallSid"):
        db.session.rollback()
        return
    call = db.session.get(Call, t.call_id)
    t.status, t.ended_at = "failed", utcnow()
    db.session.commit()
    if call.status not in FINAL_STATUSES and call.agent_id == t.from_agent_id:
        _unhold(call, t.from_agent_id)
    reason = {"busy": "The number was busy.", "no-answer": "Nobody answered.",
              "failed": "The number could not be reached."}.get(form.get("CallStatus"),
                                                                  "The other party hung up.")
    _announce(t, call.campaign_id, reason=reason)


def _consult_answered(transfer_id: int, call_sid: str | None) -> None:
    """The outside party answered: the agent is talking to them now (until then the console
    says it is calling them)."""
    t = db.session.get(CallTransfer, transfer_id)
    if t is None or t.status != "consulting" or t.consult_sid != call_sid:
        db.session.rollback()
        return
    get_redis().set(_answered_key(t.id), "1", ex=24 * 3600)
    call = db.session.get(Call, t.call_id)
    db.session.rollback()
    _announce(t, call.campaign_id)


DIAL_REASONS = {"busy": "was busy", "no-answer": "did not answer", "failed": "could not be reached",
                "canceled": "could not be reached"}
APOLOGY = "We are sorry: we could not put your call through. Please call us back. Goodbye."


def on_number_dialled(transfer_id: str | None, form) -> str:
    """The outcome of a cold transfer's <Dial> to a number (its action URL): TwiML for the
    person. Put through and finished: hang up. Otherwise the transfer failed: the person comes
    back to the agent who transferred them if that agent is still free for them (finishing
    this call, or ready), else hears a short apology."""
    status = form.get("DialCallStatus") or ""
    t = db.session.get(CallTransfer, int(transfer_id), with_for_update=True) \
        if (transfer_id or "").isdigit() else None
    call = db.session.get(Call, t.call_id) if t is not None else None
    if t is None or t.kind != "cold" or t.to_number is None or status in ("completed", "answered") \
            or t.status == "failed" or call.call_sid != form.get("CallSid"):
        db.session.rollback()
        return twiml.hangup()
    t.status, t.ended_at = "failed", utcnow()
    db.session.commit()
    words = f"{t.to_number} {DIAL_REASONS.get(status, 'could not be reached')}"
    if _take_back(call, t.from_agent_id):
        _announce(t, call.campaign_id, reason=f"{words}: the person is back with you.")
        publish_screen_pop(t.from_agent_id, call.id)
        return twiml.join_room(audio.room_name(t.from_agent_id))
    _announce(t, call.campaign_id, reason=f"{words}: the person was told and the call ended.")
    return twiml.say_and_hangup(APOLOGY)


def _take_back(call: Call, agent_id: int) -> bool:
    """The agent, still free for this call (finishing it, or ready), on it again."""
    if call.status in FINAL_STATUSES or call.agent_id != agent_id or not audio.leg_of(agent_id):
        return False
    snap = rstate.snapshot(agent_id)
    try:
        if snap["state"] == "wrap-up" and snap["call_id"] == call.id:
            apply(agent_id, ("wrap-up",), "ready", reason="transfer_failed")
        elif snap["state"] != "ready":
            return False
        apply(agent_id, ("ready",), "reserved", call_id=call.id, reason="transfer_failed")
    except TransitionRefused:
        return False
    if not confirm_reservation(agent_id, call.id):
        return False
    interaction = db.session.scalar(select(Interaction).where(
        Interaction.call_id == call.id, Interaction.agent_id == agent_id))
    if interaction is not None:
        interaction.talk_ended_at, interaction.talk_seconds = None, None
    else:
        open_interaction(call, agent_id)
    db.session.commit()
    return True


def on_call_finished(call: Call, *, at: datetime, **_) -> None:
    """The person's call ended: a consultation under way ends with it, and the agent's leg is
    unmuted for the next call."""
    t = open_consult(call.id)
    if t is not None:
        _dismiss(call, t, "cancelled", at, commit=False)  # in the transaction ending the call
    if call.agent_id is not None:
        controls.release(call.id, call.agent_id)


def on_hang_up(call: Call, agent_id: int) -> None:
    """The agent hung up on the person: a consultation under way ends too."""
    t = open_consult(call.id)
    if t is not None:
        _dismiss(call, t, "cancelled")
    controls.release(call.id, agent_id)


def handing_over(call_id: int, agent_id: int, grace_seconds: float) -> bool:
    """The call is being handed to `agent_id`, whose leg is on its way to their room: a warm
    transfer to them in consultation, or one completed within `grace_seconds`."""
    since = utcnow() - timedelta(seconds=grace_seconds)
    return db.session.scalar(select(CallTransfer.id).where(
        CallTransfer.call_id == call_id, CallTransfer.to_agent_id == agent_id,
        (CallTransfer.status == "consulting")
        | ((CallTransfer.status == "completed") & (CallTransfer.ended_at >= since))).limit(1)) is not None


def transferred_away(call: Call, agent_id: int) -> bool:
    """Has this agent handed the call over (it is no longer theirs to end)?"""
    return db.session.scalar(select(CallTransfer.id).where(
        CallTransfer.call_id == call.id, CallTransfer.from_agent_id == agent_id,
        CallTransfer.status == "completed").limit(1)) is not None


def connect() -> None:
    from app.calls.signals import call_finished

    call_finished.connect(on_call_finished, weak=False)


# --- the pickers -----------------------------------------------------------------------------

def targets(agent) -> dict:
    """Agents and campaigns the agent may transfer to: those of their own campaigns only."""
    mine = access.assigned_campaign_ids(agent, "agent")
    campaigns = db.session.scalars(select(Campaign).where(Campaign.id.in_(mine)).order_by(Campaign.name)).all()
    people = db.session.execute(
        select(User.id, User.username).join(CampaignAssignment, CampaignAssignment.user_id == User.id)
        .where(CampaignAssignment.campaign_id.in_(mine), CampaignAssignment.role == "agent",
               User.role == "agent", User.active.is_(True), User.id != agent.id)
        .distinct().order_by(User.username)).all()
    states = rstate.snapshots([row.id for row in people])
    return {"agents": [{"id": row.id, "username": row.username, "state": states[row.id]["state"]}
                       for row in people],
            "campaigns": [{"id": c.id, "name": c.name, "ready_agents": rstate.ready_count(c.id)}
                          for c in campaigns]}
