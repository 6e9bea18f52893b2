"""One agent transition: atomic in Redis, then logged to PostgreSQL and published live.

Redis decides (the Lua script checks the from-state and moves the agent in one step); the
database row follows with the exact milliseconds spent in the previous state, and
`agents.state/state_since` mirror the latest change (never overwritten by an older one).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import or_, update

from app.agents import state as rstate
from app.agents.models import AgentProfile, AgentStateChange
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db
from app.realtime.publish import agent_room, campaign_room, publish


class TransitionRefused(Exception):
    def __init__(self, agent_id: int, from_state: str, to_state: str, because: str):
        self.agent_id, self.from_state, self.to_state, self.because = agent_id, from_state, to_state, because
        super().__init__(f"agent {agent_id}: {from_state} -> {to_state} refused ({because})")


def to_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


STATE_WORDS = {"offline": "signed off", "ready": "ready", "reserved": "being connected to a call",
               "on-call": "on a call", "wrap-up": "in wrap-up", "paused": "paused"}
TARGET_WORDS = {"ready": "go ready", "ready-after-wrap": "go ready after wrap-up", "paused": "pause",
                "offline": "sign off", "on-call": "connect a call", "wrap-up": "start wrap-up",
                "reserved": "be given a call"}


def conflict(agent_id: int, from_state: str, to_state: str, hint: str = "") -> ApiError:
    """A refused state change, said as people say it; `from` and `to` keep the states' codes."""
    message = (f"Cannot {TARGET_WORDS.get(to_state, to_state)} while "
               f"{STATE_WORDS.get(from_state, from_state)}")
    return ApiError(409, message + (f": {hint}." if hint else "."), "invalid_transition",
                    {"from": [from_state], "to": [to_state]})


def apply(agent_id: int, allowed_from, to_state: str, *, now: datetime | None = None,
          campaign_id: int | None = None, pause_code=None, call_id: int | None = None,
          require_call: bool = False, guard_key: str = "", guard_max_ms: int = 0,
          reason: str | None = None, commit: bool = True) -> dict:
    """Move the agent or raise TransitionRefused; returns the published agent.state payload."""
    now = now or utcnow()
    now_ms = to_ms(now)
    allowed = [s for s in allowed_from if to_state in rstate.TRANSITIONS[s]]
    result = rstate.transition(
        agent_id, allowed, to_state, now_ms, campaign_id=campaign_id,
        pause_code=pause_code.code if pause_code is not None else None, call_id=call_id,
        require_call=require_call, guard_key=guard_key, guard_max_ms=guard_max_ms,
    )
    if not result.ok:
        raise TransitionRefused(agent_id, result.previous_state, to_state, result.refused_because)
    log_change(agent_id, result.previous_state, to_state, now_ms, result.previous_since_ms,
               campaign_id=result.campaign_id or result.previous_campaign_id,
               call_id=result.call_id or result.previous_call_id,
               pause_code_id=pause_code.id if pause_code is not None else None, reason=reason, commit=commit)
    payload = {
        "agent_id": agent_id, "state": to_state, "previous_state": result.previous_state,
        "since": from_ms(now_ms).isoformat(), "campaign_id": result.campaign_id,
        "pause_code": pause_code.code if pause_code is not None else None,
        "call_id": result.call_id, "reason": reason,
    }
    announce(payload, result.previous_campaign_id)
    if result.pending_dropped:  # applied, or cancelled, or overtaken by this change
        announce_pending(agent_id, result.previous_campaign_id, None)
    return payload


def log_change(agent_id: int, from_state: str, to_state: str, at_ms: int, previous_since_ms: int | None, *,
               campaign_id=None, call_id=None, pause_code_id=None, reason=None, commit=True) -> None:
    at = from_ms(at_ms)
    db.session.add(AgentStateChange(
        agent_id=agent_id, campaign_id=campaign_id, from_state=from_state, to_state=to_state,
        pause_code_id=pause_code_id, call_id=call_id, at=at, reason=reason,
        previous_state_ms=None if previous_since_ms is None else max(0, at_ms - previous_since_ms),
    ))
    db.session.execute(
        update(AgentProfile)
        .where(AgentProfile.user_id == agent_id,
               or_(AgentProfile.state_since.is_(None), AgentProfile.state_since <= at))
        .values(state=to_state, state_since=at)
    )
    if commit:
        db.session.commit()


def announce(payload: dict, previous_campaign_id: int | None = None) -> None:
    """agent.state to the agent and to the supervisors of the campaign(s) concerned."""
    publish("agent.state", payload, room=agent_room(payload["agent_id"]))
    rooms = {payload.get("campaign_id"), previous_campaign_id} - {None}
    for campaign_id in sorted(rooms):
        publish("agent.state", payload, room=campaign_room(campaign_id))


def announce_pending(agent_id: int, campaign_id: int | None, pending: dict | None) -> None:
    """agent.pending to the agent and the campaign: the pause or sign-off waiting for calls placed
    for them (`pending` from state.snapshot), or none any more (None: applied or cancelled)."""
    payload = {"agent_id": agent_id, "campaign_id": campaign_id,
               "target": pending["target"] if pending else None,
               "pause_code": pending["pause_code"] if pending else None,
               "calls_ringing": pending["calls_ringing"] if pending else None}
    publish("agent.pending", payload, room=agent_room(agent_id))
    if campaign_id is not None:
        publish("agent.pending", payload, room=campaign_room(campaign_id))
