"""Voicemail drop through the API: the campaign's message (who may upload, hear and remove it, what
files are refused, the carrier's signed address), and the agent's press refused in words when
there is nothing to leave, a person answered, the contact gave no written consent, the call is
over, or it is another agent's call.
(The press that works, through the carrier simulator: test_voicemail_drop_e2e.py.)"""
from __future__ import annotations

import io
import wave
from datetime import timedelta

import pytest

from app.agents import reservations
from app.agents import state as agent_state
from app.agents import services as agent_services
from app.auth.models import User
from app.calls.models import Call
from app.campaigns.models import CampaignAssignment
from app.campaigns.voicemail import VoicemailMessage, carrier_url
from app.common.timeutil import utcnow
from app.contacts.models import Contact
from app.extensions import db
from tests.helpers import connect_audio, give_written_consent


def wav_bytes(seconds: float = 3.0, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


def mp3_bytes(frames: int = 200) -> bytes:
    """MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz (1152 samples each), silent."""
    return (bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)) * frames


def upload(client, campaign_id, data: bytes, name: str = "message.wav"):
    return client.post(f"/api/campaigns/{campaign_id}/voicemail/audio",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.fixture
def campaign_id(campaigns):
    return campaigns.create()


@pytest.fixture
def admin(login_as):
    return login_as("admin")


# --- the campaign's message ----------------------------------------------------------------------

def test_an_admin_uploads_a_wav_and_its_length_is_read_from_the_file(admin, campaign_id):
    response = upload(admin, campaign_id, wav_bytes(3.0))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["plays"] == "audio" and body["audio"]["seconds"] == 3.0
    assert body["audio"]["content_type"] == "audio/wav" and body["audio"]["name"] == "message.wav"
    listened = admin.get(f"/api/campaigns/{campaign_id}/voicemail/audio")
    assert listened.status_code == 200 and listened.mimetype == "audio/wav" and listened.data == wav_bytes(3.0)


def test_an_mp3_is_accepted_with_its_length(admin, campaign_id):
    body = upload(admin, campaign_id, mp3_bytes(200), "hello.mp3").get_json()
    assert body["audio"]["content_type"] == "audio/mpeg"
    assert body["audio"]["seconds"] == pytest.approx(200 * 1152 / 44100, abs=0.01)


@pytest.mark.parametrize("data, status, words", [
    (b"name,phone\nAda,+12025550123\n", 422, "not a WAV or MP3"),
    # MPEG-1 layer II (0xFD; 160 kbit/s frames of 522 bytes): "audio/mpeg", but not an MP3.
    ((bytes([0xFF, 0xFD, 0x90, 0x64]) + bytes(518)) * 200, 422, "not a WAV or MP3"),
    (wav_bytes(0.2), 422, "shorter than 1 second"),
    (wav_bytes(121.0), 422, "longer than 120 seconds"),
    (b"RIFF" + b"\0" * (6 * 1024 * 1024), 413, "larger than 5 MB"),
])
def test_files_that_are_not_a_playable_message_are_refused_in_words(admin, campaign_id, data, status, words):
    response = upload(admin, campaign_id, data, "message.wav")
    assert response.status_code == status
    assert words in " ".join(response.get_json()["error"]["fields"]["file"])
    assert admin.get(f"/api/campaigns/{campaign_id}/voicemail").get_json()["plays"] is None


def test_only_admins_change_the_message_and_its_supervisors_may_listen(app, campaign_id, admin, login_as):
    upload(admin, campaign_id, wav_bytes())
    supervisor, outsider, agent = login_as("supervisor"), login_as("supervisor"), login_as("agent")
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=supervisor.user.id, role="supervisor"))
        db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=agent.user.id, role="agent"))
        db.session.commit()
    path = f"/api/campaigns/{campaign_id}/voicemail"
    assert supervisor.get(path).status_code == 200
    assert supervisor.get(f"{path}/audio").status_code == 200
    assert upload(supervisor, campaign_id, wav_bytes()).status_code == 403
    assert supervisor.delete(f"{path}/audio").status_code == 403
    assert outsider.get(path).status_code == 404
    assert agent.get(path).status_code == 403
    assert agent.get(f"{path}/audio").status_code == 403


def test_the_spoken_fallback_must_name_the_seller_and_a_number(admin, campaign_id):
    path = f"/api/campaigns/{campaign_id}/voicemail"
    refused = admin.put(path, json={"text": "Hi, call us back!"})
    assert refused.status_code == 422 and "seller" in refused.get_json()["error"]["fields"]["text"][0]
    saved = admin.put(path, json={"text": "This is {seller_name}, call us on {seller_phone}."}).get_json()
    assert saved["plays"] == "speech" and saved["audio"] is None
    assert "computer voice" in saved["plays_words"]
    assert "cannot hear the beep" in saved["waits_for_words"]  # detection is off on this campaign


