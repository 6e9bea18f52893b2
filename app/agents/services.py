"""Agent state rules for people: the agent's own changes, supervisors' actions, the floor view.

Decisions (documented in the API too):
- Every non-offline agent works exactly one campaign; leaving offline needs a campaign the agent
  is assigned to (role 'agent'). The campaign may change only from offline or paused.
- `paused` needs a pause code (global or the campaign's) from the agent; a supervisor's forced
  pause may omit it. Paused -> paused changes the code.
- Nobody logs out or pauses an agent who is reserved or on a call: that is refused (409), so a
  connected caller is never left without an agent. After the call, wrap-up allows both.
- `ready-after-wrap` is ready, but only from wrap-up (a console button that must not misfire).
- In progressive and predictive campaigns a ready agent's pause or sign-off (their own or a
  supervisor's) may be pending until the calls placed for them settle (app.agents.pending);
  the status says so (`pending`). Asking for ready again cancels it; `ready-after-wrap` with a
  request pending applies the request instead. Access taken away (`sign_off`) is immediate.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.agents import audio, pending
from app.agents import state as rstate
from app.agents.transitions import TransitionRefused, apply, conflict, from_ms, to_ms
from app.audit import services as audit
from app.auth.models import User
from app.campaigns.signals import assignment_ended
from app.campaigns.models import Campaign, CampaignAssignment, PauseCode
from app.common.timeutil import utcnow
from app.errors import ApiError
from app.extensions import db

AGENT_TARGETS = ("ready", "paused", "offline", "ready-after-wrap")
_FROM = {
    "ready": ("offline", "paused", "wrap-up"),
    "ready-after-wrap": ("wrap-up",),
    "paused": ("offline", "ready", "wrap-up", "paused"),
    "offline": ("ready", "paused", "wrap-up"),
}
_HINTS = {
    "on-call": "the agent is on a call; wait for wrap-up",
    "reserved": "a call is being connected to the agent",
}


# --- access -----------------------------------------------------------------------------------

def supervised_campaign_ids(user: User) -> set[int] | None:
    """Campaigns a supervisor watches; None means every campaign (admins)."""
    if user.role == "admin":
        return None
    if user.role != "supervisor":
        return set()
    return set(db.session.scalars(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == user.id, CampaignAssignment.role == "supervisor")))


def may_watch_campaign(user: User, campaign_id: int) -> bool:
    allowed = supervised_campaign_ids(user)
    if allowed is None:
        return db.session.get(Campaign, campaign_id) is not None
    return campaign_id in allowed


def watchable_campaign_ids(user: User, campaign_ids: list[int]) -> set[int]:
    """Those of `campaign_ids` the user may watch live, in one query."""
    allowed = supervised_campaign_ids(user)
    if allowed is not None:
        return allowed & set(campaign_ids)
    if not campaign_ids:
        return set()
    return set(db.session.scalars(select(Campaign.id).where(Campaign.id.in_(campaign_ids))))


def _visible_agent(actor: User, agent_id: int) -> User:
    """The agent, if the actor supervises one of the agent's campaigns (admins: any); else 404."""
    agent = db.session.get(User, agent_id)
    if agent is None or agent.role != "agent":
        raise ApiError(404, "No such agent")
    allowed = supervised_campaign_ids(actor)
    if allowed is None:
        return agent
    assigned = db.session.scalar(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == agent_id, CampaignAssignment.role == "agent",
        CampaignAssignment.campaign_id.in_(allowed or [-1])).limit(1))
    if assigned is None:
        raise ApiError(404, "No such agent")
    return agent


def _assigned_campaign(agent_id: int, campaign_id: int) -> int:
    found = db.session.scalar(select(CampaignAssignment.campaign_id).where(
        CampaignAssignment.user_id == agent_id, CampaignAssignment.campaign_id == campaign_id,
        CampaignAssignment.role == "agent"))
    if found is None:
        raise ApiError(404, "No such campaign among yours", fields={"campaign_id": ["Not assigned to you."]})
    return found


