"""Supervisors listen, whisper and barge, end to end through the carrier simulator: each mode
gives exactly the audio paths it promises (the simulator's who-hears-whom), a change of mode
keeps the supervisor's leg, leaving leaves the agent and the person talking, and every start,
change and end is in the audit log."""
from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from tests.agents.factories import assign, make_campaign
from tests.dialer.on_air import on_the_air, place_person, wait_for
from tests.dialer.test_transfers import PERSON, Floor

SUPERVISOR_PHONE = "+12025550166"


@pytest.fixture
def air(_app, test_environ):
    with on_the_air(_app, test_environ, {"outcomes": {PERSON: "human"}, "talk_seconds": (300.0, 300.0),
                                "agent_phones": {SUPERVISOR_PHONE: "1"}}) as on_air:
        yield on_air


class MonitorFloor(Floor):
    def supervisor(self, *, audio: bool = True, campaign_id: int | None = None, role: str = "supervisor"):
        user = self.users.create(role)
        if role == "supervisor":
            with self.app.app_context():
                assign(user.id, campaign_id or self.campaign_id, "supervisor")
                db.session.commit()
        if audio:
            self.legs[user.id] = self.air.connect_browser(user.id)
            wait_for(lambda: self.snap(user.id)["audio"], "the supervisor's leg to join their room")
        return user

    def audit(self, action: str) -> list[AuditEntry]:
        with self.app.app_context():
            rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                      .order_by(AuditEntry.id)).all()
            db.session.expunge_all()
            return rows


@pytest.fixture
def floor(_app, air):
    return MonitorFloor(_app, air)


def _on_a_call(floor):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    return agent, call_id, person


class SupervisedCall(NamedTuple):
    agent: object
    call_id: int
    person: str
    sup: object
    staff: str  # the agent's leg
    leg: str  # the supervisor's leg
    client: object  # signed in as the supervisor
    room: str  # the agent's room


def _supervised_call(floor) -> SupervisedCall:
    """An agent on a call with a person, and a supervisor of the campaign, with audio, signed in."""
    agent, call_id, person = _on_a_call(floor)
    sup = floor.supervisor()
    return SupervisedCall(agent, call_id, person, sup, floor.legs[agent.id], floor.legs[sup.id],
                          floor.client(sup), f"agent-{agent.id}")


def _monitor(client, agent_id, mode):
    response = client.post("/api/monitoring", json={"agent_id": agent_id, "mode": mode})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_listen_whisper_and_barge_give_exactly_their_audio_paths_on_one_leg(floor, air):
    agent, call_id, person, sup, staff, leg, client, room = _supervised_call(floor)

    session = _monitor(client, agent.id, "listen")
    assert session["mode"] == "listen" and session["call_id"] == call_id and session["leg_sid"] == leg
    floor.wait_room(room, {staff, person, leg})
    # Listen: the supervisor hears both; neither hears the supervisor.
    assert floor.hears(room) == {leg: sorted([staff, person]), staff: [person], person: [staff]}
    assert air.call(leg)["status"] == "in-progress"

    changed = client.patch(f"/api/monitoring/{session['id']}", json={"mode": "whisper"})
    assert changed.status_code == 200 and changed.get_json()["leg_sid"] == leg
    # Whisper: the agent hears the supervisor, the person never does.
    assert floor.hears(room) == {leg: sorted([staff, person]), staff: sorted([person, leg]), person: [staff]}

    changed = client.post(f"/api/monitoring/{session['id']}", json={"mode": "barge"})
    assert changed.status_code == 200
    # Barge: both hear the supervisor.
    assert floor.hears(room) == {leg: sorted([staff, person]), staff: sorted([person, leg]),
                                 person: sorted([staff, leg])}

    back = client.patch(f"/api/monitoring/{session['id']}", json={"mode": "listen"})
    assert back.status_code == 200
    assert floor.hears(room) == {leg: sorted([staff, person]), staff: [person], person: [staff]}
    # Never reconnected: the same leg, in the room all along, and never taken for the agent's.
    participants = {p["call_sid"] for p in floor.room(room)["participants"]}
    assert participants == {staff, person, leg}
    assert floor.snap(agent.id)["audio"] == "browser"
    with floor.app.app_context():
        from app.agents import audio
        assert audio.leg_of(agent.id) == staff and audio.leg_of(sup.id) == leg
    assert air.alone() == []


