"""An agent whose access is taken away leaves ready at once, and no call is routed to them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agents import reservations, services
from app.agents import state as rstate
from app.agents.models import AgentStateChange
from app.extensions import db


def _state(app, agent_id):
    with app.app_context():
        return rstate.snapshot(agent_id)["state"]


def _last_reason(app, agent_id):
    with app.app_context():
        return db.session.scalars(select(AgentStateChange.reason).where(AgentStateChange.agent_id == agent_id)
                                  .order_by(AgentStateChange.id.desc())).first()


@pytest.mark.parametrize("before", ["ready", "paused", "wrap-up", "reserved"])
def test_a_deactivated_agent_is_signed_off_at_once_and_never_routed(app, floor, login_as, tap, before):
    admin = login_as("admin")
    agent_id = floor.agent_ids[0]
    call_id = floor.drive(0, before)
    tap.drain()

    assert admin.post(f"/api/users/{agent_id}/deactivate").status_code == 200

    assert _state(app, agent_id) == "offline"
    assert _last_reason(app, agent_id) == "deactivated"
    with app.app_context():
        assert rstate.ready_count(floor.campaign_id) == 0
        assert agent_id not in rstate.campaign_members(floor.campaign_id)
        assert reservations.reserve_agent(floor.campaign_id, floor.new_call()) is None
        if before == "reserved":  # the call being connected does not reach them either
            assert reservations.confirm_reservation(agent_id, call_id) is False
    published = [(room, p["state"]) for event, room, p in tap.drain() if event == "agent.state"]
    assert (f"campaign:{floor.campaign_id}", "offline") in published


def test_an_agent_on_a_call_finishes_it_then_is_signed_off(app, floor, login_as):
    admin = login_as("admin")
    agent_id = floor.agent_ids[0]
    call_id = floor.drive(0, "on-call")
    with app.app_context():
        services.heartbeat(agent_id)  # the console is alive right now
    assert admin.post(f"/api/users/{agent_id}/deactivate").status_code == 200
    assert _state(app, agent_id) == "on-call"  # the person on the line is not cut off
    with app.app_context():
        assert reservations.end_call(agent_id, call_id)
        assert agent_id in reservations.disconnect_silent_agents()  # the next sweep, not 30 s later
    assert _state(app, agent_id) == "offline"


def test_other_agents_stay_routable(app, floor, login_as):
    admin = login_as("admin")
    floor.drive(0, "ready", t=0)
    floor.drive(1, "ready", t=5)
    assert admin.post(f"/api/users/{floor.agent_ids[0]}/deactivate").status_code == 200
    assert _state(app, floor.agent_ids[1]) == "ready"
    with app.app_context():
        assert reservations.reserve_agent(floor.campaign_id, floor.new_call()) == floor.agent_ids[1]


def test_an_admin_signing_an_agent_out_takes_them_out_of_ready(app, floor, login_as):
    admin = login_as("admin")
    floor.drive(0, "ready")
    floor.drive(1, "paused")
    assert admin.patch(f"/api/users/{floor.agent_ids[0]}", json={"password": "Quiet-Harbour-Lamp-77"}).status_code == 200
    assert admin.patch(f"/api/users/{floor.agent_ids[1]}", json={"role": "supervisor"}).status_code == 200
    assert _state(app, floor.agent_ids[0]) == _state(app, floor.agent_ids[1]) == "offline"
    assert _last_reason(app, floor.agent_ids[0]) == "signed_out"
    with app.app_context():
        assert reservations.reserve_agent(floor.campaign_id, floor.new_call()) is None


def test_an_agent_taken_off_a_campaign_stops_taking_its_calls(app, floor, login_as):
    admin = login_as("admin")
    floor.drive(0, "ready", t=0)
    floor.drive(1, "ready", t=5)
    keep = [floor.agent_ids[1], floor.agent_ids[2]]
    response = admin.put(f"/api/campaigns/{floor.campaign_id}/assignments", json={"agent_ids": keep})
    assert response.status_code == 200, response.get_json()
    assert _state(app, floor.agent_ids[0]) == "offline"
    assert _state(app, floor.agent_ids[1]) == "ready"
    with app.app_context():
        assert reservations.reserve_agent(floor.campaign_id, floor.new_call()) == floor.agent_ids[1]
