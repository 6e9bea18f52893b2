"""The sweep that hands callers waiting to agents as they free up, against the wait poll that
does the same at its next ask: of the two reaching for one caller, one takes them and no second
agent is reserved; a caller whose sweep died before the join waits again at their first place;
one whose redirect the carrier refused waits on at their place with the agent free again; one
whose redirect went unanswered is joined, and put in the room by their next wait poll."""
from __future__ import annotations

import pytest

from app.agents import state as agent_state
from app.dialer import inbound
from app.dialer import inbound_queue as queue
from tests.calls.factories import post_signed
from tests.calls.test_inbound_routing import (  # noqa: F401 (fixtures)
    _busy, _call_in, _form, _inbound_call, _poll, _ready, _wait_url, floor, open_hours)


def _queued(app, client, floor, caller: str = "+13125550001"):
    campaign_id, (first, second, third) = floor
    _busy(app, campaign_id, first)
    form = _form(caller)
    wait, left = _wait_url(_call_in(client, app, form))
    return campaign_id, form, wait, left, second, third


def _state(app, agent_id: int) -> dict:
    with app.app_context():
        return agent_state.snapshot(agent_id)


@pytest.mark.parametrize("carrier", ["refuses", "unreachable"])
def test_a_caller_the_carrier_would_not_redirect_waits_on_at_their_place_and_the_agent_is_free(
        app, client, floor, monkeypatch, carrier, request):
    # Refused: the simulator never heard of this caller's call and answers 404, as Twilio does
    # for a call that has ended or is another account's. Unreachable: no connection was made.
    # Either way nothing moved.
    if carrier == "refuses":
        request.getfixturevalue("placing_sim")
    else:
        _carrier_unreachable(app, monkeypatch)
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    _ready(app, campaign_id, second, idle_since_minutes=1)
    with app.app_context():
        assert inbound.hand_waiting_callers(campaign_id) == 0
        assert queue.waiting(campaign_id) == 1
    assert _inbound_call(app, form["CallSid"]).agent_id is None
    assert _state(app, second)["state"] == "ready"

    assert "<Leave" in _poll(client, app, wait, form, 1)  # the wait poll takes them instead
    joined = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "7"})
    assert f">agent-{second}</Conference>" in joined.get_data(as_text=True)
    assert _state(app, second)["state"] == "on-call"


def _carrier_unreachable(app, monkeypatch):
    """The app's carrier pointed at a port nobody listens on: a redirect gets no answer, so
    whether the carrier made it is unknown."""
    from app.telephony.twilio_carrier import TwilioCarrier
    from devtools.services import free_port

    monkeypatch.setitem(app.extensions, "carrier", TwilioCarrier(
        app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
        api_base_url=f"http://127.0.0.1:{free_port()}"))


@pytest.fixture
def carrier_silent(app, monkeypatch):
    """The app's carrier pointed at a port that takes the request and never answers: whether
    the carrier made the redirect is unknown. Its answer is waited for a moment only."""
    import socket

    from app.telephony.twilio_carrier import TwilioCarrier

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(8)  # connections complete in the backlog; nobody reads or answers
    monkeypatch.setitem(app.extensions, "carrier", TwilioCarrier(
        app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
        api_base_url=f"http://127.0.0.1:{listening.getsockname()[1]}"))
    monkeypatch.setattr(inbound, "REDIRECT_WITHIN_SECONDS", 0.2)
    yield
    listening.close()


def test_a_caller_whose_redirect_went_unanswered_is_joined_and_their_next_wait_poll_leaves(
        app, client, floor, monkeypatch, carrier_silent):
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    _ready(app, campaign_id, second, idle_since_minutes=1)
    held = []
    room = inbound.person_into_room

    def noting_the_hold(agent_id, call_id):  # as the carrier is asked
        held.append(agent_state.snapshot(agent_id))
        return room(agent_id, call_id)

    monkeypatch.setattr(inbound, "person_into_room", noting_the_hold)
    with app.app_context():
        assert inbound.hand_waiting_callers(campaign_id) == 1
    # Held for the caller for longer than any redirect can take (its connection and its answer
    # each capped), so the agent is never free while the caller is on the way in.
    assert held[0]["state"] == "reserved"
    assert held[0]["reserved_until_ms"] - held[0]["since_ms"] == inbound.TAKE_RESERVATION_SECONDS * 1000
    assert _inbound_call(app, form["CallSid"]).agent_id == second
    assert _state(app, second)["state"] == "on-call"
    # The redirect was lost: the caller is still in the carrier's queue, and their next ask
    # of the wait URL takes them into the room.
    assert "<Leave" in _poll(client, app, wait, form, 1)
    joined = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "7"})
    assert f">agent-{second}</Conference>" in joined.get_data(as_text=True)


