"""The agent's own actions on a connected call that no feature API offers yet (hang up), and
what the console reads in words: a contact's history (the callback pop-up) and the agent's
recent calls. (Hold, mute: app.dialer.controls; transfers: app.dialer.transfers.)"""
from __future__ import annotations

import logging

from app.agents.reservations import end_call
from app.calls.models import TERMINAL_STATUSES, Call
from app.errors import ApiError
from app.extensions import db
from app.interactions.services import end_talk

log = logging.getLogger(__name__)


def hang_up(agent, call_id: int) -> dict:
    """Ask the carrier to end the person's call (never the agent's own leg, which stays in their
    room for the next call), end the talk time and move the agent to wrap-up. A consultation
    under way ends with it.

    The carrier's own `completed` callback later closes the call record as usual; a carrier
    error does not keep the agent stuck on a call they have left.
    """
    from app.dialer import transfers

    call = db.session.get(Call, call_id)
    if call is None or call.agent_id != agent.id:
        raise ApiError(404, "No such call")
    if transfers.transferred_away(call, agent.id):
        raise ApiError(409, "You have transferred this call: it is no longer yours to hang up.",
                       "call_transferred")
    if call.call_sid and call.status not in TERMINAL_STATUSES:
        try:
            from app.telephony.factory import get_carrier

            get_carrier().hangup(call.call_sid)
        except Exception:  # noqa: BLE001 - see docstring
            log.exception("carrier hang-up of call %s failed", call.id)
    transfers.on_hang_up(call, agent.id)
    end_talk(call)
    db.session.commit()
    end_call(agent.id, call.id)
    return {"call_id": call.id, "hung_up": True}


# --- a contact's earlier calls, and the agent's own recent calls, in words ---------------------

def contact_history_for_agent(agent, contact_id: int) -> dict:
    """The history of a contact that is the agent's: one of their calls, interactions or
    callbacks is the contact's (the callback pop-up, the screen pop). Any other contact is 404."""
    from sqlalchemy import exists, or_, select

    from app.interactions.callbacks import for_agent
    from app.interactions.history import contact_history
    from app.contacts.models import Contact
    from app.interactions.models import Callback, Interaction

    theirs = db.session.scalar(select(or_(
        exists().where(Call.contact_id == contact_id, Call.agent_id == agent.id),
        exists().where(Interaction.contact_id == contact_id, Interaction.agent_id == agent.id),
        exists().where(Callback.contact_id == contact_id, for_agent(agent.id)))))
    contact = db.session.get(Contact, contact_id) if theirs else None
    if contact is None:
        raise ApiError(404, "No such contact among your calls and callbacks", "contact_not_found")
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    return {"contact_id": contact.id, "name": name or None, "phone": contact.phone_e164,
            **contact_history(contact.id, limit=20)}


def recent_calls(agent, limit: int = 8) -> list[dict]:
    """The agent's latest calls, each with what it came to in words: the disposition's label,
    "Not dispositioned yet" while its wrap-up is open, else how the call ended."""
    from sqlalchemy import select

    from app.campaigns.models import DispositionCode
    from app.calls.words import DIRECTION_WORDS, outcome_words, person_number
    from app.contacts.models import Contact
    from app.interactions.models import Interaction

    rows = db.session.execute(
        select(Call, Interaction, DispositionCode, Contact)
        .outerjoin(Interaction, Interaction.call_id == Call.id)
        .outerjoin(DispositionCode, DispositionCode.id == Interaction.disposition_code_id)
        .outerjoin(Contact, Contact.id == Call.contact_id)
        .where(Call.agent_id == agent.id)
        .order_by(Call.created_at.desc(), Call.id.desc()).limit(limit)).all()
    items = []
    for call, interaction, code, contact in rows:
        if code is not None:
            result = code.label
        elif interaction is not None:
            result = "Not dispositioned yet" if interaction.dispositioned_at is None else "No outcome recorded"
        else:
            result = outcome_words(call)
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p) if contact else ""
        items.append({"call_id": call.id, "at": call.created_at, "to_number": call.to_number,
                      "person_number": person_number(call), "direction": call.direction,
                      "direction_words": DIRECTION_WORDS.get(call.direction, call.direction),
                      "contact_name": name or None, "result": result, "disposition": code.label if code else None,
                      "outcome_words": outcome_words(call), "duration_seconds": call.duration_seconds})
    return items
