"""Every calling rule at one instant, against the database as it is then.

The dial attempt (when a claimed contact becomes a call) and the placement (the moment the
carrier is asked, after any wait for a CPS slot or a 429 backoff, on every path: pacing,
retries, the reaper, preview, manual dial, callbacks) both ask here, so a number put on a
do-not-call list, a window that closed or a campaign stopped while a call waited stops it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.campaigns.models import Campaign
from app.compliance import gates
from app.contacts.models import Contact
from app.dnc.services import is_dnc

CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
WINDOW_CLOSING = "calling_window_closing"


def attempt_hold_reason(contact: Contact, campaign: Campaign, now: datetime) -> str | None:
    """Why `contact` may not be given a new attempt at `now` (status, attempts, retry time,
    do-not-call, calling window), or None."""
    if campaign.status != "active":
        return CAMPAIGN_NOT_ACTIVE
    return gates.hold_reason(
        gates.GateInput(status=contact.status, attempts=contact.attempts, next_due_at=contact.next_due_at,
                        phone_e164=contact.phone_e164, timezone=contact.timezone, region=contact.region,
                        postal_code=contact.postal_code),
        now=now, window=window_of(campaign), max_attempts=campaign.max_attempts,
        on_dnc=is_dnc(contact.phone_e164, campaign.id))


def placement_hold_reason(campaign: Campaign | None, to_number: str, contact: Contact | None,
                          now: datetime, ring_seconds: float) -> str | None:
    """Why a call to `to_number` may not be placed at `now`, or None: the campaign is running,
    the number is on no do-not-call list, and the calling window is open in every zone the
    callee may be in, now and for the whole ring (a call is not started when fewer seconds than
    its ring timeout remain before the window closes)."""
    if campaign is None or campaign.status != "active":
        return CAMPAIGN_NOT_ACTIVE
    if is_dnc(to_number, campaign.id):
        return gates.ON_DNC
    zones = zones_of(contact, to_number)
    if not zones:
        return gates.NO_TIMEZONE
    window = window_of(campaign)
    if not gates.inside_window(now, zones, window):
        return gates.OUTSIDE_WINDOW
    if not gates.inside_window(now + timedelta(seconds=ring_seconds), zones, window):
        return WINDOW_CLOSING
    return None


def next_legal_time(campaign: Campaign, to_number: str, contact: Contact | None,
                    now: datetime) -> datetime | None:
    """When the calling window next opens for this callee (None: not within 8 days)."""
    return gates.next_window_opening(now, zones_of(contact, to_number), window_of(campaign))


def window_of(campaign: Campaign) -> gates.Window:
    return gates.Window.for_campaign(campaign.window_start, campaign.window_end)


def zones_of(contact: Contact | None, to_number: str):
    if contact is None:
        return gates.candidate_zones(None, to_number)
    return gates.candidate_zones(contact.timezone, to_number, contact.region, contact.postal_code)
