"""Monitoring sessions: a supervisor's own audio leg in an agent's room to listen, whisper or
barge.

A supervisor (or admin) connects an audio leg exactly as an agent does (app.agents.audio): the
browser, or a phone Omnivox calls; it sits in their own room `agent-<id>`, served by the same
webhooks. A session moves that leg, with the carrier's redirect, into the room of an agent on a
call (`twiml.monitor_then_home`):

- listen: muted; the supervisor hears the agent and the person, nobody hears them;
- whisper: coaching the agent's leg (Twilio's `coach`), heard by the agent only;
- barge: unmuted, heard by both.

Changing mode is a participant update in the agent's room (muted / coaching), never a new
connection: the supervisor's CallSid stays the same. The leg joins with endConferenceOnExit
false and startConferenceOnEnter false, so its leaving never ends the agent's room and it never
makes one; its join is reported to the agent's room webhook but is not the agent's leg (the
leg was offered to the supervisor's room, app.agents.audio.on_leg_event), so it never counts
as the agent's audio. Leaving redirects the leg back to the supervisor's own room; the agent
and the person go on talking.

When the agent's call ends the session stays, as floors expect (VICIdial keeps a supervisor in
until they leave): the supervisor hears the agent's silence, then the next call in the same
mode. It ends by itself when the agent's room ends (their audio leg went: the leg falls
through to the supervisor's own room by its TwiML) or when the supervisor's leg ends.

A session lives in Redis (`monitor:<id>`, `monitor:by-supervisor:<user id>`, the set
`monitor:live`): one per supervisor at a time. The audit log keeps every start, change of mode
and end (`monitor.start`, `monitor.mode`, `monitor.end`) with the supervisor, the agent, the
call and the mode; each is published live as `monitor.state` to the campaign's room.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.agents import audio
from app.agents import state as rstate
from app.agents.services import supervised_campaign_ids
from app.audit import services as audit
from app.auth.models import User
from app.calls.models import Call
from app.calls.signals import call_bridged as bridged
from app.campaigns.models import CampaignAssignment
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.dialer import controls
from app.errors import ApiError
from app.extensions import db
from app.realtime.publish import campaign_room, publish
from app.telephony import twiml
from app.telephony.carrier import CarrierError
from app.telephony.factory import get_carrier

log = logging.getLogger(__name__)

MODES = ("listen", "whisper", "barge")
SESSION_TTL_SECONDS = 12 * 3600
PENDING_TTL_SECONDS = 60  # a session being started, until its leg is moved
LIVE = "monitor:live"
SEQUENCE = "monitor:seq"
_INTS = ("id", "supervisor_id", "agent_id", "campaign_id", "call_id", "started_ms")


def _key(session_id) -> str:
    return f"monitor:{session_id}"


def _by_supervisor(user_id: int) -> str:
    return f"monitor:by-supervisor:{user_id}"


def _claim(user_id: int, session_id: int) -> bool:
    """The supervisor's one session slot, or False while another session holds it. A slot whose
    session is gone (its hash expired) is taken over."""
    redis = get_redis()
    key = _by_supervisor(user_id)
    for _ in range(2):
        pipe = redis.pipeline()  # MULTI: the slot and the session's placeholder together
        pipe.set(key, session_id, nx=True, ex=SESSION_TTL_SECONDS)
        pipe.hset(_key(session_id), "pending", "1")
        pipe.expire(_key(session_id), PENDING_TTL_SECONDS)
        if pipe.execute()[0]:
            return True
        holder = redis.get(key)
        if not (holder and holder.isdigit() and not redis.exists(_key(holder))):
            return False
        redis.delete(key)  # a slot left behind by a session that is gone
    return False


def _participant(mode: str, agent_leg: str | None) -> dict:
    """The agent-room participant settings of the supervisor's leg for `mode`."""
    if mode == "listen":
        return {"muted": True, "coaching": False}
    if mode == "whisper":
        return {"muted": False, "coaching": True, "call_sid_to_coach": agent_leg}
    return {"muted": False, "coaching": False}


def get(session_id) -> dict | None:
    data = get_redis().hgetall(_key(session_id))
    if not data:
        return None
    out = dict(data)
    for name in _INTS:
        out[name] = int(data[name]) if data.get(name) else None
    return out


