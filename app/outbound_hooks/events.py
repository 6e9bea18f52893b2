"""The events endpoints may subscribe to, and the data each carries (documented in
docs/webhooks-out.md and the OpenAPI description). Every body has the same envelope:

    {"id": "evt_…", "type": "call.completed", "created_at": "…Z", "api_version": "1", "data": {…}}

`id` is unique per event and the same on every retry and redelivery: CRMs deduplicate on it.
"""
from __future__ import annotations

from datetime import datetime

from app.auth.models import User
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.contacts.models import Contact
from app.extensions import db

EVENT_TYPES = {
    "call.completed": "Call completed",
    "disposition.saved": "Disposition saved",
    "callback.scheduled": "Callback scheduled",
    "contact.opted_out": "Contact opted out",
    "consent.revoked": "Consent revoked",
}
TEST_EVENT = "webhook.test"
VIA_WORDS = {"opt_out_key": "pressed the opt-out key", "dnc_disposition": "asked an agent not to be called",
             "api": "consent revoked through the API"}


def iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def campaign_data(campaign: Campaign | None) -> dict | None:
    return None if campaign is None else {"id": campaign.id, "name": campaign.name,
                                          "seller_name": campaign.seller_name}


def contact_data(contact: Contact | None) -> dict | None:
    if contact is None:
        return None
    return {"id": contact.id, "phone": contact.phone_e164, "first_name": contact.first_name,
            "last_name": contact.last_name, "email": contact.email, "status": contact.status}


def agent_data(agent_id: int | None) -> dict | None:
    agent = db.session.get(User, agent_id) if agent_id else None
    return None if agent is None else {"id": agent.id, "username": agent.username,
                                       "name": agent.full_name or agent.username}


def call_data(call: Call) -> dict:
    duration = None
    if call.connected_at or call.answered_at:
        start = call.answered_at or call.connected_at
        duration = round(max(0.0, ((call.ended_at or start) - start).total_seconds()), 1)
    return {"id": call.id, "direction": call.direction, "status": call.status, "outcome": call.outcome,
            "answered_by": call.answered_by, "abandoned": bool(call.abandoned),
            "from_number": call.from_number, "to_number": call.to_number, "attempt": call.attempt_no,
            "queued_at": iso(call.queued_at), "answered_at": iso(call.answered_at),
            "connected_at": iso(call.connected_at), "ended_at": iso(call.ended_at),
            "answered_seconds": duration}


def call_completed(call: Call) -> dict:
    return {"call": call_data(call),
            "campaign": campaign_data(db.session.get(Campaign, call.campaign_id) if call.campaign_id else None),
            "contact": contact_data(db.session.get(Contact, call.contact_id) if call.contact_id else None),
            "agent": agent_data(call.agent_id)}


def disposition_saved(interaction, disposition, contact, campaign) -> dict:
    return {"interaction": {"id": interaction.id, "call_id": interaction.call_id,
                            "started_at": iso(interaction.started_at),
                            "talk_seconds": interaction.talk_seconds, "wrap_seconds": interaction.wrap_seconds,
                            "dispositioned_at": iso(interaction.dispositioned_at)},
            "disposition": {"code": disposition.code, "label": disposition.label,
                            "is_sale": disposition.is_sale, "is_final": disposition.is_final,
                            "is_callback": disposition.is_callback, "is_dnc": disposition.is_dnc},
            "notes": interaction.notes, "campaign": campaign_data(campaign), "contact": contact_data(contact),
            "agent": agent_data(interaction.agent_id)}


def callback_scheduled(callback, interaction_id, call_id, contact, campaign) -> dict:
    """A callback an agent's disposition scheduled, or a voicemail (interaction_id None)."""
    return {"callback": {"id": callback.id, "due_at": iso(callback.due_at), "notes": callback.notes,
                         "interaction_id": interaction_id, "call_id": call_id},
            "campaign": campaign_data(campaign), "contact": contact_data(contact),
            "agent": agent_data(callback.agent_id)}


def revocation(phone: str, seller: str | None, via: str, at: datetime, consents_revoked: int) -> dict:
    return {"phone": phone, "seller_name": seller, "via": via, "via_words": VIA_WORDS.get(via, via),
            "at": iso(at), "consents_revoked": consents_revoked}


def test_data(endpoint_id: int) -> dict:
    return {"message": "A test delivery from Omnivox: your endpoint is reachable and can check signatures.",
            "endpoint_id": endpoint_id}
