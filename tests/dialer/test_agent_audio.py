"""The agent's audio, end to end through the carrier simulator: one leg per session in the
agent's own room (browser or phone), no audio no ready, a person joined into the room (never
alone), and a leg that drops taking the agent out of ready at once."""
from __future__ import annotations

import pytest
import redis as redis_lib

from app.agents import audio, reservations
from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.errors import ApiError
from app.extensions import db
from app.telephony.carrier import PlaceCallRequest
from app.telephony.factory import get_carrier, webhook_url
from tests.agents.factories import assign, make_call, make_campaign
from tests.browser.seed import TOUCHED
from tests.dialer.on_air import serve, wait_for
from tests.helpers import UserFactory, truncate_tables

AGENT_PHONE, VOICEMAIL_PHONE, PERSON = "+12025550177", "+12025550178", "+12025550179"


@pytest.fixture
def air(_app, test_environ):
    redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()
    on_air, stop = serve(_app, {"agent_phones": {AGENT_PHONE: "1", VOICEMAIL_PHONE: ""},
                                "outcomes": {PERSON: "human"}, "talk_seconds": (300.0, 300.0)})
    try:
        yield on_air
    finally:
        stop()
        truncate_tables(test_environ["DATABASE_URL"], TOUCHED + ", call_transfers")
        redis_lib.Redis.from_url(test_environ["REDIS_URL"]).flushdb()


@pytest.fixture
def staffed(_app, air):
    """A campaign with one agent assigned, signed off, committed (the web server's threads
    have connections of their own: nothing here is inside the test's rolled-back transaction)."""
    agent = UserFactory(_app).create("agent")
    with _app.app_context():
        campaign = make_campaign()
        assign(agent.id, campaign.id)
        db.session.commit()
        return campaign.id, agent.id


def _ready(app, agent_id, campaign_id):
    with app.app_context():
        return agent_services.set_own_state(db.session.get(User, agent_id), "ready", campaign_id=campaign_id)


def _snap(app, agent_id):
    with app.app_context():
        return agent_state.snapshot(agent_id)


def _answered_person(app, air, campaign_id) -> tuple[int, str]:
    """A call to a person placed through the carrier, answered: Twilio asks /twilio/voice."""
    with app.app_context():
        call = make_call(campaign_id)
        call.to_number = PERSON
        db.session.commit()
        placed = get_carrier().place_call(PlaceCallRequest(
            to=PERSON, from_="+12025550100", answer_url=webhook_url("voice", call.id),
            status_callback_url=webhook_url("status", call.id)))
        call.call_sid = placed.call_sid
        db.session.commit()
        return call.id, placed.call_sid


def test_without_audio_an_agent_cannot_go_ready_and_is_told_why(_app, staffed):
    campaign_id, agent_id = staffed
    with pytest.raises(ApiError) as refused:
        _ready(_app, agent_id, campaign_id)
    assert refused.value.status == 409 and refused.value.code == "no_audio"
    assert "without audio" in refused.value.message and "phone" in refused.value.message
    assert _snap(_app, agent_id)["state"] == "offline"


def test_a_browser_leg_joins_the_agents_room_and_stays_between_calls(_app, air, staffed):
    campaign_id, agent_id = staffed
    leg = air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"] == "browser", "the browser leg to join")
    assert _ready(_app, agent_id, campaign_id)["state"] == "ready"
    room = air.conference(f"agent-{agent_id}")
    assert [(p["call_sid"], p["party"]) for p in room["participants"]] == [(leg, "staff")]
    assert air.call(leg)["status"] == "in-progress"


def test_a_phone_agent_accepts_with_a_key_and_a_voicemail_never_becomes_an_agent(_app, air, staffed):
    campaign_id, agent_id = staffed
    machine = UserFactory(_app).create("agent")
    with _app.app_context():
        assign(machine.id, campaign_id)
        db.session.commit()
        audio.call_agent_phone(agent_id, AGENT_PHONE)
        audio.call_agent_phone(machine.id, VOICEMAIL_PHONE)
    wait_for(lambda: _snap(_app, agent_id)["audio"] == "phone", "the phone agent to press 1")
    assert _ready(_app, agent_id, campaign_id)["state"] == "ready"
    [voicemail] = [c for c in air.sim.calls(VOICEMAIL_PHONE)]
    wait_for(lambda: air.call(voicemail["sid"])["status"] == "completed", "the unaccepted call to end")
    assert "Press 1" in " ".join(air.call(voicemail["sid"])["said"])
    assert _snap(_app, machine.id)["audio"] is None  # never connected: cannot go ready
    with pytest.raises(ApiError):
        _ready(_app, machine.id, campaign_id)
    with _app.app_context():
        assert audio.audio_status(agent_id)["phone"] == AGENT_PHONE  # remembered for next time