def of_supervisor(user_id: int) -> dict | None:
    """The supervisor's live session (not one still being started), or None."""
    session_id = get_redis().get(_by_supervisor(user_id))
    s = get(session_id) if session_id and session_id.isdigit() else None
    return s if s is not None and s.get("agent_id") is not None else None


def payload(s: dict, *, active: bool = True, reason: str | None = None) -> dict:
    snap = rstate.snapshot(s["agent_id"])
    from app.agents.transitions import from_ms

    return {"id": s["id"], "session_id": s["id"], "supervisor_id": s["supervisor_id"],
            "supervisor": s.get("supervisor"), "agent_id": s["agent_id"], "agent": s.get("agent"),
            "campaign_id": s["campaign_id"], "mode": s["mode"],
            "call_id": snap["call_id"] if snap["state"] in ("on-call", "wrap-up") else None,
            "first_call_id": s["call_id"], "agent_state": snap["state"],
            "leg_sid": s["leg_sid"], "started_at": from_ms(s["started_ms"]).isoformat(),
            "active": active, "reason": reason}


def _announce(s: dict, *, active: bool = True, reason: str | None = None) -> dict:
    body = payload(s, active=active, reason=reason)
    if s.get("campaign_id") is not None:
        publish("monitor.state", body, room=campaign_room(s["campaign_id"]))
    return body


def _audit(action: str, s: dict, actor, **details) -> None:
    snap = rstate.snapshot(s["agent_id"])
    call_id = snap["call_id"] if snap["state"] in ("on-call", "wrap-up") else None
    audit.record(action, target_type="agent", target_id=s["agent_id"], actor=actor,
                 actor_username=None if actor is not None else s.get("supervisor"),
                 session_id=s["id"], supervisor_id=s["supervisor_id"], agent_id=s["agent_id"],
                 campaign_id=s["campaign_id"], call_id=details.pop("call_id", call_id),
                 mode=s["mode"], **details, commit=True)


# --- who may -------------------------------------------------------------------------------

def _not_found_agent() -> ApiError:
    return ApiError(404, "No such agent", "not_found",
                    {"agent_id": ["Not an agent of a campaign you supervise."]})


def _visible_agent(actor, agent_id: int) -> User:
    agent = db.session.get(User, agent_id)
    if agent is None or agent.role != "agent":
        raise _not_found_agent()
    allowed = supervised_campaign_ids(actor)
    if allowed is not None and db.session.scalar(select(CampaignAssignment.campaign_id).where(
            CampaignAssignment.user_id == agent_id, CampaignAssignment.role == "agent",
            CampaignAssignment.campaign_id.in_(sorted(allowed) or [-1])).limit(1)) is None:
        raise _not_found_agent()
    return agent


def _may_see(actor, s: dict) -> bool:
    allowed = supervised_campaign_ids(actor)
    return allowed is None or s["campaign_id"] in allowed or s["supervisor_id"] == actor.id


def _own(actor, session_id: int) -> dict:
    s = get(session_id)
    if s is None or not _may_see(actor, s):
        raise ApiError(404, "No such monitoring session", "not_found")
    if s["supervisor_id"] != actor.id:
        raise ApiError(403, f"This is {s.get('supervisor')}'s session: only they can change it or leave it.",
                       "forbidden")
    return s


# --- the supervisor asks ---------------------------------------------------------------------

