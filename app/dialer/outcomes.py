"""What a finished call means for its contact: the next attempt, or none."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.contacts.models import Contact

log = logging.getLogger(__name__)


def retry_delay_seconds(campaign: Campaign, outcome: str) -> int:
    return {
        "busy": campaign.retry_busy_seconds,
        "no-answer": campaign.retry_no_answer_seconds,
        "machine": campaign.retry_machine_seconds,
        "failed": campaign.retry_failed_seconds,
        "canceled": campaign.retry_failed_seconds,
        # answered by a person but abandoned: they never spoke to anyone, try again later
        "human": campaign.retry_no_answer_seconds,
    }.get(outcome, campaign.retry_failed_seconds)


def apply_call_outcome(contact: Contact, campaign: Campaign, outcome: str, *, abandoned: bool,
                       now: datetime) -> None:
    """Schedule the contact's next attempt from the outcome of the call just finished.

    A person connected to an agent is left to the agent's disposition (callback, final, DNC).
    """
    contact.last_outcome = "abandoned" if abandoned else outcome
    if outcome == "human" and not abandoned:
        return
    if contact.status in ("dnc", "done", "callback"):
        return  # an opt-out or a disposition already decided
    schedule_next_attempt(contact, campaign, outcome, now)


def schedule_next_attempt(contact: Contact, campaign: Campaign, outcome: str, now: datetime) -> None:
    """The contact's next attempt after this outcome, or none if that was its last."""
    if contact.attempts >= campaign.max_attempts:
        contact.status, contact.next_due_at = "done", None
    else:
        contact.status = "retry"
        contact.next_due_at = now + timedelta(seconds=retry_delay_seconds(campaign, outcome))


def after_call(call) -> None:
    """Everything a finished attempt sets in motion (runs once, in the finishing transaction):
    the contact's next attempt, the agent's wrap-up, and the pacer's dial result."""
    from app.agents.routing import end_call, release_reservation
    from app.calls.services import outcome_for
    from app.common.redis import get_redis
    from app.common.timeutil import utcnow
    from app.dialer.callbacks import settle as settle_callbacks
    from app.dialer.pacer_feed import record_dial_result, record_human_answer
    from app.extensions import db
    from app.interactions.services import end_talk
    from app.ops import metrics

    now = call.ended_at or utcnow()
    outcome = outcome_for(call) or call.outcome or "failed"
    unrouted = outcome == "human" and call.connected_at is None and not call.abandoned
    if unrouted:
        # A person answered and no agent was ever connected (routing could not run, e.g. the
        # database was away at the answer): that is an abandoned call, for the law, the KPIs
        # and the pacer (which learns abandonments from its feed, as routing reports them).
        log.warning("call %s was answered by a person but never connected: abandoned", call.id)
        call.abandoned = True
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    if call.contact_id is not None and campaign is not None:
        contact = db.session.get(Contact, call.contact_id, with_for_update=True)
        if contact is not None:
            settle_callbacks(call.id, contact.id)  # a due callback has had its call
            apply_call_outcome(contact, campaign, outcome, abandoned=call.abandoned, now=now)
    if call.agent_id is not None and call.connected_at is not None:
        end_talk(call, now)
        end_call(call.agent_id, call.id, now)
    elif call.agent_id is not None and call.kind in ("preview", "manual"):
        release_reservation(call.agent_id, call.id, now)  # the agent's own dial was not answered
    if campaign is not None and call.kind == "auto":
        if unrouted:
            answered = (call.answered_at or now).timestamp()
            record_human_answer(get_redis(), campaign.id, answered, False, now.timestamp() - answered)
        record_dial_result(get_redis(), campaign.id, now.timestamp(), outcome, call.ring_seconds or 0.0)
    metrics.record_call_outcome("abandoned" if call.abandoned else outcome)
