"""The agent's audio leg: one connection per session, in the agent's own conference room.

When an agent signs on, their audio (the browser through Twilio Voice JS, or a phone Omnivox
calls and the agent answers with a key press) joins the conference named for them,
`agent-<id>`, and stays there until they sign off. An answered person is joined into the
reserved agent's room (app.dialer.routing): no ring per call, the bridge is the join itself.

No audio, no ready: the leg's CallSid is kept on the agent's Redis hash (`leg_sid`), the
state machine's script refuses `ready` without it and the reservation script skips an agent
without it. A leg that ends takes the agent out of ready at once (a system pause,
`no-audio`); one that comes back lets them go ready again.

What the carrier tells us arrives at two webhooks (contracts in DESIGN.md):
- `/twilio/agent/voice`: the leg's TwiML (the TwiML App's voice URL for the browser; the `Url`
  of the call placed to a phone agent, which first asks for a key so a voicemail never
  becomes an agent). `room_twiml` answers it and remembers the CallSid it offered the room to.
- `/twilio/agent/status`: the room's conference events (`participant-join` of that CallSid
  is the leg connected) and the leg's own call status (a final status is the leg gone).
Both are idempotent, and a join reported after the leg's end changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from blinker import Namespace
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.agents import state as rstate
from app.agents.transitions import TransitionRefused, apply, from_ms, to_ms
from app.auth.models import User
from app.campaigns.models import Campaign, CampaignAssignment
from app.common import tasks
from app.common.phones import is_e164, normalize_phone
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.realtime.publish import agent_room, campaign_room, publish
from app.telephony import twiml
from app.telephony.carrier import CarrierError, PlaceCallRequest
from app.telephony.factory import get_carrier
from app.telephony.voice_token import browser_audio

log = logging.getLogger(__name__)

ROOM_PREFIX = "agent-"
OFFER_TTL_SECONDS = 12 * 3600      # the longest session a leg serves
ENDED_TTL_SECONDS = 24 * 3600      # a late join of an ended leg is recognised this long
PHONE_RING_SECONDS = 30
ACCEPT_KEY = "1"
FINAL_LEG_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# Sent when an agent's leg ends: (agent_id, state, call_id) as they were, so the dialer can
# cancel a preview or manual call still ringing for an agent who can no longer take it.
_signals = Namespace()
audio_lost = _signals.signal("audio-lost")
# Any leg's call ended (agent_id, call_sid=...), whether or not it was the connection in use;
# an agent's room ended (owner id, conference_sid=...). Monitoring subscribes to both.
leg_finished = _signals.signal("leg-finished")
room_closed = _signals.signal("room-closed")
# The carrier answered 404 for a leg we hold live (agent_id, call_sid=...): credentials that
# cannot see it, most likely. Nothing is ended on it; ops counts it for an alert.
leg_unknown = _signals.signal("leg-unknown")


@dataclass(frozen=True)
class SystemPause:
    """A pause Omnivox puts an agent in (not one of the campaign's pause codes)."""
    code: str
    label: str
    id: None = None


NO_AUDIO = SystemPause("no-audio", "Audio disconnected")


def room_name(user_id: int) -> str:
    """The agent's own conference room (also a supervisor's, to listen from)."""
    return f"{ROOM_PREFIX}{user_id}"


def user_of_room(name: str | None) -> int | None:
    if not name or not name.startswith(ROOM_PREFIX):
        return None
    digits = name[len(ROOM_PREFIX):]
    return int(digits) if digits.isdigit() else None


def _offer_key(call_sid: str) -> str:
    return f"leg-offer:{call_sid}"


def _ended_key(call_sid: str) -> str:
    return f"leg-ended:{call_sid}"


def _url(path: str, user_id: int, **extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"agent": user_id, **extra}.items())
    return f"{current_app.config['PUBLIC_BASE_URL']}/twilio/agent/{path}?{query}"