def test_an_answered_person_joins_the_reserved_agents_room_and_they_hear_each_other(_app, air, staffed):
    campaign_id, agent_id = staffed
    leg = air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the browser leg to join")
    _ready(_app, agent_id, campaign_id)
    call_id, person = _answered_person(_app, air, campaign_id)

    def both_in_room():
        room = air.conference(f"agent-{agent_id}")
        return room if room and len(room["participants"]) == 2 else None

    room = both_in_room() or wait_for(both_in_room, "the person to join the agent's room")
    hears = {p["call_sid"]: p["hears"] for p in room["participants"]}
    assert hears == {leg: [person], person: [leg]}
    with _app.app_context():
        call = db.session.get(Call, call_id)
        assert call.agent_id == agent_id and not call.abandoned and call.wait_seconds < 2
    assert air.alone() == []
    # The person hangs up: the agent's leg stays in the room for the next call.
    air.sim.engine.hang_up_far_end(air.sim.engine.store.get(person))
    wait_for(lambda: len((air.conference(f"agent-{agent_id}") or {"participants": []})["participants"]) == 1,
             "the person to leave")
    assert air.call(leg)["status"] == "in-progress"


def test_a_dropped_leg_takes_the_agent_out_of_ready_at_once_and_back_once_it_returns(_app, air, staffed):
    campaign_id, agent_id = staffed
    air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the browser leg to join")
    _ready(_app, agent_id, campaign_id)
    air.drop_browser(agent_id)
    snap = wait_for(lambda: (s := _snap(_app, agent_id))["state"] == "paused" and s, "the agent to leave ready")
    assert snap["pause_code"] == "no-audio" and snap["audio"] is None
    with _app.app_context():
        assert reservations.reserve_agent(campaign_id, 1) is None  # no call is routed to them
        with pytest.raises(ApiError):
            agent_services.set_own_state(db.session.get(User, agent_id), "ready")
    air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the leg to come back")
    assert _ready(_app, agent_id, campaign_id)["state"] == "ready"


def test_a_leg_dropped_mid_call_ends_the_room_and_leaves_nobody_alone(_app, air, staffed):
    campaign_id, agent_id = staffed
    air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the browser leg to join")
    _ready(_app, agent_id, campaign_id)
    _, person = _answered_person(_app, air, campaign_id)
    wait_for(lambda: air.call(person)["connected_to"] == f"conference:agent-{agent_id}", "the bridge")
    wait_for(lambda: len(air.conference(f"agent-{agent_id}")["participants"]) == 2, "both in the room")
    air.drop_browser(agent_id)
    wait_for(lambda: air.call(person)["status"] == "completed", "the person's call to end with the room")
    assert air.alone() == []


def test_a_join_reported_after_the_legs_end_changes_nothing(ctx, users):
    agent = users.create("agent")
    audio.leg_ended(agent.id, "CA" + "9" * 32, "completed")
    assert audio.leg_joined(agent.id, "CA" + "9" * 32, "browser") is False
    assert audio.leg_of(agent.id) is None


def test_an_answer_is_not_bridged_to_an_agent_whose_leg_went_after_the_reservation(ctx, users, redis_client):
    """The leg ends between the reservation and the bridge: the agent is paused, never put on
    the call, and the person hears the safe-harbour message within the 2 seconds."""
    import time

    from app.dialer.routing import route_answered_call
    from tests.helpers import connect_audio

    agent = users.create("agent")
    campaign = make_campaign()
    assign(agent.id, campaign.id)
    call = make_call(campaign.id)
    db.session.commit()
    leg = connect_audio(agent.id)
    agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign.id)
    assert reservations.reserve_agent(campaign.id, call.id) == agent.id
    # The leg's end is half applied: gone from the hash, the agent still reserved.
    redis_client.hdel(f"agent:{agent.id}", "leg_sid")
    assert not reservations.confirm_reservation(agent.id, call.id)
    redis_client.hset(f"agent:{agent.id}", "leg_sid", leg)
    audio.leg_ended(agent.id, leg, "completed")
    assert agent_state.snapshot(agent.id)["state"] == "paused"
    second = make_call(campaign.id)
    db.session.commit()
    decision = route_answered_call(second, None, opt_out_url="http://x/opt-out", started=time.monotonic(),
                                   deadline_seconds=0.2)
    assert decision.abandoned and decision.agent_id is None and "<Conference" not in decision.twiml
    assert decision.wait_seconds < 2
