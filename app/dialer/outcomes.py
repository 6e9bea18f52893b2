"""What a finished call means for its contact: the next attempt, or none."""
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
    if contact.attempts >= campaign.max_attempts:
        contact.status = "done"
        contact.next_due_at = None
        return
    contact.status = "retry"
    contact.next_due_at = now + timedelta(seconds=retry_delay_seconds(campaign, outcome))