def _pause_code(code: str | None, campaign_id: int | None, *, required: bool) -> PauseCode | None:
    if not code:
        # A reason is asked for wherever the floor has set reasons up; an agent of a campaign
        # with none usable (every one retired) may still step away rather than be stuck ready.
        if required and _pause_codes_usable(campaign_id):
            raise ApiError(422, "Choose why you are pausing",
                           fields={"pause_code": ["Choose a pause reason."]})
        return None
    found = db.session.scalars(select(PauseCode).where(
        PauseCode.code == code, PauseCode.active.is_(True),
        (PauseCode.campaign_id.is_(None)) | (PauseCode.campaign_id == campaign_id),
    ).order_by(PauseCode.campaign_id.is_(None))).first()
    if found is None:
        raise ApiError(422, "Unknown pause code", fields={"pause_code": [f"No active pause code {code!r}."]})
    return found


def _pause_codes_usable(campaign_id: int | None) -> bool:
    return db.session.scalar(select(PauseCode.id).where(
        PauseCode.active.is_(True),
        (PauseCode.campaign_id.is_(None)) | (PauseCode.campaign_id == campaign_id),
    ).limit(1)) is not None


# --- the agent's own state -------------------------------------------------------------------

def set_own_state(agent: User, target: str, *, campaign_id: int | None = None, pause_code: str | None = None,
                  now: datetime | None = None) -> dict:
    """The agent's console asks for `target`; returns the agent's status afterwards."""
    if target not in AGENT_TARGETS:
        raise ApiError(422, "Unknown state", fields={"state": [f"Must be one of: {', '.join(AGENT_TARGETS)}."]})
    now = now or utcnow()
    current = rstate.snapshot(agent.id)
    if current["pending"] is not None:
        if target == "ready" and current["state"] in ("ready", "reserved", "on-call") \
                and campaign_id in (None, current["campaign_id"]):
            if current["pending"]["by"] == "supervisor":
                raise ApiError(409, "Your supervisor has paused you: it takes effect once the calls "
                                    "ringing for you have been answered or ended.", "supervisor_pending")
            pending.cancel(agent.id, current)  # asked for ready again: the pause is off
            return agent_status(agent.id, now=now)
        if target == "ready-after-wrap" and current["state"] == "wrap-up":
            # The call that reached them while their pause waited is done: now it applies.
            if pending.apply_pending(agent.id, current, ("wrap-up",), now):
                return agent_status(agent.id, now=now)
            current = rstate.snapshot(agent.id)
    to_state = "ready" if target == "ready-after-wrap" else target
    allowed = list(_FROM[target])
    if current["state"] not in allowed:
        raise conflict(agent.id, current["state"], target, _HINTS.get(current["state"], ""))
    if to_state != "offline":
        if campaign_id is None and current["campaign_id"] is None:
            raise ApiError(422, "Choose a campaign to work", fields={"campaign_id": ["Required when signing on."]})
        if campaign_id is not None and campaign_id != current["campaign_id"]:
            _assigned_campaign(agent.id, campaign_id)
            allowed = [s for s in allowed if s in ("offline", "paused")]
            if current["state"] not in allowed:
                raise conflict(agent.id, current["state"], target, "finish wrap-up before switching campaign")
        effective_campaign = campaign_id if campaign_id is not None else current["campaign_id"]
        if to_state == "ready" and effective_campaign == current["campaign_id"]:
            _assigned_campaign(agent.id, effective_campaign)  # still theirs: taken off it, no more calls
    else:
        effective_campaign = None
    code = _pause_code(pause_code, effective_campaign, required=True) if to_state == "paused" else None
    if current["state"] == "ready" and to_state in ("paused", "offline") and current["campaign_id"] is not None \
            and pending.request(agent.id, current["campaign_id"], to_state, pause_code=code, reason="agent",
                                now=now):
        return agent_status(agent.id, now=now)  # 200: pending until the calls placed for them settle
    try:
        apply(agent.id, allowed, to_state, now=now, campaign_id=effective_campaign, pause_code=code,
              reason="agent")
    except TransitionRefused as refused:  # the state moved under us (a reservation, a supervisor)
        if refused.because == "audio":
            _out_of_wrap_up_without_audio(agent.id, refused.from_state, now)
            raise audio.no_audio_error(agent.id) from None
        raise conflict(agent.id, refused.from_state, target, _HINTS.get(refused.from_state, "")) from None
    if to_state != "offline":
        rstate.beat(agent.id, to_ms(now))
    else:
        audio.disconnect(agent.id)  # the session is over: so is its audio leg
    if to_state == "ready":
        pending.settle_if_any(effective_campaign, now)  # one more agent may cover a waiting pause
    return agent_status(agent.id, now=now)


