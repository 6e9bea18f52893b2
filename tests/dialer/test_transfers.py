"""The agent's call controls end to end through the carrier simulator: hold and resume, mute,
hang up, and each kind of transfer ending with the person talking to the right party, with
nobody ever alone in a conference (the simulator's `alone` stays empty throughout)."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call, CallTransfer
from app.dnc.models import DncEntry
from app.extensions import db
from app.interactions.models import Interaction
from tests.agents.factories import assign, make_campaign
from tests.dialer.on_air import on_the_air, place_person, wait_for
from tests.helpers import ApiClient, UserFactory

PERSON, OUTSIDE, OUTSIDE_UNANSWERED = "+12025550179", "+12025550188", "+12025550189"
OUTSIDE_BUSY = "+12025550187"


@pytest.fixture
def air(_app, test_environ):
    with on_the_air(_app, test_environ, {"outcomes": {PERSON: "human", OUTSIDE: "human", OUTSIDE_UNANSWERED: "no-answer",
                                             OUTSIDE_BUSY: "busy"},
                                "talk_seconds": (300.0, 300.0)}) as on_air:
        yield on_air


class Floor:
    """A campaign, agents with browser audio, and the calls the test puts through to them."""

    def __init__(self, app, air):
        self.app, self.air = app, air
        self.users = UserFactory(app)
        with app.app_context():
            self.campaign_id = make_campaign().id
            db.session.commit()
        self.legs: dict[int, str] = {}

    def agent(self, *, audio: bool = True, ready: bool = True, campaign_id: int | None = None):
        user = self.users.create("agent")
        with self.app.app_context():
            assign(user.id, campaign_id or self.campaign_id)
            if campaign_id and campaign_id != self.campaign_id:
                assign(user.id, self.campaign_id)
            db.session.commit()
        if audio:
            self.legs[user.id] = self.air.connect_browser(user.id)
            wait_for(lambda: self.snap(user.id)["audio"], "the browser leg to join")
        if ready:
            self.ready(user.id, campaign_id or self.campaign_id)
        return user

    def ready(self, agent_id: int, campaign_id: int | None = None):
        with self.app.app_context():
            return agent_services.set_own_state(db.session.get(User, agent_id), "ready",
                                                campaign_id=campaign_id or self.campaign_id)

    def snap(self, agent_id: int) -> dict:
        with self.app.app_context():
            return agent_state.snapshot(agent_id)

    def client(self, user) -> ApiClient:
        client = ApiClient(self.app.test_client())
        assert client.login(user.username, user.password).status_code == 200
        return client

    def person_with(self, agent) -> tuple[int, str]:
        """A person answers and is joined into `agent`'s room (the only ready agent)."""
        call_id, person = place_person(self.app, self.campaign_id, PERSON)
        self.wait_room(f"agent-{agent.id}", {self.legs[agent.id], person})
        assert self.snap(agent.id)["state"] == "on-call"
        return call_id, person

    def room(self, name: str) -> dict:
        return self.air.conference(name) or {"participants": []}

    def wait_room(self, name: str, sids: set[str]) -> dict:
        """Wait until exactly `sids` are in the room `name`; returns it."""
        def there():
            room = self.room(name)
            return room if {p["call_sid"] for p in room["participants"]} == sids else None
        return wait_for(there, f"{sorted(sids)} to be in {name}")

    def hears(self, name: str) -> dict[str, list[str]]:
        return {p["call_sid"]: sorted(p["hears"]) for p in self.room(name)["participants"]}

    def call(self, call_id: int) -> Call:
        with self.app.app_context():
            call = db.session.get(Call, call_id)
            db.session.expunge(call)
            return call

    def transfers(self, call_id: int) -> list[CallTransfer]:
        with self.app.app_context():
            rows = db.session.scalars(select(CallTransfer).where(CallTransfer.call_id == call_id)).all()
            db.session.expunge_all()
            return rows

    def interactions(self, call_id: int) -> dict[int, Interaction]:
        with self.app.app_context():
            rows = db.session.scalars(select(Interaction).where(Interaction.call_id == call_id)).all()
            db.session.expunge_all()
            return {i.agent_id: i for i in rows}


