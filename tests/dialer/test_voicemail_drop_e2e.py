"""Voicemail drop end to end through the carrier simulator: an answering machine answers a call
placed with DetectMessageEnd and is put through to the agent; the agent presses Leave voicemail
during the greeting and is free at once; on the carrier's side the machine's leg leaves the
agent's room, waits for the end of the greeting (the beep), then the campaign's recording is
fetched from its signed address and played for its length, and the call ends. The call's own
callbacks, applied afterwards, leave the agent where they are."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.agents import services as agent_services
from app.agents import state as agent_state
from app.auth.models import User
from app.calls.models import Call, CallEvent
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
from tests.helpers import ApiClient, UserFactory, give_written_consent

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


@dataclass
class MachineOnTheLine:
    """A campaign's agent, on a call an answering machine answered (its greeting under way)."""

    agent: object
    campaign_id: int
    call_id: int
    machine: str    # the machine's CallSid
    leg: str        # the agent's own leg

    def press(self, app):
        return signed_in(app, self.agent).post(f"/api/console/calls/{self.call_id}/voicemail-drop", json={})

    def state(self, app) -> str:
        with app.app_context():
            return agent_state.snapshot(self.agent.id)["state"]


def room_of(air, agent_id: int) -> set[str]:
    return {p["call_sid"] for p in (air.conference(f"agent-{agent_id}") or {"participants": []})["participants"]}


def machine_on_the_line(app, air, *, detection: bool, recording: bool = False, text: str = "") -> MachineOnTheLine:
    """The campaign (with machine detection or not) gets its message from an admin; the call is
    placed as the dialer places it (with detection: DetectMessageEnd, asynchronous) and the
    machine is put through to the campaign's one ready agent."""
    users = UserFactory(app)
    agent, admin = users.create("agent"), users.create("admin")
    with app.app_context():
        campaign = make_campaign()
        campaign.amd_enabled = detection
        db.session.add(DispositionCode(campaign_id=campaign.id, code="left_vm", label="Left a voicemail"))
        assign(agent.id, campaign.id)
        db.session.commit()
        campaign_id = campaign.id
    admin_client = signed_in(app, admin)
    if recording:
        assert upload(admin_client, campaign_id, wav_bytes(3.0)).status_code == 200
    if text:
        assert admin_client.put(f"/api/campaigns/{campaign_id}/voicemail", json={"text": text}).status_code == 200
    leg = air.connect_browser(agent.id)
    with app.app_context():
        wait_for(lambda: agent_state.snapshot(agent.id)["audio"], "the browser leg to join")
        agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign_id)
        call = make_call(campaign_id)
        call.to_number = MACHINE
        give_written_consent(call.contact_id)  # a recorded message needs it (47 CFR 64.1200(a)(3))
        placed = get_carrier().place_call(PlaceCallRequest(
            to=MACHINE, from_="+12025550100", answer_url=webhook_url("voice", call.id),
            status_callback_url=webhook_url("status", call.id), machine_detection=detection,
            amd_callback_url=webhook_url("amd", call.id) if detection else None))
        call.call_sid = placed.call_sid
        db.session.commit()
        line = MachineOnTheLine(agent, campaign_id, call.id, placed.call_sid, leg)
    wait_for(lambda: room_of(air, agent.id) == {leg, line.machine}, "the machine to be put through")
    return line


def ended(air, sid: str) -> dict:
    return wait_for(lambda: (c := air.call(sid))["status"] == "completed" and c, "the message to be left")


