"""The pacing tick: once a second per active campaign, ask the pacer how many calls to
launch, claim that many contacts and hand them to the `dial` pool.

A blended campaign also takes calls to our numbers (app.dialer.inbound): the agents they need
are kept back, so the pacer counts only the others as ready and is told how many were kept."""
from __future__ import annotations

import inspect
import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.agents import pending
from app.agents.reservations import agents_busy_elapsed, ready_agents
from app.calls.models import Call
from app.campaigns import steering
from app.campaigns.models import Campaign
from app.calls.inbound import is_open
from app.common import tasks
from app.common.locks import TokenLock
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.dialer import inbound_queue
from app.dialer.hopper import Hopper
from app.dialer.pacer_feed import registry
from app.ops import metrics
from app.realtime.publish import campaign_room, publish
from app.extensions import db
from app.kpi.services import abandon_rate_30d

log = logging.getLogger(__name__)

DIALING_STATUSES = ("queued", "initiated", "ringing")
TICK_LOCK_SECONDS = 5


def calls_dialing(campaign_id: int) -> int:
    """Attempts placed but not yet answered or finished."""
    return db.session.scalar(select(func.count()).select_from(Call).where(
        Call.campaign_id == campaign_id, Call.status.in_(DIALING_STATUSES),
        Call.kind == "auto")) or 0


def agents_for_dialling(campaign: Campaign, ready: int, now: datetime | None = None) -> tuple[int, int]:
    """(ready agents the pacer may dial for, agents kept back for calls to our numbers): one
    for each caller waiting in the campaign's queue, and the campaign's own number kept for
    callers to come (a blended campaign) while it takes them (its own hours: outside them
    callers take the closed path, though contacts in later zones may still be called), never
    more than are ready."""
    keep = campaign.inbound_keep_agents
    to_come = keep if keep and is_open(campaign, now or utcnow()) else 0
    kept = min(ready, inbound_queue.waiting(campaign.id) + to_come)
    return ready - kept, kept


def taken_by(method, **extras) -> dict:
    """The optional keyword arguments `method` takes (every one, through **kwargs): the pacer's
    contract keeps new arguments optional, and a policy that takes none yet is not told."""
    params = inspect.signature(method).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return extras
    return {name: value for name, value in extras.items() if name in params}


def _still_active(redis, campaign_id: int) -> bool:
    """The campaign is still active and predictive; one paused or switched meanwhile (its line
    cleared by that change) forgets the line this tick recorded, so that a restart shows it."""
    status, mode = db.session.execute(select(Campaign.status, Campaign.dial_mode).where(
        Campaign.id == campaign_id)).one()
    db.session.rollback()
    if steering.shows_pacing_line(status, mode):
        return True
    steering.forget_shown(redis, campaign_id)
    return False


def pacing_tick(campaign_id: int, now: datetime | None = None,
                lease_seconds: float | None = None) -> int:
    """Launch this tick's calls for one campaign; returns how many contacts were claimed.

    Single-flight per campaign: overlapping ticks (a slow worker, two beat deliveries) skip.
    """
    now = now or utcnow()
    redis = get_redis()
    lock = TokenLock(f"tick-lock:{campaign_id}", TICK_LOCK_SECONDS)
    if not lock.acquire():
        return 0
    try:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            return 0
        # Pauses waiting for the calls placed for their agents: those settled apply now, before
        # the pacer counts who is ready.
        pending.settle_if_any(campaign_id, now)
        if campaign.status != "active":
            return 0
        hopper = Hopper(redis)
        # Every mode: a preview contact an agent held past its lease goes back to the queue too.
        hopper.requeue_expired(campaign_id, now.timestamp())
        if campaign.dial_mode == "preview":
            db.session.rollback()
            return 0
        abandoned, humans, rate = abandon_rate_30d(campaign_id, now)
        secret = current_app.config["SECRET_KEY"].encode()
        # The pacer reads carrier seconds: wall seconds / DIALER_TIME_SCALE (1 in production).
        scale = float(current_app.config.get("DIALER_TIME_SCALE", 1.0))
        # A person may have steered the campaign (app.campaigns.steering): read each tick, so a
        # change applies within a second; the pacer is asked as always and its answer bounded.
        override = steering.override_for(campaign_id)
        target = steering.abandon_target(campaign, override)
        pacer = registry.pacer_for(redis, campaign_id, campaign.dial_mode, target, secret,
                                   time_scale=scale)
        dialing = calls_dialing(campaign_id) + hopper.depth(campaign_id)["leased"]
        busy = [e / scale for e in agents_busy_elapsed(campaign_id, now)]
        ready, kept = agents_for_dialling(campaign, ready_agents(campaign_id), now)
        wanted = pacer.calls_to_place(
            now.timestamp() / scale, ready, busy, dialing,
            abandon_rate_30d=rate, abandoned_30d=abandoned, human_answers_30d=humans,
            **taken_by(pacer.calls_to_place, inbound_kept=kept))
        mode = campaign.dial_mode
        n, how = steering.steer(wanted, override, mode, ready, dialing, target,
                                abandoned, humans)
        # A claimed contact comes back if no attempt is created within the lease.
        lease = lease_seconds if lease_seconds is not None else current_app.config["DIAL_LEASE_SECONDS"]
        registry.hand_over(redis, campaign_id, secret)  # the next tick may run in another process
        metrics.record_pacing_decision(campaign_id, n)
        claimed = hopper.claim(campaign_id, n, lease, now.timestamp())
        db.session.rollback()
        changed, shown = steering.record_decision(
            redis, campaign_id, now.timestamp(), mode=mode, ready=ready, dialing=dialing,
            wanted=wanted, decided=n, placed=len(claimed), how=how, target=target, rate_30d=rate,
            why=getattr(pacer, "why", None))
        for contact_id in claimed:
            tasks.send(tasks.DIAL_CONTACT, campaign_id, contact_id)
        if changed and _still_active(redis, campaign_id):  # the wallboard's line on why the dialer
            # holds back, live (a message lost on the way is put right by the board's next full
            # read, within 20 s); not for a campaign paused while this tick ran, whose line the
            # pause has just cleared
            publish("campaign.figures", {"campaign_id": campaign_id, "pacing": shown},
                    room=campaign_room(campaign_id))
        if claimed:
            log.info("campaign %s: placing %s calls (%s dialing)", campaign_id, len(claimed), dialing)
        return len(claimed)
    finally:
        lock.release()  # atomically, and only if still ours: a tick past the TTL frees nobody's


def active_campaign_ids() -> list[int]:
    ids = db.session.scalars(select(Campaign.id).where(Campaign.status == "active")).all()
    db.session.rollback()
    return list(ids)