@pytest.fixture
def floor(_app, air):
    return Floor(_app, air)


def _post(client, path, body=None):
    return client.post(path, json=body or {})


# --- hold, mute, hang up ---------------------------------------------------------------------

def test_hold_silences_both_ways_until_resumed_and_plays_hold_audio(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    leg, room = floor.legs[agent.id], f"agent-{agent.id}"
    assert floor.hears(room) == {leg: [person], person: [leg]}
    client = floor.client(agent)

    held = _post(client, f"/api/console/calls/{call_id}/hold", {"hold": True})
    assert held.status_code == 200 and held.get_json() == {"call_id": call_id, "hold": True, "muted": False}
    assert floor.hears(room) == {leg: [], person: []}
    [held_person] = [p for p in floor.room(room)["participants"] if p["call_sid"] == person]
    assert held_person["hold"] and held_person["hold_url"] == f"{air.base_url}/twilio/hold"

    # The hold URL answers the carrier (signed as it signs) with hold audio.
    url = held_person["hold_url"]
    signature = RequestValidator(floor.app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, {})
    music = requests.post(url, headers={"X-Twilio-Signature": signature}, timeout=5)
    assert music.status_code == 200 and "<Play" in music.text and "hold" in music.text
    assert requests.post(url, timeout=5).status_code == 403  # unsigned: refused

    resumed = _post(client, f"/api/console/calls/{call_id}/hold", {"hold": False})
    assert resumed.get_json() == {"call_id": call_id, "hold": False, "muted": False}
    assert floor.hears(room) == {leg: [person], person: [leg]}
    assert air.alone() == []


def test_mute_keeps_the_agent_from_the_person_but_not_the_person_from_the_agent(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    leg, room = floor.legs[agent.id], f"agent-{agent.id}"
    client = floor.client(agent)
    muted = _post(client, f"/api/console/calls/{call_id}/mute", {"muted": True})
    assert muted.status_code == 200 and muted.get_json() == {"call_id": call_id, "hold": False, "muted": True}
    assert floor.hears(room) == {leg: [person], person: []}
    assert _post(client, f"/api/console/calls/{call_id}/mute", {"muted": False}).get_json()["muted"] is False
    assert floor.hears(room) == {leg: [person], person: [leg]}
    assert _post(client, f"/api/console/calls/{call_id}/mute", {}).status_code == 422


def test_hang_up_ends_the_persons_call_and_never_the_agents_leg(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    client = floor.client(agent)
    _post(client, f"/api/console/calls/{call_id}/mute", {"muted": True})
    assert _post(client, f"/api/console/calls/{call_id}/hangup").status_code == 200
    wait_for(lambda: air.call(person)["status"] == "completed", "the person's call to end")
    room = floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id]})
    assert air.call(floor.legs[agent.id])["status"] == "in-progress"
    assert room["participants"][0]["muted"] is False  # unmuted for the next call
    assert floor.snap(agent.id)["state"] == "wrap-up"
    assert air.alone() == []


