"""What a finished attempt means for its contact: the next attempt, or none (pure rules).

The dialer applies them when a call ends; an agent's disposition and a timed-out wrap-up use
the same rules for a talk that settled nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.contacts.models import Contact


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
    if contact.pass_attempts >= campaign.max_attempts:  # this pass's calls (a recycle starts one)
        contact.status, contact.next_due_at = "done", None
    else:
        contact.status = "retry"
        contact.next_due_at = now + timedelta(seconds=retry_delay_seconds(campaign, outcome))
