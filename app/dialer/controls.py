"""The agent's call controls on a connected call: hold and resume the person, mute their own
leg, hang up. (Transfers: app.dialer.transfers.)

Everything happens in the agent's own conference room (app.agents.audio), where the agent's
persistent leg and the person are participants: hold is the person's participant on hold,
hearing the hold TwiML at `/twilio/hold`; mute is the agent's own participant muted. What is
on is kept per call in Redis (`callctl:<call_id>`: hold, muted) so the console can be told.
A hang-up ends the person's call, never the agent's leg.
"""
from __future__ import annotations

import logging

from flask import current_app

from app.agents import audio
from app.agents import state as rstate
from app.calls.models import TERMINAL_STATUSES, Call
from app.common.redis import get_redis
from app.errors import ApiError
from app.extensions import db
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier

log = logging.getLogger(__name__)

CONTROLS_TTL_SECONDS = 12 * 3600


def _controls_key(call_id: int) -> str:
    return f"callctl:{call_id}"


def controls(call_id: int) -> dict:
    data = get_redis().hgetall(_controls_key(call_id))
    return {"call_id": call_id, "hold": data.get("hold") == "1", "muted": data.get("muted") == "1"}


def _remember(call_id: int, **flags: bool) -> None:
    key = _controls_key(call_id)
    pipe = get_redis().pipeline()
    pipe.hset(key, mapping={name: "1" if on else "0" for name, on in flags.items()})
    pipe.expire(key, CONTROLS_TTL_SECONDS)
    pipe.execute()


def own_call(agent, call_id: int) -> Call:
    """The agent's call, or 404 (another agent's call is simply not found)."""
    call = db.session.get(Call, call_id)
    if call is None or call.agent_id != agent.id:
        raise ApiError(404, "No such call", "not_found")
    return call


def connected_call(agent, call_id: int) -> Call:
    """The agent's call, connected to them now (they are on it, the person is in their room)."""
    call = own_call(agent, call_id)
    snap = rstate.snapshot(agent.id)
    if call.status in TERMINAL_STATUSES or call.connected_at is None or not call.call_sid \
            or snap["state"] != "on-call" or snap["call_id"] != call.id:
        raise ApiError(409, "This call is no longer connected to you.", "call_not_connected",
                       {"call_id": ["The call has ended or was handed over."]})
    return call


def room_sid(agent_id: int) -> str:
    """The sid of the agent's own conference now: the one their leg's join reported, or asked
    of the carrier by name (the room is made anew when the leg comes back to it)."""
    stored = get_redis().hget(rstate.agent_key(agent_id), "room_sid")
    if stored:
        return stored
    found = get_carrier().live_conference_sid(audio.room_name(agent_id))
    if not found:
        raise CarrierError(None, f"room of agent {agent_id} not found", 404)
    return found


def update_in_room(agent_id: int, call_sid: str, **changes) -> None:
    """Hold/mute a participant of the agent's room, finding the room anew if the sid we had is
    out of date."""
    carrier = get_carrier()
    try:
        carrier.update_participant(room_sid(agent_id), call_sid, **changes)
    except CarrierError as exc:
        if exc.status != 404:
            raise
        fresh = carrier.live_conference_sid(audio.room_name(agent_id))
        if not fresh:
            raise
        carrier.update_participant(fresh, call_sid, **changes)


def hold_url() -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/twilio/hold"


def _unavailable(what: str) -> ApiError:
    return ApiError(409, f"The call could not be {what} just now: the line did not answer. Try again.",
                    "carrier_unavailable")


def hold_person(call: Call, agent_id: int, hold: bool) -> None:
    """The person on hold in the agent's room (they hear the hold audio), or back."""
    update_in_room(agent_id, call.call_sid, hold=hold, hold_url=hold_url() if hold else None)
    _remember(call.id, hold=hold)


def set_hold(agent, call_id: int, hold: bool) -> dict:
    call = connected_call(agent, call_id)
    if not hold:
        from app.dialer.transfers import open_consult

        if open_consult(call.id) is not None:
            raise ApiError(409, "Finish or cancel the consultation first: the person would hear it.",
                           "consult_in_progress")
    try:
        hold_person(call, agent.id, hold)
    except CarrierError as exc:
        log.warning("call %s: hold=%s not taken: %s", call.id, hold, exc)
        raise _unavailable("put on hold" if hold else "taken off hold") from None
    return controls(call.id)


def set_mute(agent, call_id: int, muted: bool) -> dict:
    """The agent's own leg muted in their room: nobody there hears them."""
    call = connected_call(agent, call_id)
    leg = audio.leg_of(agent.id)
    if not leg:
        raise ApiError(409, "Your audio is not connected.", "no_audio")
    try:
        update_in_room(agent.id, leg, muted=muted)
    except CarrierError as exc:
        log.warning("agent %s: mute=%s not taken: %s", agent.id, muted, exc)
        raise _unavailable("muted" if muted else "unmuted") from None
    _remember(call.id, muted=muted)
    return controls(call.id)


def release(call_id: int, agent_id: int) -> None:
    """The call has left the agent's room (ended, transferred): their leg is unmuted for the
    next call and the call's controls are forgotten. Never raises."""
    key = _controls_key(call_id)
    muted = get_redis().hget(key, "muted") == "1"
    get_redis().delete(key)
    leg = audio.leg_of(agent_id)
    if muted and leg:
        try:
            update_in_room(agent_id, leg, muted=False)
        except CarrierError as exc:
            log.warning("agent %s: could not unmute after call %s: %s", agent_id, call_id, exc)