def test_another_agents_call_is_not_found(floor, air):
    agent = floor.agent()
    other = floor.agent(ready=False)
    call_id, _ = floor.person_with(agent)
    client = floor.client(other)
    for path, body in ((f"/api/console/calls/{call_id}/hold", {"hold": True}),
                       (f"/api/console/calls/{call_id}/mute", {"muted": True}),
                       (f"/api/console/calls/{call_id}/hangup", None),
                       (f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_agent_id": agent.id})):
        response = _post(client, path, body)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["message"]
    assert floor.hears(f"agent-{agent.id}")[floor.legs[agent.id]]  # untouched


# --- cold transfers --------------------------------------------------------------------------

def _assert_with_agent(floor, call_id, person, target, source):
    """The person talks to `target` in target's room; `source` is free, alone in their own."""
    room = floor.wait_room(f"agent-{target.id}", {floor.legs[target.id], person})
    assert floor.hears(room["name"]) == {floor.legs[target.id]: [person], person: [floor.legs[target.id]]}
    floor.wait_room(f"agent-{source.id}", {floor.legs[source.id]})
    assert floor.call(call_id).agent_id == target.id
    assert floor.snap(target.id)["state"] == "on-call" and floor.snap(target.id)["call_id"] == call_id
    assert floor.snap(source.id)["state"] == "wrap-up"
    interactions = floor.interactions(call_id)
    assert interactions[source.id].talk_ended_at is not None
    assert interactions[target.id].talk_ended_at is None


def test_cold_transfer_to_an_agent(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target = floor.agent()
    response = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                     {"kind": "cold", "to_agent_id": target.id})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in ("call_id", "kind", "status", "to_agent_id", "to_campaign_id", "to_number")} == {
        "call_id": call_id, "kind": "cold", "status": "completed", "to_agent_id": target.id,
        "to_campaign_id": None, "to_number": None}
    assert body["started_at"] and body["ended_at"]
    _assert_with_agent(floor, call_id, person, target, agent)
    # The call is the target's now: they can hold it, the transferring agent cannot.
    assert _post(floor.client(target), f"/api/console/calls/{call_id}/hold", {"hold": True}).status_code == 200
    assert _post(floor.client(agent), f"/api/console/calls/{call_id}/hold", {"hold": True}).status_code == 404
    assert air.alone() == []


def test_cold_transfer_to_a_campaign_takes_a_ready_agent_of_it(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    with floor.app.app_context():
        other_campaign = make_campaign().id
        assign(agent.id, other_campaign)
        db.session.commit()
    client = floor.client(agent)
    refused = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_campaign_id": other_campaign})
    assert refused.status_code == 409 and "ready" in refused.get_json()["error"]["message"]
    target = floor.agent(campaign_id=other_campaign)
    response = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_campaign_id": other_campaign})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["to_agent_id"] == target.id and response.get_json()["to_campaign_id"] == other_campaign
    _assert_with_agent(floor, call_id, person, target, agent)
    assert air.alone() == []


def test_cold_transfer_to_an_outside_number(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    client = floor.client(agent)
    bad = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_number": "202 555 0188"})
    assert bad.status_code == 422 and "to_number" in bad.get_json()["error"]["fields"]
    with floor.app.app_context():
        db.session.add(DncEntry(phone_e164="+12025550166", reason="asked"))
        db.session.commit()
    dnc = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_number": "+12025550166"})
    assert dnc.status_code == 409 and "do-not-call" in dnc.get_json()["error"]["message"]
    response = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_number": OUTSIDE})
    assert response.status_code == 201 and response.get_json()["status"] == "completed"
    wait_for(lambda: air.call(person)["connected_to"] == f"number:{OUTSIDE}", "the person to be put through")
    assert air.call(person)["dial_attempts"] == [{"to": OUTSIDE, "status": "answered"}]
    # The person left the agent's room (which holds the agent's leg alone) and is in no room.
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id]})
    rooms = requests.get(f"{air.sim_url}/_sim/conferences", timeout=5).json()["conferences"]
    assert not [c for c in rooms if c["status"] != "completed"
                and person in {p["call_sid"] for p in c["participants"]}]
    assert floor.snap(agent.id)["state"] == "wrap-up"
    assert _post(client, f"/api/console/calls/{call_id}/hangup").status_code == 409  # not theirs to end
    assert air.call(person)["status"] == "in-progress"
    assert [t.status for t in floor.transfers(call_id)] == ["completed"]