def test_the_carriers_address_works_only_as_given_and_dies_with_the_recording(app, admin, campaign_id):
    upload(admin, campaign_id, wav_bytes())
    with app.app_context():
        url = carrier_url(db.session.get(VoicemailMessage, campaign_id))
    path = url.split("://", 1)[1].split("/", 1)[1]
    twilio = app.test_client()  # the carrier: no session, no X-Twilio-Signature on a media fetch
    assert twilio.get(f"/{path}").status_code == 200 and twilio.get(f"/{path}").data == wav_bytes()
    assert twilio.get(f"/{path.split('?')[0]}").status_code == 404  # no signature
    assert twilio.get(f"/{path[:-4]}beef").status_code == 404  # another signature
    other_key = path.replace(path.split("/")[-1].split(".")[0], "x" * 43)
    assert twilio.get(f"/{other_key}").status_code == 404
    upload(admin, campaign_id, wav_bytes(2.0))  # replaced: the old address is gone
    assert twilio.get(f"/{path}").status_code == 404
    assert admin.delete(f"/api/campaigns/{campaign_id}/voicemail/audio").get_json()["audio"] is None


# --- the agent's press, refused ------------------------------------------------------------------

@pytest.fixture
def on_call(app, users, campaign_id):
    """An agent on a connected call of the campaign: (agent user, call id)."""
    agent = users.create("agent")
    with app.app_context():
        db.session.add(CampaignAssignment(campaign_id=campaign_id, user_id=agent.id, role="agent"))
        contact = Contact(campaign_id=campaign_id, phone_e164="+12025550147")
        db.session.add(contact)
        db.session.flush()
        call = Call(campaign_id=campaign_id, to_number="+12025550147", from_number="+12025550123",
                    status="in-progress", call_sid="CA" + "7" * 32, answered_at=utcnow() - timedelta(seconds=5),
                    connected_at=utcnow() - timedelta(seconds=4), agent_id=agent.id, contact_id=contact.id)
        db.session.add(call)
        give_written_consent(contact.id)
        connect_audio(agent.id)
        agent_services.set_own_state(db.session.get(User, agent.id), "ready", campaign_id=campaign_id)
        assert reservations.reserve_agent(campaign_id, call.id) == agent.id
        assert reservations.confirm_reservation(agent.id, call.id)
        return agent, call.id


def press(client, call_id):
    return client.post(f"/api/console/calls/{call_id}/voicemail-drop", json={})


def refused_when(app, signed_in, on_call, **call) -> dict:
    """Press on a call whose record says `call` (a person answered, it was a call to us...):
    the refusal's error."""
    agent, call_id = on_call
    with app.app_context():
        row = db.session.get(Call, call_id)
        for name, value in call.items():
            setattr(row, name, value)
        db.session.commit()
    response = press(signed_in(agent), call_id)
    assert response.status_code == 409
    return response.get_json()["error"]


def test_the_press_is_refused_without_a_message(signed_in, on_call):
    agent, call_id = on_call
    response = press(signed_in(agent), call_id)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "no_voicemail_message" and "admin uploads one" in error["message"]


def test_the_press_is_refused_when_the_carrier_heard_a_person(app, admin, signed_in, on_call, campaign_id):
    upload(admin, campaign_id, wav_bytes())
    error = refused_when(app, signed_in, on_call, answered_by="human")
    assert error["code"] == "not_a_machine"
    assert "never left with a person" in error["message"]


def test_the_press_is_refused_on_a_call_to_us(app, admin, signed_in, on_call, campaign_id):
    upload(admin, campaign_id, wav_bytes())
    error = refused_when(app, signed_in, on_call, direction="inbound")
    assert error["code"] == "not_a_machine"
    assert "called us" in error["message"]


def test_the_press_is_refused_without_written_consent(app, admin, signed_in, on_call, campaign_id):
    """A recorded message in a telemarketing call needs the called party's prior express written
    consent (47 CFR 64.1200(a)(2)-(3)): checked at the press, so a consent revoked since counts."""
    agent, call_id = on_call
    upload(admin, campaign_id, wav_bytes())
    with app.app_context():
        from app.contacts import consents

        consents.revoke("+12025550147", None, "api", note="asked by email")
        db.session.commit()
    response = press(signed_in(agent), call_id)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "written_consent_required"
    assert "written consent" in response.get_json()["error"]["message"]
    with app.app_context():  # still on the call, nothing left on the machine
        assert agent_state.snapshot(agent.id)["state"] == "on-call"


def test_the_press_is_refused_once_the_call_is_over(app, admin, signed_in, on_call, campaign_id):
    upload(admin, campaign_id, wav_bytes())
    error = refused_when(app, signed_in, on_call, status="completed")
    assert error["code"] == "call_not_connected"
    assert "no longer connected" in error["message"]


def test_another_agents_call_is_not_found_and_other_roles_may_not_press(admin, login_as, on_call, campaign_id):
    _, call_id = on_call
    upload(admin, campaign_id, wav_bytes())
    response = press(login_as("agent"), call_id)
    assert response.status_code == 404 and response.get_json()["error"]["message"]
    assert press(login_as("supervisor"), call_id).status_code == 403
    assert press(admin, call_id).status_code == 403
