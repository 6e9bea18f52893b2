"""What the dialer asks of agents: reserve one, connect it, free it, and the live counts it paces by.

Call flow: /twilio/voice calls `reserve_agent` (one atomic Redis step: the longest-idle ready
agent of the campaign becomes reserved for this call) then `confirm_reservation` once the
bridge is set up (reserved -> on-call). A reservation that is neither
confirmed nor released within RESERVATION_TTL_SECONDS goes back to ready through the
`expire_stale_reservations` sweeper. The call's end moves the agent to wrap-up (`end_call`).

These functions return False/None instead of raising: the dialer decides what a lost
reservation means (usually: abandon or retry with another agent).
"""
from __future__ import annotations

import logging
from datetime import datetime

from app.agents import audio
from app.agents import state as rstate
from app.agents.transitions import TransitionRefused, announce, apply, from_ms, log_change, to_ms
from app.common.timeutil import utcnow

log = logging.getLogger(__name__)

RESERVATION_TTL_SECONDS = 5
HEARTBEAT_TIMEOUT_SECONDS = 30


def reserve_agent(campaign_id: int, call_id: int, ttl_seconds: float = RESERVATION_TTL_SECONDS,
                  now: datetime | None = None, prefer: int | None = None) -> int | None:
    """The id of the agent now reserved for `call_id` (`prefer` when that agent is ready), or
    None when no agent of the campaign is ready."""
    now_ms = to_ms(now or utcnow())
    got = rstate.reserve(campaign_id, call_id, now_ms, int(ttl_seconds * 1000), prefer)
    if got is None:
        return None
    agent_id, previous_since_ms = got
    log_change(agent_id, "ready", "reserved", now_ms, previous_since_ms, campaign_id=campaign_id,
               call_id=call_id, reason="dialer")
    announce({"agent_id": agent_id, "state": "reserved", "previous_state": "ready",
              "since": from_ms(now_ms).isoformat(), "campaign_id": campaign_id, "pause_code": None,
              "call_id": call_id, "reason": "dialer"})
    return agent_id


def confirm_reservation(agent_id: int, call_id: int, now: datetime | None = None) -> bool:
    """reserved -> on-call for this very call; False if the reservation is gone (expired, released).
    The caller shows the agent the call (app.interactions.screen_pop) once it is theirs."""
    return _try(agent_id, ("reserved",), "on-call", now, call_id=call_id, require_call=True, reason="connected")


def release_reservation(agent_id: int, call_id: int, now: datetime | None = None) -> bool:
    """The call will not be bridged after all: the agent goes back to ready, keeping its place;
    an agent who dialled it by hand while paused goes back to that pause."""
    resume = rstate.snapshot(agent_id)["dialled_from_pause"]
    if resume is not None:
        return _try(agent_id, ("reserved",), "paused", now, call_id=call_id, require_call=True,
                    pause_code=resume_pause_code(agent_id, resume), reason="released")
    return _try(agent_id, ("reserved",), "ready", now, call_id=call_id, require_call=True, reason="released")


def resume_pause_code(agent_id: int, code: str):
    """The pause code (a PauseCode, or a stand-in when it is no longer listed) an agent who
    dialled by hand while paused goes back to; None for a pause without a code."""
    from types import SimpleNamespace

    from sqlalchemy import select

    from app.campaigns.models import PauseCode
    from app.extensions import db

    if not code:
        return None
    campaign_id = rstate.snapshot(agent_id)["campaign_id"]
    found = db.session.scalars(select(PauseCode).where(
        PauseCode.code == code,
        (PauseCode.campaign_id.is_(None)) | (PauseCode.campaign_id == campaign_id),
    ).order_by(PauseCode.campaign_id.is_(None))).first()
    return found or SimpleNamespace(code=code, id=None)


def end_call(agent_id: int, call_id: int, now: datetime | None = None) -> bool:
    """on-call -> wrap-up when this call ends; False when the agent is not on this call."""
    return _try(agent_id, ("on-call",), "wrap-up", now, call_id=call_id, require_call=True, reason="call_ended")


def expire_stale_reservations(now: datetime | None = None) -> list[int]:
    """Reservations past their expiry go back to ready; returns the agents freed."""
    now_ms = to_ms(now or utcnow())
    freed = []
    for agent_id in rstate.expired_reservations(now_ms):
        # The guard re-checks the expiry inside the script: a confirm that won the race stands.
        if _try(agent_id, ("reserved",), "ready", now, guard_key=rstate.RESERVATIONS, guard_max_ms=now_ms,
                reason="reservation_expired"):
            log.warning("reservation of agent %s expired unconfirmed", agent_id)
            freed.append(agent_id)
    return freed


def disconnect_silent_agents(now: datetime | None = None,
                             timeout_seconds: float = HEARTBEAT_TIMEOUT_SECONDS) -> list[int]:
    """Agents whose console has been silent for `timeout_seconds` go offline (reason 'disconnected').

    Agents reserved or on a call are left alone: the call's own events move them on, and the
    next sweep after wrap-up takes them offline if the console is still gone.
    """
    now = now or utcnow()
    cutoff_ms = to_ms(now) - int(timeout_seconds * 1000)
    gone = []
    for agent_id in rstate.silent_since(cutoff_ms):
        if _try(agent_id, ("ready", "paused", "wrap-up"), "offline", now, guard_key=rstate.HEARTBEATS,
                guard_max_ms=cutoff_ms, reason="disconnected"):
            log.warning("agent %s disconnected: no heartbeat for %ss", agent_id, timeout_seconds)
            audio.disconnect(agent_id)  # a phone leg would otherwise stay up with nobody behind it
            gone.append(agent_id)
    return gone


def _try(agent_id: int, allowed, to_state: str, now: datetime | None, **kwargs) -> bool:
    try:
        apply(agent_id, allowed, to_state, now=now or utcnow(), **kwargs)
    except TransitionRefused:
        return False
    return True


# --- figures the pacer needs -------------------------------------------------------------------

def ready_agents(campaign_id: int) -> int:
    """Ready agents the pacer may place calls for: not those whose pause or sign-off is pending
    (app.agents.pending), though a call that is answered may still go to them."""
    return rstate.ready_unpending(campaign_id)


def agents_busy_elapsed(campaign_id: int, now: datetime | None = None) -> list[float]:
    """Seconds since the call was connected, for each agent of the campaign on a call or in wrap-up
    who will be ready after it (not one who dialled by hand while paused: they go back to pause)."""
    now_ms = to_ms(now or utcnow())
    out = []
    for snap in rstate.snapshots(rstate.campaign_members(campaign_id)).values():
        if snap["state"] in ("on-call", "wrap-up") and snap["connected_ms"] is not None \
                and snap["campaign_id"] == campaign_id and snap["dialled_from_pause"] is None:
            out.append(max(0, now_ms - snap["connected_ms"]) / 1000)
    return sorted(out)


def campaign_agent_counts(campaign_id: int) -> dict[str, int]:
    """Agents working the campaign now, by state (offline agents are not counted)."""
    counts = {s: 0 for s in rstate.TRANSITIONS if s != "offline"}
    for snap in rstate.snapshots(rstate.campaign_members(campaign_id)).values():
        if snap["campaign_id"] == campaign_id and snap["state"] in counts:
            counts[snap["state"]] += 1
    return counts
