"""Callback times an agent may pick: only inside the contact's calling hours.

The rules that pass with time, as the disposition check applies them (`checks.time_rules`): the
window in every zone, the state's hours, Sundays, holidays and declared blackouts. (The seller's
24-hour count, which the disposition check adds, is not counted per slot.)
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import checks, gates
from app.extensions import db
from app.interactions.services import get_interaction

SLOT_MINUTES = 30
DAYS_AHEAD = 7
MIN_LEAD = timedelta(minutes=5)


def callback_slots(user, interaction_id: int, now: datetime | None = None) -> dict:
    now = now or utcnow()
    interaction = get_interaction(user, interaction_id)  # 404 for another agent's
    campaign = db.session.get(Campaign, interaction.campaign_id)
    contact = db.session.get(Contact, interaction.contact_id) if interaction.contact_id else None
    window = gates.Window.for_campaign(campaign.window_start, campaign.window_end)
    zones = checks.zones_of(contact, contact.phone_e164) if contact else ()
    start = now + MIN_LEAD
    slots = []
    at = _on_grid(start)
    end = now + timedelta(days=DAYS_AHEAD)
    while at < end and zones:
        refused, opening = checks.time_rules(campaign, contact, at)
        if not refused:
            slots.append(at)
            at += timedelta(minutes=SLOT_MINUTES)
        elif opening is None:
            break
        else:  # the next instant every rule allows, on the slot grid, always forward
            at = max(_on_grid(opening), at + timedelta(minutes=SLOT_MINUTES))
    return {
        "interaction_id": interaction.id,
        "timezone": zones[0].key if zones else None,
        "window_start": window.start.strftime("%H:%M"), "window_end": window.end.strftime("%H:%M"),
        "slots": slots,
    }


def _on_grid(at: datetime) -> datetime:
    """`at` rounded up to the next slot boundary."""
    at = at.replace(second=0, microsecond=0)
    return at + timedelta(minutes=(-at.minute) % SLOT_MINUTES)
