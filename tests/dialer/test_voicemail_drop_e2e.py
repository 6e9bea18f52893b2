"""Voicemail drop end to end through the carrier simulator: an answering machine answers a call
placed with DetectMessageEnd and is put through to the agent; the agent presses Leave voicemail
during the greeting and is free at once; on the carrier's side the machine's leg leaves the
agent's room, waits for the end of the greeting (the beep), then the campaign's recording is
fetched from its signed address and played for its length, and the call ends. The call's own
callbacks, applied afterwards, leave the agent where they are."""
from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import select

from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call
from app.calls.state import apply_pending_events
from app.campaigns.models import DispositionCode
from app.dialer.voicemail_models import VoicemailDrop
from app.extensions import db
from app.interactions.models import Interaction
from app.telephony.carrier import PlaceCallRequest
from app.telephony.factory import get_carrier, webhook_url
from tests.agents.factories import assign, make_call, make_campaign
from tests.dialer.on_air import on_the_air, wait_for
from tests.dialer.test_voicemail_drop import upload, wav_bytes
from tests.helpers import ApiClient, UserFactory

MACHINE = "+12025550166"
GREETING_SECONDS = 25.0  # simulated; 5 s of wall clock at this time scale


@pytest.fixture
def air(_app, test_environ):
    with on_the_air(_app, test_environ, {
            "time_scale": 0.2, "outcomes": {MACHINE: "machine"}, "queue_seconds": (0.1, 0.1),
            "dial_seconds": (0.1, 0.1), "ring_seconds": (1.0, 1.0), "amd_seconds": (1.0, 1.0),
            "machine_greeting_seconds": (GREETING_SECONDS, GREETING_SECONDS),
            "machine_message_seconds": (600.0, 600.0)}) as on_air:
        yield on_air


def signed_in(app, user) -> ApiClient:
    client = ApiClient(app.test_client())
    assert client.login(user.username, user.password).status_code == 200
    return client


def place_machine_call(app, campaign_id: int) -> tuple[int, str]:
    """As the dialer places a call of a campaign with machine detection: DetectMessageEnd, async."""
    with app.app_context():
        call = make_call(campaign_id)
        call.to_number = MACHINE
        db.session.commit()
        placed = get_carrier().place_call(PlaceCallRequest(
            to=MACHINE, from_="+12025550100", answer_url=webhook_url("voice", call.id),
            status_callback_url=webhook_url("status", call.id), machine_detection=True,
            amd_callback_url=webhook_url("amd", call.id)))
        call.call_sid = placed.call_sid
        db.session.commit()
        return call.id, placed.call_sid


def snap(app, agent_id: int) -> dict:
    with app.app_context():
        return agent_state.snapshot(agent_id)


