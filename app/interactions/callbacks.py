"""Scheduled callbacks: when one falls due it is announced and its contact dialled first.

An agent who records a CALLBACK disposition picks a time inside the contact's calling hours;
the contact waits (status ``callback``) until then. Every half minute the beat releases the
callbacks that have fallen due: each becomes ``queued``, the agent who set it is told on the
console (and the campaign's supervisors on the dashboard), and the contact is first in the
campaign's dial queue at the next refill. When the call is answered, the agent who set the
callback takes it if ready, else the longest-idle agent does (the 2-second rule comes first).
Once the call that dialled it has ended (whatever its outcome: the contact's next attempt
follows the usual rules) it is ``done``; one whose contact was closed meanwhile (a DNC
opt-out, a final disposition) is ``canceled``.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from app.campaigns.models import CampaignAssignment
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.extensions import db
from app.interactions.models import Callback
from app.realtime.publish import agent_room, campaign_room, publish

log = logging.getLogger(__name__)

BATCH = 500
CLOSED = frozenset({"done", "dnc", "invalid"})  # contact statuses no callback can follow


def release_due(now: datetime | None = None) -> int:
    """Beat: mark the callbacks due by `now` queued and announce them; returns how many."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Callback, Contact).join(Contact, Contact.id == Callback.contact_id)
        .where(Callback.status == "scheduled", Callback.due_at <= now)
        .order_by(Callback.due_at).limit(BATCH)
        .with_for_update(of=Callback, skip_locked=True)).all()
    due = []
    for callback, contact in rows:
        if contact.status in CLOSED:
            callback.status = "canceled"  # closed meanwhile: opted out, put on DNC, finished
            continue
        # Otherwise it is waiting (``callback``) or already being dialled (the refill queues a
        # contact the moment it is due): announced all the same, and done when its call ends.
        callback.status = "queued"
        due.append({"callback_id": callback.id, "campaign_id": callback.campaign_id,
                    "contact_id": contact.id, "agent_id": callback.agent_id,
                    "due_at": callback.due_at.isoformat(), "notes": callback.notes,
                    "first_name": contact.first_name, "last_name": contact.last_name,
                    "phone": contact.phone_e164})
    db.session.commit()
    for payload in due:
        publish("callback.due", payload, room=campaign_room(payload["campaign_id"]))
        if payload["agent_id"] is not None:
            publish("callback.due", payload, room=agent_room(payload["agent_id"]))
    if rows:
        log.info("callbacks: %s due, %s canceled", len(due), len(rows) - len(due))
    return len(due)


OPEN_STATUSES = ("scheduled", "queued")


def for_agent(agent_id: int):
    """Callbacks that are an agent's: those they promised, and those nobody promised (a caller's
    voicemail) in the campaigns they work while still to be made (one made, or cancelled, is
    nobody's business but the agent's who made it)."""
    worked = select(CampaignAssignment.campaign_id).where(CampaignAssignment.user_id == agent_id,
                                                           CampaignAssignment.role == "agent")
    return or_(Callback.agent_id == agent_id,
               and_(Callback.agent_id.is_(None), Callback.campaign_id.in_(worked),
                    Callback.status.in_(OPEN_STATUSES)))


def promised(agent_id: int, limit: int = 50) -> list[dict]:
    """The agent's callbacks (`for_agent`) not yet made, soonest first (their console)."""
    rows = db.session.execute(
        select(Callback, Contact).join(Contact, Contact.id == Callback.contact_id)
        .where(for_agent(agent_id), Callback.status.in_(OPEN_STATUSES))
        .order_by(Callback.due_at).limit(limit)).all()
    return [{"callback_id": c.id, "campaign_id": c.campaign_id, "contact_id": contact.id,
             "due_at": c.due_at, "status": c.status, "notes": c.notes,
             "first_name": contact.first_name, "last_name": contact.last_name,
             "phone": contact.phone_e164} for c, contact in rows]


# An attempt dialling a due callback -> the agent who promised it ("" for whoever is free).
# Set only for those attempts, so routing and the end of other calls pay nothing for it.
ATTEMPT_KEY = "callback-attempt:{}"
ATTEMPT_KEY_TTL = 12 * 3600


def _due(now: datetime):
    return or_(Callback.status == "queued",
               and_(Callback.status == "scheduled", Callback.due_at <= now))


def promised_by(contact_id: int, now: datetime) -> int | None:
    """The agent who promised the contact's due callback (the newest), if one did."""
    return db.session.scalar(
        select(Callback.agent_id).where(Callback.contact_id == contact_id, _due(now))
        .order_by(Callback.due_at.desc()).limit(1))


def note_attempt(call_id: int, agent_id: int | None) -> None:
    """The attempt just created dials a due callback (the contact was waiting for it)."""
    get_redis().set(ATTEMPT_KEY.format(call_id), "" if agent_id is None else agent_id, ex=ATTEMPT_KEY_TTL)


def dials_callback(call_id: int) -> bool:
    """Whether this attempt dials a due callback."""
    return bool(get_redis().exists(ATTEMPT_KEY.format(call_id)))


def preferred_agent(call_id: int) -> int | None:
    """Routing: the agent who promised the callback this call dials, if it dials one."""
    value = get_redis().get(ATTEMPT_KEY.format(call_id))
    return int(value) if value else None


def settle(call_id: int, contact_id: int) -> None:
    """In the finished call's transaction: if it dialled a due callback, that callback is done
    (one set for later, during this very call, stays scheduled)."""
    if get_redis().exists(ATTEMPT_KEY.format(call_id)):
        db.session.execute(update(Callback).where(Callback.contact_id == contact_id, _due(utcnow()))
                           .values(status="done"))
