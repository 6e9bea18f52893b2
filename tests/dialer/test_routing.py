"""The 2-second rule through the real /twilio/voice webhook: bridge to an agent, or abandon
with the safe-harbour message, whose opt-out key lands the number on the do-not-call list."""
import re
import threading
import time

import pytest
from sqlalchemy import select

from app.agents import reservations as agent_routing
from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.redis import get_redis
from app.dnc.models import DncEntry
from app.extensions import db
from app.interactions.models import Interaction
from tests.agents.factories import QueueTap, assign, make_call, make_campaign, make_pause_code
from tests.calls.factories import post_signed


@pytest.fixture
def floor(app, users):
    """A campaign with two agents assigned, both signed off."""
    agents = [users.create("agent"), users.create("agent")]
    with app.app_context():
        campaign = make_campaign()
        campaign.safe_harbour_message = "This is Acme Solar, call us on 202 555 0101."
        for agent in agents:
            assign(agent.id, campaign.id)
        db.session.commit()
        return campaign.id, [a.id for a in agents]


def _ready(app, agent_id, campaign_id):
    with app.app_context():
        agent_services.set_own_state(db.session.get(User, agent_id), "ready", campaign_id=campaign_id)


def _call(app, campaign_id):
    with app.app_context():
        call = make_call(campaign_id)
        call.status, call.call_sid = "ringing", f"CA{call.id:032d}"
        db.session.commit()
        return call.id, call.call_sid


def _answer(client, app, call_id, call_sid, **extra):
    form = {"CallSid": call_sid, "CallStatus": "in-progress", "To": "+12025550111", **extra}
    return post_signed(client, app, f"/twilio/voice?attempt={call_id}", form)


def test_a_person_is_bridged_to_the_ready_agent(app, client, floor):
    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    response = _answer(client, app, call_id, sid)
    assert f">call-{call_id}</Conference>" in response.get_data(as_text=True)
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert (call.agent_id, call.abandoned, call.outcome) == (agent_id, False, "human")
        assert call.connected_at is not None and 0 <= call.wait_seconds < 2
        assert db.session.scalar(select(Interaction.agent_id).where(Interaction.call_id == call_id)) == agent_id
        assert agent_routing.campaign_agent_counts(campaign_id)["on-call"] == 1


def test_the_connected_agent_is_shown_the_call_and_nobody_else_is(app, client, floor, redis_client):
    campaign_id, (agent_id, other_id) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    tap = QueueTap(redis_client)
    try:
        tap.drain(0.1)
        _answer(client, app, call_id, sid)
        pops = [(room, payload) for event, room, payload in tap.drain() if event == "call.screen_pop"]
    finally:
        tap.close()
    assert [room for room, _ in pops] == [f"agent:{agent_id}"]
    assert pops[0][1]["call"]["id"] == call_id


def test_with_no_agent_free_the_call_is_abandoned_within_two_seconds_with_the_safe_harbour_message(
        app, client, floor):
    campaign_id, _ = floor
    call_id, sid = _call(app, campaign_id)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "This is Acme Solar, call us on 202 555 0101." in body and "press 9" in body
    assert "<Conference" not in body and "<Hangup" in body
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert call.abandoned is True and call.agent_id is None
        assert call.wait_seconds <= 2.0  # the law's limit, as measured by the router itself
        assert call.wait_seconds >= 1.0  # it did wait for an agent to free up before giving up


def test_the_safe_harbour_placeholders_are_spoken_as_the_seller_name_and_number(app, client, floor):
    """A message saved as "{seller_name} ... {seller_phone}" (campaign validation allows it) is
    heard with the seller's name and number, never the placeholders."""
    campaign_id, _ = floor
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.seller_name, campaign.seller_phone = "Acme Solar", "+12025550101"
        campaign.safe_harbour_message = "This is {seller_name}; call us on {seller_phone}."
        db.session.commit()
    call_id, sid = _call(app, campaign_id)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "This is Acme Solar; call us on (202) 555-0101." in body
    assert "{seller" not in body