# ARGV: 1 agent id, 2 leg sid, 3 via, 4 now_ms, 5 room (conference) sid
# Returns {1|0, the leg it replaces or '', that leg's room sid or ''}
_JOINED = """
if redis.call('EXISTS', 'leg-ended:' .. ARGV[2]) == 1 then return {0, '', ''} end
local h = 'agent:' .. ARGV[1]
local old = redis.call('HGET', h, 'leg_sid') or ''
local old_room = redis.call('HGET', h, 'room_sid') or ''
if old ~= ARGV[2] then redis.call('HSET', h, 'leg_since_ms', ARGV[4]) end
redis.call('HSET', h, 'leg_sid', ARGV[2], 'leg_via', ARGV[3], 'room_sid', ARGV[5])
return {1, old, old_room}
"""

# ARGV: 1 agent id, 2 leg sid, 3 ended-marker ttl
_ENDED = """
redis.call('SET', 'leg-ended:' .. ARGV[2], '1', 'EX', ARGV[3])
local h = 'agent:' .. ARGV[1]
if redis.call('HGET', h, 'leg_sid') ~= ARGV[2] then return 0 end
redis.call('HDEL', h, 'leg_sid', 'leg_via', 'leg_since_ms', 'room_sid')
return 1
"""


def _run(source: str, args: list):
    return rstate._script(source)(args=args)


# --- what the agent's console sees -----------------------------------------------------------

def audio_status(agent_id: int) -> dict:
    data = get_redis().hmget(rstate.agent_key(agent_id), "leg_sid", "leg_via", "leg_since_ms")
    sid, via, since = data
    return {"connected": bool(sid), "via": via if sid else None,
            "since": from_ms(int(since)) if sid and since else None,
            "browser_available": browser_audio(current_app.config),
            "phone": _profile_phone(agent_id)}


def leg_of(agent_id: int) -> str | None:
    return get_redis().hget(rstate.agent_key(agent_id), "leg_sid") or None


def no_audio_error(agent_id: int) -> ApiError:
    """Why the agent cannot go ready, in words for them."""
    if browser_audio(current_app.config) or _profile_phone(agent_id):
        how = "Connect your audio first: this browser, or have Omnivox call your phone."
    elif current_app.config.get("TWILIO_API_BASE_URL"):
        how = "Connect your audio first: enter a phone number for Omnivox to call."
    else:
        how = ("Omnivox has no way to reach you yet: browser audio is not set up and you have "
               "no phone number. Ask an admin, or enter a phone number to be called on.")
    return ApiError(409, f"You cannot go ready without audio. {how}", "no_audio",
                    {"state": ["Your audio is not connected."]})


def _announce(agent_id: int, campaign_id: int | None, **payload) -> None:
    payload = {"agent_id": agent_id, **payload}
    publish("agent.audio", payload, room=agent_room(agent_id))
    if campaign_id is not None:
        publish("agent.audio", payload, room=campaign_room(campaign_id))


# --- the carrier's side -----------------------------------------------------------------------

def agent_for_leg(form, args) -> int | None:
    """The user a leg belongs to: `?agent=` on the URLs we gave a phone leg (signed with the
    rest of the URL), or the browser's client identity (`From=client:agent-<id>`)."""
    raw = args.get("agent")
    if raw is None:
        caller = form.get("From") or form.get("Caller") or ""
        raw = caller[len("client:"):] if caller.startswith("client:") else None
        raw = raw[len(ROOM_PREFIX):] if raw and raw.startswith(ROOM_PREFIX) else None
    try:
        user_id = int(raw)
    except (TypeError, ValueError):
        return None
    user = db.session.get(User, user_id)
    ok = user is not None and user.active and user.role in ("agent", "supervisor", "admin")
    db.session.rollback()
    return user_id if ok else None