def test_whisper_from_the_start_and_leaving_leaves_agent_and_person_talking(floor, air):
    agent, call_id, person, sup, staff, leg, client, room = _supervised_call(floor)

    session = _monitor(client, agent.id, "whisper")
    floor.wait_room(room, {staff, person, leg})
    assert floor.hears(room) == {leg: sorted([staff, person]), staff: sorted([person, leg]), person: [staff]}

    listed = client.get("/api/monitoring").get_json()["items"]
    assert [(s["id"], s["agent_id"], s["supervisor_id"], s["mode"]) for s in listed] == \
        [(session["id"], agent.id, sup.id, "whisper")]

    assert client.delete(f"/api/monitoring/{session['id']}").status_code == 204
    floor.wait_room(room, {staff, person})
    assert floor.hears(room) == {staff: [person], person: [staff]}
    # The supervisor's leg is back in their own room, still up, still theirs.
    floor.wait_room(f"agent-{sup.id}", {leg})
    assert air.call(leg)["status"] == "in-progress" and air.call(person)["status"] == "in-progress"
    assert floor.snap(agent.id)["state"] == "on-call"
    assert client.get("/api/monitoring").get_json()["items"] == []
    assert air.alone() == []

    # Audit: start, end, each with who, which agent, which call and the mode.
    [started] = floor.audit("monitor.start")
    [ended] = floor.audit("monitor.end")
    for row in (started, ended):
        assert row.actor_id == sup.id and row.target_type == "agent" and row.target_id == str(agent.id)
        assert row.details["agent_id"] == agent.id and row.details["call_id"] == call_id
        assert row.details["mode"] == "whisper" and row.details["session_id"] == session["id"]
    assert ended.details["reason"] == "left"


def test_every_change_of_mode_is_audited(floor, air):
    agent, call_id, person, sup, staff, leg, client, room = _supervised_call(floor)
    session = _monitor(client, agent.id, "listen")
    for mode in ("whisper", "barge", "barge", "listen"):
        assert client.patch(f"/api/monitoring/{session['id']}", json={"mode": mode}).status_code == 200
    changes = floor.audit("monitor.mode")
    assert [(r.details["previous_mode"], r.details["mode"]) for r in changes] == \
        [("listen", "whisper"), ("whisper", "barge"), ("barge", "listen")]  # no change, no row
    assert all(r.actor_id == sup.id and r.details["call_id"] == call_id for r in changes)


def test_the_session_stays_after_the_call_and_ends_with_the_agents_audio(floor, air):
    agent, call_id, person, sup, staff, leg, client, room = _supervised_call(floor)
    session = _monitor(client, agent.id, "barge")
    floor.wait_room(room, {staff, person, leg})

    air.sim.engine.hang_up_far_end(air.sim.engine.store.get(person))
    floor.wait_room(room, {staff, leg})  # the supervisor stays with the agent for the next call
    assert floor.hears(room) == {staff: [leg], leg: [staff]}
    assert client.get(f"/api/monitoring/{session['id']}").status_code == 200

    air.drop_browser(agent.id)  # the agent's room ends: the supervisor goes home by themselves
    floor.wait_room(f"agent-{sup.id}", {leg})
    def gone():
        body = client.get("/api/monitoring").get_json()
        assert "items" in body, body
        return not body["items"]
    wait_for(gone, "the session to end", poll=0.2)
    [ended] = wait_for(lambda: floor.audit("monitor.end"), "the end to be audited", poll=0.1)
    assert ended.details["reason"] == "agent_room_ended"
    assert air.call(leg)["status"] == "in-progress"