def _free_up_in_redis(app, agent_id, campaign_id):
    """paused -> ready in Redis alone: routing reads only Redis, and the request thread holds the
    test's one database connection, which another thread must not share."""
    with app.app_context():
        assert agent_state.transition(agent_id, ["paused"], "ready", int(time.time() * 1000),
                                      campaign_id=campaign_id).ok


def test_an_agent_freeing_up_during_the_wait_takes_the_call(app, client, floor):
    campaign_id, (agent_id, _) = floor
    with app.app_context():
        make_pause_code("break")
        db.session.commit()
        agent = db.session.get(User, agent_id)
        agent_services.set_own_state(agent, "paused", campaign_id=campaign_id, pause_code="break")
    call_id, sid = _call(app, campaign_id)
    timer = threading.Timer(0.2, _free_up_in_redis, (app, agent_id, campaign_id))
    timer.start()
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    timer.join()
    assert f">call-{call_id}</Conference>" in body
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert call.agent_id == agent_id and not call.abandoned and call.wait_seconds >= 0.15


def test_one_agent_takes_the_first_answer_and_the_second_is_abandoned(app, client, floor):
    """(Concurrent reservations never double-book: tests/agents/test_routing.py races them.)"""
    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    first, second = _call(app, campaign_id), _call(app, campaign_id)
    assert "<Conference" in _answer(client, app, *first).get_data(as_text=True)
    assert "<Conference" not in _answer(client, app, *second).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Call, first[0]).agent_id == agent_id
        assert db.session.get(Call, second[0]).abandoned is True


def test_the_opt_out_key_after_the_safe_harbour_message_adds_the_number_to_dnc(app, client, floor):
    campaign_id, _ = floor
    call_id, sid = _call(app, campaign_id)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    action = re.search(r'action="([^"]+)"', body).group(1).replace("&amp;", "&")
    path = action.removeprefix("http://localhost")
    response = post_signed(client, app, path, {"CallSid": sid, "Digits": "9"})
    assert "do-not-call" in response.get_data(as_text=True)
    with app.app_context():
        number = db.session.get(Call, call_id).to_number
        entry = db.session.scalar(select(DncEntry).where(DncEntry.phone_e164 == number))
        assert entry is not None and entry.campaign_id is None and entry.source == "opt-out"


@pytest.fixture
def database_down(app):
    """Every database statement of the next request fails to connect, as with PostgreSQL away."""
    from sqlalchemy import create_engine

    from devtools.services import free_port
    from tests.conftest import _ConnectionBoundSession

    dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x",
                         connect_args={"connect_timeout": 2})
    working = db.session

    def down():
        db.session = db._make_scoped_session({"bind": dead, "class_": _ConnectionBoundSession})

    yield down
    with app.app_context():
        db.session.remove()
    db.session = working
    dead.dispose()


def _left_by_the_dial_worker(app, call_id, campaign_id):
    from app.campaigns.models import Campaign
    from app.calls.safe_harbour import remember_safe_harbour

    with app.app_context():
        pipe = get_redis().pipeline()
        remember_safe_harbour(pipe, call_id, db.session.get(Campaign, campaign_id))
        pipe.execute()


def test_an_answer_while_the_database_is_away_hears_the_safe_harbour_message(
        app, client, floor, database_down):
    """Never an empty conference: no agent can be connected and recorded, so the call is
    abandoned lawfully, with the prompt the dial worker left in Redis and a working opt-out key."""
    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    _left_by_the_dial_worker(app, call_id, campaign_id)
    database_down()
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "This is Acme Solar, call us on 202 555 0101." in body and "press 9" in body
    assert "<Conference" not in body and "<Hangup" in body
    assert f"/twilio/opt-out?attempt={call_id}" in body
    with app.app_context():
        assert agent_state.snapshot(agent_id)["state"] == "ready"  # nobody was taken for it


