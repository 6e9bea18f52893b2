"""The agent's audio, end to end through the carrier simulator: one leg per session in the
agent's own room (browser or phone), no audio no ready, a person joined into the room (never
alone), and a leg that drops taking the agent out of ready at once."""
from __future__ import annotations

import pytest

from app.agents import audio, reservations
from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.errors import ApiError
from app.extensions import db
from tests.agents.factories import assign, make_call, make_campaign
from tests.dialer.on_air import leg_end_held_back, on_the_air, place_person, serve, wait_for
from tests.helpers import UserFactory

AGENT_PHONE, VOICEMAIL_PHONE, PERSON = "+12025550177", "+12025550178", "+12025550179"


@pytest.fixture
def air(_app, test_environ):
    with on_the_air(_app, test_environ, {"agent_phones": {AGENT_PHONE: "1", VOICEMAIL_PHONE: ""},
                                "outcomes": {PERSON: "human"}, "talk_seconds": (300.0, 300.0)}) as on_air:
        yield on_air


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
    return place_person(app, campaign_id, PERSON)


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


def test_a_person_joined_into_a_room_whose_agent_just_left_hears_the_safe_harbour_message(
        _app, air, staffed, monkeypatch, queued):
    """The agent's leg ends at the carrier, but its final status has not reached us when a
    person answers: the agent is still reserved and confirmed, and the person is joined into a
    room that no longer runs. They do not start it; its wait URL hands them the safe-harbour
    message at once, and the call is counted abandoned."""
    campaign_id, agent_id = staffed
    air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the browser leg to join")
    _ready(_app, agent_id, campaign_id)
    with leg_end_held_back(monkeypatch):
        air.drop_browser(agent_id)
        call_id, person = _answered_person(_app, air, campaign_id)
        said = wait_for(lambda: air.call(person)["said"], "the person to hear something")
        assert "Acme Solar" in said[0] or "missed you" in said[0], said
        wait_for(lambda: air.call(person)["connected_to"] != f"conference:agent-{agent_id}"
                 or air.call(person)["status"] == "completed", "the person to be taken out of the room")
        with _app.app_context():
            assert db.session.get(Call, call_id).abandoned is True
        # The simulator saw them wait alone, and for how long: the app got them out.
        assert [entry["call_sid"] for entry in air.alone()] == [person]
        # The leg's final status is still held back: the agent's leg is still on record, so
        # once this call is over they could go ready and take the next person into the same
        # empty room. The empty room asked a worker to check the leg; the carrier says it is
        # over, and it ends as its callback would have ended it.
        assert _snap(_app, agent_id)["audio"] == "browser"
        checks = [args for name, args, _ in queued if name == "workers.telephony.check_agent_leg"]
        assert checks == [[agent_id]]  # once, however often the wait URL was asked
        from workers.telephony import check_agent_leg

        with _app.app_context():
            check_agent_leg(*checks[0])  # as the telephony worker runs it
        snap = _snap(_app, agent_id)
        # No audio, no ready (the state machine's rule): this call over, they cannot go ready
        # until their audio is back.
        assert snap["audio"] is None and snap["state"] not in ("ready", "reserved")


def test_a_leg_still_up_or_one_the_carrier_answers_404_for_is_left_alone(_app, air, staffed):
    """Only a final status from the carrier ends a leg here. A 404 (credentials that cannot
    see it) is no proof: a leg still up would end its room when it left."""
    campaign_id, agent_id = staffed
    leg = air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"] == "browser", "the browser leg to join")
    _ready(_app, agent_id, campaign_id)
    from tests.ops.test_metrics import scrape, value

    with _app.app_context():
        assert audio.check_leg(agent_id) is None  # up: left alone
    assert _snap(_app, agent_id)["state"] == "ready"
    assert value(scrape(_app.test_client()), "omnivox_carrier_unknown_legs_total") == 0
    with _app.app_context():  # a CallSid the carrier never gave
        from app.common.redis import get_redis

        get_redis().hset(agent_state.agent_key(agent_id), "leg_sid", "CA" + "7" * 32)
        assert audio.check_leg(agent_id) is None
    assert _snap(_app, agent_id)["state"] == "ready" and air.call(leg)["status"] == "in-progress"
    # Ops is told: the counter an alert watches, as for calls the reaper cannot see.
    assert value(scrape(_app.test_client()), "omnivox_carrier_unknown_legs_total") == 1


@pytest.fixture
def queued(_app, monkeypatch):
    """The tasks sent, captured on the session's app (the `sent_tasks` fixture would bind the
    database session to the test's one connection, which the server threads must not share)."""
    sent = []
    monkeypatch.setattr(_app.extensions["celery"], "send_task",
                        lambda name, args=None, **options: sent.append((name, list(args or ()), options)))
    return sent


