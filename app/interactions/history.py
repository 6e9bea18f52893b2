"""A contact's history, in people's words: each call with who took it, how it ended, the
disposition and the agent's notes (or the voicemail the caller left), and the callbacks asked for.

Shared by the contact browser (supervisors, admins) and the agent's console (a callback's or a
connected call's earlier notes). The caller decides who may see which contact; this module only
reads and words it.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from app.auth.models import User
from app.calls.models import Call
from app.calls.words import KIND_WORDS, outcome_words
from app.campaigns.models import DispositionCode
from app.extensions import db
from app.interactions.models import Callback, Interaction, Voicemail
from app.interactions.voicemails import words_for

CALLBACK_WORDS = {"scheduled": "Scheduled", "queued": "Due, being dialled", "done": "Done", "canceled": "Cancelled"}


def contact_history(contact_id: int, limit: int = 50) -> dict:
    """The contact's calls (newest first, at most `limit`) and callbacks, each in words."""
    calls = db.session.execute(
        select(Call, Interaction, DispositionCode, User)
        .outerjoin(Interaction, Interaction.call_id == Call.id)
        .outerjoin(DispositionCode, DispositionCode.id == Interaction.disposition_code_id)
        .outerjoin(User, User.id == Call.agent_id)
        .where(or_(Call.contact_id == contact_id,  # a call to our numbers is theirs by its voicemail
                   Call.id.in_(select(Voicemail.call_id).where(Voicemail.contact_id == contact_id))))
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()
    voicemails = {v.call_id: v for v in db.session.scalars(
        select(Voicemail).where(Voicemail.call_id.in_([row[0].id for row in calls])))} if calls else {}
    callbacks = db.session.execute(
        select(Callback, User).outerjoin(User, User.id == Callback.agent_id)
        .where(Callback.contact_id == contact_id)
        .order_by(Callback.due_at.desc()).limit(limit)
    ).all()
    return {
        "calls": [_call_entry(call, interaction, code, agent, voicemails.get(call.id))
                  for call, interaction, code, agent in calls],
        "callbacks": [{
            "id": callback.id,
            "due_at": callback.due_at.isoformat(),
            "status": callback.status,
            "status_words": CALLBACK_WORDS.get(callback.status, callback.status.capitalize()),
            "agent_name": _name(agent),
            "notes": callback.notes or "",
        } for callback, agent in callbacks],
    }


def _call_entry(call: Call, interaction: Interaction | None, code: DispositionCode | None,
                agent: User | None, voicemail: Voicemail | None = None) -> dict:
    return {
        "call_id": call.id,
        "at": (call.connected_at or call.answered_at or call.created_at).isoformat(),
        "campaign_id": call.campaign_id,
        "direction": call.direction,
        "kind": call.kind,
        "kind_words": KIND_WORDS.get(call.kind, call.kind.capitalize()),
        "to_number": call.to_number,
        "outcome": call.outcome,
        "outcome_words": outcome_words(call),
        "agent_id": call.agent_id,
        "agent_name": _name(agent),
        "talk_seconds": round(interaction.talk_seconds) if interaction and interaction.talk_seconds else None,
        "disposition": code.label if code else None,
        "notes": (interaction.notes if interaction else "") or (words_for(voicemail) if voicemail else ""),
    }


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    return user.full_name or user.username
