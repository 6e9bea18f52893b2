"""Callback times an agent may pick: only inside the contact's calling hours.

The window the disposition check uses, and the state rules on the autodialled call it becomes
(consent and the seller's 24-hour count are checked when it is dialled), so slots are accepted.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import checks, gates, jurisdictions
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
    zones = gates.candidate_zones(contact.timezone, contact.phone_e164, contact.region,
                                  contact.postal_code) if contact else ()
    places = jurisdictions.jurisdictions_for(contact.region, contact.postal_code, contact.phone_e164) \
        if contact else ()

    def allowed(at: datetime) -> bool:  # the state's own days and hours too, not only the window
        if not gates.inside_window(at, zones, window):
            return False
        verdict = jurisdictions.evaluate(at, zones, places, autodialed=campaign.dial_mode != "preview",
                                         ring_seconds=campaign.ring_timeout_seconds,
                                         window=(campaign.window_start, campaign.window_end))
        return not any(r.code in checks.TIME_REASONS for r in verdict.reasons)
    start = now + MIN_LEAD
    start = start.replace(second=0, microsecond=0)
    start += timedelta(minutes=(-start.minute) % SLOT_MINUTES)
    slots = []
    at = start
    end = now + timedelta(days=DAYS_AHEAD)
    while at < end and zones:
        if allowed(at):
            slots.append(at)
            at += timedelta(minutes=SLOT_MINUTES)
            continue
        opening = gates.next_window_opening(at, zones, window)
        if opening is not None and not allowed(opening):  # a state's rule keeps it shut longer
            opening = at + timedelta(minutes=SLOT_MINUTES)
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