def start(actor, agent_id: int, mode: str) -> dict:
    """Move the supervisor's leg into the agent's room in `mode`."""
    agent = _visible_agent(actor, agent_id)
    snap = rstate.snapshot(agent_id)
    if snap["state"] != "on-call" or not snap["call_id"]:
        raise ApiError(409, f"{agent.username} is not on a call ({snap['state']}): there is nothing "
                            "to listen to yet. Pick an agent who is on a call.", "agent_not_on_call",
                       {"agent_id": [f"{agent.username} is not on a call."]})
    call = db.session.get(Call, snap["call_id"])
    allowed = supervised_campaign_ids(actor)
    if call is None or (allowed is not None and call.campaign_id not in allowed):
        raise ApiError(404, "No such call", "not_found",
                       {"agent_id": ["Their call is not on a campaign you supervise."]})
    agent_leg = audio.leg_of(agent_id)
    if not agent_leg:
        raise ApiError(409, f"{agent.username}'s audio is not connected.", "agent_no_audio",
                       {"agent_id": [f"{agent.username} has no audio connected."]})
    leg = audio.leg_of(actor.id)
    if not leg:
        raise ApiError(409, "Connect your own audio first (this browser, or have Omnivox call your "
                            "phone): you listen, whisper and barge through it.", "no_audio",
                       {"audio": ["Your audio is not connected."]})
    redis = get_redis()
    session_id = int(redis.incr(SEQUENCE))
    if not _claim(actor.id, session_id):
        current = of_supervisor(actor.id)
        who = (current or {}).get("agent") or "another agent"
        raise ApiError(409, f"You are already monitoring {who}: leave that session first, or "
                            "change its mode.", "already_monitoring",
                       {"session_id": [str(current["id"]) if current else "Being started."]})
    try:
        try:
            room_sid = controls.room_sid(agent_id)
        except CarrierError:
            room_sid = ""
        get_carrier().redirect(leg, twiml.monitor_then_home(
            audio.room_name(agent_id), audio.room_name(actor.id), audio._url("status", actor.id),
            muted=mode == "listen", coach=agent_leg if mode == "whisper" else None))
    except CarrierError as exc:
        redis.delete(_by_supervisor(actor.id), _key(session_id))
        log.warning("supervisor %s: leg %s not moved to agent %s: %s", actor.id, leg, agent_id, exc)
        raise ApiError(409, "Your audio could not be moved into the call just now: the line did not "
                            "answer. Try again.", "carrier_unavailable") from None
    except BaseException:
        redis.delete(_by_supervisor(actor.id), _key(session_id))  # never leave them locked out
        raise
    s = {"id": session_id, "supervisor_id": actor.id, "supervisor": actor.username,
         "agent_id": agent_id, "agent": agent.username, "campaign_id": call.campaign_id,
         "call_id": call.id, "mode": mode, "leg_sid": leg, "agent_leg": agent_leg,
         "room_sid": room_sid or "", "started_ms": int(utcnow().timestamp() * 1000)}
    pipe = redis.pipeline()
    pipe.hset(_key(session_id), mapping={k: "" if v is None else str(v) for k, v in s.items()})
    pipe.hdel(_key(session_id), "pending")
    pipe.expire(_key(session_id), SESSION_TTL_SECONDS)
    pipe.sadd(LIVE, session_id)
    pipe.execute()
    log.info("supervisor %s: %s agent %s on call %s (session %s)", actor.id, mode, agent_id, call.id,
             session_id)
    _audit("monitor.start", s, actor, call_id=call.id)
    return _announce(s)


def set_mode(actor, session_id: int, mode: str) -> dict:
    """Listen, whisper or barge without reconnecting: the leg's settings in the agent's room."""
    s = _own(actor, session_id)
    if s["mode"] == mode:
        return payload(s)
    agent_leg = audio.leg_of(s["agent_id"]) or s.get("agent_leg")
    try:
        controls.update_in_room(s["agent_id"], s["leg_sid"], **_participant(mode, agent_leg))
    except CarrierError as exc:
        log.warning("session %s: mode %s not taken: %s", s["id"], mode, exc)
        if exc.status == 404:
            end(s, "gone", actor=actor)
            raise ApiError(409, "You are no longer in the agent's call (their audio or yours went): "
                                "the session has ended.", "session_ended") from None
        raise ApiError(409, "The mode could not be changed just now: the line did not answer. "
                            "Try again.", "carrier_unavailable") from None
    before = s["mode"]
    get_redis().hset(_key(s["id"]), "mode", mode)
    s["mode"] = mode
    _audit("monitor.mode", s, actor, previous_mode=before)
    return _announce(s)


def leave(actor, session_id: int) -> None:
    """The supervisor's leg back to their own room; the agent and the person go on talking."""
    s = _own(actor, session_id)
    if end(s, "left", actor=actor):
        _send_home(s)


def live_sessions(actor) -> list[dict]:
    out = []
    for session_id in sorted(get_redis().smembers(LIVE), key=int):
        s = get(session_id)
        if s is None:
            get_redis().srem(LIVE, session_id)
            continue
        if _may_see(actor, s):
            out.append(payload(s))
    return out


