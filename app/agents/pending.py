"""Pausing never strands a call: a pause or sign-off that waits for the calls placed for the agent.

In progressive and predictive mode the pacer places calls for the campaign's ready agents;
those calls are given an agent only when a person answers. An agent who pauses or signs off
while they ring takes away the agent one of them was placed for: the person who answers is
abandoned. So, when a ready agent of such a campaign asks to pause or sign off (or a
supervisor asks it for them):

- at once, if the campaign's other ready agents, not counting those whose own request is
  already pending, are at least the calls still ringing (placed and not yet answered or
  ended, and contacts claimed for dialing);
- otherwise the request is PENDING: the agent stays ready and can still be given a call that
  is answered, but the pacer no longer counts them (no new call is placed for them), and a
  call that is answered goes to them only when nobody else is ready.

A pending request settles, with the reason and pause code it was asked with, as soon as the
condition holds (checked on every pacing tick, at the end of each call of the campaign, and
when another agent of it goes ready); if a call reaches the agent first, it is applied when
that call's wrap-up ends ("then ready" becomes the pending target). The agent cancels it by
asking for ready again; pausing or signing off from wrap-up, or losing audio, overtakes it.
Preview and manual campaigns place calls only for an agent who asked for them: at once.

The request lives on the agent's Redis hash and in `pending:{campaign}` (app.agents.state),
written by the same kind of atomic scripts as the state itself; every change is published as
`agent.pending` to the agent and the campaign.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from app.agents import audio
from app.agents import state as rstate
from app.agents.transitions import TransitionRefused, announce_pending, apply, from_ms, to_ms
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.extensions import db

PACED_MODES = ("progressive", "predictive")


@dataclass(frozen=True)
class _Code:
    """The pause code a pending request was asked with, as transitions.apply logs it."""
    code: str
    id: int | None


_ringing_counter: Callable[..., int | list[int]] | None = None


def set_ringing_counter(counter: Callable[..., int | list[int]]) -> None:
    """The dialer knows which calls ring for a campaign (app.dialer.hopper.calls_ringing); it is
    plugged in by the app factory, as agents sit below calls and the dialer. Called as
    `counter(campaign, since)` for one count, `counter(campaign, each=[since, ...])` for many."""
    global _ringing_counter
    _ringing_counter = counter


def calls_ringing(campaign: Campaign, since: datetime | None = None) -> int:
    if _ringing_counter is None:
        raise RuntimeError("no ringing-call counter wired (app._wire_features)")
    return _ringing_counter(campaign, since)


def calls_ringing_each(campaign: Campaign, sinces: list[datetime]) -> list[int]:
    """`calls_ringing` for each of `sinces`, in one go."""
    if _ringing_counter is None:
        raise RuntimeError("no ringing-call counter wired (app._wire_features)")
    return _ringing_counter(campaign, each=sinces) if sinces else []


def request(agent_id: int, campaign_id: int, target: str, *, pause_code=None, reason: str,
            now: datetime) -> bool:
    """A ready agent's pause (`target` "paused") or sign-off ("offline"): True when it is now
    pending; False when the caller applies it at once (or finds the agent moved on)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.dial_mode not in PACED_MODES:
        return False
    ringing = calls_ringing(campaign)
    if ringing == 0:
        return False
    verdict, _, _ = rstate.pend(agent_id, campaign_id, ringing, target,
                                pause_code.code if pause_code is not None else None,
                                pause_code.id if pause_code is not None else None, reason, to_ms(now))
    if verdict != "pending":
        return False
    announce_pending(agent_id, campaign_id, rstate.snapshot(agent_id)["pending"])
    return True


def cancel(agent_id: int, snap: dict) -> bool:
    """The agent asked for ready again: their pending request is dropped (True if there was one)."""
    pending, campaign_id = snap["pending"], snap["campaign_id"]
    if pending is None or campaign_id is None:
        return False
    if not rstate.cancel_pending(agent_id, campaign_id, pending["since_ms"]):
        return False
    announce_pending(agent_id, campaign_id, None)
    return True


def apply_pending(agent_id: int, snap: dict, allowed_from, now: datetime, *, commit: bool = True) -> bool:
    """Apply the agent's pending request from one of `allowed_from`, as it was asked (target,
    pause code, the agent's or the supervisor's); False if it is gone or the agent moved on."""
    pending, campaign_id = snap["pending"], snap["campaign_id"]
    if pending is None or campaign_id is None:
        return False
    code = _Code(pending["pause_code"], pending["pause_code_id"]) if pending["pause_code"] else None
    try:
        # The guard: only this very request (not one cancelled or replaced meanwhile).
        apply(agent_id, allowed_from, pending["target"], now=now, pause_code=code,
              reason=pending["by"] or "agent", guard_key=rstate.pending_key(campaign_id),
              guard_max_ms=pending["since_ms"], commit=commit)
    except TransitionRefused:
        return False
    if pending["target"] == "offline":
        audio.disconnect(agent_id)  # the session is over: so is its audio leg
    return True


def settle(campaign_id: int, now: datetime | None = None, *, commit: bool = True) -> list[int]:
    """Apply the campaign's pending requests whose calls have settled; returns the agents moved.

    A request applies once the other ready agents (pending ones are not counted) cover the
    calls that were ringing when it was asked and still are: calls placed after it were placed
    for the others, never for this agent (and with over-dialling they would keep it waiting for
    ever). A pending agent reserved, on a call or in wrap-up waits for the end of that call's
    wrap-up.
    """
    pending = rstate.pending_agents(campaign_id)
    if not pending:
        return []
    now = now or utcnow()
    campaign = db.session.get(Campaign, campaign_id)
    paced = campaign is not None and campaign.dial_mode in PACED_MODES
    ready_others = rstate.ready_unpending(campaign_id)
    waiting = []
    for agent_id, snap in rstate.snapshots(pending).items():
        held = snap["pending"]
        if held is None or snap["campaign_id"] != campaign_id:
            rstate.drop_stale_pending(agent_id, campaign_id)
            continue
        if held["since_ms"] != pending[agent_id] or snap["state"] != "ready":
            continue
        waiting.append((agent_id, snap))
    # One count for all of them (not a query per pending agent): what rang when each was asked.
    counts = calls_ringing_each(campaign, [from_ms(s["pending"]["since_ms"]) for _, s in waiting]) \
        if paced else [0] * len(waiting)
    moved = []
    for (agent_id, snap), ringing in zip(waiting, counts):
        held = snap["pending"]
        if ready_others >= ringing:
            if apply_pending(agent_id, snap, ("ready",), now, commit=commit):
                moved.append(agent_id)
        elif rstate.set_pending_ringing(agent_id, held["since_ms"], ringing):
            announce_pending(agent_id, campaign_id, {**held, "calls_ringing": ringing})
    return moved


def settle_if_any(campaign_id: int | None, now: datetime | None = None, *, commit: bool = True) -> list[int]:
    """`settle`, at the cost of one Redis read when nothing is pending (the common case)."""
    if campaign_id is None or not get_redis().exists(rstate.pending_key(campaign_id)):
        return []
    return settle(campaign_id, now, commit=commit)


def public(pending: dict | None) -> dict | None:
    """The pending request as the API shows it."""
    if pending is None:
        return None
    return {"target": pending["target"], "pause_code": pending["pause_code"],
            "calls_ringing": pending["calls_ringing"], "by": pending["by"],
            "since": from_ms(pending["since_ms"])}