def test_who_may_monitor_and_when(floor, air):
    agent, call_id, person = _on_a_call(floor)
    idle = floor.agent()
    with floor.app.app_context():
        other_campaign = make_campaign().id
        db.session.commit()
    outsider = floor.supervisor(campaign_id=other_campaign)
    deaf = floor.supervisor(audio=False)
    sup = floor.supervisor()

    # Not on the agent's campaign: as if the agent did not exist.
    refused = floor.client(outsider).post("/api/monitoring", json={"agent_id": agent.id, "mode": "listen"})
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    # Agents may not monitor.
    assert floor.client(idle).post("/api/monitoring", json={"agent_id": agent.id}).status_code == 403
    # No leg of their own: told to connect it.
    refused = floor.client(deaf).post("/api/monitoring", json={"agent_id": agent.id, "mode": "listen"})
    error = refused.get_json()["error"]
    assert refused.status_code == 409 and error["code"] == "no_audio" and "audio" in error["message"]
    client = floor.client(sup)
    # An agent not on a call: a clear 409.
    refused = client.post("/api/monitoring", json={"agent_id": idle.id, "mode": "listen"})
    error = refused.get_json()["error"]
    assert refused.status_code == 409 and error["code"] == "agent_not_on_call"
    assert idle.username in error["message"] and "not on a call" in error["message"]
    # A mode that does not exist.
    bad = client.post("/api/monitoring", json={"agent_id": agent.id, "mode": "shout"})
    assert bad.status_code == 422 and "mode" in bad.get_json()["error"]["fields"]
    # One session per supervisor.
    session = _monitor(client, agent.id, "listen")
    again = client.post("/api/monitoring", json={"agent_id": agent.id, "mode": "barge"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_monitoring"
    # Another supervisor's session: not theirs to change; out of scope: not found.
    assert floor.client(outsider).patch(f"/api/monitoring/{session['id']}", json={"mode": "barge"}).status_code == 404
    assert floor.client(outsider).get("/api/monitoring").get_json()["items"] == []
    assert floor.client(deaf).delete(f"/api/monitoring/{session['id']}").status_code == 403
    # An admin may monitor any campaign's agent.
    admin = floor.supervisor(role="admin")
    assert floor.client(admin).get("/api/monitoring").get_json()["items"][0]["id"] == session["id"]
    assert [r.details["mode"] for r in floor.audit("monitor.start")] == ["listen"]


def test_a_supervisor_connects_their_own_audio_by_phone(floor, air):
    sup = floor.supervisor(audio=False)
    client = floor.client(sup)
    assert client.get("/api/supervisors/me/audio").get_json()["connected"] is False
    response = client.post("/api/supervisors/me/audio", json={"via": "phone", "phone": SUPERVISOR_PHONE})
    assert response.status_code == 202, response.get_json()
    wait_for(lambda: floor.snap(sup.id)["audio"] == "phone", "the supervisor to press 1")
    status = client.get("/api/supervisors/me/audio").get_json()
    assert status["connected"] and status["via"] == "phone" and status["phone"] == SUPERVISOR_PHONE
    [leg] = [p["call_sid"] for p in floor.room(f"agent-{sup.id}")["participants"]]
    agent, call_id, person = _on_a_call(floor)
    session = _monitor(client, agent.id, "listen")
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id], person, leg})
    assert client.delete("/api/supervisors/me/audio").status_code == 204
    # The session ended first (the leg went home); the hang-up itself is the pool's task.
    assert [r.details["reason"] for r in floor.audit("monitor.end")] == ["left"]
    with floor.app.app_context():
        from app.agents import audio
        audio.hang_up_now(leg)
    wait_for(lambda: air.call(leg)["status"] == "completed", "the supervisor's phone leg to end")
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id], person})
    assert [r.details["session_id"] for r in floor.audit("monitor.end")] == [session["id"]]
    assert client.get("/api/supervisors/me/voice-token").status_code == 404  # browser audio not set up


