"""Consent to be called, and its revocation by any reasonable means.

A consent is recorded per contact (kind, when it was given, its source, the evidence's SHA-256).
A campaign may require a kind before it calls anyone; a state rule may require written consent
for autodialled calls (app.compliance). A revocation, by the opt-out key, a do-not-call
disposition or the API, takes effect at once across every campaign of the seller: the number
goes on the internal do-not-call list (which every dial checks at the instant of placement)
and every consent the seller holds for it is marked revoked, with when, how and by whom.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update

from app.audit import services as audit
from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.contacts.models import CONSENT_KINDS, Consent, Contact
from app.contacts.signals import consent_revoked
from app.dnc.services import add_to_dnc
from app.extensions import db

STRENGTH = {"none": 0, "prior_express": 1, "prior_express_written": 2}
DNC_SOURCE = {"opt_out_key": "opt-out", "dnc_disposition": "disposition", "api": "consent-revoked"}


def record_consent(contact: Contact, kind: str, given_at: datetime, source: str, *,
                   evidence: str | None = None, evidence_sha256: str | None = None,
                   created_by_id: int | None = None) -> Consent:
    """Add a consent to the contact (not committed). Evidence text is kept as its hash."""
    if kind not in CONSENT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CONSENT_KINDS)}")
    digest = evidence_sha256 or (hashlib.sha256(evidence.encode()).hexdigest() if evidence else None)
    consent = Consent(contact_id=contact.id, phone_e164=contact.phone_e164, kind=kind, given_at=given_at,
                      source=source[:500], evidence_sha256=digest, created_by_id=created_by_id)
    db.session.add(consent)
    if contact.status == "new" and contact.next_due_at is not None and contact.attempts == 0:
        contact.next_due_at = None  # it waited for consent only: the next refill may queue it
    return consent


def strongest_consent(contact: Contact | None, at: datetime) -> Consent | None:
    """The strongest consent on record for the contact at `at` and not revoked by then."""
    if contact is None or contact.id is None:
        return None
    rows = db.session.scalars(select(Consent).where(
        Consent.contact_id == contact.id, Consent.given_at <= at,
        (Consent.revoked_at.is_(None)) | (Consent.revoked_at > at))).all()
    return max(rows, key=lambda c: (STRENGTH[c.kind], c.given_at), default=None)


def satisfies(consent: Consent | None, required: str) -> bool:
    return STRENGTH[consent.kind if consent else "none"] >= STRENGTH[required]


# A message recorded or spoken by a machine (the campaign's machine message, a voicemail drop) is
# an "artificial or prerecorded voice" message: in a telemarketing call it needs the called
# party's prior express written consent (47 CFR 64.1200(a)(2) and (a)(3)), whoever answers.
RECORDED_MESSAGE_CONSENT = "prior_express_written"


def may_leave_recorded_message(contact_id: int | None, at: datetime) -> bool:
    """Whether a recorded message may be left on a call to this contact at `at`: only with
    prior express written consent on record then (a call with no contact has none)."""
    contact = db.session.get(Contact, contact_id) if contact_id is not None else None
    return satisfies(strongest_consent(contact, at), RECORDED_MESSAGE_CONSENT)


def revoke(phone_e164: str, seller_name: str | None, via: str, *, by_user_id: int | None = None,
           at: datetime | None = None, note: str = "") -> int:
    """The person at this number asked not to be called: the number goes on the internal
    do-not-call list and every consent held for it by the seller's campaigns (every consent
    for it, when the seller is unknown) is revoked. Not committed. Returns consents revoked."""
    at = at or utcnow()
    add_to_dnc(phone_e164, source=DNC_SOURCE[via], reason=(note or f"consent revoked ({via})")[:500],
               created_by_id=by_user_id)
    query = update(Consent).where(Consent.phone_e164 == phone_e164, Consent.revoked_at.is_(None))
    if seller_name is not None:
        seller_contacts = (select(Contact.id).join(Campaign, Campaign.id == Contact.campaign_id)
                           .where(Campaign.seller_name == seller_name, Contact.phone_e164 == phone_e164))
        query = query.where(Consent.contact_id.in_(seller_contacts))
    revoked = db.session.execute(query.values(revoked_at=at, revoked_via=via, revoked_by_id=by_user_id)
                                 .execution_options(synchronize_session=False)).rowcount
    audit.record("consent.revoke", target_type="phone", target_id=phone_e164, via=via,
                 seller=seller_name, consents_revoked=revoked, actor_username=None if by_user_id else "system")
    consent_revoked.send(phone_e164, phone=phone_e164, seller=seller_name, via=via, at=at,
                         consents_revoked=revoked, by_user_id=by_user_id)
    return revoked
