"""Pausing never strands a call: in progressive and predictive mode a pause or sign-off asked
while calls placed for the agent still ring waits for them to settle."""
from sqlalchemy import select

from app.agents import reservations, services
from app.agents import state as rstate
from app.agents.models import AgentStateChange
from app.calls.models import Call
from app.calls.services import on_call_finished
from app.campaigns.models import Campaign, PauseCode
from app.dialer.tick import pacing_tick
from app.extensions import db
from app.interactions.services import after_disposition
from tests.agents.conftest import at
from tests.agents.factories import make_call


def _ringing(floor, n: int = 1) -> list[int]:
    """Calls the pacer placed for the campaign, ringing, not answered yet."""
    ids = []
    with floor.app.app_context():
        for _ in range(n):
            call = make_call(floor.campaign_id)
            call.status, call.kind = "ringing", "auto"
            ids.append(call.id)
        db.session.commit()
    return ids


def _end_unanswered(floor, call_id: int, t: float = 10.0) -> None:
    """The call ends without an answer, as the status callbacks end it (call_finished)."""
    with floor.app.app_context():
        call = db.session.get(Call, call_id)
        call.status, call.ended_at = "no-answer", at(t)
        on_call_finished(call)
        db.session.commit()


def _answer(floor, call_id: int, t: float = 5.0) -> int | None:
    """A person answers: the dialer reserves an agent and connects them."""
    with floor.app.app_context():
        agent_id = reservations.reserve_agent(floor.campaign_id, call_id, now=at(t))
        assert agent_id is not None and reservations.confirm_reservation(agent_id, call_id, now=at(t))
        call = db.session.get(Call, call_id)
        call.status, call.agent_id, call.answered_at, call.connected_at = "in-progress", agent_id, at(t), at(t)
        db.session.commit()
        return agent_id


def _snap(floor, i: int = 0) -> dict:
    with floor.app.app_context():
        return rstate.snapshot(floor.agent_ids[i])


def _last_change(floor, i: int = 0) -> AgentStateChange:
    with floor.app.app_context():
        change = db.session.scalars(select(AgentStateChange).where(
            AgentStateChange.agent_id == floor.agent_ids[i]).order_by(AgentStateChange.id.desc())).first()
        db.session.expunge(change)
        return change


def _ready_for_pacer(floor) -> int:
    with floor.app.app_context():
        return reservations.ready_agents(floor.campaign_id)


def _pause(client, code="break"):
    return client.post("/api/agents/me/state", json={"state": "paused", "pause_code": code})


def test_a_pause_while_a_progressive_call_rings_waits_until_it_ends_unanswered(floor, signed_in):
    floor.drive(0, "ready")
    console = signed_in(floor.test_users[0])
    [call_id] = _ringing(floor)
    response = _pause(console)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "ready"
    assert body["pending"]["target"] == "paused" and body["pending"]["pause_code"] == "break"
    assert body["pending"]["calls_ringing"] == 1 and body["pending"]["by"] == "agent"
    assert console.get("/api/agents/me").get_json()["pending"]["target"] == "paused"
    # still ready (a person who answers reaches them), but no new call is placed for them
    assert _snap(floor)["state"] == "ready"
    with floor.app.app_context():
        assert rstate.ready_count(floor.campaign_id) == 1
    assert _ready_for_pacer(floor) == 0

    _end_unanswered(floor, call_id)
    snap = _snap(floor)
    assert snap["state"] == "paused" and snap["pause_code"] == "break" and snap["pending"] is None
    change = _last_change(floor)
    assert (change.from_state, change.to_state, change.reason) == ("ready", "paused", "agent")
    with floor.app.app_context():
        assert change.pause_code_id == db.session.scalar(select(PauseCode.id).where(PauseCode.code == "break"))
    assert console.get("/api/agents/me").get_json()["pending"] is None


def test_enough_other_ready_agents_cover_the_ringing_calls_so_the_pause_is_immediate(floor, signed_in):
    floor.drive(1, "ready")
    floor.drive(0, "ready")
    _ringing(floor)
    response = _pause(signed_in(floor.test_users[0]))
    assert response.status_code == 200
    assert response.get_json()["state"] == "paused" and response.get_json()["pending"] is None
    assert _ready_for_pacer(floor) == 1


