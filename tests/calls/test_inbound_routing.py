"""Calls to our numbers reach agents, through the signed webhooks the carrier asks: the agent
who last spoke with the caller if ready, else the longest-idle ready agent; a withheld number
too; with nobody ready the caller waits in the queue hearing their place, is taken by the next
agent who frees up, and past the campaign's longest wait goes to the closed path."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.agents import state as agent_state
from app.agents.transitions import to_ms
from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common import tasks
from app.contacts.models import Contact
from app.dialer import inbound
from app.extensions import db
from app.interactions.models import Interaction
from tests.agents.factories import QueueTap, assign, make_campaign
from tests.calls.factories import IN_HOURS_DC, post_signed
from tests.helpers import connect_audio

OUR_NUMBER = "+12025550100"  # the factories' campaigns show it as their caller ID
CALLER = "+12025550177"


@pytest.fixture
def open_hours(monkeypatch):
    """10:00 in New York, a Wednesday: inside every campaign's default hours."""
    monkeypatch.setattr(inbound, "utcnow", lambda: IN_HOURS_DC)
    return IN_HOURS_DC


@pytest.fixture
def floor(app, users, open_hours):
    """A campaign showing OUR_NUMBER, with three agents assigned, signed off."""
    agents = [users.create("agent") for _ in range(3)]
    with app.app_context():
        campaign = make_campaign()
        campaign.status = "active"
        campaign.inbound_hold_message = "Thanks for calling Acme Solar; please hold."
        for agent in agents:
            assign(agent.id, campaign.id)
        db.session.commit()
        return campaign.id, [a.id for a in agents]


def _ready(app, campaign_id: int, agent_id: int, idle_since_minutes: int) -> None:
    """The agent is ready (audio connected) since that many minutes ago: longest idle first."""
    with app.app_context():
        connect_audio(agent_id)
        at = to_ms(IN_HOURS_DC - timedelta(minutes=idle_since_minutes))
        assert agent_state.transition(agent_id, ["offline", "paused"], "ready", at, campaign_id=campaign_id).ok


def _busy(app, campaign_id: int, agent_id: int) -> None:
    """The agent works the campaign but is not ready (paused)."""
    with app.app_context():
        connect_audio(agent_id)
        assert agent_state.transition(agent_id, ["offline"], "paused", to_ms(IN_HOURS_DC),
                                      campaign_id=campaign_id).ok


def _contact_last_spoken_to_by(app, campaign_id: int, agent_id: int) -> int:
    """A contact of the campaign with CALLER's number, whose last call was with `agent_id`."""
    with app.app_context():
        contact = Contact(campaign_id=campaign_id, phone_e164=CALLER, first_name="Grace", last_name="Hopper")
        db.session.add(contact)
        db.session.flush()
        db.session.add(Call(campaign_id=campaign_id, contact_id=contact.id, agent_id=agent_id, to_number=CALLER,
                            from_number=OUR_NUMBER, status="completed", outcome="human",
                            connected_at=IN_HOURS_DC - timedelta(days=1)))
        db.session.commit()
        return contact.id


_sids = iter(range(1, 10_000))


def _form(caller: str = CALLER, **extra) -> dict:
    form = {"AccountSid": "AC" + "a1" * 16, "CallSid": f"CA{next(_sids):032d}", "To": OUR_NUMBER,
            "From": caller, "CallStatus": "ringing", "Direction": "inbound"}
    form.update(extra)
    return form


def _call_in(client, app, form: dict) -> str:
    answer = post_signed(client, app, "/twilio/inbound", form)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    return answer.get_data(as_text=True)


def _inbound_call(app, call_sid: str) -> Call:
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == call_sid))
        db.session.expunge(call)
        return call


