"""The screen pop: what the agent sees the moment a call is connected to them."""
from __future__ import annotations

from sqlalchemy import select

from app.calls.models import Call
from app.calls.words import person_number
from app.campaigns.models import Campaign, DispositionCode
from app.contacts.models import Contact
from app.extensions import db
from app.realtime.publish import agent_room, publish


def screen_pop_payload(call_id: int) -> dict | None:
    call = db.session.get(Call, call_id)
    if call is None:
        return None
    contact = db.session.get(Contact, call.contact_id) if call.contact_id else None
    campaign = db.session.get(Campaign, call.campaign_id) if call.campaign_id else None
    codes = db.session.scalars(
        select(DispositionCode).where(DispositionCode.campaign_id == campaign.id, DispositionCode.active.is_(True))
        .order_by(DispositionCode.sort_order, DispositionCode.id)
    ).all() if campaign else []
    return {
        "call": {"id": call.id, "to_number": call.to_number, "attempt_no": call.attempt_no, "kind": call.kind,
                 "direction": call.direction},
        "inbound": inbound_notice(call, contact),
        "contact": None if contact is None else {
            "id": contact.id, "first_name": contact.first_name, "last_name": contact.last_name,
            "phone": contact.phone_e164, "alt_phones": list(contact.alt_phones or []), "email": contact.email,
            "timezone": contact.timezone, "region": contact.region, "postal_code": contact.postal_code,
            "attempts": contact.attempts, "last_outcome": contact.last_outcome,
            "last_outcome_words": last_outcome_words(contact.last_outcome, codes),
            "custom_fields": contact.custom_fields or {},
        },
        "history": None if contact is None else earlier_calls(contact.id, call.id),
        "callback": due_callback(call, contact),
        "campaign": None if campaign is None else {
            "id": campaign.id, "name": campaign.name, "script": campaign.script,
            "seller_name": campaign.seller_name,
        },
        "recording": recording_notice(campaign, contact, call),
        "disposition_codes": [
            {"id": c.id, "code": c.code, "label": c.label, "is_callback": c.is_callback, "is_dnc": c.is_dnc}
            for c in codes
        ],
    }


def inbound_notice(call: Call, contact: Contact | None) -> dict | None:
    """For a call to our numbers: that the person called us, from which number (None when
    withheld), and the words the console shows; None for a call we placed."""
    if call.direction != "inbound":
        return None
    from app.common.phones import format_national

    caller = call.from_number if call.from_number.startswith("+") else None
    if caller is None:
        words = "Inbound call: the caller's number is withheld."
    elif contact is None:
        words = f"Inbound call from {format_national(caller)}, not one of the campaign's contacts."
    else:
        words = f"Inbound call: {format_national(caller)} called us."
    return {"caller": caller, "withheld": caller is None, "called": call.to_number, "message": words}


LAST_OUTCOME_WORDS = {
    "abandoned": "Answered, no agent free (abandoned)",
    "not_placed": "Not placed: a calling rule refused it",
    "no-disposition": "Not dispositioned",
}


def last_outcome_words(last_outcome: str | None, codes) -> str | None:
    """The contact's last outcome as the floor says it: a disposition's label, or how the last
    call ended (never the carrier's or the dialer's code)."""
    from app.calls.words import OUTCOME_WORDS

    if not last_outcome:
        return None
    for code in codes:
        if code.code == last_outcome:
            return code.label
    return LAST_OUTCOME_WORDS.get(last_outcome) or OUTCOME_WORDS.get(last_outcome) \
        or last_outcome.replace("_", " ").replace("-", " ").capitalize()


def earlier_calls(contact_id: int, call_id: int, limit: int = 10) -> list[dict]:
    """The contact's earlier calls in words (this one left out): who took them, how they
    ended, the disposition and the notes."""
    from app.interactions.history import contact_history

    return [c for c in contact_history(contact_id, limit=limit + 1)["calls"] if c["call_id"] != call_id][:limit]


def due_callback(call: Call, contact: Contact | None) -> dict | None:
    """The callback this call makes, if it dials one: when it was due, who promised it, the notes."""
    from app.interactions import callbacks
    from app.interactions.models import Callback
    from app.auth.models import User

    if contact is None or not callbacks.dials_callback(call.id):
        return None
    row = db.session.execute(select(Callback, User).outerjoin(User, User.id == Callback.agent_id)
                             .where(Callback.contact_id == contact.id)
                             .order_by(Callback.due_at.desc()).limit(1)).first()
    if row is None:
        return None
    callback, agent = row
    return {"id": callback.id, "due_at": callback.due_at.isoformat(), "notes": callback.notes or "",
            "agent_name": (agent.full_name or agent.username) if agent else None}


ANNOUNCE = ("Tell the contact now that the call is recorded, and ask if that is all right: the law in "
            "{places} requires every party's consent to a recording.")


def recording_notice(campaign: Campaign | None, contact: Contact | None, call: Call) -> dict:
    """Is the call recorded, and must the agent announce it? Every party must consent in some
    states (the jurisdiction rule table's all_party_recording_consent rules). Where the
    contact's data disagree (address state, ZIP code, area code), every state they point to
    counts: the stricter reading; a contact with no state at all is placed by the number."""
    from app.common.timeutil import utcnow
    from app.compliance import jurisdictions

    recorded = bool(campaign and campaign.recording_enabled)
    places = jurisdictions.jurisdictions_for(contact.region if contact else None,
                                             contact.postal_code if contact else None,
                                             (contact.phone_e164 if contact else None) or person_number(call))
    ruleset = jurisdictions.default_ruleset()
    rules = jurisdictions.recording_consent_rules(utcnow().date(), places, ruleset) if recorded else ()
    states = sorted({r.jurisdiction.removeprefix("US-") for r in rules})
    return {
        "enabled": recorded,
        "announce": bool(rules),
        "states": states,
        "message": ANNOUNCE.format(places=" and ".join(states) if len(states) < 3
                                   else ", ".join(states[:-1]) + " and " + states[-1]) if rules else None,
        "rules": [{"id": r.id, "jurisdiction": r.jurisdiction, "citation": r.source.citation,
                   "url": r.source.url} for r in rules],
        "ruleset_version": ruleset.version,
    }


def publish_screen_pop(agent_id: int, call_id: int) -> dict | None:
    """Send the connected call's contact, script and campaign to the agent's own room only."""
    payload = screen_pop_payload(call_id)
    if payload is not None:
        payload["agent_id"] = agent_id
        publish("call.screen_pop", payload, room=agent_room(agent_id))
    return payload