def test_a_pending_pause_applies_when_another_agent_takes_the_answered_call(floor, signed_in):
    floor.drive(1, "reserved")  # another agent, busy being connected for a moment
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    assert _pause(signed_in(floor.test_users[0])).get_json()["pending"] is not None
    with floor.app.app_context():  # the other agent's call was not bridged after all: ready again
        assert reservations.release_reservation(floor.agent_ids[1], floor.calls[0], now=at(1))
    # the answered person goes to the agent who is not on their way out, though agent 0 idled longer
    assert _answer(floor, call_id) == floor.agent_ids[1]
    assert _snap(floor)["pending"] is not None
    with floor.app.app_context():
        pacing_tick(floor.campaign_id, now=at(6))
    snap = _snap(floor)
    assert snap["state"] == "paused" and snap["pending"] is None


def test_a_pending_pause_applies_at_once_when_another_agent_goes_ready(floor, signed_in):
    floor.drive(0, "ready")
    _ringing(floor)
    assert _pause(signed_in(floor.test_users[0])).get_json()["pending"] is not None
    floor.drive(1, "ready", t=5)
    assert _snap(floor)["state"] == "paused"
    assert _snap(floor, 1)["state"] == "ready"


def test_a_pending_agent_who_gets_the_call_is_paused_after_its_wrap_up(floor, signed_in):
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    assert _pause(signed_in(floor.test_users[0])).get_json()["pending"] is not None
    assert _answer(floor, call_id) == floor.agent_ids[0]  # nobody else is ready: the call is theirs
    with floor.app.app_context():
        assert reservations.end_call(floor.agent_ids[0], call_id, now=at(30))
        call = db.session.get(Call, call_id)
        call.status, call.ended_at = "completed", at(30)
        on_call_finished(call)  # the end of the call does not cut their wrap-up short
        db.session.commit()
    snap = _snap(floor)
    assert snap["state"] == "wrap-up" and snap["pending"]["target"] == "paused"
    with floor.app.app_context():
        after_disposition(floor.agent(0), "ready")  # "then ready" becomes the pause asked for
    snap = _snap(floor)
    assert snap["state"] == "paused" and snap["pause_code"] == "break" and snap["pending"] is None
    change = _last_change(floor)
    assert (change.from_state, change.to_state, change.reason) == ("wrap-up", "paused", "agent")


def test_a_sign_off_while_calls_ring_waits_too(floor, signed_in):
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    console = signed_in(floor.test_users[0])
    body = console.post("/api/agents/me/state", json={"state": "offline"}).get_json()
    assert body["state"] == "ready" and body["pending"]["target"] == "offline"
    _end_unanswered(floor, call_id)
    assert _snap(floor)["state"] == "offline" and _snap(floor)["pending"] is None


def test_asking_for_ready_again_cancels_a_pending_pause(floor, signed_in):
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    console = signed_in(floor.test_users[0])
    assert _pause(console).get_json()["pending"] is not None
    body = console.post("/api/agents/me/state", json={"state": "ready"}).get_json()
    assert body["state"] == "ready" and body["pending"] is None
    assert _ready_for_pacer(floor) == 1
    _end_unanswered(floor, call_id)
    assert _snap(floor)["state"] == "ready"
    # with nothing pending, ready while ready is still refused
    assert console.post("/api/agents/me/state", json={"state": "ready"}).status_code == 409