@pytest.mark.parametrize("number, words", [(OUTSIDE_BUSY, "was busy"), (OUTSIDE_UNANSWERED, "did not answer")])
def test_a_cold_transfer_to_a_number_that_fails_brings_the_person_back(floor, air, number, words):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    response = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                     {"kind": "cold", "to_number": number})
    assert response.status_code == 201, response.get_json()
    transfer_id = response.get_json()["id"]
    wait_for(lambda: [t.status for t in floor.transfers(call_id)] == ["failed"], "the transfer to fail")
    leg = floor.legs[agent.id]
    floor.wait_room(f"agent-{agent.id}", {leg, person})
    assert floor.hears(f"agent-{agent.id}") == {leg: [person], person: [leg]}
    assert air.call(person)["dial_attempts"] == [{"to": number, "status": number == OUTSIDE_BUSY and "busy"
                                                  or "no-answer"}]
    assert floor.snap(agent.id)["state"] == "on-call" and floor.snap(agent.id)["call_id"] == call_id
    assert floor.interactions(call_id)[agent.id].talk_ended_at is None
    # The call is the agent's again: they can hold it and hang it up.
    client = floor.client(agent)
    assert _post(client, f"/api/console/calls/{call_id}/hold", {"hold": True}).status_code == 200
    assert _post(client, f"/api/console/calls/{call_id}/hangup").status_code == 200
    assert floor.transfers(call_id)[0].id == transfer_id
    assert air.alone() == []


def test_the_dialled_webhook_apologises_when_the_agent_is_not_free(floor, air):
    """The agent has paused since: the person hears an apology and the call ends."""
    from app.calls.models import CallTransfer as T
    from app.common.timeutil import utcnow
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    assert _post(floor.client(agent), f"/api/console/calls/{call_id}/hangup").status_code == 200
    with floor.app.app_context():  # finishing the call, then paused: not free for the person
        from app.agents.transitions import apply
        apply(agent.id, ("wrap-up",), "paused")
        t = T(call_id=call_id, kind="cold", from_agent_id=agent.id, to_number=OUTSIDE_BUSY,
              status="completed", started_at=utcnow(), ended_at=utcnow())
        db.session.add(t)
        db.session.commit()
        transfer_id = t.id
    url = f"{air.base_url}/twilio/transfer/dialled?transfer={transfer_id}"
    form = {"CallSid": person, "DialCallStatus": "busy", "AccountSid": floor.app.config["TWILIO_ACCOUNT_SID"]}
    unsigned = requests.post(url, data=form, timeout=5)
    assert unsigned.status_code == 403
    signature = RequestValidator(floor.app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, form)
    answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=5)
    assert answer.status_code == 200 and "<Say>" in answer.text and "<Hangup" in answer.text
    assert "sorry" in answer.text.lower() and "<Conference" not in answer.text
    assert [t.status for t in floor.transfers(call_id)] == ["failed"]
    assert floor.snap(agent.id)["state"] == "paused"


