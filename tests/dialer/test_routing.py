"""The 2-second rule through the real /twilio/voice webhook: bridge to an agent, or abandon
with the safe-harbour message, whose opt-out key lands the number on the do-not-call list."""
import re
import threading
import time

import pytest
from sqlalchemy import select

from app.agents import routing as agent_routing
from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.dnc.models import DncEntry
from app.extensions import db
from app.interactions.models import Interaction
from tests.agents.factories import assign, make_call, make_campaign, make_pause_code
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