def test_the_agent_is_free_at_once_and_the_message_plays_after_the_beep(_app, air):
    line = machine_on_the_line(_app, air, detection=True, recording=True)
    assert air.call(line.machine)["request"]["machine_detection"] == "DetectMessageEnd"

    pressed = line.press(_app)
    freed_at = time.time()
    assert pressed.status_code == 200, pressed.get_json()
    assert pressed.get_json() == {"call_id": line.call_id, "starts": "after_beep", "message": "audio",
                                  "suggested_disposition": "left_vm"}
    assert line.state(_app) == "wrap-up"  # free at once, the greeting still going
    wait_for(lambda: room_of(air, line.agent.id) == {line.leg}, "the machine to leave the agent's room")
    assert air.call(line.leg)["status"] == "in-progress"  # the agent's own leg stays for the next call

    done = ended(air, line.machine)
    assert done["answered_by"] == "machine_end_beep"
    [played] = done["played"]
    assert "/twilio/voicemail/" in played["url"] and "sig=" in played["url"]
    assert played["status"] == 200 and played["seconds"] == pytest.approx(3.0)
    assert freed_at < done["amd_at"] <= played["at"]  # freed before the beep; the message after it
    assert done["errors"] == []

    with _app.app_context():
        drop = db.session.get(VoicemailDrop, line.call_id)
        assert (drop.agent_id, drop.message, drop.started_after) == (line.agent.id, "audio", "machine_end_beep")
        assert drop.played_at is not None
        interaction = db.session.scalar(select(Interaction).where(Interaction.call_id == line.call_id))
        assert interaction.talk_ended_at is not None

    # The agent records the outcome and is ready; the call's own callbacks (its end) change nothing.
    dispose = signed_in(_app, line.agent).post(f"/api/interactions/{interaction.id}/disposition",
                                               json={"code": "left_vm"})
    assert dispose.status_code == 200, dispose.get_json()
    assert line.state(_app) == "ready"
    with _app.app_context():
        wait_for(lambda: apply_pending_events(line.call_id).status == "completed", "the call's end to be applied")
        call = db.session.get(Call, line.call_id)
        assert (call.outcome, call.agent_id) == ("machine", line.agent.id)
    assert line.state(_app) == "ready"


def test_a_press_after_the_beep_plays_the_message_at_once(_app, air):
    line = machine_on_the_line(_app, air, detection=True, recording=True)
    wait_for(lambda: air.call(line.machine)["amd_at"], "the greeting to end")
    with _app.app_context():  # the verdict's callback stored (the workers need not have applied it)
        wait_for(lambda: _stored_verdict(line.call_id), "the verdict's callback")
    pressed = line.press(_app)
    assert pressed.status_code == 200 and pressed.get_json()["starts"] == "now"
    assert line.state(_app) == "wrap-up"
    [played] = ended(air, line.machine)["played"]
    assert played["status"] == 200


def _stored_verdict(call_id: int) -> bool:
    db.session.rollback()  # a fresh read each time
    return db.session.scalar(select(CallEvent.id).where(CallEvent.call_id == call_id,
                                                        CallEvent.kind == "amd")) is not None


def test_without_detection_the_message_waits_for_the_line_to_go_quiet(_app, air):
    """A campaign without machine detection: no beep to wait for, so the carrier listens until
    the greeting goes quiet, then the spoken fallback is left."""
    line = machine_on_the_line(_app, air, detection=False,
                               text="This is {seller_name}, please call us on {seller_phone}.")
    pressed = line.press(_app)
    assert pressed.status_code == 200
    assert (pressed.get_json()["message"], pressed.get_json()["starts"]) == ("speech", "after_quiet")
    assert line.state(_app) == "wrap-up"
    done = ended(air, line.machine)
    assert done["said"][-1] == "This is Acme Solar, please call us on (202) 555-0101."
    with _app.app_context():
        assert db.session.get(VoicemailDrop, line.call_id).started_after == "quiet"
        # The agent heard the machine the carrier was not asked about: the call ends as a machine,
        # never counted among the calls a person answered.
        wait_for(lambda: apply_pending_events(line.call_id).status == "completed", "the call's end to be applied")
        assert db.session.get(Call, line.call_id).outcome == "machine"


def test_a_greeting_longer_than_detection_waits_for_the_quiet(_app, air):
    """Detection gives up after its 30 seconds ("unknown"): the message then starts once the
    line goes quiet, not at once over the greeting."""
    air.sim.configure(machine_greeting_seconds=(40.0, 40.0))
    line = machine_on_the_line(_app, air, detection=True, recording=True)
    assert line.press(_app).get_json()["starts"] == "after_beep"
    done = ended(air, line.machine)
    assert done["answered_by"] == "unknown"
    [played] = done["played"]
    # Not over the greeting: after its 40 s (time scale 0.2: 8 wall seconds from the answer).
    assert done["greeting_seconds"] == 40.0
    assert played["at"] >= done["answered_at"] + 40.0 * 0.2 and played["status"] == 200
    with _app.app_context():
        assert db.session.get(VoicemailDrop, line.call_id).started_after == "quiet"