def answer_leg(form, args) -> str:
    """TwiML for `/twilio/agent/voice`: the room, or first the phone agent's accept key."""
    user_id = agent_for_leg(form, args)
    call_sid = form.get("CallSid", "")
    if user_id is None or not call_sid:
        return twiml.say_and_hangup("This line is not an Omnivox agent. Goodbye.")
    via = "phone" if args.get("agent") is not None else "browser"
    if via == "phone" and form.get("Digits") != ACCEPT_KEY:
        if args.get("asked") and form.get("Digits") is not None:
            return twiml.say_and_hangup("That was not the key. Goodbye.")
        return twiml.accept_prompt(
            "This is Omnivox, calling to connect you to your agent console. "
            f"Press {ACCEPT_KEY} to start taking calls.", _url("voice", user_id, asked=1))
    get_redis().set(_offer_key(call_sid), f"{user_id}:{via}", ex=OFFER_TTL_SECONDS)
    return twiml.agent_room(room_name(user_id), _url("status", user_id))


def on_leg_event(form, args, now: datetime | None = None) -> None:
    """`/twilio/agent/status`: a conference event of an agent's room, or the leg's call status."""
    event = form.get("StatusCallbackEvent")
    call_sid = form.get("CallSid", "")
    if event == "conference-end":
        owner = user_of_room(form.get("FriendlyName"))
        if owner is not None:
            room_closed.send(owner, conference_sid=form.get("ConferenceSid", ""))
        return
    if not call_sid:
        return
    if event == "participant-join":
        offer = get_redis().get(_offer_key(call_sid))
        owner = user_of_room(form.get("FriendlyName"))
        if offer and owner is not None and int(offer.split(":")[0]) == owner:
            leg_joined(owner, call_sid, offer.split(":")[1], form.get("ConferenceSid", ""), now)
        return
    if event is None and form.get("CallStatus") in FINAL_LEG_STATUSES:
        owner = agent_for_leg(form, args)
        if owner is None:
            offer = get_redis().get(_offer_key(call_sid))
            owner = int(offer.split(":")[0]) if offer else None
        if owner is not None:
            leg_ended(owner, call_sid, form.get("CallStatus"), now)


def leg_joined(agent_id: int, call_sid: str, via: str, room_sid: str = "",
               now: datetime | None = None) -> bool:
    """The leg is in the agent's room: they may go ready. False for a leg already ended."""
    now = now or utcnow()
    ok, old, old_room = _run(_JOINED, [agent_id, call_sid, via, to_ms(now), room_sid])
    if not ok:
        return False
    if old and old != call_sid:
        # A second connection (another tab, the phone answered after the browser) replaces
        # the first. The old leg ends the room when it leaves: it is first told not to, so
        # the new leg, and any person on the line, stay.
        retire_leg(old, old_room)
    log.info("agent %s: audio connected (%s, %s)", agent_id, via, call_sid)
    _announce(agent_id, rstate.snapshot(agent_id)["campaign_id"], connected=True, via=via)
    return True


def leg_ended(agent_id: int, call_sid: str, status: str | None = None,
              now: datetime | None = None) -> str | None:
    """The leg's call is over. If it was the agent's connection, they leave ready (and a call
    being connected to them) at once; returns the state they were moved out of, if any."""
    now = now or utcnow()
    leg_finished.send(agent_id, call_sid=call_sid)  # a supervisor's leg: their session ends with it
    if not _run(_ENDED, [agent_id, call_sid, ENDED_TTL_SECONDS]):
        if status in ("busy", "no-answer", "failed", "canceled"):
            _announce(agent_id, None, connected=False, reason=_PHONE_FAILED.get(status, ""))
        return None
    snap = rstate.snapshot(agent_id)
    moved = None
    try:
        apply(agent_id, ("ready", "reserved"), "paused", now=now, pause_code=NO_AUDIO,
              reason="audio_lost")
        moved = snap["state"]
    except TransitionRefused:
        pass
    # A person joined into the room the leg just left does not start it (person_into_room):
    # they wait, and the wait URL hands them the safe-harbour message at once.
    audio_lost.send(agent_id, state=snap["state"], call_id=snap["call_id"])
    log.warning("agent %s: audio leg %s ended (%s)%s", agent_id, call_sid, status,
                f"; out of {moved}" if moved else "")
    _announce(agent_id, snap["campaign_id"], connected=False,
              reason="Your audio disconnected. Reconnect it to go ready again.")
    return moved


