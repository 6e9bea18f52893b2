"""Supervisors act on the agents of their campaigns only; every change is published to the right rooms."""
from sqlalchemy import select

from app.agents import reservations
from app.audit.models import AuditEntry
from app.extensions import db
from app.interactions.screen_pop import publish_screen_pop
from tests.agents.factories import make_call, make_campaign, make_disposition


def test_supervisor_force_pauses_and_logs_out_agents_of_their_campaign(app, floor, supervisor_of):
    sup = supervisor_of(floor.campaign_id)
    floor.drive(0, "ready")
    floor.drive(1, "ready")
    paused = sup.post(f"/api/agents/{floor.agent_ids[0]}/force-pause", json={"pause_code": "break"})
    assert paused.status_code == 200 and paused.get_json()["state"] == "paused"
    assert sup.post(f"/api/agents/{floor.agent_ids[0]}/force-pause", json={}).status_code == 409
    out = sup.post(f"/api/agents/{floor.agent_ids[1]}/logout")
    assert out.status_code == 200 and out.get_json()["state"] == "offline"
    assert sup.post(f"/api/agents/{floor.agent_ids[1]}/logout").status_code == 409  # already offline
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == sup.user.id)).all()
    assert "agent.force_pause" in actions and "agent.force_logout" in actions


def test_agents_on_a_call_are_neither_paused_nor_logged_out(floor, supervisor_of):
    sup = supervisor_of(floor.campaign_id)
    floor.drive(0, "on-call")
    for path in ("force-pause", "logout"):
        response = sup.post(f"/api/agents/{floor.agent_ids[0]}/{path}", json={})
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["fields"]["from"] == ["on-call"] and "while on a call" in error["message"]


def test_other_campaigns_agents_answer_404(app, floor, signed_in, supervisor_of):
    with app.app_context():
        elsewhere = make_campaign()
        db.session.commit()
        elsewhere_id = elsewhere.id
    sup = supervisor_of(elsewhere_id)
    floor.drive(1, "ready")
    assert sup.post(f"/api/agents/{floor.agent_ids[1]}/force-pause", json={}).status_code == 404
    assert sup.post(f"/api/agents/{floor.agent_ids[1]}/logout").status_code == 404
    assert sup.get(f"/api/agents/states?campaign_id={floor.campaign_id}").status_code == 404
    assert sup.post(f"/api/agents/{sup.user.id}/logout").status_code == 404  # not an agent
    agent = signed_in(floor.test_users[2])
    assert agent.post(f"/api/agents/{floor.agent_ids[1]}/logout").status_code == 403
    assert agent.get(f"/api/agents/states?campaign_id={floor.campaign_id}").status_code == 403


def test_admin_may_act_on_any_agent(floor, login_as):
    admin = login_as("admin")
    floor.drive(2, "wrap-up")
    assert admin.post(f"/api/agents/{floor.agent_ids[2]}/force-pause", json={}).status_code == 200
    assert admin.post(f"/api/agents/{floor.agent_ids[2]}/logout").get_json()["state"] == "offline"


def test_floor_view_lists_agents_by_state(app, floor, supervisor_of):
    sup = supervisor_of(floor.campaign_id)
    floor.drive(1, "on-call")
    floor.drive(2, "paused")
    floor.drive(0, "offline")
    with app.app_context():
        from app.agents import services

        services.set_own_state(floor.agent(0), "ready", campaign_id=floor.other_campaign_id)
    body = sup.get(f"/api/agents/states?campaign_id={floor.campaign_id}").get_json()
    states = {item["agent_id"]: item for item in body["items"]}
    assert states[floor.agent_ids[1]]["state"] == "on-call"
    assert states[floor.agent_ids[2]]["pause_code"] == "break"
    assert states[floor.agent_ids[0]]["state"] == "elsewhere" and states[floor.agent_ids[0]]["campaign_id"] is None
    assert body["counts"] == {"on-call": 1, "paused": 1, "elsewhere": 1}
    assert all(item["seconds_in_state"] is not None for item in body["items"])


def test_state_changes_are_published_to_the_agent_and_its_campaign(ctx, floor, tap):
    floor.drive(0, "offline")  # the agent's audio connects (agent.audio) before any state
    tap.drain(0.1)
    floor.drive(0, "on-call")
    events = tap.drain()
    rooms = {(event, room) for event, room, _ in events}
    agent_room, campaign_room = f"agent:{floor.agent_ids[0]}", f"campaign:{floor.campaign_id}"
    # (the screen pop is the dialer's, once the answered call is theirs: tests/dialer/test_routing)
    assert rooms == {("agent.state", agent_room), ("agent.state", campaign_room)}
    states = [p["state"] for e, r, p in events if e == "agent.state" and r == campaign_room]
    assert states == ["ready", "reserved", "on-call"]


def test_screen_pop_carries_contact_script_and_campaign(ctx, floor, tap):
    campaign_id = floor.campaign_id
    make_disposition(campaign_id, "sale")
    call = make_call(campaign_id, first_name="Grace", custom_fields={"plan": "gold"})
    db.session.commit()
    tap.drain(0.1)
    payload = publish_screen_pop(floor.agent_ids[0], call.id)
    assert payload["contact"]["first_name"] == "Grace" and payload["contact"]["custom_fields"] == {"plan": "gold"}
    assert payload["campaign"]["script"] == "Hello, this is Omnivox." and payload["campaign"]["id"] == campaign_id
    assert [c["code"] for c in payload["disposition_codes"]] == ["sale"]
    [(event, room, published)] = tap.drain()
    assert (event, room) == ("call.screen_pop", f"agent:{floor.agent_ids[0]}") and published == payload


def test_sweepers_publish_what_they_change(ctx, floor, tap):
    floor.drive(0, "ready", t=0)
    call = floor.new_call()
    reservations.reserve_agent(floor.campaign_id, call, ttl_seconds=2)
    tap.drain(0.1)
    from datetime import timedelta

    from app.common.timeutil import utcnow

    assert reservations.expire_stale_reservations(now=utcnow() + timedelta(seconds=3)) == [floor.agent_ids[0]]
    payloads = [p for e, r, p in tap.drain() if r == f"campaign:{floor.campaign_id}"]
    assert [(p["state"], p["reason"]) for p in payloads] == [("ready", "reservation_expired")]
