"""Calls to our numbers end to end through the carrier simulator: the number's voice URL set
through the real SDK, a person calling it, and the app answering as Twilio asks. A known
contact reaches the agent who last spoke with them, in that agent's room, where a supervisor
listens as on any call; a queued caller hears their place and is taken by the next agent who
frees up; a blended campaign keeps an agent back from outbound dialling and a caller reaches
them at once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from twilio.rest import Client

from app.calls.models import Call
from app.campaigns.models import Campaign
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.dialer.refill import refill
from app.dialer.tick import pacing_tick
from app.extensions import db
from app.telephony.twilio_carrier import RoutingHttpClient
from carrier_sim.numbers import number_sid
from tests.agents.factories import make_pause_code
from tests.dialer.on_air import leg_end_held_back, on_the_air, wait_for
from tests.dialer.test_monitoring import MonitorFloor
from tests.zones import number_in_zone, zone_in_calling_hours

OUR_NUMBER = "+12025550101"  # one of the simulator's numbers: the campaign's caller ID
CALLER = "+12025550177"


@pytest.fixture
def person_zone() -> str:
    """Where the campaign's contacts live: a zone in calling hours as the test runs."""
    return zone_in_calling_hours()


@pytest.fixture
def dial_tasks(_app, monkeypatch) -> list[list]:
    """The contacts the pacing tick hands to the dial pool (captured, for the test to run)."""
    sent = []
    monkeypatch.setattr(_app.extensions["celery"], "send_task", lambda name, args=None, **_: sent.append(
        list(args or ())) if name == "workers.dial.dial_contact" else None)
    return sent


@pytest.fixture
def air(_app, test_environ, person_zone):
    outcomes = {number_in_zone(person_zone, i): "human" for i in range(4)}
    with on_the_air(_app, test_environ, {"outcomes": outcomes, "talk_seconds": (100000.0, 100000.0)}) as on_air:
        yield on_air


@pytest.fixture
def floor(_app, air):
    """The campaign shows OUR_NUMBER and takes calls now (its hours are open in its zone); the
    number's voice URL and status callback point at the app."""
    floor = MonitorFloor(_app, air)
    with _app.app_context():
        campaign = db.session.get(Campaign, floor.campaign_id)
        campaign.status, campaign.caller_id = "active", OUR_NUMBER
        campaign.timezone = zone_in_calling_hours()
        campaign.inbound_max_wait_seconds = 3600  # simulated seconds run fast: no caller waits that long
        db.session.commit()
    client = Client(_app.config["TWILIO_ACCOUNT_SID"], _app.config["TWILIO_AUTH_TOKEN"],
                    http_client=RoutingHttpClient(air.sim_url))
    client.incoming_phone_numbers(number_sid(OUR_NUMBER)).update(
        voice_url=f"{air.base_url}/twilio/inbound", voice_method="POST",
        status_callback=f"{air.base_url}/twilio/status")
    return floor


def _call_in(air, caller: str = CALLER) -> str:
    """A person calls OUR_NUMBER; they talk as long as the test needs and wait patiently."""
    response = requests.post(f"{air.sim_url}/_sim/inbound", timeout=5, json={
        "From": caller, "To": OUR_NUMBER, "patience": 100000, "talk_seconds": 100000})
    assert response.status_code == 201, response.text
    return response.json()["call_sid"]


def _sim_call(air, sid: str) -> dict:
    return requests.get(f"{air.sim_url}/_sim/calls/{sid}", timeout=5).json()


def _record(floor, call_sid: str) -> Call | None:
    with floor.app.app_context():
        call = db.session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is not None:
            db.session.expunge(call)
        return call


def _contact_of(floor, agent_id: int) -> None:
    """CALLER is a contact of the campaign whom `agent_id` spoke with yesterday."""
    with floor.app.app_context():
        contact = Contact(campaign_id=floor.campaign_id, phone_e164=CALLER, first_name="Grace")
        db.session.add(contact)
        db.session.flush()
        db.session.add(Call(campaign_id=floor.campaign_id, contact_id=contact.id, agent_id=agent_id,
                            to_number=CALLER, from_number=OUR_NUMBER, status="completed", outcome="human",
                            connected_at=utcnow() - timedelta(days=1)))
        db.session.commit()