def one(actor, session_id: int) -> dict:
    s = get(session_id)
    if s is None or not _may_see(actor, s):
        raise ApiError(404, "No such monitoring session", "not_found")
    return payload(s)


# --- the end ---------------------------------------------------------------------------------

_REASONS = {"left": "The supervisor left.",
            "out_of_scope": "The agent's next call is on a campaign the supervisor does not supervise.",
            "agent_room_ended": "The agent's audio disconnected: the supervisor is back in their own room.",
            "supervisor_audio_ended": "The supervisor's audio disconnected.",
            "gone": "The supervisor's leg is no longer in the agent's call."}


def end(s: dict, reason: str, *, actor=None) -> bool:
    """Forget the session (once: False when another end got there first), audit and announce."""
    redis = get_redis()
    if not redis.srem(LIVE, s["id"]):
        return False
    redis.delete(_key(s["id"]))
    if redis.get(_by_supervisor(s["supervisor_id"])) == str(s["id"]):
        redis.delete(_by_supervisor(s["supervisor_id"]))
    if actor is None:
        actor = db.session.get(User, s["supervisor_id"])
    _audit("monitor.end", s, actor, reason=reason)
    _announce(s, active=False, reason=_REASONS.get(reason, reason))
    return True


def room_ended(agent_id: int, conference_sid: str) -> None:
    """The agent's room ended (their leg left it): sessions in it are over; each supervisor's
    leg has fallen through to their own room."""
    for session_id in get_redis().smembers(LIVE):
        s = get(session_id)
        if s is not None and s["agent_id"] == agent_id and (not s["room_sid"] or s["room_sid"] == conference_sid):
            end(s, "agent_room_ended")


def leg_gone(user_id: int, call_sid: str) -> None:
    """A leg ended: if it was a supervisor's in a session, the session is over."""
    s = of_supervisor(user_id)
    if s is not None and s["leg_sid"] == call_sid:
        end(s, "supervisor_audio_ended")


def call_bridged(call: Call, agent_id: int) -> None:
    """A person is about to join the agent's room. A session whose supervisor may not hear this
    call (another campaign's) ends first, its leg sent home before the person arrives; one who
    may follows the agent onto it, audited and announced to that campaign's wallboard."""
    for session_id in get_redis().smembers(LIVE):
        s = get(session_id)
        if s is None or s["agent_id"] != agent_id or s.get("call_id") == call.id:
            continue
        supervisor = db.session.get(User, s["supervisor_id"])
        allowed = supervised_campaign_ids(supervisor) if supervisor is not None else set()
        if supervisor is None or (allowed is not None and call.campaign_id not in allowed):
            if end(s, "out_of_scope", actor=supervisor):
                _send_home(s)
            continue
        get_redis().hset(_key(s["id"]), mapping={"call_id": call.id, "campaign_id": call.campaign_id})
        s.update(call_id=call.id, campaign_id=call.campaign_id)
        _audit("monitor.call", s, supervisor, call_id=call.id)
        _announce(s)


def _send_home(s: dict) -> None:
    try:
        get_carrier().redirect(s["leg_sid"], twiml.agent_room(audio.room_name(s["supervisor_id"]),
                                                             audio._url("status", s["supervisor_id"])))
    except CarrierError as exc:  # their leg has gone meanwhile: nothing to bring home
        log.info("session %s: leg %s not brought home: %s", s["id"], s["leg_sid"], exc)


def _on_call_bridged(call: Call, *, agent_id: int, **_) -> None:
    call_bridged(call, agent_id)


def _on_room_closed(agent_id: int, *, conference_sid: str, **_) -> None:
    room_ended(agent_id, conference_sid)


def _on_leg_finished(user_id: int, *, call_sid: str, **_) -> None:
    leg_gone(user_id, call_sid)


def connect() -> None:
    """Follow the audio legs' and rooms' ends (app.agents.audio signals; idempotent)."""
    audio.room_closed.connect(_on_room_closed, weak=False)
    bridged.connect(_on_call_bridged, weak=False)
    audio.leg_finished.connect(_on_leg_finished, weak=False)
