"""An agent's handling of a connected call: opened on connect, closed by the disposition.

The disposition's flags do what they say: do-not-call adds the number at once, callback
schedules the contact inside their calling hours, final closes the contact.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit import services as audit
from app.auth.models import User
from app.agents.reservations import end_call
from app.calls.models import Call
from app.calls.signals import call_finished
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode
from app.common.pagination import paginate
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.compliance import checks
from app.contacts import consents
from app.contacts.attempts import schedule_next_attempt
from app.errors import ApiError
from app.extensions import db
from app.interactions.models import Callback, Interaction
from app.interactions.signals import agent_freed, disposition_saved
from app.interactions.voicemails import new_contact


def open_interaction(call: Call, agent_id: int, now: datetime | None = None) -> Interaction:
    """The agent is connected to the call (idempotent per call and agent: a transferred call has
    one for each agent who took it)."""
    now = now or utcnow()
    existing = db.session.scalar(select(Interaction).where(
        Interaction.call_id == call.id, Interaction.agent_id == agent_id))
    if existing is not None:
        return existing
    interaction = Interaction(call_id=call.id, campaign_id=call.campaign_id, contact_id=call.contact_id,
                              agent_id=agent_id, started_at=now)
    db.session.add(interaction)
    return interaction


def on_call_finished(call: Call, *, at: datetime, **_) -> None:
    """A call an agent was on has ended: its talk time is fixed and the agent is in wrap-up."""
    if call.agent_id is not None and call.connected_at is not None:
        end_talk(call, at)
        end_call(call.agent_id, call.id, at)


def connect() -> None:
    """Subscribe interactions to the end of calls (idempotent)."""
    call_finished.connect(on_call_finished, weak=False)


def end_talk(call: Call, now: datetime | None = None, agent_id: int | None = None) -> Interaction | None:
    """The call ended for its agent (or for `agent_id`, who transferred it): talk time is fixed
    and wrap-up starts."""
    agent_id = call.agent_id if agent_id is None else agent_id
    interaction = db.session.scalar(select(Interaction).where(
        Interaction.call_id == call.id, Interaction.agent_id == agent_id))
    if interaction is None or interaction.talk_ended_at is not None:
        return interaction
    now = now or utcnow()
    interaction.talk_ended_at = now
    interaction.talk_seconds = max(0.0, (now - interaction.started_at).total_seconds())
    return interaction


def visible_interactions(user: User):
    """Agents see their own; supervisors their campaigns'; admins all."""
    query = select(Interaction)
    if user.role == "agent":
        return query.where(Interaction.agent_id == user.id)
    if user.role == "supervisor":
        watched = select(CampaignAssignment.campaign_id).where(
            CampaignAssignment.user_id == user.id, CampaignAssignment.role == "supervisor")
        return query.where(Interaction.campaign_id.in_(watched))
    return query


def list_interactions(user: User, page: int, per_page: int, campaign_id=None, agent_id=None,
                      open_only: bool | None = None) -> dict:
    query = visible_interactions(user).order_by(Interaction.id.desc())
    if campaign_id is not None:
        query = query.where(Interaction.campaign_id == campaign_id)
    if agent_id is not None:
        query = query.where(Interaction.agent_id == agent_id)
    if open_only:
        query = query.where(Interaction.dispositioned_at.is_(None))
    return paginate(query, page, per_page)


def get_interaction(user: User, interaction_id: int) -> Interaction:
    interaction = db.session.scalar(visible_interactions(user).where(Interaction.id == interaction_id))
    if interaction is None:
        raise ApiError(404, "No such interaction")
    return interaction


def callback_problems(contact: Contact, campaign: Campaign, when: datetime, now: datetime) -> list[str]:
    """Why a callback time is refused: it must be in the future, and every calling rule that
    passes with time must allow a call then (the window in every zone the contact may be in,
    their state's hours, Sundays, holidays, declared blackouts, the seller's 24-hour cap): the
    gates' own rules (`checks.time_rules`)."""
    if when.tzinfo is None:
        return ["Give the time with its UTC offset."]
    if when <= now:
        return ["The callback time must be in the future."]
    reasons, opening = checks.time_rules(campaign, contact, when, count_calls=True)
    refused = [r["message"] for r in reasons]
    if not refused:
        return []
    problems = [f"That time is not allowed: {message}" for message in dict.fromkeys(refused)]
    if opening is not None:
        problems.append(f"The next allowed time is {opening.isoformat()}.")
    return problems


def record_disposition(user: User, interaction_id: int, code: str, notes: str = "",
                       callback_at: datetime | None = None, now: datetime | None = None) -> Interaction:
    now = now or utcnow()
    interaction = db.session.scalar(
        visible_interactions(user).where(Interaction.id == interaction_id).with_for_update())
    if interaction is None or (user.role == "agent" and interaction.agent_id != user.id):
        raise ApiError(404, "No such interaction")
    if interaction.dispositioned_at is not None:
        raise ApiError(409, "This call already has a disposition", "already_dispositioned")
    campaign = db.session.get(Campaign, interaction.campaign_id)
    disposition = db.session.scalar(select(DispositionCode).where(
        DispositionCode.campaign_id == campaign.id, DispositionCode.code == code,
        DispositionCode.active.is_(True)))
    if disposition is None:
        raise ApiError(422, "Unknown disposition code", fields={"code": ["Not a code of this campaign."]})
    contact = db.session.get(Contact, interaction.contact_id, with_for_update=True) \
        if interaction.contact_id else _caller_as_contact(interaction, campaign)
    if disposition.is_callback:
        if callback_at is None:
            raise ApiError(422, "A callback needs a time", fields={"callback_at": ["Required for this code."]})
        problems = callback_problems(contact, campaign, callback_at, now) if contact else []
        if problems:
            raise ApiError(422, "The callback time is not allowed", fields={"callback_at": problems})

    interaction.disposition_code_id = disposition.id
    interaction.notes = notes
    interaction.dispositioned_at = now
    if interaction.talk_ended_at is None:  # dispositioned while still talking: talk ends now
        interaction.talk_ended_at = now
        interaction.talk_seconds = max(0.0, (now - interaction.started_at).total_seconds())
    interaction.end_wrap_up(now)
    callback = None
    if contact is not None:
        callback = _apply_flags(contact, campaign, disposition, interaction, callback_at, now, user)
    disposition_saved.send(interaction, interaction=interaction, disposition=disposition, contact=contact,
                           campaign=campaign, callback=callback, at=now)
    audit.record("interaction.disposition", target_type="interaction", target_id=interaction.id,
                 code=code, contact_id=interaction.contact_id)
    db.session.commit()
    agent_freed.send(campaign.id, at=now,
                     handle_seconds=(interaction.talk_seconds or 0) + (interaction.wrap_seconds or 0))
    return interaction