def test_a_known_contact_reaches_their_last_agent_where_a_supervisor_listens(floor, air):
    other = floor.agent()  # idle the longest, but...
    theirs = floor.agent()  # ...the caller's own agent is ready too
    _contact_of(floor, theirs.id)

    caller = _call_in(air)
    room = f"agent-{theirs.id}"
    floor.wait_room(room, {floor.legs[theirs.id], caller})
    call = _record(floor, caller)
    assert (call.direction, call.agent_id, call.contact_id is not None) == ("inbound", theirs.id, True)
    assert floor.snap(theirs.id)["state"] == "on-call" and floor.snap(other.id)["state"] == "ready"

    sup = floor.supervisor()
    session = floor.client(sup).post("/api/monitoring", json={"agent_id": theirs.id, "mode": "listen"})
    assert session.status_code == 201, session.get_json()
    assert session.get_json()["call_id"] == call.id
    leg, staff = floor.legs[sup.id], floor.legs[theirs.id]
    floor.wait_room(room, {staff, caller, leg})
    # Listening: the supervisor hears the agent and the caller; neither hears the supervisor.
    assert floor.hears(room) == {leg: sorted([staff, caller]), staff: [caller], caller: [staff]}


def test_a_queued_caller_hears_their_place_and_is_taken_by_the_next_free_agent(floor, air):
    agent = floor.agent(ready=False)
    with floor.app.app_context():
        make_pause_code("lunch")
        db.session.commit()
        from app.agents import services as agent_services
        from app.auth.models import User

        agent_services.set_own_state(db.session.get(User, agent.id), "paused", campaign_id=floor.campaign_id,
                                     pause_code="lunch")

    caller = _call_in(air)
    wait_for(lambda: "You are caller number 1." in " ".join(_sim_call(air, caller).get("said") or []),
             "the caller to hear their place")
    assert _sim_call(air, caller)["queue_history"][0]["queue"] == f"inbound-{floor.campaign_id}"

    floor.ready(agent.id)
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id], caller})
    left = _sim_call(air, caller)["queue_history"][0]
    assert left["result"] == "leave"
    call = _record(floor, caller)
    assert call.agent_id == agent.id and call.connected_at is not None and not call.abandoned


def test_a_blended_campaign_keeps_an_agent_for_callers_who_reach_them_at_once(floor, air, dial_tasks,
                                                                              person_zone):
    from workers.dial import dial_contact

    dialled, kept = floor.agent(), floor.agent()
    with floor.app.app_context():
        campaign = db.session.get(Campaign, floor.campaign_id)
        campaign.inbound_keep_agents = 1
        campaign.window_start, campaign.window_end = campaign.window_start.replace(hour=8), \
            campaign.window_end.replace(hour=21)
        for i in range(4):
            db.session.add(Contact(campaign_id=floor.campaign_id, phone_e164=number_in_zone(person_zone, i),
                                   timezone=person_zone))
        db.session.commit()
        refill(floor.campaign_id, agents_signed_in=2)
        assert pacing_tick(floor.campaign_id) == 1  # two ready, one kept for callers to us
    assert len(dial_tasks) == 1
    with floor.app.app_context():
        dial_contact(*dial_tasks[0])
    wait_for(lambda: floor.snap(dialled.id)["state"] == "on-call", "the person to reach the longest idle agent")

    caller = _call_in(air)
    floor.wait_room(f"agent-{kept.id}", {floor.legs[kept.id], caller})
    assert _sim_call(air, caller)["queue_history"] == []  # never waited


def test_a_caller_joined_into_a_room_whose_agent_just_left_takes_the_closed_path(floor, air, monkeypatch):
    """The agent's leg ends at the carrier, but its final status has not reached us when the
    call comes in: the caller is joined into a room that no longer runs. Its wait URL has the
    carrier take them to the closed path (the seller's name, a voicemail); never abandoned."""
    agent = floor.agent()
    with leg_end_held_back(monkeypatch):
        air.drop_browser(agent.id)
        caller = _call_in(air)
        said = wait_for(lambda: _sim_call(air, caller).get("said"), "the caller to hear something")
        assert "You have reached Acme Solar" in " ".join(said), said
        assert [entry["call_sid"] for entry in air.alone()] == [caller]  # they waited alone, then were taken out
        call = _record(floor, caller)
        assert call.direction == "inbound" and call.abandoned is False
