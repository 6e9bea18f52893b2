"""The agent's own actions on a connected call that no feature API offers yet: hang up.
(Hold, mute: app.dialer.controls; transfers: app.dialer.transfers.)"""
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