def _caller_as_contact(interaction: Interaction, campaign: Campaign) -> Contact | None:
    """A caller to our numbers who is no contact of the campaign becomes one when their call is
    dispositioned, so that what they asked for (not to be called, a callback) is kept like anyone
    else's; never a lead the dialer calls on its own (app.interactions.voicemails.new_contact).
    None for a withheld number, or a call we placed."""
    call = db.session.get(Call, interaction.call_id) if interaction.call_id else None
    if call is None or call.direction != "inbound" or not call.from_number.startswith("+"):
        return None
    contact = new_contact(campaign.id, call.from_number, "called us")
    interaction.contact_id = call.contact_id = contact.id
    return contact


def _apply_flags(contact: Contact, campaign: Campaign, disposition: DispositionCode,
                 interaction: Interaction, callback_at, now: datetime, user: User) -> Callback | None:
    """Do what the code's flags say; returns the callback scheduled, if any."""
    contact.last_outcome = disposition.code
    if disposition.is_dnc:  # the person asked not to be called: every campaign of the seller stops
        consents.revoke(contact.phone_e164, campaign.seller_name, "dnc_disposition", by_user_id=user.id,
                        at=now, note=f"disposition {disposition.code}")
        contact.status, contact.next_due_at = "dnc", None
    elif disposition.is_callback:
        callback = Callback(campaign_id=campaign.id, contact_id=contact.id, agent_id=interaction.agent_id,
                            interaction_id=interaction.id, due_at=callback_at, notes=interaction.notes)
        db.session.add(callback)
        contact.status, contact.next_due_at = "callback", callback_at
        return callback
    elif disposition.is_final:
        contact.status, contact.next_due_at = "done", None
    else:  # a talk that settled nothing: the next attempt as after no answer
        schedule_next_attempt(contact, campaign, "no-answer", now)
    return None


def after_disposition(user: User, then: str, pause_code: str | None = None) -> None:
    """The agent's state once the outcome is saved: ready for the next call, or paused.

    An agent no longer in wrap-up (a supervisor paused them meanwhile) keeps that state.
    """
    if user.role != "agent":
        return
    from app.agents import state as agent_state
    from app.agents.services import set_own_state

    if then != "ready" and not pause_code:
        # Dialled by hand while paused: back to that pause unless another reason is given.
        pause_code = agent_state.snapshot(user.id)["dialled_from_pause"] or None
    try:
        set_own_state(user, "ready-after-wrap" if then == "ready" else "paused", pause_code=pause_code)
    except ApiError as refused:
        if refused.status != 409:
            raise


def close_forgotten_wrap_ups(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Close wrap-ups nobody will finish; return their interaction ids.

    A call's talk ended but no disposition came, and its agent is no longer in wrap-up on that
    call (signed off, moved on, or their state was lost with a Redis restart) for more than
    WRAP_UP_TIMEOUT_SECONDS: the wrap-up is closed without a code and the contact is scheduled
    like an undecided one, so it is neither left waiting for ever nor dialled twice. An agent
    still in wrap-up on the call keeps it as long as they need.
    """
    from flask import current_app

    from app.agents import state as agent_state

    now = now or utcnow()
    cutoff = now - timedelta(seconds=current_app.config["WRAP_UP_TIMEOUT_SECONDS"])
    candidates = db.session.scalars(select(Interaction).where(
        Interaction.dispositioned_at.is_(None), Interaction.wrapup_ended_at.is_(None),
        Interaction.talk_ended_at < cutoff).order_by(Interaction.talk_ended_at).limit(limit)
        .with_for_update(skip_locked=True)).all()
    states = agent_state.snapshots({i.agent_id for i in candidates}) if candidates else {}
    closed = []
    for interaction in candidates:
        held = states.get(interaction.agent_id, {})
        if held.get("state") == "wrap-up" and held.get("call_id") == interaction.call_id:
            continue
        interaction.end_wrap_up(now)
        contact = db.session.get(Contact, interaction.contact_id, with_for_update=True) \
            if interaction.contact_id else None
        campaign = db.session.get(Campaign, interaction.campaign_id) if interaction.campaign_id else None
        if contact is not None and campaign is not None and contact.status not in ("dnc", "done", "callback"):
            contact.last_outcome = "no-disposition"
            schedule_next_attempt(contact, campaign, "no-answer", now)
        # Supervisors see which wrap-ups the system closed, and for whom, in the audit log.
        audit.record("interaction.wrap_up_timed_out", target_type="interaction", target_id=interaction.id,
                     actor_username="system", agent_id=interaction.agent_id,
                     contact_id=interaction.contact_id)
        closed.append(interaction.id)
    db.session.commit()
    return closed
