"""The written consent a recorded message needs (47 CFR 64.1200(a)(2)-(3)) holds when the carrier
is told to play it, after the greeting, not only at the agent's press: a consent revoked while
the machine's greeting runs means nothing is left."""
from __future__ import annotations

from app.calls.models import Call
from app.contacts import consents
from app.dialer.voicemail_models import VoicemailDrop
from app.extensions import db
from tests.calls.factories import post_signed
from tests.dialer.test_voicemail_drop import (  # noqa: F401 (fixtures)
    admin, campaign_id, on_call, upload, wav_bytes)


def test_a_consent_revoked_during_the_greeting_leaves_no_message(app, client, admin, on_call, campaign_id):
    agent, call_id = on_call
    upload(admin, campaign_id, wav_bytes())
    with app.app_context():  # pressed with consent on record; the greeting is still playing
        db.session.add(VoicemailDrop(call_id=call_id, campaign_id=campaign_id, agent_id=agent.id, message="audio"))
        db.session.commit()
        consents.revoke("+12025550147", None, "api", note="asked by email")
        db.session.get(Call, call_id).answered_by = "machine_end_beep"
        db.session.commit()
    path = f"/twilio/voicemail-drop?attempt={call_id}"
    answer = post_signed(client, app, path, {"CallSid": "CA" + "7" * 32, "CallStatus": "in-progress"})
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "<Play" not in body and "<Say" not in body and "<Hangup" in body
    with app.app_context():
        assert db.session.get(VoicemailDrop, call_id).started_after == "no-consent"