def test_a_supervisor_whose_leg_drops_never_ends_the_agents_call(floor, air):
    agent, call_id, person, sup, staff, leg, client, room = _supervised_call(floor)
    _monitor(client, agent.id, "barge")
    floor.wait_room(room, {staff, person, leg})
    air.drop_browser(sup.id)  # the supervisor closes the browser mid-call
    floor.wait_room(room, {staff, person})
    assert floor.hears(room) == {staff: [person], person: [staff]}
    [ended] = wait_for(lambda: floor.audit("monitor.end"), "the end to be audited", poll=0.1)
    assert ended.details["reason"] == "supervisor_audio_ended" and ended.details["call_id"] == call_id
    assert floor.snap(agent.id)["state"] == "on-call" and floor.snap(agent.id)["audio"] == "browser"
    assert client.get("/api/monitoring").get_json()["items"] == []
    assert air.alone() == []


def _items(body):
    return body if isinstance(body, list) else body.get("items", [])


def _next_call_on(floor, agent, campaign_id: int) -> tuple[int, str]:
    """The agent, back to ready on `campaign_id`, is answered a person there."""
    from app.agents.transitions import apply
    from app.common.timeutil import utcnow

    with floor.app.app_context():
        apply(agent.id, ["wrap-up"], "ready", now=utcnow(), campaign_id=campaign_id, reason="agent")
        db.session.commit()
    return place_person(floor.app, campaign_id, PERSON)


def test_a_session_never_follows_the_agent_onto_a_campaign_the_supervisor_does_not_supervise(floor):
    """The session outlives a call, as floors expect, but the agent's next call on another
    campaign ends it before the person joins: the supervisor never hears that call."""
    from tests.agents.factories import make_campaign

    agent = floor.agent()
    call_a, person_a = floor.person_with(agent)
    with floor.app.app_context():
        other = make_campaign().id
        assign(agent.id, other)
        db.session.commit()
    sup = floor.supervisor()  # supervises floor.campaign_id only
    staff, leg = floor.legs[agent.id], floor.legs[sup.id]
    client = floor.client(sup)
    _monitor(client, agent.id, "listen")
    floor.wait_room(f"agent-{agent.id}", {staff, person_a, leg})
    assert floor.client(agent).post(f"/api/console/calls/{call_a}/hangup", json={}).status_code == 200
    wait_for(lambda: floor.snap(agent.id)["state"] == "wrap-up", "wrap-up")
    call_b, person_b = _next_call_on(floor, agent, other)
    floor.wait_room(f"agent-{agent.id}", {staff, person_b})
    floor.wait_room(f"agent-{sup.id}", {leg})  # the supervisor's leg is home
    assert sup.id not in [s["supervisor_id"] for s in _items(client.get("/api/monitoring").get_json())]
    assert [e.details.get("reason") for e in floor.audit("monitor.end")] == ["out_of_scope"]


def test_a_session_follows_the_agent_onto_their_next_call_of_the_same_campaign_audited(floor):
    agent = floor.agent()
    call_a, person_a = floor.person_with(agent)
    sup = floor.supervisor()
    staff, leg = floor.legs[agent.id], floor.legs[sup.id]
    client = floor.client(sup)
    _monitor(client, agent.id, "listen")
    floor.wait_room(f"agent-{agent.id}", {staff, person_a, leg})
    assert floor.client(agent).post(f"/api/console/calls/{call_a}/hangup", json={}).status_code == 200
    wait_for(lambda: floor.snap(agent.id)["state"] == "wrap-up", "wrap-up")
    call_b, person_b = _next_call_on(floor, agent, floor.campaign_id)
    floor.wait_room(f"agent-{agent.id}", {staff, person_b, leg})
    assert sorted(floor.hears(f"agent-{agent.id}")[leg]) == sorted([staff, person_b])
    assert [row.details["call_id"] for row in floor.audit("monitor.call")] == [call_b]