def check_leg(agent_id: int, now: datetime | None = None) -> str | None:
    """A person joined into the agent's room found no agent there (app.dialer.routing's
    stranded wait URL), yet the agent still has a leg on record: its final status may have been
    lost on the way. The carrier is asked: a leg it reports over ends here as its callback
    would have ended it, so the agent is taken out of ready rather than handed the next person
    too. A leg still up is left to its room's own events; one the carrier cannot be asked
    about, or answers 404 for (credentials that cannot see it: never taken for proof that it
    is over, as a leg still up would end its room when it left), is left and said in the log.
    Returns the state the agent was moved out of, if any."""
    leg = leg_of(agent_id)
    if not leg:
        return None
    try:
        status = get_carrier().fetch(leg).status
    except CarrierError as exc:
        log.log(logging.ERROR if exc.status == 404 else logging.WARNING,
                "agent %s: leg %s could not be checked (%s)", agent_id, leg, exc)
        if exc.status == 404:
            leg_unknown.send(agent_id, call_sid=leg)
        return None
    if status not in FINAL_LEG_STATUSES:
        return None
    log.warning("agent %s: a person found their room empty, and the carrier says leg %s is %s",
                agent_id, leg, status)
    return leg_ended(agent_id, leg, status, now=now)


_PHONE_FAILED = {"busy": "Your phone was busy.", "no-answer": "Your phone did not answer.",
                 "failed": "Your phone could not be reached.",
                 "canceled": "The call to your phone was cancelled."}


def report_audio_paths() -> str | None:
    """At start-up: say, in the log, when agents will have no way to connect their audio (a
    real carrier, no browser audio, and no agent with a phone number). Returns the warning."""
    from app.agents.models import AgentProfile

    config = current_app.config
    if config.get("TWILIO_API_BASE_URL") or browser_audio(config):
        return None
    try:
        phones = db.session.scalar(select(func.count()).select_from(AgentProfile)
                                   .where(AgentProfile.phone_e164.is_not(None)))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return None  # the database is not there yet: readiness reports that
    if phones:
        return None
    warning = ("agents have no audio path: browser audio is not configured (TWILIO_API_KEY_SID, "
               "TWILIO_API_KEY_SECRET, TWILIO_TWIML_APP_SID) and no agent has a phone number; "
               "agents cannot go ready until one is set up")
    log.warning(warning)
    return warning


# --- the agent asks --------------------------------------------------------------------------

def _staff_phone_key(user_id: int) -> str:
    return f"staff-phone:{user_id}"


STAFF_PHONE_TTL_SECONDS = 90 * 24 * 3600


def _profile_phone(agent_id: int) -> str | None:
    """The phone Omnivox calls for this user's leg: an agent's profile holds it; a supervisor
    (no agent profile) has it remembered in Redis."""
    from app.agents.models import AgentProfile

    profile = db.session.get(AgentProfile, agent_id)
    if profile is not None:
        return profile.phone_e164
    return get_redis().get(_staff_phone_key(agent_id))


def _caller_id(agent_id: int) -> str:
    configured = current_app.config.get("AGENT_CALLER_ID")
    if configured:
        return configured
    caller = db.session.scalar(
        select(Campaign.caller_id).join(CampaignAssignment, CampaignAssignment.campaign_id == Campaign.id)
        .where(CampaignAssignment.user_id == agent_id, Campaign.caller_id.is_not(None))
        .order_by(Campaign.id).limit(1))
    if not caller:
        raise ApiError(409, "No caller ID to call your phone from: ask an admin to set AGENT_CALLER_ID.",
                       "no_caller_id")
    return caller