def _out_of_wrap_up_without_audio(agent_id: int, from_state: str, now: datetime) -> None:
    """Wrap-up done, audio gone: the agent is paused until it is back, not left in wrap-up."""
    if from_state == "wrap-up":
        try:
            apply(agent_id, ("wrap-up",), "paused", now=now, pause_code=audio.NO_AUDIO,
                  reason="audio_lost")
        except TransitionRefused:
            pass


def require_not_routable(agent_id: int) -> None:
    """Refuse (409) while calls could reach the agent: ready, reserved or on a call."""
    current = rstate.snapshot(agent_id)["state"]
    if current in ("ready", "reserved", "on-call"):
        raise ApiError(409, "Pause first: calls can still reach you while you are "
                            f"{'ready' if current == 'ready' else 'on a call'}.", "routable")


def heartbeat(agent_id: int, now: datetime | None = None) -> None:
    """The console is alive; only signed-on agents are tracked (offline ones have nothing to lose)."""
    if rstate.snapshot(agent_id)["state"] != "offline":
        rstate.beat(agent_id, to_ms(now or utcnow()))


def agent_status(agent_id: int, now: datetime | None = None) -> dict:
    snap = rstate.snapshot(agent_id)
    return _status(agent_id, snap, to_ms(now or utcnow()))


def _status(agent_id: int, snap: dict, now_ms: int) -> dict:
    since_ms = snap["since_ms"]
    return {
        "agent_id": agent_id, "state": snap["state"], "since": from_ms(since_ms),
        "seconds_in_state": None if since_ms is None else max(0, now_ms - since_ms) / 1000,
        "campaign_id": snap["campaign_id"], "pause_code": snap["pause_code"], "call_id": snap["call_id"],
        "audio": snap["audio"], "pending": pending.public(snap.get("pending")),
        "dialled_from_pause": snap.get("dialled_from_pause"),
    }


# --- access taken away ------------------------------------------------------------------------

SIGN_OFF_FROM = ("ready", "paused", "wrap-up", "reserved")


def sign_off(agent_id: int, reason: str, *, campaign_id: int | None = None,
             now: datetime | None = None) -> str:
    """Take the agent out of routing at once because their access ended; returns the state left.

    Deactivation, a new role or password ("signed_out") end the agent's sessions: ready, paused,
    wrap-up and even reserved (the call being connected is abandoned rather than bridged to
    someone who may no longer work) go offline. An agent on a call is not cut off mid-sentence:
    their console is gone, so the next silent-console sweep after the call signs them off.
    With `campaign_id` (taken off that campaign) only an agent working that campaign is moved,
    and one on a call finishes it (going ready there again needs the assignment).
    """
    now = now or utcnow()
    current = rstate.snapshot(agent_id)
    if campaign_id is not None and current["campaign_id"] != campaign_id:
        return current["state"]
    # Taken off one campaign, an agent reserved for a call (their own dial ringing, or an answer
    # within its 2 seconds) keeps it: signing them off would abandon a person who answered.
    allowed = SIGN_OFF_FROM if campaign_id is None else tuple(s for s in SIGN_OFF_FROM if s != "reserved")
    try:
        apply(agent_id, allowed, "offline", now=now, reason=reason)
    except TransitionRefused as refused:
        if refused.from_state == "on-call" and campaign_id is None:
            rstate.mark_silent(agent_id)
        return refused.from_state
    if campaign_id is None:
        audio.disconnect(agent_id)
    return "offline"