def test_a_known_caller_reaches_the_agent_who_last_spoke_with_them_and_sees_their_history(
        app, client, floor, redis_client):
    campaign_id, (first, second, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=1)
    _ready(app, campaign_id, second, idle_since_minutes=30)  # idle longest, but not theirs
    contact_id = _contact_last_spoken_to_by(app, campaign_id, first)
    form = _form()
    tap = QueueTap(redis_client)
    try:
        tap.drain(0.1)
        body = _call_in(client, app, form)
        pops = [(room, payload) for event, room, payload in tap.drain() if event == "call.screen_pop"]
    finally:
        tap.close()

    assert f">agent-{first}</Conference>" in body
    call = _inbound_call(app, form["CallSid"])
    assert (call.direction, call.kind, call.contact_id, call.agent_id) == ("inbound", "inbound", contact_id, first)
    assert (call.from_number, call.to_number, call.abandoned) == (CALLER, OUR_NUMBER, False)
    assert call.connected_at is not None and call.wait_seconds is not None
    with app.app_context():
        assert db.session.scalar(select(Interaction.agent_id).where(Interaction.call_id == call.id)) == first
        assert agent_state.snapshot(first)["state"] == "on-call"
        assert agent_state.snapshot(second)["state"] == "ready"
    assert [room for room, _ in pops] == [f"agent:{first}"]
    pop = pops[0][1]
    assert pop["inbound"]["message"] == "Inbound call: (202) 555-0177 called us."
    assert pop["contact"]["first_name"] == "Grace"
    assert [h["agent_id"] for h in pop["history"]] == [first]  # the earlier call, this one left out


def test_a_caller_whose_last_agent_is_not_ready_goes_to_the_longest_idle_agent(app, client, floor):
    campaign_id, (first, second, third) = floor
    _busy(app, campaign_id, first)
    _ready(app, campaign_id, second, idle_since_minutes=5)
    _ready(app, campaign_id, third, idle_since_minutes=20)
    _contact_last_spoken_to_by(app, campaign_id, first)
    body = _call_in(client, app, _form())
    assert f">agent-{third}</Conference>" in body


def test_a_caller_who_is_no_contact_goes_to_the_longest_idle_agent(app, client, floor):
    campaign_id, (first, second, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=20)
    _ready(app, campaign_id, second, idle_since_minutes=5)
    form = _form("+13125550123")
    assert f">agent-{first}</Conference>" in _call_in(client, app, form)
    assert _inbound_call(app, form["CallSid"]).contact_id is None


def test_a_withheld_number_still_reaches_an_agent_with_no_contact_shown(app, client, floor, redis_client):
    campaign_id, (first, _, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=3)
    form = _form("anonymous")
    tap = QueueTap(redis_client)
    try:
        tap.drain(0.1)
        body = _call_in(client, app, form)
        pops = [payload for event, _, payload in tap.drain() if event == "call.screen_pop"]
    finally:
        tap.close()
    assert f">agent-{first}</Conference>" in body
    assert pops[0]["contact"] is None and pops[0]["history"] is None
    assert pops[0]["inbound"]["withheld"] is True
    assert pops[0]["inbound"]["message"] == "Inbound call: the caller's number is withheld."


def test_a_recorded_campaign_records_the_call_to_us(app, client, floor, sent_tasks):
    campaign_id, (first, _, _) = floor
    with app.app_context():
        db.session.get(Campaign, campaign_id).recording_enabled = True
        db.session.commit()
    _ready(app, campaign_id, first, idle_since_minutes=3)
    form = _form()
    _call_in(client, app, form)
    call = _inbound_call(app, form["CallSid"])
    assert (tasks.START_RECORDING, [call.id]) in [(name, args) for name, args, _ in sent_tasks]


def _wait_url(body: str) -> tuple[str, str]:
    enqueue = re.search(r'<Enqueue action="([^"]+)" method="POST" waitUrl="([^"]+)" waitUrlMethod="POST">'
                        r'([^<]+)</Enqueue>', body)
    assert enqueue, body
    base = "http://localhost"
    return enqueue.group(2).removeprefix(base), enqueue.group(1).removeprefix(base)


