"""A caller waiting in the queue is taken the moment an agent frees up, end to end through the
carrier simulator: the sweep each second redirects them into the agent's room through the REST
API, mid-message, where waiting for their wait URL to be asked again would have made them hear
the whole hold message first. The carrier then tells the Enqueue's action URL `redirected`,
which leaves the agent on the call."""
from __future__ import annotations

import pytest

from app.dialer import inbound
from app.dialer import inbound_queue as queue
from tests.dialer.on_air import on_the_air, wait_for
from tests.dialer.test_inbound_e2e import (  # noqa: F401 (fixtures)
    _call_in, _record, _sim_call, floor, person_zone)
from tests.zones import number_in_zone

# A hold message said at a word a minute of wall time: a caller still hearing it when the agent
# frees up would hear it for many minutes more if only their next wait poll could take them.
HOLD_MESSAGE = "Thanks for calling Acme Solar; every one of our advisers is busy, please hold."


@pytest.fixture
def air(_app, test_environ, person_zone):  # noqa: F811 (this module's carrier speaks slowly)
    outcomes = {number_in_zone(person_zone, i): "human" for i in range(4)}
    with on_the_air(_app, test_environ, {"outcomes": outcomes, "talk_seconds": (100000.0, 100000.0),
                                         "say_seconds_per_word": 6000.0}) as on_air:
        yield on_air


def _hold_message(floor, text: str = HOLD_MESSAGE) -> None:
    from app.campaigns.models import Campaign
    from app.extensions import db

    with floor.app.app_context():
        db.session.get(Campaign, floor.campaign_id).inbound_hold_message = text
        db.session.commit()


def _pause(floor, agent_id: int) -> None:
    from app.agents import services as agent_services
    from app.auth.models import User
    from app.extensions import db
    from tests.agents.factories import make_pause_code

    with floor.app.app_context():
        make_pause_code("lunch")
        db.session.commit()
        agent_services.set_own_state(db.session.get(User, agent_id), "paused", campaign_id=floor.campaign_id,
                                     pause_code="lunch")


def test_a_caller_mid_hold_message_is_taken_by_the_agent_who_frees_up(floor, air):
    _hold_message(floor)
    agent = floor.agent(ready=False)
    _pause(floor, agent.id)

    caller = _call_in(air)
    wait_for(lambda: HOLD_MESSAGE in (_sim_call(air, caller).get("said") or []), "the hold message to start")
    floor.ready(agent.id)
    with floor.app.app_context():
        assert inbound.hand_waiting_callers(floor.campaign_id) == 1  # what the beat does each second

    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id], caller})
    heard = _sim_call(air, caller)
    assert heard["queue_history"][0]["result"] == "redirected"
    # Taken mid-message: their place, said after the hold message, was never reached.
    assert not any("caller number" in said for said in heard["said"]), heard["said"]
    call = _record(floor, caller)
    assert call.agent_id == agent.id and call.connected_at is not None and not call.abandoned

    # The carrier tells the Enqueue's action URL of the redirect: the agent stays on the call.
    with floor.app.app_context():
        wait_for(lambda: queue.leaving(call.id) == queue.LEFT, "the Enqueue's action URL to be told")
    assert floor.snap(agent.id)["state"] == "on-call" and floor.snap(agent.id)["call_id"] == call.id
    with floor.app.app_context():
        assert queue.waiting(floor.campaign_id) == 0


def test_two_callers_and_one_agent_free_the_oldest_is_taken_and_the_other_keeps_waiting(floor, air):
    _hold_message(floor)
    agent = floor.agent(ready=False)
    _pause(floor, agent.id)
    first = _call_in(air, "+13125550001")
    wait_for(lambda: _sim_call(air, first).get("said"), "the first caller to be on hold")
    second = _call_in(air, "+13125550002")
    wait_for(lambda: _sim_call(air, second).get("said"), "the second caller to be on hold")

    floor.ready(agent.id)
    with floor.app.app_context():
        assert inbound.hand_waiting_callers(floor.campaign_id) == 1
        assert inbound.hand_waiting_callers(floor.campaign_id) == 0  # nobody else is ready
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id], first})
    assert _sim_call(air, second)["queue_history"][0].get("result") is None  # still waiting
    with floor.app.app_context():
        assert queue.waiting(floor.campaign_id) == 1


def test_a_caller_whose_hang_up_we_never_heard_of_leaves_the_line_at_the_sweeps_try(
        floor, air, monkeypatch):
    """The caller hangs up in the queue and every word of it is lost on the way to us (the
    Enqueue's action, the status callback). The sweep's redirect meets Twilio's "not in
    progress": the caller leaves our line there and then, rather than hold its head (and an
    agent back from dialling) until their polls are missed for two minutes."""
    from app.telephony import twiml
    from app.telephony.factory import get_carrier

    _hold_message(floor)
    agent = floor.agent(ready=False)
    _pause(floor, agent.id)
    caller = _call_in(air)
    wait_for(lambda: _sim_call(air, caller).get("said"), "the caller to be on hold")
    call_id = _record(floor, caller).id
    monkeypatch.setattr("app.webhooks.routes.answer_queue_left", lambda call_id, form: twiml.hangup())
    with floor.app.app_context():
        get_carrier().hangup(caller)
    wait_for(lambda: _sim_call(air, caller)["status"] == "completed", "the caller to hang up")
    assert _record(floor, caller).ended_at is None  # we never heard

    floor.ready(agent.id)
    with floor.app.app_context():
        assert inbound.hand_waiting_callers(floor.campaign_id) == 0
        assert queue.waiting(floor.campaign_id) == 0 and queue.leaving(call_id) == queue.LEFT
    assert floor.snap(agent.id)["state"] == "ready"