# --- supervisors -----------------------------------------------------------------------------

def force_pause(actor: User, agent_id: int, pause_code: str | None = None, now: datetime | None = None) -> dict:
    _visible_agent(actor, agent_id)
    now = now or utcnow()
    current = rstate.snapshot(agent_id)
    code = _pause_code(pause_code, current["campaign_id"], required=False)
    waits = _pending(agent_id, current, "paused", now, pause_code=code)
    if not waits:
        _supervise(agent_id, ("ready", "wrap-up", "paused") if code else ("ready", "wrap-up"),
                   "paused", now, pause_code=code)
    audit.record("agent.force_pause", target_type="user", target_id=agent_id,
                 pause_code=code.code if code else None, pending=waits, commit=True)
    return agent_status(agent_id, now=now)


def force_logout(actor: User, agent_id: int, now: datetime | None = None) -> dict:
    _visible_agent(actor, agent_id)
    now = now or utcnow()
    waits = _pending(agent_id, rstate.snapshot(agent_id), "offline", now)
    if not waits:
        _supervise(agent_id, ("ready", "wrap-up", "paused"), "offline", now)
        audio.disconnect(agent_id)
    audit.record("agent.force_logout", target_type="user", target_id=agent_id, pending=waits, commit=True)
    return agent_status(agent_id, now=now)


def _pending(agent_id: int, current: dict, to_state: str, now: datetime, pause_code=None) -> bool:
    """A supervisor's pause or logout of a ready agent waits for the calls placed for them."""
    return current["state"] == "ready" and current["campaign_id"] is not None and pending.request(
        agent_id, current["campaign_id"], to_state, pause_code=pause_code, reason="supervisor", now=now)


def _supervise(agent_id: int, allowed, to_state: str, now: datetime, pause_code=None) -> None:
    try:
        apply(agent_id, allowed, to_state, now=now, pause_code=pause_code, reason="supervisor")
    except TransitionRefused as refused:
        raise conflict(agent_id, refused.from_state, to_state, _HINTS.get(refused.from_state, "")) from None


def campaign_floor(actor: User, campaign_id: int, now: datetime | None = None) -> dict:
    """Every agent assigned to the campaign (or working it now) with state and time in state."""
    if not may_watch_campaign(actor, campaign_id):
        raise ApiError(404, "No such campaign")
    assigned = set(db.session.scalars(select(CampaignAssignment.user_id).where(
        CampaignAssignment.campaign_id == campaign_id, CampaignAssignment.role == "agent")))
    ids = sorted(assigned | set(rstate.campaign_members(campaign_id)))
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids or [-1]))).all())
    now_ms = to_ms(now or utcnow())
    items, counts = [], {}
    for agent_id, snap in rstate.snapshots(ids).items():
        if snap["state"] != "offline" and snap["campaign_id"] != campaign_id:
            # signed on to another campaign: say so, without naming it
            snap = {**snap, "state": "elsewhere", "campaign_id": None, "pause_code": None, "call_id": None,
                    "pending": None}
        counts[snap["state"]] = counts.get(snap["state"], 0) + 1
        items.append({**_status(agent_id, snap, now_ms), "username": names.get(agent_id)})
    return {"campaign_id": campaign_id, "counts": counts, "items": items}


def on_assignment_ended(campaign_id: int, *, user_id: int, role: str) -> None:
    """An agent taken off a campaign they are working is signed off it at once."""
    if role == "agent":
        sign_off(user_id, "unassigned", campaign_id=campaign_id)


def connect() -> None:
    """Subscribe agents to the campaigns' signals (idempotent)."""
    assignment_ended.connect(on_assignment_ended, weak=False)