def _poll(client, app, wait_url: str, form: dict, position: int, queue_time: int = 5) -> str:
    polled = post_signed(client, app, wait_url, {**form, "QueuePosition": str(position),
                                                   "QueueTime": str(queue_time), "CurrentQueueSize": "2"})
    assert polled.status_code == 200
    return polled.get_data(as_text=True)


def test_with_nobody_ready_callers_queue_hear_their_place_and_the_first_takes_the_next_free_agent(
        app, client, floor):
    campaign_id, (first, second, _) = floor
    _busy(app, campaign_id, first)
    one, two = _form("+13125550001"), _form("+13125550002")
    wait_one, left_one = _wait_url(_call_in(client, app, one))
    body_two = _call_in(client, app, two)
    assert f">{inbound.queue_name(campaign_id)}</Enqueue>" in body_two
    wait_two, left_two = _wait_url(body_two)

    heard = _poll(client, app, wait_two, two, 2)
    assert "Thanks for calling Acme Solar; please hold." in heard and "You are caller number 2." in heard
    assert "<Leave" not in heard
    assert "caller number" not in _poll(client, app, wait_two, two, 2)  # said once, then silence
    assert "You are caller number 1." in _poll(client, app, wait_one, one, 1)

    _ready(app, campaign_id, second, idle_since_minutes=0)
    assert "<Leave" not in _poll(client, app, wait_two, two, 2)  # the first caller comes first
    assert "<Leave" in _poll(client, app, wait_one, one, 1)
    with app.app_context():
        assert agent_state.snapshot(second)["state"] == "reserved"
    joined = post_signed(client, app, left_one, {**one, "QueueResult": "leave", "QueueTime": "9"})
    assert f">agent-{second}</Conference>" in joined.get_data(as_text=True)
    call = _inbound_call(app, one["CallSid"])
    assert call.agent_id == second and call.connected_at is not None
    with app.app_context():
        assert agent_state.snapshot(second)["state"] == "on-call"
    # The second caller is now first in line.
    assert "You are caller number 1." in _poll(client, app, wait_two, two, 1)


def test_a_caller_arriving_behind_a_waiting_caller_queues_even_when_an_agent_is_ready(app, client, floor):
    campaign_id, (first, second, _) = floor
    _busy(app, campaign_id, first)
    _wait_url(_call_in(client, app, _form("+13125550001")))
    _ready(app, campaign_id, second, idle_since_minutes=0)
    assert "<Enqueue" in _call_in(client, app, _form("+13125550002"))


def test_past_the_longest_wait_the_caller_leaves_for_the_closed_path_never_abandoned(app, client, floor):
    campaign_id, (first, _, _) = floor
    _busy(app, campaign_id, first)
    with app.app_context():
        db.session.get(Campaign, campaign_id).inbound_max_wait_seconds = 60
        db.session.commit()
    form = _form()
    wait, left = _wait_url(_call_in(client, app, form))
    assert "<Leave" not in _poll(client, app, wait, form, 1, queue_time=59)
    assert "<Leave" in _poll(client, app, wait, form, 1, queue_time=60)
    closed = post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "60"})
    text = closed.get_data(as_text=True)
    assert "You have reached Acme Solar" in text and "<Conference" not in text
    call = _inbound_call(app, form["CallSid"])
    assert call.agent_id is None and call.abandoned is False


def test_a_caller_who_hangs_up_in_the_queue_leaves_it(app, client, floor):
    campaign_id, (first, _, _) = floor
    _busy(app, campaign_id, first)
    one, two = _form("+13125550001"), _form("+13125550002")
    _, left_one = _wait_url(_call_in(client, app, one))
    wait_two, _ = _wait_url(_call_in(client, app, two))
    post_signed(client, app, left_one, {**one, "QueueResult": "hangup", "QueueTime": "4"})
    assert "You are caller number 1." in _poll(client, app, wait_two, two, 1)
    with app.app_context():
        assert inbound.queue.waiting(campaign_id) == 1