def test_the_agent_is_free_at_once_and_the_message_plays_after_the_beep(_app, air):
    users = UserFactory(_app)
    agent, admin = users.create("agent"), users.create("admin")
    with _app.app_context():
        campaign = make_campaign()
        campaign.amd_enabled = True
        db.session.add(DispositionCode(campaign_id=campaign.id, code="left_vm", label="Left a voicemail"))
        assign(agent.id, campaign.id)
        db.session.commit()
        campaign_id = campaign.id
    assert upload(signed_in(_app, admin), campaign_id, wav_bytes(3.0)).status_code == 200
    leg = air.connect_browser(agent.id)
    wait_for(lambda: snap(_app, agent.id)["audio"], "the browser leg to join")
    with _app.app_context():
        agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign_id)

    call_id, machine = place_machine_call(_app, campaign_id)
    room = f"agent-{agent.id}"
    wait_for(lambda: {p["call_sid"] for p in (air.conference(room) or {"participants": []})["participants"]}
             == {leg, machine}, "the machine to be put through to the agent")
    assert air.call(machine)["request"]["machine_detection"] == "DetectMessageEnd"

    client = signed_in(_app, agent)
    pressed = client.post(f"/api/console/calls/{call_id}/voicemail-drop", json={})
    freed_at = time.time()
    assert pressed.status_code == 200, pressed.get_json()
    assert pressed.get_json() == {"call_id": call_id, "voicemail": "after_beep", "message": "audio",
                                  "suggested_disposition": "left_vm"}
    assert snap(_app, agent.id)["state"] == "wrap-up"  # free at once, the greeting still going
    wait_for(lambda: {p["call_sid"] for p in air.conference(room)["participants"]} == {leg},
             "the machine to leave the agent's room")
    assert air.call(leg)["status"] == "in-progress"  # the agent's own leg stays for the next call

    done = wait_for(lambda: (c := air.call(machine))["status"] == "completed" and c, "the message to be left")
    assert done["answered_by"] == "machine_end_beep"
    [played] = done["played"]
    assert "/twilio/voicemail/" in played["url"] and "sig=" in played["url"]
    assert played["status"] == 200 and played["seconds"] == pytest.approx(3.0)
    assert freed_at < done["amd_at"] <= played["at"]  # freed before the beep; the message after it
    assert done["errors"] == []

    with _app.app_context():
        drop = db.session.get(VoicemailDrop, call_id)
        assert (drop.agent_id, drop.message, drop.started_after) == (agent.id, "audio", "machine_end_beep")
        assert drop.played_at is not None
        interaction = db.session.scalar(select(Interaction).where(Interaction.call_id == call_id))
        assert interaction.talk_ended_at is not None

    # The agent records the outcome and is ready; the call's own callbacks (its end) change nothing.
    dispose = client.post(f"/api/interactions/{interaction.id}/disposition", json={"code": "left_vm"})
    assert dispose.status_code == 200, dispose.get_json()
    assert snap(_app, agent.id)["state"] == "ready"
    with _app.app_context():
        wait_for(lambda: apply_pending_events(call_id).status == "completed", "the call's end to be applied")
        call = db.session.get(Call, call_id)
        assert (call.outcome, call.agent_id) == ("machine", agent.id)
    assert snap(_app, agent.id)["state"] == "ready"


def test_without_a_verdict_the_message_waits_for_the_line_to_go_quiet(_app, air):
    """A campaign without machine detection: no beep to wait for, so the carrier listens until
    the greeting goes quiet, then the spoken fallback is left."""
    users = UserFactory(_app)
    agent, admin = users.create("agent"), users.create("admin")
    with _app.app_context():
        campaign = make_campaign()
        assign(agent.id, campaign.id)
        db.session.commit()
        campaign_id = campaign.id
    text = "This is {seller_name}, please call us on {seller_phone}."
    assert signed_in(_app, admin).put(f"/api/campaigns/{campaign_id}/voicemail", json={"text": text}).status_code == 200
    leg = air.connect_browser(agent.id)
    wait_for(lambda: snap(_app, agent.id)["audio"], "the browser leg to join")
    with _app.app_context():
        agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign_id)
        call = make_call(campaign_id)
        call.to_number = MACHINE
        db.session.commit()
        placed = get_carrier().place_call(PlaceCallRequest(
            to=MACHINE, from_="+12025550100", answer_url=webhook_url("voice", call.id),
            status_callback_url=webhook_url("status", call.id)))
        call.call_sid, call_id = placed.call_sid, call.id
        db.session.commit()
    wait_for(lambda: {p["call_sid"] for p in (air.conference(f"agent-{agent.id}") or {"participants": []})
                      ["participants"]} == {leg, placed.call_sid}, "the machine to be put through")
    pressed = signed_in(_app, agent).post(f"/api/console/calls/{call_id}/voicemail-drop", json={})
    assert pressed.status_code == 200 and pressed.get_json()["message"] == "speech"
    assert snap(_app, agent.id)["state"] == "wrap-up"
    done = wait_for(lambda: (c := air.call(placed.call_sid))["status"] == "completed" and c, "the message")
    assert done["said"][-1] == "This is Acme Solar, please call us on (202) 555-0101."
    with _app.app_context():
        assert db.session.get(VoicemailDrop, call_id).started_after == "quiet"