def call_agent_phone(agent_id: int, phone: str | None = None) -> dict:
    """Omnivox calls the agent's phone; the agent presses 1 and their leg joins their room."""
    from app.agents.models import AgentProfile

    profile = db.session.get(AgentProfile, agent_id)
    user = db.session.get(User, agent_id)
    staff = profile is None and user is not None and user.role in ("supervisor", "admin")
    if profile is None and not staff:
        raise ApiError(404, "No such agent")
    if phone:
        try:
            phone = phone if is_e164(phone) else normalize_phone(phone, "US")
        except ValueError:
            raise ApiError(422, "That is not a phone number we can call",
                           fields={"phone": ["Give a full number, e.g. +1 202 555 0143."]}) from None
        if staff:
            get_redis().set(_staff_phone_key(agent_id), phone, ex=STAFF_PHONE_TTL_SECONDS)
        else:
            profile.phone_e164 = phone
    phone = _profile_phone(agent_id)
    if not phone:
        raise ApiError(422, "Which phone should Omnivox call?", fields={"phone": ["Required."]})
    from app.telephony.dial_policy import refusal

    refused = refusal(phone)
    if refused:
        db.session.rollback()
        raise ApiError(422, refused, "number_not_allowed", {"phone": ["Give another phone number."]})
    if leg_of(agent_id):
        raise ApiError(409, "Your audio is already connected.", "audio_connected")
    caller = _caller_id(agent_id)
    db.session.commit()
    request = PlaceCallRequest(to=phone, from_=caller, answer_url=_url("voice", agent_id),
                               status_callback_url=_url("status", agent_id),
                               timeout_seconds=PHONE_RING_SECONDS,
                               time_limit_seconds=twiml.AGENT_LEG_TIME_LIMIT_SECONDS)
    try:
        placed = get_carrier().place_call(request)
    except CarrierError as exc:
        log.warning("agent %s: could not call %s: %s", agent_id, phone, exc)
        raise ApiError(409, "Omnivox could not call your phone just now; try again in a moment.",
                       "carrier_unavailable") from None
    get_redis().set(_offer_key(placed.call_sid), f"{agent_id}:phone", ex=OFFER_TTL_SECONDS)
    return {**audio_status(agent_id), "calling": phone}


def person_into_room(agent_id: int, call_id: int, label: str = "customer") -> str:
    """TwiML joining a person into an agent's room. The person never starts the conference:
    with the agent's leg there it is running and they join it at once; without it (the leg
    ended the moment before) they would wait alone, so Twilio fetches the wait URL,
    `/twilio/stranded`, which hands them the safe-harbour message. The room's events are
    asked for here too, whoever turns out to have opened it."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return twiml.join_room(room_name(agent_id), label=label, start_on_enter=False,
                           wait_url=f"{base}/twilio/stranded?attempt={call_id}&agent={agent_id}",
                           status_callback_url=_url("status", agent_id))


def disconnect(agent_id: int) -> None:
    """The agent's leg is hung up (sign-off, or the agent asked); its end arrives as a webhook."""
    sid = leg_of(agent_id)
    if sid:
        hang_up_leg(sid)


def hang_up_leg(call_sid: str) -> None:
    try:
        tasks.send(tasks.HANG_UP_CALL, call_sid)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the leg ends with the browser
        log.warning("could not queue the hang-up of leg %s: %s", call_sid, exc)


def hang_up_now(call_sid: str, room_sid: str | None = None, *, cancel_only: bool = False) -> None:
    """Worker side of `hang_up_leg` and `retire_leg`: with `room_sid`, the leg is first told
    not to end its room when it leaves; with `cancel_only`, only a call not yet answered ends."""
    carrier = get_carrier()
    if room_sid:
        try:
            carrier.update_participant(room_sid, call_sid, end_conference_on_exit=False)
        except CarrierError as exc:
            log.info("leg %s: could not keep its room up (%s)", call_sid, exc)
    try:
        carrier.hangup(call_sid, cancel_only=cancel_only)
    except CarrierError as exc:
        log.info("leg %s: hang-up not taken (%s)", call_sid, exc)


def retire_leg(call_sid: str, room_sid: str | None) -> None:
    """Hang up a replaced leg without ending the room it shares with its successor."""
    try:
        tasks.send(tasks.HANG_UP_CALL, call_sid, room_sid or None)
    except Exception as exc:  # noqa: BLE001 - the broker is down: the old leg stays till it ends
        log.warning("could not queue the retirement of leg %s: %s", call_sid, exc)