def test_a_second_connection_replaces_the_first_and_keeps_the_room(_app, air, staffed, queued):
    """Another tab, or the phone answered after the browser: the new leg joins the room, the
    old one is told not to end it, then hung up. The agent stays connected, on the new leg."""
    from app.agents.audio import hang_up_now
    from app.common.tasks import HANG_UP_CALL

    campaign_id, agent_id = staffed
    first = air.connect_browser(agent_id)
    wait_for(lambda: _snap(_app, agent_id)["audio"], "the first leg to join")
    second = air.connect_browser(agent_id)
    [(name, args, _)] = wait_for(lambda: [t for t in queued if t[0] == HANG_UP_CALL], "the old leg's retirement")
    assert args[0] == first and args[1].startswith("CF")
    with _app.app_context():
        hang_up_now(*args)  # what the telephony worker does with it
    wait_for(lambda: air.call(first)["status"] == "completed", "the old leg to end")
    assert air.call(second)["status"] == "in-progress"
    wait_for(lambda: _snap(_app, agent_id)["audio"] == "browser", "the agent to stay connected")
    with _app.app_context():
        assert audio.leg_of(agent_id) == second
    assert _ready(_app, agent_id, campaign_id)["state"] == "ready"


def test_a_dropped_leg_is_out_of_ready_by_the_time_its_webhook_is_answered(client, app, floor_one):
    """A leg's final status is applied while the carrier waits for our answer: once the 204 is
    back, the agent is paused and no reservation can take them (no sweep, no delay)."""
    from tests.calls.factories import post_signed
    from tests.helpers import connect_audio

    campaign_id, agent_id = floor_one
    with app.app_context():
        leg = connect_audio(agent_id)
        agent_services.set_own_state(db.session.get(User, agent_id), "ready", campaign_id=campaign_id)
    form = {"CallSid": leg, "CallStatus": "completed", "From": f"client:agent-{agent_id}", "Direction": "inbound"}
    assert post_signed(client, app, "/twilio/agent/status", form).status_code == 204
    with app.app_context():
        assert agent_state.snapshot(agent_id)["state"] == "paused"
        assert reservations.reserve_agent(campaign_id, 1) is None


@pytest.fixture
def floor_one(app, users):
    agent = users.create("agent")
    with app.app_context():
        campaign = make_campaign()
        assign(agent.id, campaign.id)
        db.session.commit()
        return campaign.id, agent.id


def test_start_up_says_when_agents_have_no_audio_path(app):
    from app.agents.audio import report_audio_paths

    saved = {k: app.config.get(k) for k in ("TWILIO_API_BASE_URL", "TWILIO_API_KEY_SID")}
    try:
        with app.app_context():
            app.config.update(TWILIO_API_BASE_URL=None, TWILIO_API_KEY_SID=None)
            assert "no audio path" in report_audio_paths()
            app.config.update(TWILIO_API_BASE_URL="http://127.0.0.1:9")  # the simulator: no warning
            assert report_audio_paths() is None
    finally:
        app.config.update(saved)


def test_a_preview_call_still_ringing_is_cancelled_when_its_agents_audio_drops(ctx, users, sent_tasks):
    """Nobody could take the person who answers it: the call is cancelled at the carrier (only
    while unanswered), rather than answered into the safe-harbour message."""
    from app.common.tasks import HANG_UP_CALL
    from app.dialer.preview import hold_agent_for
    from tests.helpers import connect_audio

    agent = users.create("agent")
    campaign = make_campaign()
    assign(agent.id, campaign.id)
    call = make_call(campaign.id)
    call.kind, call.agent_id, call.status, call.call_sid = "preview", agent.id, "ringing", "CA" + "1" * 32
    db.session.commit()
    leg = connect_audio(agent.id)
    agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign.id)
    hold_agent_for(agent.id, call.id, campaign.id)
    audio.leg_ended(agent.id, leg, "completed")
    assert agent_state.snapshot(agent.id)["state"] == "paused"
    assert (HANG_UP_CALL, ["CA" + "1" * 32, None, True]) in [(n, a) for n, a, _ in sent_tasks]


def test_the_account_call_limit_ends_an_agents_leg_as_twilio_would(_app, staffed):
    """No leg outlives the account's longest call (Twilio: 4 hours by default): the simulator
    ends an agent's session-long leg too, and the agent leaves ready at once."""
    campaign_id, agent_id = staffed
    short, stop = serve(_app, {"max_call_seconds": 30.0})  # 30 simulated seconds
    try:
        leg = short.connect_browser(agent_id)
        wait_for(lambda: _snap(_app, agent_id)["audio"], "the browser leg to join")
        _ready(_app, agent_id, campaign_id)
        wait_for(lambda: short.call(leg)["status"] == "completed", "the leg to reach the call limit")
        snap = wait_for(lambda: (s := _snap(_app, agent_id))["state"] == "paused" and s, "the agent to leave ready")
        assert snap["pause_code"] == "no-audio"
    finally:
        stop()


def test_the_bots_phones_are_fictional_and_pass_the_dial_policy():
    """Phone bots connect through the same policy as people: their numbers must be callable,
    and never a real phone."""
    from app.telephony.dial_policy import refusal
    from devtools.bot_agents import bot_phone
    from devtools.demo import is_fictional

    for agent_id in range(1, 20000, 7):
        assert is_fictional(bot_phone(agent_id)) and refusal(bot_phone(agent_id), ("+1",)) is None, agent_id
