"""Callback times an agent may pick: only inside the contact's calling hours.

The same gates the disposition check uses (app.compliance.gates), so every offered slot is accepted.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import gates
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
    zones = gates.candidate_zones(contact.timezone, contact.phone_e164, contact.region) if contact else ()
    start = now + MIN_LEAD
    start = start.replace(second=0, microsecond=0)
    start += timedelta(minutes=(-start.minute) % SLOT_MINUTES)
    slots = []
    at = start
    end = now + timedelta(days=DAYS_AHEAD)
    while at < end and zones:
        if gates.inside_window(at, zones, window):
            slots.append(at)
            at += timedelta(minutes=SLOT_MINUTES)
            continue
        opening = gates.next_window_opening(at, zones, window)
        if opening is None:
            break
        # round the opening up to the slot grid, and always move forward
        opening = opening.replace(second=0, microsecond=0)
        opening += timedelta(minutes=(-opening.minute) % SLOT_MINUTES)
        at = max(opening, at + timedelta(minutes=SLOT_MINUTES))
    return {
        "interaction_id": interaction.id,
        "timezone": zones[0].key if zones else None,
        "window_start": window.start.strftime("%H:%M"), "window_end": window.end.strftime("%H:%M"),
        "slots": slots,
    }
