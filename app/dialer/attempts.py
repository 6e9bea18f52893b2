"""The moment of dialling: a claimed contact becomes a queued call row, or is held back."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.calls.services import create_call
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import checks, gates
from app.interactions import callbacks
from app.dialer.hopper import LIST_SWITCHED_OFF, Hopper
from app.extensions import db
from app.imports.models import ImportJob


def held_at_dial_key(campaign_id: int) -> str:
    return f"dq:{campaign_id}:held_at_dial"


def start_attempt(campaign_id: int, contact_id: int, *, now: datetime | None = None,
                  kind: str = "auto", agent_id: int | None = None) -> int | None:
    """Create the next attempt's call row for a claimed contact; None if it may not be dialled."""
    return try_attempt(campaign_id, contact_id, now=now, kind=kind, agent_id=agent_id)[0]


def try_attempt(campaign_id: int, contact_id: int, *, now: datetime | None = None,
                kind: str = "auto", agent_id: int | None = None) -> tuple[int | None, str | None]:
    """(call id, None) for the attempt created, or (None, why the contact was held back).

    The contact row is locked for the check and the insert, and (contact_id, attempt_no) is
    unique, so however many workers hold the same contact only one attempt is ever created.
    """
    now = now or utcnow()
    hopper = Hopper(get_redis())
    contact = db.session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.campaign_id == campaign_id)
        .with_for_update(skip_locked=True))
    if contact is None:  # gone, or another worker is on it right now
        db.session.rollback()
        hopper.ack(campaign_id, contact_id)
        return None, gates.NOT_DIALABLE
    if kind != "manual" and contact.import_job_id is not None and not db.session.scalar(
            select(ImportJob.active).where(ImportJob.id == contact.import_job_id)):
        # Its list was switched off after it was queued: left alone until the list is on again.
        db.session.rollback()
        get_redis().hincrby(held_at_dial_key(campaign_id), LIST_SWITCHED_OFF, 1)
        hopper.ack(campaign_id, contact_id)
        return None, LIST_SWITCHED_OFF
    campaign = db.session.get(Campaign, campaign_id)
    reason, next_at = checks.attempt_hold(contact, campaign, now, autodialed=kind == "auto")
    if reason is not None:
        wait = checks.wait_until(reason, next_at, now)
        if wait is not None:
            # The contact waits for its next legal instant (or, refused for a reason time does
            # not fix, a day or until consent is recorded) instead of coming round every refill.
            contact.next_due_at = max(wait, contact.next_due_at or wait)
            db.session.commit()
        else:
            db.session.rollback()
        get_redis().hincrby(held_at_dial_key(campaign_id), reason, 1)
        hopper.ack(campaign_id, contact_id)
        return None, reason
    calling_back = contact.status == "callback"
    contact.attempts += 1
    contact.status = "dialing"
    contact.last_attempt_at = now
    call = create_call(campaign, contact.phone_e164, contact_id=contact.id, attempt_no=contact.attempts,
                       agent_id=agent_id, kind=kind)
    call.queued_at = now
    promised_by = callbacks.promised_by(contact.id, now) if calling_back else None
    db.session.commit()
    if calling_back:
        callbacks.note_attempt(call.id, promised_by)
    hopper.ack(campaign_id, contact_id)
    return call.id, None
