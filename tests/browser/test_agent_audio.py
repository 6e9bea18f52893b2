"""No audio, no ready, as the agent sees it: the console's audio panel, "Go ready" held back with
the reason, the audio leg joining and dropping live, and a pause that waits for ringing calls.

This server has no carrier: the leg's join and end are what the carrier's webhooks would report
(app.agents.audio.leg_joined / leg_ended), and "Call my phone" is answered by a stand-in for
the endpoint's two answers (the carrier refused; the phone is being called)."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser import seed
from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CARRIER_REFUSED = {"error": {"code": "carrier_unavailable", "fields": {},
                             "message": "Omnivox could not call your phone just now; try again in a moment."}}


def answer_phone_calls(page, status: int, body: dict) -> None:
    """POST /api/agents/me/audio answers `body` (GET passes through to the server)."""
    def handle(route):
        if route.request.method == "POST":
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.unroute("**/api/agents/me/audio")
    page.route("**/api/agents/me/audio", handle)


def test_no_audio_no_ready_and_a_dropped_leg_pauses_live(browser, live_server, floor, _app):
    person = seed.extra_agent(_app, floor, "Rita Remote")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    try:
        sign_in(page, live_server, person, "/agent")
        expect(page.locator("#live-badge")).to_have_text(re.compile("Live"))
        status, detail = page.get_by_test_id("audio-status"), page.get_by_test_id("audio-detail")
        reason, go_ready = page.get_by_test_id("audio-reason"), page.get_by_test_id("go-ready")

        # Without audio "Go ready" is disabled and says why; the panel explains the way out.
        expect(status).to_have_text("Not connected")
        expect(go_ready).to_be_disabled()
        expect(page.get_by_test_id("ready-reason")).to_have_text(re.compile("^Connect your audio first"))
        expect(go_ready).to_have_attribute("title", re.compile("^Connect your audio first"))
        expect(page.get_by_test_id("audio-browser")).to_be_hidden()  # no Voice credentials here
        expect(page.get_by_test_id("audio-help")).to_contain_text("Browser audio is not set up on this platform")
        expect(page.get_by_test_id("audio-call")).to_have_text("Call my phone")
        expect(page.get_by_test_id("audio-disconnect")).to_be_hidden()
        shot(page, "agent-audio")

        # "Call my phone": an answer from the API is shown as its message.
        page.get_by_test_id("audio-call").click()
        expect(reason).to_have_text(re.compile("^Enter the phone number Omnivox should call"))
        page.get_by_test_id("audio-phone").fill("+1 202 555 0143")
        answer_phone_calls(page, 409, CARRIER_REFUSED)
        page.get_by_test_id("audio-call").click()
        expect(reason).to_have_text(CARRIER_REFUSED["error"]["message"])
        expect(status).to_have_text("Not connected")

        # The phone is called, and does not answer: the carrier's verdict arrives live.
        answer_phone_calls(page, 202, {"connected": False, "via": None, "since": None, "browser_available": False,
                                       "phone": "+12025550143", "calling": "+12025550143"})
        page.get_by_test_id("audio-call").click()
        expect(status).to_have_text("Calling your phone…")
        expect(detail).to_have_text("Omnivox is calling +12025550143. Answer and press 1 to connect.")
        expect(page.get_by_test_id("audio-call")).to_be_disabled()
        seed.end_audio(_app, person["id"], "CA" + "0" * 32, "no-answer")
        expect(reason).to_have_text("Your phone did not answer.")
        expect(status).to_have_text("Not connected")
        expect(page.get_by_test_id("audio-call")).to_be_enabled()
        page.unroute("**/api/agents/me/audio")

        # The leg joins the agent's room: connected, live, and "Go ready" works.
        leg = seed.connect_audio(_app, person["id"])
        expect(status).to_have_text("Connected")
        expect(detail).to_contain_text("Through this browser since")
        expect(reason).to_be_hidden()
        expect(page.get_by_test_id("ready-reason")).to_be_hidden()
        go_ready.click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Ready")
        disconnect = page.get_by_test_id("audio-disconnect")
        expect(disconnect).to_be_disabled()  # calls can reach a ready agent
        expect(disconnect).to_have_attribute("title", re.compile("^Pause first"))

        # A pause that waits for calls placed for the agent (live event `agent.pending`).
        pending = page.get_by_test_id("pause-pending")
        seed.publish_to_agent(_app, person["id"], "agent.pending", {
            "campaign_id": floor["campaign_id"], "target": "paused", "pause_code": "break", "calls_ringing": 2})
        expect(pending).to_be_visible()
        expect(pending).to_contain_text("Pause pending — waits for 2 calls ringing")
        expect(page.get_by_test_id("pending-cancel")).to_have_text("Stay ready")
        seed.publish_to_agent(_app, person["id"], "agent.pending", {
            "campaign_id": floor["campaign_id"], "target": None, "pause_code": None, "calls_ringing": 0})
        expect(pending).to_be_hidden()

        # The leg drops: out of ready at once, and the console says why in words.
        seed.end_audio(_app, person["id"], leg)
        expect(page.get_by_test_id("agent-state")).to_have_text("Paused")
        expect(page.locator("#state-detail")).to_have_text("Audio disconnected — reconnect to go ready")
        expect(page.locator("#idle-title")).to_have_text("Audio disconnected")
        expect(status).to_have_text("Not connected")
        expect(reason).to_have_text("Your audio disconnected. Reconnect it to go ready again.")
        expect(go_ready).to_be_disabled()
        expect(page.get_by_test_id("ready-reason")).to_be_visible()
        assert "no-audio" not in page.locator("#console").inner_text()
        shot(page, "agent-audio-disconnected")

        # Back again: the agent may go ready.
        seed.connect_audio(_app, person["id"], via="phone")
        expect(status).to_have_text("Connected")
        expect(detail).to_contain_text("Through your phone")
        expect(page.locator("#state-detail")).to_have_text("Your audio is back: go ready when you are.")
        expect(go_ready).to_be_enabled()
        page.locator("#go-offline").click()
        expect(page.get_by_test_id("agent-state")).to_have_text("Signed off")
    finally:
        ctx.close()