def test_transfers_and_the_agents_phone_are_refused_outside_the_allowed_numbers(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    client = floor.client(agent)
    for number, words in (("+442079460000", "only calls numbers starting with +1"),
                          ("+19005550123", "Premium-rate"), ("+12129760123", "pay-per-call"),
                          ("+18765550123", "international")):
        for kind in ("cold", "warm"):
            refused = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": kind, "to_number": number})
            assert refused.status_code == 422, (number, refused.get_json())
            error = refused.get_json()["error"]
            assert words in error["message"] and "to_number" in error["fields"], error
    assert floor.transfers(call_id) == []
    assert floor.hears(f"agent-{agent.id}") == {floor.legs[agent.id]: [person], person: [floor.legs[agent.id]]}
    # An explicit prefix lets a Caribbean number through; premium never.
    saved = floor.app.config["TRANSFER_ALLOWED_PREFIXES"]
    floor.app.config["TRANSFER_ALLOWED_PREFIXES"] = ("+1", "+1876")
    try:
        with floor.app.app_context():
            from app.telephony.dial_policy import refusal
            assert refusal("+18765550123") is None and refusal("+19005550123")
    finally:
        floor.app.config["TRANSFER_ALLOWED_PREFIXES"] = saved
    # The agent's own phone: the same rule.
    phone_agent = floor.agent(audio=False, ready=False)
    phone_client = floor.client(phone_agent)
    for number in ("+19005550123", "+442079460000"):
        refused = _post(phone_client, "/api/agents/me/audio", {"via": "phone", "phone": number})
        assert refused.status_code == 422, refused.get_json()
        assert "phone" in refused.get_json()["error"]["fields"]
    assert [c for c in air.sim.calls() if c["to"] in ("+19005550123", "+442079460000")] == []


def test_a_target_without_audio_or_not_ready_is_refused_with_words(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    deaf = floor.agent(audio=False, ready=False)
    busy = floor.agent(ready=False)  # audio, but not ready
    client = floor.client(agent)
    for kind in ("cold", "warm"):
        no_audio = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": kind, "to_agent_id": deaf.id})
        assert no_audio.status_code == 409, no_audio.get_json()
        assert no_audio.get_json()["error"]["code"] == "target_no_audio"
        assert "no audio" in no_audio.get_json()["error"]["message"]
        not_ready = _post(client, f"/api/console/calls/{call_id}/transfers", {"kind": kind, "to_agent_id": busy.id})
        assert not_ready.status_code == 409 and not_ready.get_json()["error"]["code"] == "target_not_ready"
        assert "not ready" in not_ready.get_json()["error"]["message"]
    both = _post(client, f"/api/console/calls/{call_id}/transfers",
                 {"kind": "cold", "to_agent_id": busy.id, "to_number": OUTSIDE})
    assert both.status_code == 422
    stranger = UserFactory(floor.app).create("agent")  # of no campaign of the agent's
    assert _post(client, f"/api/console/calls/{call_id}/transfers",
                 {"kind": "cold", "to_agent_id": stranger.id}).status_code == 404
    # Nothing moved: the person is still with the agent.
    assert floor.hears(f"agent-{agent.id}") == {floor.legs[agent.id]: [person], person: [floor.legs[agent.id]]}
    assert floor.transfers(call_id) == []
    assert air.alone() == []


# --- warm transfers --------------------------------------------------------------------------

def _warm_to_agent(floor, agent, call_id, person):
    target = floor.agent()
    response = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                     {"kind": "warm", "to_agent_id": target.id})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "consulting"
    leg, target_leg = floor.legs[agent.id], floor.legs[target.id]
    floor.wait_room(f"agent-{agent.id}", {leg, person, target_leg})
    assert floor.hears(f"agent-{agent.id}") == {leg: [target_leg], target_leg: [leg], person: []}
    assert floor.snap(target.id)["state"] == "reserved"  # out of ready for the consult
    return target, response.get_json()["id"]


def test_warm_transfer_to_an_agent_hands_over(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    client = floor.client(agent)
    assert _post(client, f"/api/console/calls/{call_id}/hold", {"hold": False}).status_code == 409
    done = _post(client, f"/api/console/calls/{call_id}/transfers/{transfer_id}/complete")
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    _assert_with_agent(floor, call_id, person, target, agent)
    assert _post(client, f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel").status_code == 404
    assert air.alone() == []


def test_warm_transfer_to_an_agent_cancelled_comes_back(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    back = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel")
    assert back.status_code == 200 and back.get_json()["status"] == "cancelled"
    leg, target_leg = floor.legs[agent.id], floor.legs[target.id]
    floor.wait_room(f"agent-{target.id}", {target_leg})
    assert floor.hears(f"agent-{agent.id}") == {leg: [person], person: [leg]}
    assert floor.snap(target.id)["state"] == "ready"
    assert floor.snap(agent.id)["state"] == "on-call" and floor.call(call_id).agent_id == agent.id
    assert air.alone() == []


def _warm_to_number(floor, agent, call_id, person, number=OUTSIDE):
    response = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                     {"kind": "warm", "to_number": number})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _outside_leg(floor, agent):
    def joined():
        room = floor.room(f"agent-{agent.id}")
        found = [p["call_sid"] for p in room["participants"] if p["party"] == "outside"]
        return found[0] if found else None
    return wait_for(joined, "the outside party to answer into the room")


def test_warm_transfer_to_a_number_hands_over_in_a_room_of_their_own(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    transfer_id = _warm_to_number(floor, agent, call_id, person)
    outside = _outside_leg(floor, agent)
    leg = floor.legs[agent.id]
    assert floor.hears(f"agent-{agent.id}") == {leg: [outside], outside: [leg], person: []}
    done = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers/{transfer_id}/complete")
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    room = floor.wait_room(f"xfer-{call_id}", {outside, person})
    assert floor.hears(room["name"]) == {outside: [person], person: [outside]}
    floor.wait_room(f"agent-{agent.id}", {leg})
    assert floor.snap(agent.id)["state"] == "wrap-up"
    assert air.alone() == []
    # Either leaving ends their room: nobody is left there alone.
    air.sim.engine.hang_up_far_end(air.sim.engine.store.get(outside))
    wait_for(lambda: air.call(person)["status"] == "completed", "the person's call to end with the room")
    assert air.alone() == []


def test_warm_transfer_to_a_number_cancelled_comes_back(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    transfer_id = _warm_to_number(floor, agent, call_id, person)
    outside = _outside_leg(floor, agent)
    back = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel")
    assert back.status_code == 200 and back.get_json()["status"] == "cancelled"
    wait_for(lambda: air.call(outside)["status"] == "completed", "the outside leg to be hung up")
    leg = floor.legs[agent.id]
    floor.wait_room(f"agent-{agent.id}", {leg, person})
    assert floor.hears(f"agent-{agent.id}") == {leg: [person], person: [leg]}
    assert air.alone() == []


def test_an_unanswered_consult_fails_and_the_person_comes_off_hold(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    transfer_id = _warm_to_number(floor, agent, call_id, person, OUTSIDE_UNANSWERED)
    wait_for(lambda: floor.transfers(call_id)[0].status == "failed", "the consult to fail")
    leg = floor.legs[agent.id]
    wait_for(lambda: floor.hears(f"agent-{agent.id}") == {leg: [person], person: [leg]}, "the person off hold")
    assert _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers/{transfer_id}/complete").status_code == 409
    assert air.alone() == []


# --- a consultation ended by someone else -----------------------------------------------------

def _assert_back_after_consult(floor, air, agent, target, call_id, person, transfer_id, reason_words):
    leg, target_leg = floor.legs[agent.id], floor.legs[target.id]
    floor.wait_room(f"agent-{target.id}", {target_leg})
    wait_for(lambda: floor.hears(f"agent-{agent.id}") == {leg: [person], person: [leg]}, "the person off hold")
    assert floor.snap(target.id)["state"] == "ready"
    assert floor.snap(agent.id)["state"] == "on-call" and floor.call(call_id).agent_id == agent.id
    assert [(t.id, t.status) for t in floor.transfers(call_id)] == [(transfer_id, "cancelled")]
    assert air.alone() == []


def test_the_consulted_agent_can_leave_the_consultation(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    # Reserved, they could neither disconnect their audio nor be paused: now they can leave.
    left = _post(floor.client(target), f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel")
    assert left.status_code == 200, left.get_json()
    assert left.get_json()["status"] == "cancelled"
    _assert_back_after_consult(floor, air, agent, target, call_id, person, transfer_id, "left")
    stranger = floor.agent(ready=False)
    assert _post(floor.client(stranger),
                 f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel").status_code == 404


def test_a_supervisor_of_the_campaign_can_end_a_consultation(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    elsewhere = floor.users.create("supervisor")  # of no campaign of the call's
    path = f"/api/console/calls/{call_id}/transfers/{transfer_id}/cancel"
    assert _post(floor.client(elsewhere), path).status_code == 404
    supervisor = floor.users.create("supervisor")
    with floor.app.app_context():
        assign(supervisor.id, floor.campaign_id, role="supervisor")
        db.session.commit()
    ended = _post(floor.client(supervisor), path)
    assert ended.status_code == 200, ended.get_json()
    _assert_back_after_consult(floor, air, agent, target, call_id, person, transfer_id, "supervisor")
    again = _post(floor.client(supervisor), path)
    assert again.status_code == 409 and again.get_json()["error"]["message"] == "This transfer was already cancelled."


def test_a_consultation_left_open_is_ended_by_the_reaper(floor, air):
    from datetime import timedelta

    from app.dialer.reaper import reap

    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    started = floor.transfers(call_id)[0].started_at
    timeout = timedelta(seconds=floor.app.config["CONSULT_TIMEOUT_SECONDS"])
    with floor.app.app_context():
        assert reap(now=started + timeout - timedelta(seconds=1))["consults_ended"] == 0
    assert floor.snap(target.id)["state"] == "reserved"
    with floor.app.app_context():
        assert reap(now=started + timeout)["consults_ended"] == 1
    _assert_back_after_consult(floor, air, agent, target, call_id, person, transfer_id, "minutes")


def test_the_console_is_told_when_an_outside_consult_answers(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    response = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                     {"kind": "warm", "to_number": OUTSIDE})
    assert response.status_code == 201 and response.get_json()["answered"] is False
    outside = _outside_leg(floor, agent)
    assert air.call(outside)["request"]["status_events"] == ["answered", "completed"]
    with floor.app.app_context():
        from app.dialer.transfers import answered
        wait_for(lambda: answered(db.session.get(CallTransfer, response.get_json()["id"])), "answered")


def test_refusals_say_states_in_words_once(floor, air):
    agent = floor.agent()
    call_id, _ = floor.person_with(agent)
    finishing = floor.agent()
    other_call, _ = floor.person_with(finishing)
    _post(floor.client(finishing), f"/api/console/calls/{other_call}/hangup")
    assert floor.snap(finishing.id)["state"] == "wrap-up"
    refused = _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers",
                    {"kind": "cold", "to_agent_id": finishing.id}).get_json()["error"]
    assert refused["message"] == f"{finishing.username} is finishing a call, not ready to take a call."
    assert refused["message"] not in " ".join(refused["fields"]["to_agent_id"])
    assert "wrap-up" not in str(refused) and "on-call" not in refused["message"]


# --- pickers and the record ------------------------------------------------------------------

def test_transfer_targets_are_of_the_agents_own_campaigns(floor, air):
    agent = floor.agent()
    colleague = floor.agent()
    UserFactory(floor.app).create("agent")  # of another campaign: never offered
    with floor.app.app_context():
        elsewhere = make_campaign().id
        db.session.commit()
    body = floor.client(agent).get("/api/console/transfer-targets").get_json()
    assert body["agents"] == [{"id": colleague.id, "username": colleague.username, "state": "ready"}]
    assert [c["id"] for c in body["campaigns"]] == [floor.campaign_id] and elsewhere != floor.campaign_id
    assert body["campaigns"][0]["ready_agents"] == 2


def test_the_call_record_lists_its_transfers(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target = floor.agent()
    _post(floor.client(agent), f"/api/console/calls/{call_id}/transfers", {"kind": "cold", "to_agent_id": target.id})
    record = floor.client(target).get(f"/api/call-records/{call_id}").get_json()
    [transfer] = record["transfers"]
    assert (transfer["kind"], transfer["status"], transfer["from_agent_id"], transfer["to_agent_id"]) == (
        "cold", "completed", agent.id, target.id)


def test_hanging_up_during_a_consult_sends_the_consulted_agent_home_and_ready(floor, air):
    agent = floor.agent()
    call_id, person = floor.person_with(agent)
    target, transfer_id = _warm_to_agent(floor, agent, call_id, person)
    assert _post(floor.client(agent), f"/api/console/calls/{call_id}/hangup").status_code == 200
    wait_for(lambda: air.call(person)["status"] == "completed", "the person's call to end")
    floor.wait_room(f"agent-{target.id}", {floor.legs[target.id]})
    floor.wait_room(f"agent-{agent.id}", {floor.legs[agent.id]})
    assert floor.snap(target.id)["state"] == "ready" and floor.snap(agent.id)["state"] == "wrap-up"
    assert [t.status for t in floor.transfers(call_id)] == ["cancelled"]
    assert air.alone() == []
