"""Agent-driven dialling: preview (the agent sees the next contact, then dials or skips) and
manual dial. Both pass the same gates as the dialer, at the moment of dialling."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.agents import state as agent_state
from app.agents.transitions import TransitionRefused, apply
from app.auth.models import User
from app.campaigns.models import Campaign, CampaignAssignment
from app.common.redis import get_redis
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import gates
from app.compliance import checks
from app.dialer.attempts import try_attempt
from app.dialer.hopper import Hopper
from app.errors import ApiError
from app.extensions import db

PREVIEW_LEASE_SECONDS = 300  # the agent reads the contact before deciding
SKIP_DELAY = timedelta(hours=1)


def _working_campaign(agent: User, campaign_id: int) -> Campaign:
    """The campaign the agent is signed on to and assigned to; others are 404."""
    assigned = db.session.scalar(select(CampaignAssignment).where(
        CampaignAssignment.campaign_id == campaign_id, CampaignAssignment.user_id == agent.id,
        CampaignAssignment.role == "agent"))
    campaign = db.session.get(Campaign, campaign_id) if assigned else None
    if campaign is None:
        raise ApiError(404, "No such campaign")
    return campaign


def _require_ready_on(agent: User, campaign: Campaign) -> None:
    snap = agent_state.snapshot(agent.id)
    if snap["state"] != "ready" or snap["campaign_id"] != campaign.id:
        raise ApiError(409, "Go ready on this campaign first", "not_ready")


def next_preview(agent: User, campaign_id: int, now: datetime | None = None) -> Contact | None:
    """Claim the campaign's next contact for this agent to look at (None when the queue is empty)."""
    campaign = _working_campaign(agent, campaign_id)
    if campaign.dial_mode != "preview":
        raise ApiError(409, "This campaign is not in preview mode", "not_preview")
    _require_ready_on(agent, campaign)
    now = now or utcnow()
    claimed = Hopper(get_redis()).claim(campaign.id, 1, PREVIEW_LEASE_SECONDS, now.timestamp())
    if not claimed:
        return None
    return db.session.get(Contact, claimed[0])


def dial_preview(agent: User, campaign_id: int, contact_id: int, now: datetime | None = None) -> int:
    """Dial the previewed contact now; the agent is held for this call. Returns the call id."""
    campaign = _working_campaign(agent, campaign_id)
    _require_ready_on(agent, campaign)
    call_id, held = try_attempt(campaign.id, contact_id, now=now, kind="preview", agent_id=agent.id)
    if call_id is None:
        raise _refusal(held)
    _hold_or_give_up(agent, call_id, campaign.id, now)
    return call_id


def skip_preview(agent: User, campaign_id: int, contact_id: int, now: datetime | None = None) -> None:
    """Pass on the contact: it goes back to the list, due again in an hour."""
    campaign = _working_campaign(agent, campaign_id)
    now = now or utcnow()
    contact = db.session.scalar(select(Contact).where(Contact.id == contact_id, Contact.campaign_id == campaign.id))
    if contact is None:
        raise ApiError(404, "No such contact")
    if contact.status in ("new", "retry"):
        contact.next_due_at = now + SKIP_DELAY
    db.session.commit()
    Hopper(get_redis()).ack(campaign.id, contact_id)


def hold_agent_for(agent_id: int, call_id: int, campaign_id: int, now: datetime | None = None) -> None:
    """The agent who dialled waits for this call: ready -> reserved, no expiry (the callee may ring
    for the whole ring timeout); the answer connects them, any other outcome releases them."""
    try:
        apply(agent_id, ("ready",), "reserved", now=now, campaign_id=campaign_id, call_id=call_id,
              reason="agent_dialled")
    except TransitionRefused as exc:
        raise ApiError(409, f"Cannot dial while {exc.from_state}", "not_ready") from None


def manual_dial(agent: User, campaign_id: int, raw_phone: str, now: datetime | None = None) -> int:
    """The agent dials a number by hand: it becomes (or is) a contact of the campaign and passes
    every gate a dialer call passes. Returns the call id."""
    from app.common.phones import contact_timezone, normalize_phone, zones_agree

    campaign = _working_campaign(agent, campaign_id)
    _require_ready_on(agent, campaign)
    try:
        phone = normalize_phone(raw_phone, campaign.default_region)
    except ValueError as exc:
        raise ApiError(422, "Not a callable number", fields={"phone": [str(exc)]}) from None
    contact = db.session.scalar(select(Contact).where(Contact.campaign_id == campaign.id,
                                                      Contact.phone_e164 == phone))
    if contact is None:
        zone = contact_timezone(phone)
        contact = Contact(campaign_id=campaign.id, phone_e164=phone, timezone=zone, zones_agree=zones_agree(zone, phone),
                          custom_fields={"source": "manual dial"})
        db.session.add(contact)
        db.session.commit()
    call_id, held = try_attempt(campaign.id, contact.id, now=now, kind="manual", agent_id=agent.id)
    if call_id is None:
        raise _refusal(held)
    _hold_or_give_up(agent, call_id, campaign.id, now)
    return call_id


REFUSALS = {
    gates.ON_DNC: "This number is on a do-not-call list: it may not be called.",
    gates.OUTSIDE_WINDOW: "It is outside calling hours where this contact lives (08:00-21:00 and "
                          "the campaign's window, in every time zone they may be in).",
    gates.MAX_ATTEMPTS: "This contact has had the campaign's maximum number of attempts.",
    gates.RETRY_NOT_DUE: "This contact's next attempt is not due yet.",
    gates.NO_TIMEZONE: "This contact's time zone, and so their calling hours, are unknown.",
    gates.NOT_DIALABLE: "This contact is closed or is being dialled already.",
}


def _refusal(reason: str) -> ApiError:
    """Why the agent's dial was refused, in words they can act on."""
    message = REFUSALS.get(reason) or checks.MESSAGES.get(reason, "This contact may not be called now.")
    return ApiError(409, message, "not_dialable", fields={"reason": [reason]})


def _hold_or_give_up(agent: User, call_id: int, campaign_id: int, now) -> None:
    try:
        hold_agent_for(agent.id, call_id, campaign_id, now)
    except ApiError:
        from app.calls.placement import give_up

        give_up(call_id, "the agent was no longer ready", code=None)  # never sent to the carrier
        raise
