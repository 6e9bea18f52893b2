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
from app.contacts.models import MANUAL_DIAL_SOURCE, Contact
from app.compliance import gates
from app.compliance import checks
from app.dialer import refill
from app.dialer.attempts import try_attempt
from app.dialer.hopper import LIST_SWITCHED_OFF, Hopper
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


def next_preview(agent: User, campaign_id: int, now: datetime | None = None) -> dict:
    """Claim the campaign's next contact for this agent to look at: {"contact", "next_due_at"}.
    With nothing to preview, contact is None and next_due_at says when the next contact of the
    list falls due (None: the list has none left to call)."""
    campaign = _working_campaign(agent, campaign_id)
    if campaign.dial_mode != "preview":
        raise ApiError(409, "This campaign is not in preview mode", "not_preview")
    _require_ready_on(agent, campaign)
    now = now or utcnow()
    claimed = Hopper(get_redis()).claim(campaign.id, 1, PREVIEW_LEASE_SECONDS, now.timestamp())
    if not claimed:
        return {"contact": None, "next_due_at": refill.next_due_at(campaign, now)}
    return {"contact": db.session.get(Contact, claimed[0]), "next_due_at": None}


def dial_preview(agent: User, campaign_id: int, contact_id: int, now: datetime | None = None) -> int:
    """Dial the previewed contact now; the agent is held for this call. Returns the call id."""
    campaign = _working_campaign(agent, campaign_id)
    _require_ready_on(agent, campaign)
    if db.session.scalar(select(Contact.id).where(Contact.id == contact_id,
                                                  Contact.campaign_id == campaign.id)) is None:
        raise ApiError(404, "This contact is no longer in the campaign's list: preview the next one.",
                       "contact_not_found")
    now = now or utcnow()
    call_id, held = try_attempt(campaign.id, contact_id, now=now, kind="preview", agent_id=agent.id)
    if call_id is None:
        raise _refusal(held, _next_at(campaign.id, contact_id, held, now),
                       db.session.get(Contact, contact_id), now)
    _hold_or_give_up(agent, call_id, campaign.id, now)
    return call_id


def skip_preview(agent: User, campaign_id: int, contact_id: int, now: datetime | None = None) -> None:
    """Pass on the contact: it goes back to the list, due again in an hour."""
    campaign = _working_campaign(agent, campaign_id)
    now = now or utcnow()
    contact = db.session.scalar(select(Contact).where(Contact.id == contact_id, Contact.campaign_id == campaign.id))
    if contact is None:
        raise ApiError(404, "This contact is no longer in the campaign's list: preview the next one.",
                       "contact_not_found")
    if contact.status in ("new", "retry"):
        contact.next_due_at = now + SKIP_DELAY
    db.session.commit()
    Hopper(get_redis()).ack(campaign.id, contact_id)


def hold_agent_for(agent_id: int, call_id: int, campaign_id: int, now: datetime | None = None,
                   allowed_from: tuple[str, ...] = ("ready",)) -> None:
    """The agent who dialled waits for this call: ready (or paused, dialling by hand) -> reserved,
    no expiry (the callee may ring for the whole ring timeout); the answer connects them, any
    other outcome releases them (back to ready, or to their pause)."""
    try:
        apply(agent_id, allowed_from, "reserved", now=now, campaign_id=campaign_id, call_id=call_id,
              reason="agent_dialled")
    except TransitionRefused as exc:
        if exc.because == "audio":
            raise ApiError(409, NO_AUDIO, "no_audio") from None
        raise _not_now(exc.from_state) from None


NO_AUDIO = "Connect your audio first (My audio): the person you dial would have nobody to talk to."
PAUSE_TO_DIAL = ("Pause first, then dial by hand: while you are ready, the dialer places calls for you "
                 "and one may reach you at any moment. After your call you go back to your pause.")


def _not_now(state: str) -> ApiError:
    """Why the agent cannot dial by hand in `state`, and what to do about it."""
    if state in ("reserved", "on-call"):
        return ApiError(409, "You are on a call (or one is being connected to you). When it is over, "
                             "save its outcome with Save & pause, then dial by hand.", "busy")
    if state == "wrap-up":
        return ApiError(409, "Save this call's outcome first (Save & pause), then dial by hand.", "busy")
    if state == "ready":
        return ApiError(409, PAUSE_TO_DIAL, "pause_to_dial")
    return ApiError(409, "Sign on to this campaign first (pause or go ready on it), then dial by hand.",
                    "not_signed_on")


def _require_may_dial_by_hand(agent: User, campaign: Campaign) -> tuple[str, ...]:
    """The states the agent may dial by hand from, here: paused anywhere (VICIdial's manual dial:
    the dialer neither counts nor routes to a paused agent), ready only in preview campaigns
    (elsewhere the pacer has placed calls counting on them)."""
    snap = agent_state.snapshot(agent.id)
    if snap["state"] == "offline" or snap["campaign_id"] != campaign.id:
        raise _not_now("offline")
    allowed = ("ready", "paused") if campaign.dial_mode == "preview" else ("paused",)
    if snap["state"] not in allowed:
        raise _not_now(snap["state"])
    if snap["audio"] is None:
        raise ApiError(409, NO_AUDIO, "no_audio")
    return allowed


