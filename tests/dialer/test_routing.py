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
from tests.helpers import connect_audio


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
        connect_audio(agent_id)
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
    assert f">agent-{agent_id}</Conference>" in response.get_data(as_text=True)
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
        connect_audio(agent_id)
        agent_services.set_own_state(agent, "paused", campaign_id=campaign_id, pause_code="break")
    call_id, sid = _call(app, campaign_id)
    timer = threading.Timer(0.2, _free_up_in_redis, (app, agent_id, campaign_id))
    timer.start()
    body = _answer(client, app, call_id, sid).get_data(as_text=True)
    timer.join()
    assert f">agent-{agent_id}</Conference>" in body
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


def test_the_pacer_hears_the_answer_with_its_ring_time_at_once(app, client, floor, redis_client):
    """The answer is the call's dial result too: the pacer is told at the answer, with the ring
    time, not a whole talk time later when the call ends."""
    from datetime import timedelta

    from app.common.timeutil import utcnow
    from app.dialer.pacer_feed import stream_key

    campaign_id, (agent_id, _) = floor
    _ready(app, agent_id, campaign_id)
    call_id, sid = _call(app, campaign_id)
    with app.app_context():
        db.session.get(Call, call_id).ringing_at = utcnow() - timedelta(seconds=12)
        db.session.commit()
    _answer(client, app, call_id, sid)
    [(_, fields)] = [e for e in redis_client.xrange(stream_key(campaign_id)) if e[1]["e"] == "answer"]
    assert fields["c"] == "1" and 11.5 <= float(fields["r"]) <= 60
