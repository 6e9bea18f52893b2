"""An agent pauses and resumes a call's recording from the console, against the real server and
the carrier simulator: the agent's leg and the person's call go through the simulator, the
person is answered into the agent's room, the `telephony` worker starts the recording at the
bridge (two channels), and the stored pauses and the carrier's recording must agree. A reload
mid-call finds the button as it was left."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import PERSON
from tests.dialer.on_air import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def carrier_recording(sim_url: str, call_sid: str) -> dict | None:
    found = requests.get(f"{sim_url}/_sim/recordings", params={"call_sid": call_sid}, timeout=5).json()["recordings"]
    return found[-1] if found else None


def stored(app, call_id: int) -> tuple[dict | None, list[dict]]:
    """The call's recording row and its pauses, as Omnivox keeps them."""
    from sqlalchemy import select

    from app.calls.models import Recording, RecordingPause
    from app.extensions import db

    with app.app_context():
        recording = db.session.scalar(select(Recording).where(Recording.call_id == call_id))
        if recording is None:
            return None, []
        pauses = db.session.scalars(select(RecordingPause).where(RecordingPause.recording_id == recording.id)
                                    .order_by(RecordingPause.id)).all()
        row = {c: getattr(recording, c) for c in ("sid", "status", "channels", "duration_seconds", "started_at")}
        return row, [{c: getattr(p, c) for c in ("paused_at", "paused_by_id", "resumed_at", "resumed_by_id",
                                                  "resumed_reason")} for p in pauses]


def test_an_agent_pauses_and_resumes_recording_and_the_pauses_are_kept(browser, live_server, sim_url, _app):
    rec = seed.solo_floor(_app, "Riley Recorder")
    agent = rec["agent"]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    callee = None
    try:
        seed.ready_on_air(page, _app, sim_url, live_server, agent)

        call_id, callee = seed.place_person(_app, rec, sim_url, live_server, PERSON)
        expect(page.get_by_test_id("screen-pop")).to_be_visible()
        expect(page.get_by_test_id("recording-notice")).to_contain_text("CA requires every party's consent")

        # Recorded from the bridge, by the worker: the button appears once there is a recording.
        button = page.get_by_test_id("record-pause")
        expect(button).to_be_visible()
        expect(button).to_have_text("Pause recording")
        expect(button).to_have_attribute("aria-pressed", "false")
        sim_rec = carrier_recording(sim_url, callee)
        assert sim_rec and sim_rec["status"] == "in-progress" and sim_rec["source"] == "StartCallRecordingAPI"
        assert sim_rec["channels"] == 2
        row, pauses = stored(_app, call_id)
        assert row["sid"] == sim_rec["sid"] and row["status"] == "in-progress" and pauses == []

        # The person reads out a card number: pause.
        button.click()
        expect(button).to_have_text("Resume recording")
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("call-flags")).to_contain_text("Recording paused")
        assert carrier_recording(sim_url, callee)["status"] == "paused"
        row, pauses = stored(_app, call_id)
        assert row["status"] == "paused"
        [pause] = pauses
        assert pause["paused_by_id"] == agent["id"] and pause["resumed_at"] is None
        assert pause["paused_at"] >= row["started_at"]

        # A reload mid-call finds the recording still paused.
        page.reload()
        expect(page.get_by_test_id("agent-state")).to_have_text("On call")
        expect(page.locator("#contact-phone")).to_have_text(PERSON)  # the call, rebuilt from its record
        expect(button).to_be_visible()
        expect(button).to_be_enabled()
        expect(button).to_have_text("Resume recording")
        expect(button).to_have_attribute("aria-pressed", "true")

        button.click()
        expect(button).to_have_text("Pause recording")
        expect(button).to_have_attribute("aria-pressed", "false")
        expect(page.get_by_test_id("call-flags")).not_to_contain_text("Recording paused")
        assert carrier_recording(sim_url, callee)["status"] == "in-progress"
        row, pauses = stored(_app, call_id)
        assert row["status"] == "in-progress"
        [pause] = pauses
        assert pause["paused_by_id"] == pause["resumed_by_id"] == agent["id"]
        assert pause["resumed_reason"] == "agent"
        assert row["started_at"] <= pause["paused_at"] <= pause["resumed_at"]
        # The carrier's recording went in-progress, paused, in-progress: one pause, as stored.
        assert [h["status"] for h in carrier_recording(sim_url, callee)["history"]] == \
            ["in-progress", "paused", "in-progress"]

        # The person hangs up: the carrier completes the recording; its callback brings the
        # duration and channels; the pause kept is the agent's, untouched.
        requests.post(f"{sim_url}/_sim/calls/{callee}/hangup", timeout=5).raise_for_status()
        expect(page.get_by_test_id("wrap-up")).to_be_visible()
        wait_for(lambda: stored(_app, call_id)[0]["status"] == "completed", "the recording callback to be applied")
        row, after = stored(_app, call_id)
        done = carrier_recording(sim_url, callee)
        assert done["status"] == "completed"
        assert row["channels"] == 2 and row["duration_seconds"] == done["duration"]
        assert after == pauses
        assert [h["status"] for h in done["history"]] == ["in-progress", "paused", "in-progress", "completed"]

        page.check('input[name="code"][value="NOT_INTERESTED"]')
        page.click("#save-ready")
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        page.locator("#go-offline").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Signed off")
    finally:
        ctx.close()
        if callee:
            requests.post(f"{sim_url}/_sim/calls/{callee}/hangup", timeout=5)
        requests.post(f"{sim_url}/_sim/clients/agent-{agent['id']}/disconnect", timeout=5)