def manual_dial(agent: User, campaign_id: int, raw_phone: str, now: datetime | None = None) -> int:
    """The agent dials a number by hand (paused, or ready in a preview campaign): it is (or
    becomes) a contact of the campaign and passes every gate a dialer call passes, now and again
    at placement. A number refused here leaves nothing behind: no contact the dialer could call
    later. Returns the call id."""
    from app.common.phones import contact_timezone, normalize_phone, zones_agree

    campaign = _working_campaign(agent, campaign_id)
    try:
        phone = normalize_phone(raw_phone, campaign.default_region)
    except ValueError:
        raise ApiError(422, "That is not a number we can dial", fields={"phone": [
            "Check the digits: a full number with its area code, e.g. +1 202 555 0123."]}) from None
    try:  # a premium-rate or service number is never dialled, by hand or not
        normalize_phone(phone, None, callable_only=True)
    except ValueError as exc:
        reason = str(exc).split(":")[0]
        raise ApiError(422, "That number may not be called", fields={"phone": [
            f"This is a {reason}."]}) from None
    allowed = _require_may_dial_by_hand(agent, campaign)
    now = now or utcnow()
    contact = db.session.scalar(select(Contact).where(Contact.campaign_id == campaign.id,
                                                      Contact.phone_e164 == phone))
    created = contact is None
    if created:
        zone = contact_timezone(phone)
        contact = Contact(campaign_id=campaign.id, phone_e164=phone, timezone=zone, zones_agree=zones_agree(zone, phone),
                          status="new", attempts=0, custom_fields={"source": MANUAL_DIAL_SOURCE})
        # Every gate first, on the contact it would be: a refused number is never stored.
        reason, next_at = checks.attempt_hold(contact, campaign, now, autodialed=False)
        if reason is not None:
            raise _refusal(reason, next_at, contact, now)
        db.session.add(contact)
        db.session.commit()
    call_id, held = try_attempt(campaign.id, contact.id, now=now, kind="manual", agent_id=agent.id)
    if call_id is None:
        next_at = _next_at(campaign.id, contact.id, held, now)
        if created:
            _forget(contact.id)
        raise _refusal(held, next_at, contact, now)
    _hold_or_give_up(agent, call_id, campaign.id, now, allowed)
    return call_id


def _forget(contact_id: int) -> None:
    """A contact made for a manual dial that was refused: removed, so the dialer never calls it."""
    found = db.session.get(Contact, contact_id)
    if found is not None and found.attempts == 0:
        db.session.delete(found)
        db.session.commit()


def _next_at(campaign_id: int, contact_id: int, reason: str | None, now: datetime) -> datetime | None:
    """When a contact refused for a time rule may be called again (for the agent's message)."""
    if reason not in checks.TIME_REASONS:
        return None
    contact = db.session.get(Contact, contact_id)
    campaign = db.session.get(Campaign, campaign_id)
    if contact is None or campaign is None:
        return None
    return checks.attempt_hold(contact, campaign, now, autodialed=False)[1]


REFUSALS = {
    gates.ON_DNC: "This number is on a do-not-call list: it may not be called.",
    gates.MAX_ATTEMPTS: "This contact has had the campaign's maximum number of attempts.",
    gates.RETRY_NOT_DUE: "This contact's next attempt is not due yet.",
    gates.NO_TIMEZONE: "This contact's time zone, and so their calling hours, are unknown.",
    gates.NOT_DIALABLE: "This contact is closed or is being dialled already.",
    LIST_SWITCHED_OFF: "This contact's list is switched off: ask your supervisor to switch it on.",
}


def _their_time(at: datetime, zone_name: str | None, now: datetime) -> str:
    """'at 9:00 their time', 'tomorrow at 9:00 their time', 'on Mon 7 Dec at 9:00 their time'."""
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (KeyError, ValueError):
        zone = None
    local, today = (at.astimezone(zone), now.astimezone(zone)) if zone else (at, now)
    clock = f"{local.hour}:{local.minute:02d}"
    suffix = " their time" if zone else " (UTC)"
    if local.date() == today.date():
        return f"at {clock}{suffix}"
    if local.date() == (today + timedelta(days=1)).date():
        return f"tomorrow at {clock}{suffix}"
    return f"on {local:%a} {local.day} {local:%b} at {clock}{suffix}"


def _refusal(reason: str, next_at: datetime | None = None, contact: Contact | None = None,
             now: datetime | None = None) -> ApiError:
    """Why the agent's dial was refused, in words they can act on."""
    if reason in checks.TIME_REASONS:
        what = {gates.OUTSIDE_WINDOW: "Outside this contact's calling hours",
                checks.WINDOW_CLOSING: "This contact's calling hours end before the call could finish ringing",
                }.get(reason) or checks.MESSAGES.get(reason, "Outside this contact's calling hours").rstrip(".")
        when = (f": callable again {_their_time(next_at, contact.timezone if contact else None, now or utcnow())}."
                if next_at else ".")
        message = what + when
    else:
        message = REFUSALS.get(reason) or checks.MESSAGES.get(reason, "This contact may not be called now.")
    return ApiError(409, message, "not_dialable", fields={"reason": [reason]})


def _hold_or_give_up(agent: User, call_id: int, campaign_id: int, now,
                     allowed_from: tuple[str, ...] = ("ready",)) -> None:
    try:
        hold_agent_for(agent.id, call_id, campaign_id, now, allowed_from)
    except ApiError:
        from app.calls.placement import give_up

        give_up(call_id, "the agent was no longer ready", code=None)  # never sent to the carrier
        raise
