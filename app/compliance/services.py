"""Ask the system why: may this number be called for this campaign at this instant?

The same `assess` the gates run when an attempt is made and when a call is placed, against the
contact's data (or a bare number with an optional state and ZIP code), the seller's calls to
the number in the 24 hours before the instant, every do-not-call list and every rule.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.campaigns.models import Campaign
from app.common.phones import normalize_phone
from app.common.timeutil import utcnow
from app.compliance import checks
from app.contacts.models import Contact
from app.errors import ApiError
from app.extensions import db


def check_number(campaign: Campaign, phone: str, at: datetime | None = None, *,
                 state: str | None = None, postal: str | None = None, region: str = "US") -> dict:
    """The compliance answer for `phone` in `campaign` at `at` (default now)."""
    at = at or utcnow()
    try:
        number = normalize_phone(phone, region)
    except ValueError as exc:
        raise ApiError(422, "Not a phone number we can check", fields={"phone": [str(exc)]}) from None
    contact = db.session.scalar(select(Contact).where(Contact.campaign_id == campaign.id,
                                                      Contact.phone_e164 == number))
    if contact is None:  # a bare number: what the caller says of where it is
        contact = Contact(phone_e164=number, region=state or None, postal_code=postal or None)
    elif state or postal:
        raise ApiError(422, "This number is a contact of the campaign: its own address is used",
                       fields={"state" if state else "zip": ["Leave out for a contact of the campaign."]})
    autodialed = campaign.dial_mode in ("progressive", "predictive")
    verdict = checks.assess(campaign, number, contact, at, ring_seconds=campaign.ring_timeout_seconds,
                            autodialed=autodialed)
    db.session.rollback()  # read-only
    return {"callable": verdict.callable, "reasons": verdict.reasons,
            "next_callable_at": verdict.next_callable_at.isoformat() if verdict.next_callable_at else None,
            "zones": verdict.zones, "jurisdiction": verdict.jurisdiction,
            "jurisdictions": verdict.jurisdictions, "phone": number, "at": at.isoformat(),
            "contact_id": contact.id, "ruleset_version": verdict.proof["ruleset_version"]}
