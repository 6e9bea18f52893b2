"""Tasks on the `dial` queue: the pacing tick, queue refills, and placing calls."""
import logging

from celery import shared_task

from app.common import tasks

from app.calls import placement
from app.common.redis import get_redis
from app.dialer import tick
from app.dialer.cps import CpsBucket
from app.dialer.attempts import start_attempt
from app.dialer.refill import refill
from app.extensions import db

log = logging.getLogger(__name__)


def _cps_bucket() -> CpsBucket:
    from flask import current_app

    return CpsBucket(get_redis(), current_app.config["TWILIO_ACCOUNT_SID"], current_app.config["CARRIER_CPS"])


def _place(task, call_id: int) -> str:
    """Wait for a CPS slot (no lock held), then place; 429s come back with backoff."""
    _cps_bucket().acquire()
    result = placement.place_call(call_id)
    if result.outcome == "rate_limited":
        if task.request.retries >= placement.RATE_LIMIT_MAX_RETRIES:
            placement.give_up(call_id, f"still rate limited after {task.request.retries} retries")
            return "failed"
        raise task.retry(countdown=placement.backoff_seconds(task.request.retries, result.retry_after))
    return result.outcome


@shared_task(bind=True, name=tasks.PLACE_CALL, max_retries=None, acks_late=True)
def place_call(self, call_id: int) -> str:
    """Place one queued attempt.

    acks_late is safe: a rerun finds the CallSid (or the callbacks' status) and skips, and an
    attempt interrupted mid-request is failed rather than dialled again.
    """
    return _place(self, call_id)


@shared_task(name=tasks.DIAL_CONTACT, acks_late=True)
def dial_contact(campaign_id: int, contact_id: int) -> str:
    """Turn a claimed contact into an attempt (every gate re-checked now) and place it.

    acks_late is safe: a rerun finds the contact already dialling and creates nothing.
    """
    call_id = start_attempt(campaign_id, contact_id)
    if call_id is None:
        return "held"
    _cps_bucket().acquire()
    result = placement.place_call(call_id)
    if result.outcome == "rate_limited":
        place_call.apply_async((call_id,), countdown=placement.backoff_seconds(0, result.retry_after))
    return result.outcome


@shared_task(name="workers.dial.pacing_tick")
def pacing_tick() -> int:
    """Every second: launch each active campaign's calls. One campaign's failure is logged and
    never holds up the others."""
    launched = 0
    for campaign_id in tick.active_campaign_ids():
        try:
            launched += tick.pacing_tick(campaign_id)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("pacing tick failed for campaign %s", campaign_id)
    return launched


@shared_task(name="workers.dial.refill_queues")
def refill_queues() -> int:
    """Every few seconds: top up each active campaign's dial queue."""
    from app.agents.reservations import campaign_agent_counts

    added = 0
    for campaign_id in tick.active_campaign_ids():
        signed_in = sum(campaign_agent_counts(campaign_id).values())
        added += refill(campaign_id, agents_signed_in=signed_in)["added"]
    return added


@shared_task(name="workers.dial.reap_stale_calls")
def reap_stale_calls() -> dict:
    """Every half minute: settle calls stuck past their timeout."""
    from app.dialer.reaper import reap

    return reap()
