"""A supervisor opens a call record and plays its recording: the audio element loads it from
Omnivox (which streams it from the carrier simulator with its own credentials, with ranges) and
can seek."""
from __future__ import annotations

import os

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.dialer.on_air import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def recorded_call_at_the_simulator(_app, floor) -> tuple[int, int]:
    """A call the simulator really carries, recorded on two channels for a while and ended; its
    row and recording row as the workers would have stored them from the callbacks."""
    from app.calls.models import Call, Recording
    from app.common.timeutil import utcnow
    from app.extensions import db
    from app.telephony.twilio_carrier import TwilioCarrier

    sim = os.environ.get("BROWSER_SIM_URL")
    carrier = TwilioCarrier(_app.config["TWILIO_ACCOUNT_SID"], _app.config["TWILIO_AUTH_TOKEN"], api_base_url=sim)
    client = carrier._client  # inline TwiML: this call needs no app to answer it
    wait_for(lambda: _alive(sim), "the carrier simulator")
    requests.post(f"{sim}/_sim/config", json={"outcomes": {"+12125550142": "human"}, "ring_seconds": [1, 1]}, timeout=5)
    placed = client.calls.create(to="+12125550142", from_="+12025550100",
                                 twiml='<Response><Pause length="600"/></Response>')
    wait_for(lambda: client.calls(placed.sid).fetch().status == "in-progress", "the call to be answered")
    info = carrier.start_recording(placed.sid, status_callback_url="http://127.0.0.1:9/unused")
    wait_for(lambda: _recorded(sim, info.sid) >= 20, "20 simulated seconds recorded")
    carrier.hangup(placed.sid)
    done = wait_for(lambda: (r := carrier.fetch_recording(info.sid)).status == "completed" and r, "completion")
    with _app.app_context():
        now = utcnow()
        call = Call(campaign_id=floor["campaign_id"], contact_id=floor["contact_id"], to_number="+12125550142",
                    from_number="+12025550100", status="completed", outcome="human", call_sid=placed.sid,
                    agent_id=floor["agent"]["id"], answered_at=now, connected_at=now, ended_at=now,
                    duration_seconds=done.duration, recording_sid=info.sid, attempt_no=900)
        db.session.add(call)
        db.session.flush()
        db.session.add(Recording(call_id=call.id, sid=info.sid, status="completed", source="StartCallRecordingAPI",
                                 channels=2, duration_seconds=done.duration, started_at=now, completed_at=now))
        db.session.commit()
        return call.id, done.duration


def _alive(sim: str) -> bool:
    try:
        return requests.get(f"{sim}/_sim/stats", timeout=1).ok
    except requests.RequestException:
        return False


def _recorded(sim: str, sid: str) -> float:
    found = requests.get(f"{sim}/_sim/recordings", timeout=5).json()["recordings"]
    return next(r["recorded_seconds"] for r in found if r["sid"] == sid)


def test_a_supervisor_plays_a_recording_and_seeks(browser, live_server, floor, _app, monkeypatch):
    sim = _sim_url(live_server)
    monkeypatch.setenv("BROWSER_SIM_URL", sim)
    call_id, seconds = recorded_call_at_the_simulator(_app, floor)
    page = browser.new_context().new_page()
    try:
        sign_in(page, live_server, floor["supervisor"], f"/calls?call={call_id}")
        player = page.get_by_test_id("player")
        expect(player).to_be_visible()
        src = player.get_attribute("src")
        assert src == f"/api/call-records/{call_id}/recording" and "127.0.0.1" not in src
        page.wait_for_function("() => document.getElementById('player').readyState >= 1")
        duration = page.evaluate("() => document.getElementById('player').duration")
        assert abs(duration - seconds) < 0.5
        page.evaluate("() => { const p = document.getElementById('player'); p.currentTime = p.duration / 2; }")
        page.wait_for_function("() => !document.getElementById('player').seeking && "
                               "document.getElementById('player').currentTime > 0")
        assert page.evaluate("() => document.getElementById('player').error") is None
    finally:
        page.context.close()


def _sim_url(live_server: str) -> str:
    from tests.browser import conftest

    return conftest.SIM_URL[live_server]