def test_an_agent_taken_for_an_answer_when_the_database_fails_is_not_left_on_call(
        app, client, floor, monkeypatch):
    """The database fails after the agent was reserved and moved to on-call: the person hears
    the safe-harbour message, and the agent is released from a call that never reaches them."""
    from sqlalchemy.exc import OperationalError

    from app.dialer import routing

    def lost_connection(*args, **kwargs):
        raise OperationalError("INSERT INTO interactions", {}, Exception("server closed the connection"))

    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    _left_by_the_dial_worker(app, call_id, campaign_id)
    monkeypatch.setattr(routing, "open_interaction", lost_connection)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "This is Acme Solar, call us on 202 555 0101." in body and "<Conference" not in body
    with app.app_context():
        assert agent_state.snapshot(agent_id)["state"] not in ("on-call", "reserved")


def test_without_a_remembered_prompt_the_answer_is_hung_up_not_left_in_a_conference(
        app, client, floor, database_down):
    campaign_id, _ = floor
    call_id, sid = _call(app, campaign_id)
    database_down()
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "<Hangup" in body and "<Conference" not in body and "<Say" not in body


def test_a_person_never_connected_to_an_agent_is_counted_abandoned_and_retried(app, client, floor):
    """The answer's routing never ran (the database was away): its end still settles the contact,
    as an abandoned call, instead of leaving it waiting for a disposition nobody will give."""
    from app.calls.state import sweep_unprocessed_events
    from app.contacts.models import Contact
    from app.dialer.pacer_feed import stream_key
    from tests.calls.factories import status_form

    campaign_id, _ = floor
    call_id, sid = _call(app, campaign_id)
    for status, seq in (("in-progress", 2), ("completed", 3)):
        form = status_form(sid, status, seq, CallDuration=12)
        assert post_signed(client, app, f"/twilio/status?attempt={call_id}", form).status_code == 204
    with app.app_context():
        sweep_unprocessed_events(older_than_seconds=0)
        call = db.session.get(Call, call_id)
        assert (call.status, call.outcome, call.abandoned, call.agent_id) == ("completed", "human", True, None)
        contact = db.session.get(Contact, call.contact_id)
        assert (contact.status, contact.last_outcome) == ("retry", "abandoned")
        assert contact.next_due_at is not None
        # The pacer hears of it as of any abandonment, not only through the 30-day counts.
        feed = get_redis().xrange(stream_key(campaign_id))
        assert [e[1]["c"] for e in feed if e[1]["e"] == "answer"] == ["0"]


BROWSER_AUDIO = {"TWILIO_API_KEY_SID": "SK" + "1" * 32, "TWILIO_API_KEY_SECRET": "s" * 32,
                 "TWILIO_TWIML_APP_SID": "AP" + "2" * 32}


@pytest.fixture
def browser_audio(app):
    """Agents on browser audio (Voice JS), the carrier being the simulator: each bridged call
    must ring its agent's browser into the call's conference."""
    from carrier_sim import CarrierSimulator, SimConfig
    from app.telephony.twilio_carrier import TwilioCarrier

    sid, token = app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]
    sim = CarrierSimulator(SimConfig(account_sid=sid, auth_token=token, time_scale=0.01, seed=3)).start()
    saved = {key: app.config.get(key) for key in BROWSER_AUDIO}
    app.config.update(BROWSER_AUDIO)
    app.extensions["carrier"] = TwilioCarrier(sid, token, api_base_url=sim.api_base_url)
    yield sim
    app.config.update(saved)
    app.extensions.pop("carrier", None)
    sim.stop()


