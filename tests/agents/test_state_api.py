"""Every transition an agent can ask for through the API, from every state, legal or not."""
import pytest
from sqlalchemy import func, select

from app.agents import state as rstate
from app.agents.models import AgentProfile, AgentStateChange
from app.extensions import db

STATES = ("offline", "ready", "reserved", "on-call", "wrap-up", "paused")
TARGETS = ("ready", "paused", "offline", "ready-after-wrap")
LEGAL = {
    ("offline", "ready"), ("offline", "paused"),
    ("ready", "paused"), ("ready", "offline"),
    ("wrap-up", "ready"), ("wrap-up", "paused"), ("wrap-up", "offline"), ("wrap-up", "ready-after-wrap"),
    ("paused", "ready"), ("paused", "paused"), ("paused", "offline"),
}


def _changes(app, agent_id):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AgentStateChange)
                                 .where(AgentStateChange.agent_id == agent_id))


@pytest.mark.parametrize("from_state", STATES)
@pytest.mark.parametrize("target", TARGETS)
def test_agent_state_change_from_every_state(app, floor, signed_in, from_state, target):
    floor.drive(0, from_state)
    client = signed_in(floor.test_users[0])
    before = _changes(app, floor.agent_ids[0])
    body = {"state": target, "campaign_id": floor.campaign_id}
    if target == "paused":
        body["pause_code"] = "break"
    response = client.post("/api/agents/me/state", json=body)
    expected_state = "ready" if target == "ready-after-wrap" else target
    with app.app_context():
        now_state = rstate.snapshot(floor.agent_ids[0])["state"]
        mirrored = db.session.get(AgentProfile, floor.agent_ids[0]).state
    if (from_state, target) in LEGAL:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == expected_state
        assert now_state == mirrored == expected_state
        assert _changes(app, floor.agent_ids[0]) == before + 1
    else:
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "invalid_transition"
        assert (error["fields"]["from"], error["fields"]["to"]) == ([from_state], [target])
        assert error["message"].startswith("Cannot ") and "'" not in error["message"]  # words, not codes
        assert now_state == from_state
        assert _changes(app, floor.agent_ids[0]) == before


def test_going_ready_needs_an_assigned_campaign(app, floor, signed_in, users):
    client = signed_in(floor.test_users[1])  # not assigned to other_campaign
    missing = client.post("/api/agents/me/state", json={"state": "ready"})
    assert missing.status_code == 422 and "campaign_id" in missing.get_json()["error"]["fields"]
    foreign = client.post("/api/agents/me/state", json={"state": "ready", "campaign_id": floor.other_campaign_id})
    assert foreign.status_code == 404
    assert client.get("/api/agents/me").get_json()["state"] == "offline"


def test_pausing_needs_a_known_pause_code(floor, signed_in):
    floor.drive(0, "offline")
    client = signed_in(floor.test_users[0])
    client.post("/api/agents/me/state", json={"state": "ready", "campaign_id": floor.campaign_id})
    no_code = client.post("/api/agents/me/state", json={"state": "paused"})
    assert no_code.status_code == 422 and "pause_code" in no_code.get_json()["error"]["fields"]
    unknown = client.post("/api/agents/me/state", json={"state": "paused", "pause_code": "nap"})
    assert unknown.status_code == 422
    ok = client.post("/api/agents/me/state", json={"state": "paused", "pause_code": "break"})
    assert ok.status_code == 200 and ok.get_json()["pause_code"] == "break"


def test_campaign_switch_only_from_paused_or_offline(floor, signed_in):
    floor.drive(0, "wrap-up")
    client = signed_in(floor.test_users[0])
    refused = client.post("/api/agents/me/state", json={"state": "ready", "campaign_id": floor.other_campaign_id})
    assert refused.status_code == 409
    assert client.post("/api/agents/me/state", json={"state": "paused", "pause_code": "break"}).status_code == 200
    switched = client.post("/api/agents/me/state", json={"state": "ready", "campaign_id": floor.other_campaign_id})
    assert switched.status_code == 200 and switched.get_json()["campaign_id"] == floor.other_campaign_id


def test_only_agents_have_an_agent_state(login_as):
    supervisor = login_as("supervisor")
    assert supervisor.post("/api/agents/me/state", json={"state": "ready", "campaign_id": 1}).status_code == 403
    assert supervisor.get("/api/agents/me").status_code == 403


def test_me_reports_state_and_time_in_state(floor, signed_in):
    floor.drive(0, "offline")
    client = signed_in(floor.test_users[0])
    assert client.get("/api/agents/me").get_json()["state"] == "offline"
    client.post("/api/agents/me/state", json={"state": "ready", "campaign_id": floor.campaign_id})
    me = client.get("/api/agents/me").get_json()
    assert me["state"] == "ready" and me["campaign_id"] == floor.campaign_id
    assert me["since"] and me["seconds_in_state"] >= 0
    assert client.post("/api/agents/me/heartbeat").status_code == 204