def test_a_caller_who_hangs_up_while_being_taken_frees_the_agent(app, client, floor, monkeypatch,
                                                                 carrier_silent):
    from sqlalchemy import update

    from app.calls.models import Call
    from app.common.timeutil import utcnow
    from app.extensions import db

    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    call_id = _inbound_call(app, form["CallSid"]).id
    _ready(app, campaign_id, second, idle_since_minutes=1)
    room = inbound.person_into_room

    def hangs_up_meanwhile(agent_id, call_id_):  # their final status lands as the sweep works
        db.session.execute(update(Call).where(Call.id == call_id_).values(
            status="completed", ended_at=utcnow()))
        db.session.commit()
        return room(agent_id, call_id_)

    monkeypatch.setattr(inbound, "person_into_room", hangs_up_meanwhile)
    with app.app_context():
        assert inbound.hand_waiting_callers(campaign_id) == 0
        assert queue.waiting(campaign_id) == 0
    call = _inbound_call(app, form["CallSid"])
    assert call.agent_id is None and call.connected_at is None and call.id == call_id
    assert _state(app, second)["state"] == "ready"


def test_a_caller_the_wait_poll_took_is_not_taken_again_by_the_sweep(app, client, floor):
    campaign_id, form, wait, left, second, third = _queued(app, client, floor)
    _ready(app, campaign_id, second, idle_since_minutes=5)
    assert "<Leave" in _poll(client, app, wait, form, 1)
    _ready(app, campaign_id, third, idle_since_minutes=1)
    with app.app_context():
        assert inbound.hand_waiting_callers(campaign_id) == 0
    assert _state(app, second)["state"] == "reserved" and _state(app, third)["state"] == "ready"


def test_a_caller_the_sweep_is_taking_waits_in_silence_and_gets_no_second_agent(app, client, floor):
    campaign_id, form, wait, left, second, third = _queued(app, client, floor)
    call_id = _inbound_call(app, form["CallSid"]).id
    _ready(app, campaign_id, second, idle_since_minutes=5)
    _ready(app, campaign_id, third, idle_since_minutes=1)
    with app.app_context():  # the sweep's first step, its redirect not yet made
        score = int(queue.poll(campaign_id, call_id, 0)[1])
        agent_id = inbound.reserve_agent(campaign_id, call_id)
        assert queue.leave(campaign_id, call_id, f"{inbound.TAKING}:{agent_id}:{score}")
    heard = _poll(client, app, wait, form, 1)
    assert "<Leave" not in heard and "<Say" not in heard and "<Pause" in heard
    other = third if agent_id == second else second
    assert _state(app, agent_id)["state"] == "reserved" and _state(app, other)["state"] == "ready"
    with app.app_context():
        assert not queue.leave(campaign_id, call_id, f"{inbound.AT_LEAVE}:{other}:{score}")


def test_a_sweep_that_died_between_taking_and_joining_leaves_the_caller_first_in_line(app, client, floor):
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    second_form = _form("+13125550002")
    wait_two, _ = _wait_url(_call_in(client, app, second_form))
    call_id = _inbound_call(app, form["CallSid"]).id
    with app.app_context():  # claimed for an agent whose reservation then expired
        score = int(queue.poll(campaign_id, call_id, 0)[1])
        assert queue.leave(campaign_id, call_id, f"{inbound.TAKING}:{second}:{score}")
    assert "<Leave" not in _poll(client, app, wait, form, 1)  # put back, at their first place
    with app.app_context():
        assert queue.waiting(campaign_id) == 2
    assert "You are caller number 2." in _poll(client, app, wait_two, second_form, 2)
    _ready(app, campaign_id, second, idle_since_minutes=1)
    assert "<Leave" not in _poll(client, app, wait_two, second_form, 2)
    assert "<Leave" in _poll(client, app, wait, form, 1)


def test_the_sweeps_redirect_told_to_the_enqueue_action_leaves_the_agent_reserved_for_the_join(
        app, client, floor):
    # The carrier tells the Enqueue's action URL of the redirect at once, maybe before the
    # sweep has joined the caller: the agent stays reserved for them, and the answer, should
    # the carrier play it, is the agent's room.
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    call_id = _inbound_call(app, form["CallSid"]).id
    _ready(app, campaign_id, second, idle_since_minutes=1)
    with app.app_context():
        score = int(queue.poll(campaign_id, call_id, 0)[1])
        assert inbound.reserve_agent(campaign_id, call_id) == second
        assert queue.leave(campaign_id, call_id, f"{inbound.TAKING}:{second}:{score}")
    told = post_signed(client, app, left, {**form, "QueueResult": "redirected", "QueueTime": "3"})
    assert f">agent-{second}</Conference>" in told.get_data(as_text=True)
    assert _state(app, second)["state"] == "reserved"


def test_a_redirect_that_was_not_the_sweeps_frees_the_agent_reserved_at_a_wait_poll(app, client, floor):
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    _ready(app, campaign_id, second, idle_since_minutes=1)
    assert "<Leave" in _poll(client, app, wait, form, 1)
    assert _state(app, second)["state"] == "reserved"
    post_signed(client, app, left, {**form, "QueueResult": "redirected", "QueueTime": "3"})
    assert _state(app, second)["state"] == "ready"


def test_a_campaign_whose_queue_emptied_leaves_the_sweeps_list(app, client, floor):
    campaign_id, form, wait, left, second, _ = _queued(app, client, floor)
    with app.app_context():
        assert campaign_id in queue.campaigns_with_callers()
    post_signed(client, app, left, {**form, "QueueResult": "hangup", "QueueTime": "4"})
    with app.app_context():
        assert inbound.hand_all_waiting_callers() == 0
        assert campaign_id not in queue.campaigns_with_callers()