def test_with_browser_audio_the_agents_browser_is_rung_into_the_calls_conference(
        app, client, floor, browser_audio):
    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert f">call-{call_id}</Conference>" in body
    [(leg_sid, label)] = browser_audio.engine.store.participants[f"call-{call_id}"]
    leg = browser_audio.call(leg_sid)
    assert (label, leg["to"], leg["from"]) == ("agent", f"client:agent-{agent_id}", "+12025550100")
    deadline = time.monotonic() + 5
    while leg["connected_to"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
        leg = browser_audio.call(leg_sid)
    assert leg["connected_to"] == f"conference:call-{call_id}"  # the browser answered and joined
    with app.app_context():
        assert db.session.get(Call, call_id).agent_id == agent_id


def test_when_the_carrier_will_not_ring_the_agent_the_call_is_abandoned_and_the_agent_freed(
        app, client, floor, browser_audio):
    from app.telephony.twilio_carrier import TwilioCarrier

    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    # The carrier's API cannot be reached (nothing listens on the discard port).
    app.extensions["carrier"] = TwilioCarrier(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
                                              api_base_url="http://127.0.0.1:9")
    call_id, sid = _call(app, campaign_id)
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    assert "<Conference" not in body and "This is Acme Solar" in body  # never an empty conference
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert call.abandoned is True and call.agent_id is None and call.wait_seconds <= 2.0
        assert agent_state.snapshot(agent_id)["state"] == "ready"


def test_an_agent_browser_that_never_answers_abandons_the_call_with_the_safe_harbour_message(
        app, client, floor, browser_audio):
    """The browser was rung into the conference but did not answer (closed, offline): the
    person waits alone. Its leg's final callback makes the call abandoned, ends the agent's
    call, and the person is redirected to the safe-harbour message with its opt-out key."""
    from app.calls.state import play_safe_harbour, sweep_unprocessed_events

    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    # The person's leg at the carrier, answered and waiting in the conference.
    callee = browser_audio.engine.place(
        to="+12025550111", from_="+12025550100", url=None, method="POST",
        twiml="<Response><Dial><Conference>waiting</Conference></Dial></Response>",
        status_callback=None, status_events=frozenset(), timeout=30, machine_detection=None,
        async_amd=False, amd_callback=None, record=False, recording_callback=None)
    with app.app_context():
        call = make_call(campaign_id)
        call.status, call.call_sid = "ringing", callee.sid
        db.session.commit()
        call_id = call.id
    assert "<Conference" in _answer(client, app, call_id, callee.sid).get_data(as_text=True)
    [(leg_sid, _)] = browser_audio.engine.store.participants[f"call-{call_id}"]
    form = {"CallSid": leg_sid, "CallStatus": "no-answer", "To": f"client:agent-{agent_id}"}
    assert post_signed(client, app, f"/twilio/agent-leg?attempt={call_id}", form).status_code == 204
    with app.app_context():
        sweep_unprocessed_events(older_than_seconds=0)
        call = db.session.get(Call, call_id)
        assert call.abandoned is True
        assert agent_state.snapshot(agent_id)["state"] == "wrap-up"
    deadline = time.monotonic() + 5
    while browser_audio.call(callee.sid)["status"] != "in-progress" and time.monotonic() < deadline:
        time.sleep(0.05)
    with app.app_context():
        play_safe_harbour(call_id)  # what the telephony task does
    deadline = time.monotonic() + 5
    while not browser_audio.call(callee.sid)["said"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser_audio.call(callee.sid)["said"][0].startswith("This is Acme Solar")


def test_with_browser_audio_an_agent_found_too_late_to_ring_in_means_abandoned(app, floor, browser_audio):
    """The agent freed up with 0.1 s of the 2-second budget left: too late to ring their browser
    in. The person hears the safe-harbour message now, and the agent keeps their place."""
    from app.dialer.routing import route_answered_call

    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, _ = _call(app, campaign_id)
    with app.app_context():
        decision = route_answered_call(db.session.get(Call, call_id), None, opt_out_url="http://x/opt-out",
                                       started=time.monotonic() - 1.6)
        assert decision.abandoned and decision.agent_id is None and "<Conference" not in decision.twiml
        assert agent_state.snapshot(agent_id)["state"] == "ready"
    assert f"call-{call_id}" not in browser_audio.engine.store.participants
