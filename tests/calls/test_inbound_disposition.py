"""Audit of issue 21: a caller to our numbers who is no contact of the campaign reaches an agent
(no screen pop); when they ask not to be called again, the agent's do-not-call disposition must
put their number on the list, as it does for a person we called."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import DispositionCode
from app.dnc.services import is_dnc
from app.extensions import db
from app.interactions.models import Interaction
from app.interactions.services import record_disposition
from tests.calls.test_inbound_routing import _call_in, _form, _inbound_call, _ready, floor, open_hours  # noqa: F401

STRANGER = "+13125550123"


def test_a_stranger_who_asks_an_agent_not_to_be_called_goes_on_the_list(app, client, floor):
    campaign_id, (first, _, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=20)
    form = _form(STRANGER)
    assert f">agent-{first}</Conference>" in _call_in(client, app, form)
    call = _inbound_call(app, form["CallSid"])
    with app.app_context():
        db.session.add(DispositionCode(campaign_id=campaign_id, code="DNC", label="Do not call",
                                       is_dnc=True, is_final=True))
        db.session.commit()
        interaction = db.session.scalar(select(Interaction).where(Interaction.call_id == call.id))
        record_disposition(db.session.get(User, first), interaction.id, "DNC")
        assert is_dnc(STRANGER, campaign_id)