def test_outside_the_campaigns_hours_the_caller_takes_the_closed_path(app, client, floor, monkeypatch):
    campaign_id, (first, _, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=3)
    monkeypatch.setattr(inbound, "utcnow", lambda: IN_HOURS_DC + timedelta(hours=12))  # 22:00 in New York
    form = _form()
    text = _call_in(client, app, form)
    assert "You have reached Acme Solar" in text and "<Conference" not in text
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == form["CallSid"]))
        assert call is None or call.connected_at is None  # the closed path may keep it, for a voicemail
        assert agent_state.snapshot(first)["state"] == "ready"


def test_with_nobody_working_the_campaign_the_caller_does_not_wait(app, client, floor):
    text = _call_in(client, app, _form())
    assert "You have reached Acme Solar" in text and "<Enqueue" not in text


def _ends(client, app, form: dict) -> Call:
    """The number's status callback says the call is over, and the telephony pool applies it."""
    from app.calls import state
    from app.telephony import inbox

    ended = post_signed(client, app, "/twilio/status", {**form, "CallStatus": "completed", "CallDuration": "95"})
    assert ended.status_code == 204
    with app.app_context():
        inbox.drain(state.process_call_event)
    return _inbound_call(app, form["CallSid"])


def test_when_the_caller_hangs_up_the_agent_wraps_up_and_the_contact_keeps_its_place(app, client, floor):
    campaign_id, (first, _, _) = floor
    _ready(app, campaign_id, first, idle_since_minutes=3)
    contact_id = _contact_last_spoken_to_by(app, campaign_id, first)
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        contact.status, contact.attempts = "retry", 1
        db.session.commit()
    form = _form()
    _call_in(client, app, form)
    call = _ends(client, app, form)
    assert (call.status, call.duration_seconds, call.abandoned) == ("completed", 95, False)
    with app.app_context():
        assert agent_state.snapshot(first)["state"] == "wrap-up"
        contact = db.session.get(Contact, contact_id)
        assert (contact.status, contact.attempts) == ("retry", 1)  # their call is not a dial attempt


def test_a_caller_who_reached_nobody_is_never_counted_abandoned(app, client, floor):
    from app.kpi.services import abandon_rate_30d

    campaign_id, (first, _, _) = floor
    _busy(app, campaign_id, first)
    form = _form()
    wait, left = _wait_url(_call_in(client, app, form))
    with app.app_context():
        db.session.get(Campaign, campaign_id).inbound_max_wait_seconds = 10
        db.session.commit()
    assert "<Leave" in _poll(client, app, wait, form, 1, queue_time=10)
    post_signed(client, app, left, {**form, "QueueResult": "leave", "QueueTime": "10"})
    call = _ends(client, app, form)
    assert call.status == "completed" and call.abandoned is False and call.connected_at is None
    with app.app_context():
        assert abandon_rate_30d(campaign_id) == (0, 0, None)  # the law's count is of outbound calls


def test_the_agents_recent_calls_show_who_called_whom(app, client, floor, users):
    from tests.helpers import ApiClient

    campaign_id, _ = floor
    agent = users.create("agent")
    with app.app_context():
        assign(agent.id, campaign_id)
        db.session.commit()
    _ready(app, campaign_id, agent.id, idle_since_minutes=60)
    _call_in(client, app, _form("+13125550123"))
    console = ApiClient(app.test_client())
    assert console.login(agent.username, agent.password).status_code == 200
    mine = console.get("/api/console/recent-calls").get_json()["items"][0]
    assert (mine["person_number"], mine["direction_words"]) == ("+13125550123", "Inbound (they called us)")
    record = console.get("/api/call-records").get_json()["items"][0]
    assert (record["person_number"], record["direction_words"]) == ("+13125550123", "Inbound (they called us)")