def test_a_supervisors_force_pause_and_logout_wait_likewise(floor, supervisor_of):
    sup = supervisor_of(floor.campaign_id)
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    response = sup.post(f"/api/agents/{floor.agent_ids[0]}/force-pause", json={"pause_code": "break"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "ready"
    assert response.get_json()["pending"]["by"] == "supervisor"
    floor_view = sup.get(f"/api/agents/states?campaign_id={floor.campaign_id}").get_json()
    [mine] = [a for a in floor_view["items"] if a["agent_id"] == floor.agent_ids[0]]
    assert mine["pending"]["target"] == "paused"
    _end_unanswered(floor, call_id)
    assert _snap(floor)["state"] == "paused"
    change = _last_change(floor)
    assert (change.to_state, change.reason) == ("paused", "supervisor")

    floor.drive(1, "ready")
    [call_id] = _ringing(floor)
    response = sup.post(f"/api/agents/{floor.agent_ids[1]}/logout")
    assert response.get_json()["state"] == "ready" and response.get_json()["pending"]["target"] == "offline"
    _end_unanswered(floor, call_id)
    assert _snap(floor, 1)["state"] == "offline"


def test_losing_access_signs_off_at_once_even_while_calls_ring(floor, signed_in):
    floor.drive(0, "ready")
    _ringing(floor)
    assert _pause(signed_in(floor.test_users[0])).get_json()["pending"] is not None
    with floor.app.app_context():
        assert services.sign_off(floor.agent_ids[0], "deactivated", now=at(2)) == "offline"
    snap = _snap(floor)
    assert snap["state"] == "offline" and snap["pending"] is None
    with floor.app.app_context():
        assert rstate.pending_agents(floor.campaign_id) == {}


def test_preview_mode_pauses_at_once(floor, signed_in):
    with floor.app.app_context():
        db.session.get(Campaign, floor.campaign_id).dial_mode = "preview"
        db.session.commit()
    floor.drive(0, "ready")
    _ringing(floor)
    response = _pause(signed_in(floor.test_users[0]))
    assert response.get_json()["state"] == "paused" and response.get_json()["pending"] is None


def test_pending_and_settled_are_published_to_the_agent_and_the_campaign(ctx, floor, tap):
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    tap.drain(0.1)
    services.set_own_state(floor.agent(0), "paused", pause_code="break", now=at(1))
    events = [(room, p) for e, room, p in tap.drain() if e == "agent.pending"]
    expected = {"agent_id": floor.agent_ids[0], "campaign_id": floor.campaign_id, "target": "paused",
                "pause_code": "break", "calls_ringing": 1}
    assert events == [(f"agent:{floor.agent_ids[0]}", expected), (f"campaign:{floor.campaign_id}", expected)]
    _end_unanswered(floor, call_id)
    settled = [(room, p) for e, room, p in tap.drain() if e == "agent.pending"]
    done = {**expected, "target": None, "pause_code": None, "calls_ringing": None}
    assert settled == [(f"agent:{floor.agent_ids[0]}", done), (f"campaign:{floor.campaign_id}", done)]


def test_in_predictive_a_pause_applies_once_the_calls_ringing_when_it_was_asked_have_settled(floor, signed_in):
    """Over-dialling goes on for the other agents: calls placed after the pause was asked are
    theirs and must not keep it waiting for ever."""
    from datetime import timedelta

    from app.campaigns.models import Campaign
    from app.common.timeutil import utcnow

    with floor.app.app_context():
        db.session.get(Campaign, floor.campaign_id).dial_mode = "predictive"
        db.session.commit()
    for i in range(3):
        floor.drive(i, "ready")
    before = _ringing(floor, 4)  # over-dialled: 4 calls for 3 ready agents
    console = signed_in(floor.test_users[0])
    assert _pause(console).get_json()["pending"]
    later = _ringing(floor, 4)  # the pacer dials on for the two others
    with floor.app.app_context():
        for call_id in later:  # placed after the pause was asked
            db.session.get(Call, call_id).created_at = utcnow() + timedelta(seconds=1)
        db.session.commit()
    for call_id in before:
        _end_unanswered(floor, call_id)
    assert _snap(floor)["state"] == "paused"


def test_an_agent_cannot_cancel_a_supervisors_pending_logout(floor, signed_in, supervisor_of):
    sup = supervisor_of(floor.campaign_id)
    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    assert sup.post(f"/api/agents/{floor.agent_ids[0]}/logout").get_json()["pending"]["by"] == "supervisor"
    agent = signed_in(floor.test_users[0])
    stay = agent.post("/api/agents/me/state", json={"state": "ready"})
    assert stay.status_code == 409 and stay.get_json()["error"]["code"] == "supervisor_pending"
    assert "supervisor" in stay.get_json()["error"]["message"]
    _end_unanswered(floor, call_id)
    assert _snap(floor)["state"] == "offline"


def test_an_answered_call_still_being_routed_counts_as_ringing(floor, signed_in):
    """Answered a moment ago and not yet bridged (the 2-second search): a pause must wait for it
    like for a ringing call."""
    from app.common.timeutil import utcnow

    floor.drive(0, "ready")
    [call_id] = _ringing(floor)
    with floor.app.app_context():
        call = db.session.get(Call, call_id)
        call.status, call.answered_at = "in-progress", utcnow()
        db.session.commit()
    console = signed_in(floor.test_users[0])
    assert _pause(console).get_json()["pending"]["calls_ringing"] == 1
